"""Axioms as properties (hypothesis): Condorcet consistency, Pareto, anonymity and neutrality.

Profiles are drawn as (m, number of ballot draws, ballot kind, seed) and built with the generator of
``_choice_oracles``, so every example is reproducible from its seed.
"""

from __future__ import annotations

import numpy as np
import pytest
from _choice_oracles import KINDS, margins_of, random_profile, tiers_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialrm as srm

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pairwise (margin-based) Condorcet-consistent rules: any ballots, either margin mode.
CONDORCET_PAIRWISE = ["copeland", "llull", "kemeny", "minimax", "schulze", "ranked_pairs", "slater", "split_cycle"]
# Borda-based Condorcet-consistent rules: their Borda score is the symmetric one, Σ_d M*[c][d] over the
# extended margins, so the Condorcet winner of the extended margins is the one they must elect.
CONDORCET_BORDA_BASED = ["nanson", "baldwin", "black"]
# Every deterministic ordinal rule (anonymity and neutrality).
ORDINAL = ["plurality", "anti_plurality", "borda", "copeland", "llull", "kemeny", "minimax", "schulze",
           "ranked_pairs", "instant_runoff", "coombs", "baldwin", "nanson", "black", "slater", "split_cycle",
           "bucklin"]
# Rules that break ties by a linear order of the candidates (candidate index by default): neutral
# only when the tie-breaking order is relabelled with the candidates.
TIE_BREAK_RULES = {"kemeny", "ranked_pairs", "slater"}


def registered(rules):
    have = set(srm.available_rules())
    return [r for r in rules if r in have]


profiles = st.tuples(
    st.integers(3, 6),  # m
    st.integers(1, 9),  # ballot draws
    st.sampled_from(KINDS),
    st.integers(0, 2**32 - 1),  # seed
)
linear_profiles = st.tuples(st.integers(3, 6), st.integers(1, 9), st.just("linear"), st.integers(0, 2**32 - 1))


def build(spec):
    m, n_types, kind, seed = spec
    levels, weights = random_profile(np.random.default_rng(seed), m, n_types, kind)
    return levels, weights, srm.Profile.from_levels(levels, weights=weights)


def condorcet_winner(margins: np.ndarray):
    m = margins.shape[0]
    for c in range(m):
        if all(margins[c, d] > 0 for d in range(m) if d != c):
            return c
    return None


@SETTINGS
@given(profiles, st.sampled_from(["strict", "extended"]))
def test_condorcet_consistent_rules_elect_the_condorcet_winner(spec, mode):
    levels, weights, P = build(spec)
    cw = condorcet_winner(margins_of(levels, weights, extended=(mode == "extended")))
    if cw is None:
        return
    for rule in registered(CONDORCET_PAIRWISE):
        assert tiers_of(srm.aggregate(P, rule=rule, margin_mode=mode).ranks)[0] == [cw], rule
    p = srm.maximal_lottery(P, margin_mode=mode)
    np.testing.assert_allclose(p, np.eye(P.n_candidates)[cw], atol=1e-9)


@SETTINGS
@given(profiles)
def test_borda_based_condorcet_rules(spec):
    levels, weights, P = build(spec)
    cw = condorcet_winner(margins_of(levels, weights, extended=True))
    if cw is None:
        return
    for rule in registered(CONDORCET_BORDA_BASED):
        assert tiers_of(srm.aggregate(P, rule=rule).ranks)[0] == [cw], rule


def pareto_pairs(levels, weights):
    """(a, b) with every ballot (of positive weight) ranking a strictly above b."""
    m = levels.shape[1]
    return [(a, b) for a in range(m) for b in range(m) if a != b and np.all(levels[:, a] < levels[:, b])]


# Winner version: a Pareto-dominated candidate is never in the top tier (linear ballots).
PARETO_WINNER = ["plurality", "borda", "copeland", "llull", "kemeny", "minimax", "schulze", "ranked_pairs",
                 "instant_runoff", "coombs", "baldwin", "nanson", "black", "slater", "split_cycle", "bucklin"]
# SWF version: a strictly above b in the default order.
PARETO_ORDER = ["borda", "copeland", "kemeny", "schulze", "ranked_pairs", "slater"]


