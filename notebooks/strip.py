"""Strip outputs from notebooks before committing: ``python notebooks/strip.py [FILE ...]``.

Without arguments every ``*.ipynb`` beside this script is stripped. Outputs and execution counts are
removed, and the per-cell execution metadata Jupyter adds; everything else is kept. The tests
(``tests/test_notebooks.py``) fail if a committed notebook still carries outputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def strip_notebook(nb: nbformat.NotebookNode) -> bool:
    """Remove outputs, execution counts and execution metadata in place; True if anything changed."""
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            changed = True
        cell.outputs = []
        cell.execution_count = None
        for key in ("execution", "collapsed", "scrolled"):
            if key in cell.metadata:
                del cell.metadata[key]
                changed = True
    return changed


def strip_file(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    changed = strip_notebook(nb)
    if changed:
        nbformat.write(nb, path)
    return changed


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(Path(__file__).resolve().parent.glob("*.ipynb"))
    for path in paths:
        print(f"{path}: {'stripped' if strip_file(path) else 'already clean'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
