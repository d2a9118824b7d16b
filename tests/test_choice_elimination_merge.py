"""Instant runoff and Coombs on many voters: with integer weights and strict ballots (complete or
truncated) the C core merges the ballots that agree on the order of the remaining candidates
(elimination.c, merged lists); with real weights it keeps the per-ballot passes. Halving every
weight changes no decision (sums of halves are exact and the distinct totals stay >= 0.5 apart), so
both paths must give the same social orders; a few profiles are also checked against pref_voting."""

from __future__ import annotations

import numpy as np
import pytest
from pref_voting import iterative_methods as pv_iter
from pref_voting.helper import swf_from_vm
from pref_voting.profiles import Profile as PvProfile

import socialrm as srm

RULES = [("coombs", "iterated"), ("coombs", "elimination"), ("instant_runoff", "elimination"),
         ("instant_runoff", "iterated")]


def _ballots(rng, n, m, truncated, n_types):
    """n ballots drawn from n_types random (possibly truncated) orders: many duplicates, so merging
    collapses the list early; a few voters get a fresh order so the list is not only the types."""
    types = []
    for _ in range(n_types):
        order = rng.permutation(m)
        types.append(order[: int(rng.integers(1, m + 1))] if truncated else order)
    out = []
    for _ in range(n):
        if rng.random() < 0.1:
            order = rng.permutation(m)
            out.append(order[: int(rng.integers(1, m + 1))] if truncated else order)
        else:
            out.append(types[int(rng.integers(n_types))])
    return [[int(c) for c in b] for b in out]


def _profiles():
    rng = np.random.default_rng(7)
    for i in range(40):
        m = (3, 4, 5, 6, 6, 7, 8, 16)[i % 8]  # even i complete, odd i truncated
        truncated = i % 2 == 1
        n = int(rng.integers(50, 1500))
        ballots = _ballots(rng, n, m, truncated, n_types=int(rng.integers(3, 40)))
        weights = rng.integers(1, 6, size=n)
        weights[0] = 3  # an odd weight: halving makes the profile non-integral
        yield m, ballots, weights


@pytest.mark.parametrize("case", list(_profiles()), ids=lambda c: f"m{c[0]}")
def test_merged_lists_match_per_ballot_path(case):
    m, ballots, weights = case
    P_int = srm.Profile.from_rankings(ballots, weights=weights, n_candidates=m)
    P_half = srm.Profile.from_rankings(ballots, weights=weights / 2.0, n_candidates=m)
    for rule, order in RULES:
        got = srm.aggregate(P_int, rule=rule, order=order).ranks
        want = srm.aggregate(P_half, rule=rule, order=order).ranks
        np.testing.assert_array_equal(got, want, err_msg=f"{rule} ({order}) m={m}")


def test_merged_lists_agree_with_pref_voting():
    # Complete ballots on 6 candidates with 2,000 voters: rounds on <= 5 candidates run on merged
    # lists (at most 120 orders); pv recomputes from the ballots.
    rng = np.random.default_rng(11)
    for k in range(3):
        m, n = 6, 2000
        ballots = _ballots(rng, n, m, truncated=False, n_types=25 + k)
        P = srm.Profile.from_rankings(ballots)
        pv = PvProfile(ballots)
        want = swf_from_vm(pv_iter.coombs)(pv)
        got = srm.aggregate(P, rule="coombs", order="iterated").ranks
        assert _same_tiers(got, want.rmap, m)
        want_irv = pv_iter.instant_runoff_ranking(pv)
        got_irv = srm.aggregate(P, rule="instant_runoff", order="elimination").ranks
        assert _same_tiers(got_irv, want_irv.rmap, m)


def _same_tiers(ranks, rmap, m):
    """Same ordered partition: c before d in ours iff before in pv, for every pair."""
    return all((ranks[a] < ranks[b]) == (rmap[a] < rmap[b]) and (ranks[a] == ranks[b]) == (rmap[a] == rmap[b])
               for a in range(m) for b in range(m))