@SETTINGS
@given(linear_profiles)
def test_pareto(spec):
    levels, weights, P = build(spec)
    pairs = pareto_pairs(levels, weights)
    if not pairs:
        return
    dominated = {b for _, b in pairs}
    for rule in registered(PARETO_WINNER):
        top = tiers_of(srm.aggregate(P, rule=rule).ranks)[0]
        assert not dominated & set(top), rule
        # and the iterated construction of a Pareto-consistent winner rule is Pareto as an order
        ranks = srm.aggregate(P, rule=rule, order="iterated").ranks
        assert all(ranks[a] < ranks[b] for a, b in pairs), (rule, "iterated")
    for rule in registered(PARETO_ORDER):
        ranks = srm.aggregate(P, rule=rule).ranks
        assert all(ranks[a] < ranks[b] for a, b in pairs), rule
    p = srm.maximal_lottery(P)
    assert np.all(p[list(dominated)] <= 1e-9)
    # random ballot returns some voter's ballot: ex post Pareto
    ranks = srm.aggregate(P, rule="random_ballot", random_state=spec[3]).ranks
    assert all(ranks[a] < ranks[b] for a, b in pairs)
    # and check_criteria agrees
    report = srm.check_criteria(P, "borda", criteria=["pareto"])
    assert report["pareto"].holds is True


@SETTINGS
@given(profiles, st.integers(0, 2**32 - 1))
def test_anonymity(spec, seed):
    """Permuting the ballots, or splitting a ballot type into two rows, changes nothing."""
    levels, weights, P = build(spec)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(weights))
    Q = srm.Profile.from_levels(levels[perm], weights=weights[perm])
    # split the heaviest type into two rows of the same ballot
    t = int(np.argmax(weights))
    if weights[t] >= 2:
        w2 = np.concatenate([weights, [1]])
        w2[t] -= 1
        R = srm.Profile.from_levels(np.concatenate([levels, levels[t:t + 1]]), weights=w2)
    else:
        R = Q
    for rule in registered(ORDINAL):
        base = srm.aggregate(P, rule=rule).ranks
        np.testing.assert_array_equal(srm.aggregate(Q, rule=rule).ranks, base, err_msg=rule)
        np.testing.assert_array_equal(srm.aggregate(R, rule=rule).ranks, base, err_msg=rule)


@SETTINGS
@given(profiles, st.integers(0, 2**32 - 1))
def test_neutrality(spec, seed):
    """Relabelling candidates by π relabels the social order: ranks'[π(c)] = ranks[c]."""
    levels, weights, P = build(spec)
    m = levels.shape[1]
    pi = np.random.default_rng(seed).permutation(m)
    relabelled = np.empty_like(levels)
    relabelled[:, pi] = levels
    Q = srm.Profile.from_levels(relabelled, weights=weights)
    for rule in registered(ORDINAL):
        if rule in TIE_BREAK_RULES:
            tau = list(range(m))
            base = srm.aggregate(P, rule=rule, tie_break=tau).ranks
            new = srm.aggregate(Q, rule=rule, tie_break=[int(pi[c]) for c in tau]).ranks
        else:
            base = srm.aggregate(P, rule=rule).ranks
            new = srm.aggregate(Q, rule=rule).ranks
        np.testing.assert_array_equal(np.asarray(new)[pi], base, err_msg=rule)
    if _ml_unique(levels, weights):
        np.testing.assert_allclose(srm.maximal_lottery(Q)[pi], srm.maximal_lottery(P), atol=1e-9)


def _ml_unique(levels, weights) -> bool:
    # the maximal lottery is unique for linear ballots and an odd total weight
    return bool(np.all(levels >= 0) and int(weights.sum()) % 2 == 1 and
                all(np.unique(r).size == r.size for r in levels))


@SETTINGS
@given(profiles)
def test_cardinal_rules_anonymous_and_neutral(spec):
    m, n, _, seed = spec
    rng = np.random.default_rng(seed)
    # eighths: positive (Nash), ties happen, and sums are exact whatever the voter order
    U = (np.round(rng.random((n, m)) * 8) + 1) / 8
    P = srm.Profile.from_scores(U)
    pi = rng.permutation(m)
    V = np.empty_like(U)
    V[:, pi] = U
    Q = srm.Profile.from_scores(V[rng.permutation(n)])
    for rule in registered(["utilitarian", "relative_utilitarian", "egalitarian", "nash"]):
        base = srm.aggregate(P, rule=rule).ranks
        np.testing.assert_array_equal(np.asarray(srm.aggregate(Q, rule=rule).ranks)[pi], base, err_msg=rule)


def test_cardinal_ties_do_not_depend_on_voter_order():
    # Regression: cardinal scores were once compared exactly, so mathematically equal means tied or
    # not depending on rounding, i.e. on the order of the voters.
    rng = np.random.default_rng(1)
    U = np.round(rng.random((7, 6)), 1) + 0.05
    # candidates 0 and 2 have equal utility sums in exact arithmetic (3.65 each)
    assert round(U[:, 0].sum(), 9) == round(U[:, 2].sum(), 9)
    for order in (np.arange(7), np.arange(7)[::-1]):
        ranks = srm.aggregate(srm.Profile.from_scores(U[order]), rule="utilitarian").ranks
        assert ranks[0] == ranks[2]
