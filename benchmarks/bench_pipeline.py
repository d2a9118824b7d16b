"""Benchmark of the social-choice pipeline (issue 6).

1. Relabelling in feature mode: 10,000 prompts × 8 completions × 1,000 simulated voters — rewards
   (C individual model), rankings (profiles from the reward matrices) and the rule (Borda) — time and
   share per stage; target under 30 s on 2 cores. The peer of the rewards stage is the same C model
   called once per prompt (what batching the completions of many prompts into one call saves).
2. ``socialrm demo`` (default: experiments 1 and 3) and ``socialrm demo --all``: wall time; target
   under 3 minutes for the default.
3. Pass rates of experiments 1-5 (and the prompts_missing measurement) over ``--seeds`` seeds at the
   demo's sizes (socialrm.demo.SIZES).

Run from the repository root: ``python benchmarks/bench_pipeline.py [--quick] [--json PATH]
[--seeds N] [--workers N] [--skip-demo] [--skip-pass-rates]``. ``--quick`` uses 500 prompts, tiny demo sizes and
one seed of each experiment at small sizes (the pass rates it prints are not the measured ones).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from _harness import record, report  # noqa: E402

import socialrm as srm  # noqa: E402
from socialrm import demo  # noqa: E402
from socialrm.choice import Profile, aggregate  # noqa: E402
from socialrm.pipeline import SocialChoiceRewardModel  # noqa: E402


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes; finishes in about a minute")
    p.add_argument("--json", metavar="PATH", help="also write the records as JSON to PATH")
    p.add_argument("--seeds", type=int, default=5, help="seeds per experiment for the pass rates (default 5)")
    p.add_argument("--skip-demo", action="store_true", help="do not time socialrm demo")
    p.add_argument("--skip-pass-rates", action="store_true", help="do not measure the pass rates")
    p.add_argument("--experiments", nargs="*", default=None, help="pass rates of these experiments only")
    p.add_argument("--workers", type=int, default=2, help="experiment runs at a time, one C thread each (default 2)")
    return p.parse_args()


def bench_relabel(quick: bool, records: list) -> None:
    n_prompts = 500 if quick else 10_000
    m, n_voters, dim = 8, 1000, 16
    data = srm.examples.four_types(n_raters=200, seed=0, mode="features", feature_dim=dim)
    pipe = SocialChoiceRewardModel(rule="borda", n_voters=n_voters, verbose=False, social=False,
                                   individual=dict(max_steps=200, collapse="ignore", progress=False)).fit(data)
    rng = np.random.default_rng(0)
    P = rng.normal(size=(n_prompts, dim)).astype(np.float32)
    C = rng.normal(size=(n_prompts, m, dim)).astype(np.float32)
    items = [(P[k], C[k]) for k in range(n_prompts)]
    t = time.perf_counter()
    rewards = list(pipe._voter_rewards_iter(items, None))
    t_rewards = time.perf_counter() - t
    t = time.perf_counter()
    profiles = [Profile.from_scores(R) for R in rewards]
    t_rank = time.perf_counter() - t
    t = time.perf_counter()
    orders = [aggregate(Q, "borda") for Q in profiles]
    t_rule = time.perf_counter() - t
    assert len(orders) == n_prompts
    # peer: one C call per prompt (latents decoded again for every prompt)
    n_peer = min(n_prompts, 1000)
    t = time.perf_counter()
    for k in range(n_peer):
        pipe.individual_.rewards(pipe.voter_latents_, P[k], C[k])
    t_peer = (time.perf_counter() - t) * n_prompts / n_peer
    total = t_rewards + t_rank + t_rule
    tag = f"{n_prompts} prompts x {m} x {n_voters} voters"
    records.append(record(f"relabel {tag}: total", total, "-", None, "< 30 s on 2 cores (10k prompts)"))
    for name, secs in (("rewards", t_rewards), ("rankings", t_rank), ("rule (borda)", t_rule)):
        peer, peer_s = ("C per prompt", t_peer) if name == "rewards" else ("-", None)
        records.append(record(f"  {name} ({100 * secs / total:.0f}%)", secs, peer, peer_s, "share of total"))


def bench_demo(quick: bool, records: list) -> None:
    sizes = None
    if quick:
        sizes = {k: {**v, "steps": 200, "n_raters": 200, "n_voters": 300} for k, v in demo.SIZES.items()}
    with tempfile.TemporaryDirectory() as tmp:
        for all_exp in (False, True):
            t = time.perf_counter()
            demo.run_demo(tmp, all_experiments=all_exp, progress=False, sizes=sizes)
            secs = time.perf_counter() - t
            name = "socialrm demo --all" if all_exp else "socialrm demo (experiments 1, 3)"
            records.append(record(name + (" [quick sizes]" if quick else ""), secs, "-", None,
                                  "report only" if all_exp else "< 180 s"))


def _timed_run(fn, seed: int, kw: dict) -> tuple[dict, float]:
    t = time.perf_counter()
    r = fn(seed, n_threads=1, **kw)
    return r, time.perf_counter() - t


def pass_rates(quick: bool, n_seeds: int, only, records: list, workers: int) -> None:
    """Every (experiment, seed) run on one C thread, ``workers`` runs at a time (training releases
    the GIL): the results are bitwise those of tests/test_pipeline_experiments.py, which runs the
    same way. The seconds reported are per run, so they grow when both cores are busy."""
    names = only or list(demo.EXPERIMENTS)
    small = {"n_raters": 300, "steps": 500, "n_voters": 300}
    pool = ThreadPoolExecutor(max_workers=workers)
    futures = {}
    for name in names:
        for seed in range(1 if quick else n_seeds):
            kw = dict(small) if quick else {}
            if quick and name == "twins":
                kw.pop("social_steps", None)
            futures[name, seed] = pool.submit(_timed_run, demo.EXPERIMENTS[name], seed, kw)
    for name in names:
        results, secs = [], 0.0
        for seed in range(1 if quick else n_seeds):
            r, dt = futures[name, seed].result()
            secs += dt
            results.append(r)
            print(f"{name} seed {seed}: {'pass' if r['passed'] else 'FAIL'} {_summary(r)}", flush=True)
        if name == "rules":
            n1 = sum(r["passed_rules"] for r in results)
            n2 = sum(r["random_ballot"]["passed"] for r in results)
            records.append(record(f"exp 1 four_types rules: {n1}/{len(results)} seeds", secs / len(results), "-", None,
                                  "all 4 rules, both prompts"))
            records.append(record(f"exp 2 random ballot = vanilla: {n2}/{len(results)} seeds", 0.0, "-", None,
                                  "(timed with exp 1)"))
        else:
            n = sum(r["passed"] for r in results)
            label = {"morristown": "exp 3 morristown_partial", "prompts_partial": "exp 4 prompts_partial",
                     "prompts_missing": "prompts_missing (measured)", "twins": "exp 5 pairwise_twins"}[name]
            target = {"prompts_partial": ">= 4/5", "twins": ">= 2/3", "prompts_missing": "report"}.get(name, "all")
            records.append(record(f"{label}: {n}/{len(results)} seeds", secs / len(results), "-", None, target))
    pool.shutdown()


def _summary(r: dict) -> str:
    if r["experiment"] == "rules":
        bad = [f"{k}:{e['prompt']}={e['model']}" for k, v in r["rules"].items() for e in v["prompts"] if not e["passed"]]
        rb = r.get("random_ballot", {})
        bad += [f"random_ballot:{e['prompt']}={e['model']} vs {e['vanilla']}" for e in rb.get("prompts", [])
                if not e["passed"]]
        return "; ".join(bad)
    if r["experiment"] in ("morristown", "prompts"):
        return f"pipeline {r['pipeline']} | vanilla {r['vanilla']}"
    return "; ".join(f"{k}: " + (f"A first {v['share_a_first']:.3f}, C>D {v['share_c_over_d']:.3f}"
                                 if not v.get("collapsed") else "collapsed") for k, v in r["populations"].items())


def main() -> None:
    args = parse()
    records: list = []
    bench_relabel(args.quick, records)
    if not args.skip_demo:
        bench_demo(args.quick, records)
    if not args.skip_pass_rates:
        pass_rates(args.quick, args.seeds, args.experiments, records, args.workers)
    report(records, args.json)


if __name__ == "__main__":
    main()
