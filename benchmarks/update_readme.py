"""Runs every benchmarks/bench_*.py with --json and rewrites the README's performance table.

The table sits between the markers ``<!-- bench:start -->`` and ``<!-- bench:end -->`` in README.md.
Usage: ``python benchmarks/update_readme.py [--quick] [--only choice,nn]``, or
``--from-json DIR`` to use records already written by ``bench_<area>.py --json DIR/<area>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def run_benchmark(script: Path, quick: bool) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "records.json"
        cmd = [sys.executable, str(script), "--json", str(out)] + (["--quick"] if quick else [])
        subprocess.run(cmd, check=True, cwd=REPO_ROOT)
        return json.loads(out.read_text())


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1e3:.2f} ms" if value < 1 else f"{value:.2f} s"


def table(records_by_area: dict[str, list[dict]]) -> str:
    lines = ["| area | benchmark | ours | peer | peer time | ratio (peer/ours) | target |",
             "|---|---|---|---|---|---|---|"]
    for area, records in records_by_area.items():
        for r in records:
            ratio = f"{r['ratio']:.1f}×" if r.get("ratio") is not None else "—"
            lines.append(f"| {area} | {r['name']} | {fmt_seconds(r['ours_s'])} | {r['peer']} | "
                         f"{fmt_seconds(r.get('peer_s'))} | {ratio} | {r['target']} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated areas, e.g. choice,nn")
    parser.add_argument("--from-json", metavar="DIR", help="read DIR/<area>.json instead of running the benchmarks")
    args = parser.parse_args()
    only = {a for a in args.only.split(",") if a}
    records: dict[str, list[dict]] = {}
    for script in sorted((REPO_ROOT / "benchmarks").glob("bench_*.py")):
        area = script.stem.removeprefix("bench_")
        if only and area not in only:
            continue
        if args.from_json:
            path = Path(args.from_json) / f"{area}.json"
            if path.exists():
                records[area] = json.loads(path.read_text())
            continue
        records[area] = run_benchmark(script, args.quick)
    readme = REPO_ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the markers {START} ... {END}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    note = (f"\n_Measured on this project's 2-core CI machine kind ({os.cpu_count()} cores seen)"
            f"{' in --quick mode' if args.quick else ''}; regenerate with `python benchmarks/update_readme.py`._\n\n")
    readme.write_text(head + START + note + table(records) + "\n" + END + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
