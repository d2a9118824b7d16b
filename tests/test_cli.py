"""The ``socialrm aggregate``, ``socialrm election`` and ``socialrm demo`` commands, run through ``socialrm.cli.main``."""

from __future__ import annotations

import json

import pytest

from socialrm import cli

TENNESSEE_TOI = """# FILE NAME: tennessee.soc
# TITLE: Tennessee capital (CHOICE.md 6.1)
# DATA TYPE: soc
# NUMBER ALTERNATIVES: 4
# NUMBER VOTERS: 100
# NUMBER UNIQUE ORDERS: 4
# ALTERNATIVE NAME 1: Memphis
# ALTERNATIVE NAME 2: Nashville
# ALTERNATIVE NAME 3: Chattanooga
# ALTERNATIVE NAME 4: Knoxville
42: 1,2,3,4
26: 2,3,4,1
15: 3,4,2,1
17: 4,3,2,1
"""


@pytest.fixture()
def tennessee_file(tmp_path):
    path = tmp_path / "tennessee.soc"
    path.write_text(TENNESSEE_TOI, encoding="utf-8")
    return path


def test_aggregate_prints_orders_with_names(tennessee_file, capsys):
    status = cli.main(["aggregate", str(tennessee_file), "--rule", "borda", "--rule", "irv", "--rule", "schulze",
                       "--scores"])
    out = capsys.readouterr().out
    assert status == 0
    assert "4 candidates, 100 voters, 4 distinct ballots" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith(" ")}
    assert "Nashville > Chattanooga > Memphis > Knoxville" in lines["borda"]
    assert "Knoxville > Memphis > Nashville > Chattanooga" in lines["irv"]  # elimination order
    assert "Nashville > Chattanooga > Knoxville > Memphis" in lines["schulze"]
    assert "scores:" in out


def test_aggregate_options_and_errors(tennessee_file, capsys, tmp_path):
    assert cli.main(["aggregate", str(tennessee_file), "--rule", "minimax", "--order", "score"]) == 0
    assert "Nashville > Memphis > Chattanooga > Knoxville" in capsys.readouterr().out
    assert cli.main(["aggregate", str(tennessee_file), "--rule", "copeland", "--margin-mode", "extended"]) == 0
    assert "Nashville > Chattanooga > Knoxville > Memphis" in capsys.readouterr().out
    assert cli.main(["aggregate", str(tennessee_file)]) == 0  # default rule: schulze
    assert "schulze" in capsys.readouterr().out
    assert cli.main(["aggregate", str(tennessee_file), "--rule", "no_such_rule"]) == 2
    assert "unknown rule" in capsys.readouterr().err
    assert cli.main(["aggregate", str(tmp_path / "missing.soc")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.soc"
    bad.write_text("# NUMBER ALTERNATIVES: 2\n# NUMBER VOTERS: 1\n1: 1,3\n", encoding="utf-8")
    assert cli.main(["aggregate", str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert cli.main(["aggregate", str(tennessee_file), "--list-rules"]) == 0
    assert "kemeny" in capsys.readouterr().out.split()


def test_election_on_the_shared_elections(preflib_dir, capsys, tmp_path):
    status = cli.main(["election", "--data", str(preflib_dir), "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0
    # Burlington 2009: instant runoff elected Bob Kiss although Andy Montroll beats everyone pairwise
    assert "Condorcet winner: Andy Montroll" in out
    irv = next(line for line in out.splitlines() if line.strip().startswith("instant_runoff "))
    assert irv.split()[1:3] == ["Bob", "Kiss"]
    schulze = next(line for line in out.splitlines() if line.strip().startswith("schulze "))
    assert schulze.split()[1:3] == ["Andy", "Montroll"]
    assert "✓ holds, ✗ violated" in out
    assert "instant_runoff / condorcet_winner" in out
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["criteria"]["instant_runoff"]["condorcet_winner"] is False
    assert report["criteria"]["schulze"]["condorcet_winner"] is True
    assert report["orders"]["schulze"][0] == ["Andy Montroll"]
    assert (tmp_path / "report.txt").read_text(encoding="utf-8").startswith("Election: ")


def test_election_all(preflib_dir, capsys):
    assert cli.main(["election", "--data", str(preflib_dir), "--all"]) == 0
    out = capsys.readouterr().out
    assert out.count(".soi:") + out.count(".toi:") >= 31


def test_election_without_data(tmp_path, capsys):
    assert cli.main(["election", "--data", str(tmp_path / "nowhere")]) == 2
    assert "PrefLib data not found" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["election", "--data", str(empty)]) == 2
    assert "no PrefLib election files" in capsys.readouterr().err


def test_demo_writes_the_report(tmp_path, capsys):
    """The pipeline demo end to end at tiny sizes (the full-size numbers are asserted in
    tests/test_pipeline_experiments.py): report, JSON and the three figures are written."""
    out = tmp_path / "demo"
    status = cli.main(["demo", "--out", str(out), "--steps", "200", "--raters", "200", "--quiet", "--threads", "1"])
    text = capsys.readouterr().out
    assert status == 0
    assert "## 1. The rule is ours to choose (four_types)" in text
    assert "## 3. Missing completions (morristown_partial)" in text
    assert "## 5." not in text  # --all only
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert set(report) == {"rules", "morristown"}
    assert set(report["rules"]["rules"]) == {"borda", "copeland", "kemeny", "schulze"}
    assert report["morristown"]["truth"] == "Chattanooga ≻ Knoxville ≻ Nashville ≻ Morristown ≻ Memphis"
    for name in ("latent_clusters.png", "social_orders.png", "missing_data.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# socialrm demo")


def test_demo_bad_arguments(tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path), "--steps", "0", "--quiet"]) == 2
    assert "max_steps" in capsys.readouterr().err
