"""Benchmarks of the social-choice engine against pref_voting 1.18.1 (DESIGN.md §8 format).

1. Margins of a 1,000,000 x 10 score matrix (target < 100 ms on one core); peer: NumPy, vectorised
   per candidate column.
2. Every rule on a 10,000-voter, 8-candidate profile (impartial culture), full social order, ours
   against pref_voting's equivalent (its SWF where it has one, else ``swf_from_vm(vm)`` for our
   iterated construction); target >= 100x. Timed from the distinct ballots to the order on both
   sides (profile construction + rule): pref_voting does its margin work in numba when its linear
   ``Profile`` is built, and its cheapest rule calls (plurality, Copeland, ...) then only read
   precomputed arrays, as fast as our call overhead. The rule-call-only times are printed as well.
3. Exact Kemeny at m = 16 (< 1 s) and m = 20 (< 30 s) on one core, on random profiles whose
   majority graph is one strongly connected component (no Condorcet order, so the component split
   does not help). pref_voting's Kemeny enumerates all m! orders: it is compared at m = 8 only; at
   m = 16 and 20 there is no peer.
4. The analyses: exhaustive manipulation search (C, parallel) against the same search in Python
   over ``aggregate`` calls, and strong IIA over all subsets.

``--quick`` uses smaller sizes (margins on 100,000 voters, rules on 2,000 voters and 7 candidates,
Kemeny m = 14/16).
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(1, os.path.dirname(_HERE))  # the checkout, when socialrm is built in place
from _harness import best_time, parse_args, record, report

import socialrm as srm


def bench_margins(n: int, m: int, records) -> None:
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((n, m)).astype(np.float32)

    def ours():
        srm.margins_from_scores(scores, n_threads=1)

    def numpy_peer():
        support = np.empty((m, m))
        for a in range(m):
            support[a] = np.count_nonzero(scores[:, a:a + 1] > scores, axis=0)
        return support - support.T

    _sup, mar = srm.margins_from_scores(scores, n_threads=1)
    np.testing.assert_allclose(mar, numpy_peer())
    t_ours = best_time(ours, repeat=5)
    t_peer = best_time(numpy_peer, repeat=3)
    records.append(record(f"margins {n:,} x {m} scores (1 core)", t_ours, "numpy", t_peer, "< 0.1 s"))


def _rule_pairs():
    from pref_voting import c1_methods as c1
    from pref_voting import combined_methods as comb
    from pref_voting import iterative_methods as it
    from pref_voting import margin_based_methods as mb
    from pref_voting import other_methods as other
    from pref_voting import probabilistic_methods as prob
    from pref_voting import scoring_methods as sc
    from pref_voting.helper import swf_from_vm

    # rule: (our options, pv function, pv label)
    return {
        "plurality": ({"order": "score"}, sc.plurality_ranking, "plurality_ranking"),
        "anti_plurality": ({"order": "score"}, sc.anti_plurality_ranking, "anti_plurality_ranking"),
        "borda": ({"order": "score"}, sc.borda_ranking, "borda_ranking"),
        "copeland": ({"order": "score"}, c1.copeland_ranking, "copeland_ranking"),
        "llull": ({"order": "iterated"}, swf_from_vm(c1.llull), "swf_from_vm(llull)"),
        "kemeny": ({}, lambda p: other.kemeny_young(p, algorithm="marginal"), "kemeny_young"),
        "slater": ({}, c1.slater_rankings, "slater_rankings"),
        "minimax": ({"order": "iterated"}, swf_from_vm(mb.minimax), "swf_from_vm(minimax)"),
        "schulze": ({"order": "iterated"}, swf_from_vm(mb.beat_path), "swf_from_vm(beat_path)"),
        "ranked_pairs": ({}, swf_from_vm(mb.ranked_pairs_tb), "swf_from_vm(rp_tb)"),
        "split_cycle": ({"order": "iterated"}, swf_from_vm(mb.split_cycle), "swf_from_vm(split_cyc)"),
        "instant_runoff": ({"order": "elimination"}, it.instant_runoff_ranking, "instant_runoff_ranking"),
        "coombs": ({"order": "iterated"}, swf_from_vm(it.coombs), "swf_from_vm(coombs)"),
        "baldwin": ({"order": "iterated"}, swf_from_vm(it.baldwin), "swf_from_vm(baldwin)"),
        "nanson": ({"order": "iterated"}, swf_from_vm(it.strict_nanson), "swf_from_vm(nanson)"),
        "black": ({"order": "iterated"}, swf_from_vm(comb.blacks), "swf_from_vm(blacks)"),
        "bucklin": ({"order": "iterated"}, swf_from_vm(other.bucklin), "swf_from_vm(bucklin)"),
        "random_ballot": ({"random_state": 0}, prob.random_dictator, "random_dictator"),
        "maximal_lottery": (None, prob.maximal_lottery, "maximal_lottery"),
    }


def bench_rules(n: int, m: int, records) -> None:
    """End to end, from the distinct ballots and their counts to the social order, on both sides:
    pref_voting computes its margin matrix (with numba) when its ``Profile`` is built and its rule
    calls then only read it, so timing the rule call alone would leave pv's main cost out. The
    rule-only pv time is printed too."""
    from pref_voting.profiles import Profile as PvProfile

    rng = np.random.default_rng(1)
    ballots = np.array([rng.permutation(m) for _ in range(n)])
    distinct, counts = np.unique(ballots, axis=0, return_counts=True)
    rankings = [[int(c) for c in r] for r in distinct]
    rcounts = [int(c) for c in counts]

    def build_ours():
        return srm.Profile.from_rankings(distinct, weights=counts)

    def build_pv():
        return PvProfile(rankings, rcounts=rcounts)

    build_pv()  # numba compilation
    t_build_ours = best_time(build_ours, repeat=5)
    t_build_pv = best_time(build_pv, repeat=3)
    P, pv = build_ours(), build_pv()
    print(f"profile construction ({n:,} voters, {len(rcounts):,} distinct ballots): ours {t_build_ours * 1e3:.2f} ms, "
          f"pv {t_build_pv * 1e3:.2f} ms")
    available = set(srm.available_rules())
    for rule, (opts, pv_fn, label) in _rule_pairs().items():
        if rule not in available:
            continue
        if opts is None:
            def ours():
                return srm.maximal_lottery(P)
        else:
            def ours(rule=rule, opts=opts):
                return srm.aggregate(P, rule=rule, **opts)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pv_fn(pv)  # warm-up (numba compilation)
            start = time.perf_counter()
            pv_fn(pv)
            once = time.perf_counter() - start
            t_peer = best_time(lambda pv_fn=pv_fn: pv_fn(pv), repeat=1 if once > 2 else 3)
        t_ours = best_time(ours, repeat=5, min_total=0.05)
        print(f"  {rule}: rule call only: ours {t_ours * 1e6:.0f} us, pv {t_peer * 1e6:.0f} us")
        records.append(record(f"{rule} ({n:,} voters, m={m}, ballots->order)", t_build_ours + t_ours,
                              f"pv {label}", t_build_pv + t_peer, ">= 100x"))
    # cardinal rules on a utility matrix of the same size
    from pref_voting.utility_methods import (
        maximin_ranking,
        relative_utilitarian_ranking,
        sum_utilitarian_ranking,
    )
    from pref_voting.utility_profiles import UtilityProfile

    U = rng.random((n, m))
    PU = srm.Profile.from_scores(U)
    upv = UtilityProfile([dict(enumerate(map(float, u))) for u in U])
    for rule, fn, label in (("utilitarian", sum_utilitarian_ranking, "sum_utilitarian_ranking"),
                            ("relative_utilitarian", relative_utilitarian_ranking, "relative_util_ranking"),
                            ("egalitarian", maximin_ranking, "maximin_ranking")):
        t_peer = best_time(lambda fn=fn: fn(upv), repeat=3)
        t_ours = best_time(lambda rule=rule: srm.aggregate(PU, rule=rule), repeat=5, min_total=0.05)
        records.append(record(f"{rule} ({n:,} voters, m={m}, utilities->order)", t_ours, f"pv {label}", t_peer,
                              ">= 100x"))


def _one_component_profile(m: int, n: int, seed: int):
    """Impartial-culture profile whose majority graph is one strongly connected component."""
    rng = np.random.default_rng(seed)
    while True:
        P = srm.Profile.from_rankings([rng.permutation(m).tolist() for _ in range(n)])
        if srm.kemeny_optima(P, max_orders=1)["n_components"] == 1:
            return P


def bench_kemeny(sizes, records) -> None:
    from pref_voting import other_methods as other
    from pref_voting.profiles import Profile as PvProfile

    # m = 8: the only size where pv's brute force is practical
    rng = np.random.default_rng(2)
    ballots = [rng.permutation(8).tolist() for _ in range(101)]
    P8 = srm.Profile.from_rankings(ballots)
    pv8 = PvProfile(ballots)
    other.kemeny_young(pv8, algorithm="marginal")
    t_peer = best_time(lambda: other.kemeny_young(pv8, algorithm="marginal"), repeat=2)
    t_ours = best_time(lambda: srm.aggregate(P8, rule="kemeny"), repeat=5)
    records.append(record("kemeny exact m=8 (101 voters)", t_ours, "pv kemeny_young", t_peer, "-"))
    for m, target in sizes:
        P = _one_component_profile(m, 101, seed=m)
        t_ours = best_time(lambda P=P: srm.aggregate(P, rule="kemeny"), repeat=1 if m >= 20 else 3)
        records.append(record(f"kemeny exact m={m} (1 component, 101 voters)", t_ours, "none (pv: m! brute force)",
                              None, target))


def bench_analyses(records, quick: bool) -> None:
    rng = np.random.default_rng(4)
    m = 5 if quick else 6
    P = srm.Profile.from_rankings([rng.permutation(m).tolist() for _ in range(9)])

    def fast():
        return srm.find_manipulation(P, "kemeny", max_candidates=m)

    def slow():
        return srm.find_manipulation(P, lambda Q: srm.aggregate(Q, rule="kemeny"), max_candidates=m)

    a, b = fast(), slow()
    assert (a is None) == (b is None)
    t_fast = best_time(fast, repeat=3)
    t_slow = best_time(slow, repeat=1)
    found = "found" if a is not None else "none"
    records.append(record(f"manipulation search kemeny m={m} ({found})", t_fast, "python loop", t_slow, "-"))
    m = 10 if quick else 12
    Q = srm.Profile.from_rankings([rng.permutation(m).tolist() for _ in range(2001)])

    def iia_fast():
        return srm.check_criteria(Q, "schulze", criteria=["strong_iia"], max_subsets=None)

    def iia_slow():
        return srm.check_criteria(Q, lambda R: srm.aggregate(R, rule="schulze"), criteria=["strong_iia"],
                                  max_subsets=None)

    t_fast = best_time(iia_fast, repeat=2)
    t_slow = best_time(iia_slow, repeat=1)
    records.append(record(f"strong IIA schulze, all {2**m - m - 2} subsets (m={m})", t_fast, "python loop",
                          t_slow, "-"))


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    records = []
    if args.quick:
        bench_margins(100_000, 10, records)
        bench_rules(2_000, 7, records)  # m = 7 keeps pv's m!-enumerating Kemeny/Slater short
        bench_kemeny([(14, "-"), (16, "< 1 s")], records)
    else:
        bench_margins(1_000_000, 10, records)
        bench_rules(10_000, 8, records)
        bench_kemeny([(16, "< 1 s"), (20, "< 30 s")], records)
    bench_analyses(records, args.quick)
    report(records, args.json)


if __name__ == "__main__":
    main()
