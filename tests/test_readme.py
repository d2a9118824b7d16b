"""The README's quickstart runs as written (it reads a PrefLib file from ../shared/data)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_runs(preflib_dir: Path, monkeypatch) -> None:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    code = text.split("```python", 1)[1].split("```", 1)[0]
    code = code.replace('"../shared/data/preflib', f'"{preflib_dir}')
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(compile(code, "README.md", "exec"), namespace)
    srm = namespace["srm"]
    P = namespace["P"]
    assert str(srm.aggregate(P, rule="borda")) == "Nashville ≻ Chattanooga ≻ Memphis ≻ Knoxville"
    assert str(srm.aggregate(P, rule="kemeny")) == "Nashville ≻ Chattanooga ≻ Knoxville ≻ Memphis"
    assert "strong_iia" in out.getvalue()
    B = namespace["B"]
    names = B.candidates
    assert [names[i] for i in srm.aggregate(B, rule="instant_runoff").winners()] == ["Bob Kiss"]
    assert names[B.condorcet_winner()] == "Andy Montroll"
    assert namespace["voters"].shape == (1000, 8)
