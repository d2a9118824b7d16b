"""Every notebook in notebooks/ runs top to bottom, within budget, and is committed without outputs.

The notebooks are executed with nbclient in a fresh ``python3`` kernel whose working directory is
``notebooks/``. The kernel is a separate process: it imports this checkout's ``socialrm`` through
``PYTHONPATH`` (the repository root first) and draws with matplotlib's Agg backend (``MPLBACKEND``),
so no figure is displayed and pytest's warnings-as-errors setting does not reach it. Warnings the
kernel prints land in the cells' stderr streams, which are checked here instead. In this process,
importing and driving nbclient emits no warning with the pinned test dependencies, so no
``filterwarnings`` exception is needed.

Budget (issue 7): all notebooks together under 5 minutes on the project's machine; each of 03 and
04 under 60 s (they take a few seconds); 01 and 02 train models (about 15 s and 60 s measured), each
within the 240 s default.
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
PER_NOTEBOOK_S = {"03_aggregation_rules.ipynb": 60.0, "04_real_election.ipynb": 60.0}
DEFAULT_PER_NOTEBOOK_S = 240.0
TOTAL_S = 300.0
_ELAPSED: dict[str, float] = {}



def _kernel_env(monkeypatch, **extra: str) -> None:
    """The kernel inherits this process's environment: point it at the checkout and at Agg."""
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT) + (os.pathsep + path if path else ""))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for key, value in extra.items():
        monkeypatch.setenv(key, value)


def _execute(nb) -> float:
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(NOTEBOOK_DIR)}}
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    return time.perf_counter() - start


def _streams(nb, name: str) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == name
    )


def test_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"03_aggregation_rules.ipynb", "04_real_election.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    _kernel_env(monkeypatch)
    nb = nbformat.read(path, as_version=4)
    elapsed = _execute(nb)
    _ELAPSED[path.name] = elapsed
    budget = PER_NOTEBOOK_S.get(path.name, DEFAULT_PER_NOTEBOOK_S)
    assert elapsed < budget, f"{path.name} took {elapsed:.1f} s (budget {budget:.0f} s)"
    stderr = _streams(nb, "stderr")
    assert not re.search(r"Warning|Traceback", stderr), f"{path.name} printed to stderr:\n{stderr}"
    stdout = _streams(nb, "stdout")
    if path.name == "01_latent_space.ipynb":
        # four_types latents: clean clusters, prompt-invariant, partial ballots placed, smooth paths
        purity = float(re.search(r"^k-means purity: ([0-9.]+)", stdout, re.M).group(1))
        assert purity >= 0.95, purity
        contexts = re.findall(r"decoded accuracy normal ([0-9.]+), inverted ([0-9.]+);", stdout)
        assert len(contexts) == 2 and all(min(map(float, c)) >= 0.95 for c in contexts), contexts
        assert "Memphis ≻ Knoxville nearest centroid: Memphis" in stdout
        assert re.search(r"sign changes Knoxville→Chattanooga: \{[^}]*'Ch-Kn': 1\}", stdout)
    if path.name == "02_missing_data.ipynb":
        # morristown: vanilla puts Morristown last, the Borda pipeline recovers the full-information order
        assert re.search(r"^truth\s+Chattanooga ≻ Knoxville ≻ Nashville ≻ Morristown ≻ Memphis",
                         stdout, re.M)
        assert re.search(r"^pipeline \(Borda\)\s+Chattanooga ≻ Knoxville ≻ Nashville ≻ Morristown ≻ Memphis",
                         stdout, re.M)
        assert "vanilla ranks Morristown last: True" in stdout
        assert "prompts_partial pipeline exact:" in stdout and "prompts_missing pipeline exact:" in stdout
    if path.name == "03_aggregation_rules.ipynb":
        # the notebook's story, as computed: Borda vs the Condorcet rules on four_types
        assert re.search(r"^borda\s+Na ≻ Ch ≻ Me ≻ Kn", stdout, re.M)
        assert re.search(r"^kemeny\s+Na ≻ Ch ≻ Kn ≻ Me", stdout, re.M)
        assert "margins identical: True" in stdout
    if path.name == "04_real_election.ipynb":
        if "PrefLib data not found" in stdout:
            pytest.skip("the shared PrefLib data is absent: the notebook ran its skip path only")
        assert "Condorcet winner: Andy Montroll" in stdout
        assert re.search(r"^instant_runoff\s+Kiss ≻", stdout, re.M)
        assert "Condorcet winner, extended reading: Ireland" in stdout


def test_real_election_without_data(monkeypatch, tmp_path):
    """With the data folder absent, notebook 04 says so and every cell still runs; the kernel uses
    this checkout's socialrm."""
    _kernel_env(monkeypatch, SOCIALRM_SHARED_DATA=str(tmp_path / "nowhere"))
    nb = nbformat.read(NOTEBOOK_DIR / "04_real_election.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import socialrm\nprint('socialrm from', socialrm.__file__)"))
    _execute(nb)
    stdout = _streams(nb, "stdout")
    assert "PrefLib data not found" in stdout
    assert "Condorcet winner" not in stdout
    assert f"socialrm from {REPO_ROOT / 'socialrm'}" in stdout
    displayed = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type != "stream"]
    assert displayed == []


def test_total_budget():
    if {p.name for p in NOTEBOOKS} - set(_ELAPSED):
        pytest.skip("not every notebook was executed in this session")
    total = sum(_ELAPSED.values())
    assert total < TOTAL_S, f"notebooks took {total:.1f} s in total: {_ELAPSED}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_committed_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], f"{path.name} cell {i} has outputs: run `python notebooks/strip.py`"
        assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


def test_strip_script():
    spec = importlib.util.spec_from_file_location("nb_strip", NOTEBOOK_DIR / "strip.py")
    strip = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(strip)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("1 + 1")])
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)]
    nb.cells[1].execution_count = 3
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    assert strip.strip_notebook(nb) is True
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None
    assert "execution" not in nb.cells[1].metadata
    assert nb.cells[1].source == "1 + 1" and nb.cells[0].source == "# t"
    assert strip.strip_notebook(nb) is False
