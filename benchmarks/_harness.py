"""Shared command line and report format for benchmarks/bench_<area>.py (DESIGN.md §8).

Every benchmark runs our implementation and its peer side by side in one process and reports
records ``{"name", "ours_s", "peer", "peer_s", "ratio", "target"}`` with ratio = peer time / our time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

# Run from a checkout without installing: the checkout's package comes first on the path.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@dataclass
class Record:
    name: str
    ours_s: float
    peer: str
    peer_s: float | None
    ratio: float | None
    target: str


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes; finishes in under a minute")
    parser.add_argument("--json", metavar="PATH", help="also write the records as JSON to PATH")
    return parser.parse_args()


def best_time(fn: Callable[[], object], repeat: int = 3, min_total: float = 0.0) -> float:
    """Best wall time of ``repeat`` calls (at least one call; more while under ``min_total`` s)."""
    times: list[float] = []
    total = 0.0
    while len(times) < repeat or total < min_total:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        total += elapsed
        if len(times) >= 50:
            break
    return min(times)


def record(name: str, ours_s: float, peer: str, peer_s: float | None, target: str) -> Record:
    ratio = (peer_s / ours_s) if (peer_s is not None and ours_s > 0) else None
    return Record(name, ours_s, peer, peer_s, ratio, target)


def report(records: list[Record], json_path: str | None) -> None:
    """Print the records as a table and optionally write them as JSON."""
    header = f"{'name':48s} {'ours (s)':>11s} {'peer':>18s} {'peer (s)':>11s} {'ratio':>9s}  target"
    print(header)
    print("-" * len(header))
    for r in records:
        peer_s = f"{r.peer_s:11.5f}" if r.peer_s is not None else f"{'-':>11s}"
        ratio = f"{r.ratio:8.1f}x" if r.ratio is not None else f"{'-':>9s}"
        print(f"{r.name:48s} {r.ours_s:11.5f} {r.peer:>18s} {peer_s} {ratio}  {r.target}")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as fh:
            json.dump([asdict(r) for r in records], fh, indent=2)
