"""Worked examples as oracles: CHOICE.md §6 (each answer also confirmed against pref_voting where pv
has the rule) and the populations of DESIGN.md §6 (shares and orders written inline here).

Candidates are indices; each test names them in a comment. Orders are ordered partitions of sorted
candidate lists, best first (``[[1], [2], [0, 3]]`` = N ≻ C ≻ {M, K}).
"""

from __future__ import annotations

import numpy as np
import pytest
from _choice_oracles import kemeny_brute_force, margins_of, pv_profile, pv_tiers, tiers_of
from pref_voting import c1_methods as pv_c1
from pref_voting import combined_methods as pv_comb
from pref_voting import iterative_methods as pv_iter
from pref_voting import margin_based_methods as pv_mb
from pref_voting import other_methods as pv_other
from pref_voting import probabilistic_methods as pv_prob
from pref_voting import scoring_methods as pv_score
from pref_voting.helper import swf_from_vm

import socialrm as srm


def rankings_profile(ballots, weights, names=None):
    return srm.Profile.from_rankings(ballots, weights=weights, candidates=names)


def order_of(P, rule, **options):
    return tiers_of(srm.aggregate(P, rule=rule, **options).ranks)


def pv_of(P, extended=False):
    return pv_profile(np.asarray(P.levels), np.asarray(P.weights).astype(np.int64), extended=extended)


def pv_swf(vm, prof):
    return pv_tiers(swf_from_vm(vm)(prof))


def pv_elimination_order(winners, rounds):
    """(E) order from pv's *_with_explanation: the winners first, then the rounds in reverse."""
    return [sorted(winners)] + [sorted(int(c) for c in r) for r in reversed(rounds)]


def pv_minimax_score_order(prof, method="margins"):
    scores = pv_mb.minimax_scores(prof, score_method=method)  # negated worst defeats
    return tiers_of(-np.array([scores[c] for c in sorted(scores)], dtype=float))


def assert_affine(ours, expected):
    """``ours`` is a positive affine image of ``expected`` (Borda scores come in several
    affine-equivalent normalisations, CHOICE.md §1 row 3)."""
    ours, expected = np.asarray(ours, float), np.asarray(expected, float)
    A = np.stack([expected, np.ones_like(expected)], axis=1)
    (a, b), *_ = np.linalg.lstsq(A, ours, rcond=None)
    assert a > 0
    np.testing.assert_allclose(a * expected + b, ours, rtol=0, atol=1e-9 * max(1.0, np.abs(ours).max()))


# -------------------------------------------------------------------------------------------------
# CHOICE.md §6.1 Tennessee (= DESIGN.md §6 four_types on `normal`)
# M = Memphis 0, N = Nashville 1, C = Chattanooga 2, K = Knoxville 3
M_, N_, C_, K_ = 0, 1, 2, 3
TENNESSEE = ([[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 1, 0], [3, 2, 1, 0]], [42, 26, 15, 17])
TN_NAMES = ["Memphis", "Nashville", "Chattanooga", "Knoxville"]
NCKM = [[N_], [C_], [K_], [M_]]


def _nanson_rounds(prof):
    winners, rounds = pv_iter.strict_nanson_with_explanation(prof)
    return winners, [r["elim_cands"] for r in rounds]


def _baldwin_rounds(prof):
    winners, rounds = pv_iter.baldwin_with_explanation(prof)
    return winners, [r[0] for r in rounds]


@pytest.fixture(scope="module")
def tennessee():
    P = rankings_profile(*TENNESSEE, names=TN_NAMES)
    return P, pv_of(P)


def test_tennessee_margins_and_condorcet(tennessee):
    P, pv = tennessee
    expected = np.array([[0, -16, -16, -16], [16, 0, 36, 36], [16, -36, 0, 66], [16, -36, -66, 0]])
    np.testing.assert_array_equal(P.margins(), expected)
    np.testing.assert_array_equal(P.margins(mode="extended"), expected)  # complete ballots
    assert [[pv.margin(a, b) for b in range(4)] for a in range(4)] == expected.tolist()
    assert P.condorcet_winner() == N_
    assert pv_c1.condorcet(pv) == [N_]


@pytest.mark.parametrize(
    "rule, options, expected, pv_fn",
    [
        ("plurality", {}, [[M_], [N_], [K_], [C_]], lambda p: pv_tiers(pv_score.plurality_ranking(p))),
        ("anti_plurality", {}, [[N_, C_], [K_], [M_]], lambda p: pv_tiers(pv_score.anti_plurality_ranking(p))),
        ("borda", {}, [[N_], [C_], [M_], [K_]], lambda p: pv_tiers(pv_score.borda_ranking(p))),
        ("copeland", {}, NCKM, lambda p: pv_tiers(pv_c1.copeland_ranking(p))),
        ("llull", {}, NCKM, lambda p: pv_swf(pv_c1.llull, p)),
        ("kemeny", {}, NCKM, lambda p: [[c] for c in pv_other.kemeny_young_rankings(p)[0][0]]),
        ("minimax", {"order": "score"}, [[N_], [M_], [C_], [K_]], pv_minimax_score_order),
        ("minimax", {"order": "score", "variant": "winning_votes"}, [[N_], [M_], [C_], [K_]],
         lambda p: pv_minimax_score_order(p, "winning")),
        ("minimax", {"order": "score", "variant": "pairwise_opposition"}, [[N_], [M_], [C_], [K_]],
         lambda p: pv_minimax_score_order(p, "pairwise_opposition")),
        ("minimax", {"order": "iterated"}, NCKM, lambda p: pv_swf(pv_mb.minimax, p)),
        ("schulze", {"order": "layers"}, NCKM, None),
        ("schulze", {"order": "iterated"}, NCKM, lambda p: pv_swf(pv_mb.beat_path, p)),
        ("ranked_pairs", {}, NCKM, lambda p: pv_swf(pv_mb.ranked_pairs, p)),
        ("black", {"order": "iterated"}, NCKM, lambda p: pv_swf(pv_comb.blacks, p)),
        ("nanson", {"order": "elimination"}, [[N_], [C_], [M_, K_]],
         lambda p: pv_elimination_order(*_nanson_rounds(p))),
        ("nanson", {"order": "iterated"}, NCKM, lambda p: pv_swf(pv_iter.strict_nanson, p)),
        ("baldwin", {"order": "elimination"}, [[N_], [C_], [M_], [K_]],
         lambda p: pv_elimination_order(*_baldwin_rounds(p))),
        ("baldwin", {"order": "iterated"}, NCKM, lambda p: pv_swf(pv_iter.baldwin, p)),
        ("coombs", {"order": "elimination"}, NCKM, None),
        ("coombs", {"order": "iterated"}, NCKM, lambda p: pv_swf(pv_iter.coombs, p)),
        ("instant_runoff", {"order": "elimination"}, [[K_], [M_], [N_], [C_]],
         lambda p: pv_tiers(pv_iter.instant_runoff_ranking(p))),
        ("instant_runoff", {"order": "iterated"}, [[K_], [C_], [N_], [M_]], lambda p: pv_swf(pv_iter.instant_runoff, p)),
    ],
)
def test_tennessee_orders(tennessee, rule, options, expected, pv_fn):
    P, pv = tennessee
    assert order_of(P, rule, **options) == expected
    if pv_fn is not None:
        assert pv_fn(pv) == expected


@pytest.mark.parametrize("rule", ["slater", "split_cycle", "bucklin"])
def test_tennessee_optional_rules(tennessee, rule):
    P, pv = tennessee
    if rule not in srm.available_rules():
        pytest.skip(f"{rule} is not in the registry")
    if rule == "bucklin":
        # (S) by top_k at k = 2 (N 68, C 58, M 42, K 32); (I) N ≻ C ≻ K ≻ M
        assert order_of(P, rule, order="score") == [[N_], [C_], [M_], [K_]]
        assert order_of(P, rule, order="iterated") == NCKM == pv_swf(pv_other.bucklin, pv)
        assert pv_other.bucklin_with_explanation(pv)[1] == {0: 42, 1: 68, 2: 58, 3: 32}
    else:
        fn = {"slater": pv_c1.slater, "split_cycle": pv_mb.split_cycle}[rule]
        assert order_of(P, rule) == NCKM == pv_swf(fn, pv)


def test_tennessee_scores(tennessee):
    P, pv = tennessee
    borda = srm.aggregate(P, rule="borda").scores
    assert_affine(borda, [126, 194, 173, 107])
    assert pv.borda_scores() == {0: 126, 1: 194, 2: 173, 3: 107}
    np.testing.assert_allclose(srm.aggregate(P, rule="plurality").scores, [42, 26, 15, 17])
    # Copeland (1, 1/2, 0) default: N 3, C 2, K 1, M 0 (pv's (1, 0, -1) gives 3, 1, -1, -3)
    assert_affine(srm.aggregate(P, rule="copeland").scores, [-3, 3, 1, -1])
    assert_affine(srm.aggregate(P, rule="copeland", copeland=(1, 0, -1)).scores, [-3, 3, 1, -1])
    np.testing.assert_allclose(srm.aggregate(P, rule="copeland", copeland=(1, 0, -1)).scores, [-3, 3, 1, -1])
    # Minimax scores are the negated worst defeats: margins N 0, M 16, C 36, K 66
    np.testing.assert_allclose(srm.aggregate(P, rule="minimax", order="score").scores, [-16, 0, -36, -66])
    assert pv_mb.minimax_scores(pv) == {0: -16, 1: 0, 2: -36, 3: -66}
    wv = srm.aggregate(P, rule="minimax", order="score", variant="winning_votes").scores
    np.testing.assert_allclose(wv, [-58, 0, -68, -83])
    assert pv_mb.minimax_scores(pv, score_method="winning") == {0: -58, 1: 0, 2: -68, 3: -83}
    po = srm.aggregate(P, rule="minimax", order="score", variant="pairwise_opposition").scores
    np.testing.assert_allclose(po, [-58, -42, -68, -83])
    assert pv_mb.minimax_scores(pv, score_method="pairwise_opposition") == {0: -58, 1: -42, 2: -68, 3: -83}


def test_tennessee_kemeny_optimum(tennessee):
    P, pv = tennessee
    best, optima = kemeny_brute_force(np.asarray(P.margins(), float))
    assert best == 186 and optima == [(N_, C_, K_, M_)]
    rankings, distance = pv_other.kemeny_young_rankings(pv)
    assert rankings == [(N_, C_, K_, M_)] and distance == 207


def test_tennessee_lotteries(tennessee):
    P, pv = tennessee
    np.testing.assert_allclose(srm.maximal_lottery(P), [0, 1, 0, 0], atol=1e-12)
    assert pv_prob.maximal_lottery(pv) == pytest.approx({0: 0.0, 1: 1.0, 2: 0.0, 3: 0.0})
    # random ballot returns one of the ballots (drawn with probability w_r / n, seeded)
    drawn = {tuple(srm.aggregate(P, rule="random_ballot", random_state=s).ranks.tolist()) for s in range(40)}
    assert drawn <= {tuple(r) for r in np.asarray(P.levels).tolist()} and len(drawn) >= 3
    assert pv_prob.random_dictator(pv) == pytest.approx({0: 0.42, 1: 0.26, 2: 0.15, 3: 0.17})


def test_tennessee_black_as_cw_then_borda(tennessee):
    # "Condorcet winner, then Borda order" reading of Black: N ≻ C ≻ M ≻ K; the (I) default is N ≻ C ≻ K ≻ M
    P, _ = tennessee
    assert order_of(P, "black", order="score") == [[N_], [C_], [M_], [K_]]


# -------------------------------------------------------------------------------------------------
# DESIGN.md §6 four_types: `normal` is Tennessee; `inverted` has every ballot reversed.


def test_four_types_normal_and_inverted():
    shares = [42, 26, 15, 17]  # Me, Na, Ch, Kn types
    normal = [[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 1, 0], [3, 2, 1, 0]]
    P = rankings_profile(normal, shares, TN_NAMES)
    Q = rankings_profile([r[::-1] for r in normal], shares, TN_NAMES)
    assert order_of(P, "borda") == [[N_], [C_], [M_], [K_]]
    for rule in ("copeland", "kemeny", "schulze", "ranked_pairs"):
        assert order_of(P, rule) == NCKM, rule
    assert order_of(P, "minimax", order="score") == [[N_], [M_], [C_], [K_]]
    assert order_of(P, "minimax", order="iterated") == NCKM
    # Reversal-symmetric rules (CHOICE.md §2 table: Borda, Copeland, Kemeny, Schulze, ranked pairs
    # without margin ties) give exactly the reversed order on `inverted`.
    np.testing.assert_array_equal(Q.margins(), -np.asarray(P.margins()))
    for rule in ("borda", "copeland", "kemeny", "schulze", "ranked_pairs"):
        assert order_of(Q, rule) == order_of(P, rule)[::-1], rule
    # and pv agrees on inverted for the SWFs it has
    pvq = pv_of(Q)
    assert pv_tiers(pv_score.borda_ranking(pvq)) == [[K_], [M_], [C_], [N_]]
    assert pv_tiers(pv_c1.copeland_ranking(pvq)) == NCKM[::-1]
    assert pv_other.kemeny_young_rankings(pvq)[0] == [(M_, K_, C_, N_)]


# -------------------------------------------------------------------------------------------------
# CHOICE.md §6.2 Condorcet cycle: A 0, B 1, C 2


@pytest.fixture(scope="module")
def cycle():
    P = rankings_profile([[0, 1, 2], [1, 2, 0], [2, 0, 1]], [4, 3, 2], ["A", "B", "C"])
    return P, pv_of(P)


def test_cycle(cycle):
    P, pv = cycle
    np.testing.assert_array_equal(P.margins(), [[0, 3, -1], [-3, 0, 5], [1, -5, 0]])
    assert P.condorcet_winner() is None
    ABC = [[0], [1], [2]]
    assert order_of(P, "plurality") == ABC == pv_tiers(pv_score.plurality_ranking(pv))
    assert order_of(P, "anti_plurality") == [[1], [0], [2]] == pv_tiers(pv_score.anti_plurality_ranking(pv))
    assert order_of(P, "borda") == [[0, 1], [2]] == pv_tiers(pv_score.borda_ranking(pv))
    assert order_of(P, "copeland") == [[0, 1, 2]] == pv_tiers(pv_c1.copeland_ranking(pv))
    assert order_of(P, "llull") == [[0, 1, 2]] == pv_swf(pv_c1.llull, pv)
    assert order_of(P, "kemeny") == ABC
    assert pv_other.kemeny_young_rankings(pv) == ([(0, 1, 2)], 10)
    assert kemeny_brute_force(np.asarray(P.margins(), float)) == (7.0, [(0, 1, 2)])
    assert order_of(P, "minimax") == ABC == pv_swf(pv_mb.minimax, pv)
    np.testing.assert_allclose(srm.aggregate(P, rule="minimax", order="score").scores, [-1, -3, -5])
    assert order_of(P, "schulze") == ABC == pv_swf(pv_mb.beat_path, pv)
    assert order_of(P, "ranked_pairs") == ABC == pv_swf(pv_mb.ranked_pairs, pv)
    for rule, fn in [("nanson", pv_iter.strict_nanson), ("baldwin", pv_iter.baldwin), ("coombs", pv_iter.coombs),
                     ("instant_runoff", pv_iter.instant_runoff)]:
        assert order_of(P, rule) == ABC == pv_swf(fn, pv), rule
    assert order_of(P, "black", order="iterated") == [[0, 1], [2]] == pv_swf(pv_comb.blacks, pv)
    p = srm.maximal_lottery(P)
    np.testing.assert_allclose(p, [5 / 9, 1 / 9, 3 / 9], atol=1e-9)
    np.testing.assert_allclose(p @ np.asarray(P.margins(), float), 0, atol=1e-9)
    assert [pv_prob.maximal_lottery(pv)[c] for c in range(3)] == pytest.approx([5 / 9, 1 / 9, 3 / 9])
    if "slater" in srm.available_rules():
        assert tiers_of(srm.aggregate(P, rule="slater").ranks)[0] in ([0], [1], [2], [0, 1, 2])
        assert pv_c1.slater(pv) == [0, 1, 2]
    if "split_cycle" in srm.available_rules():
        assert order_of(P, "split_cycle") == ABC == pv_swf(pv_mb.split_cycle, pv)
    if "bucklin" in srm.available_rules():
        assert order_of(P, "bucklin", order="score") == [[1], [0], [2]]
        assert order_of(P, "bucklin", order="iterated") == [[1], [2], [0]] == pv_swf(pv_other.bucklin, pv)


# -------------------------------------------------------------------------------------------------
# CHOICE.md §6.3 and §6.4: Borda fails majority, Condorcet and strong IIA


def test_borda_fails_majority_condorcet_and_iia():
    P = rankings_profile([[0, 1, 2], [1, 2, 0]], [3, 2], ["A", "B", "C"])
    pv = pv_of(P)
    np.testing.assert_array_equal(P.margins(), [[0, 1, 1], [-1, 0, 5], [-1, -5, 0]])
    assert order_of(P, "borda") == [[1], [0], [2]] == pv_tiers(pv_score.borda_ranking(pv))
    assert order_of(P, "anti_plurality") == [[1], [0], [2]] == pv_tiers(pv_score.anti_plurality_ranking(pv))
    ABC = [[0], [1], [2]]
    for rule in ("copeland", "kemeny", "minimax", "schulze", "ranked_pairs", "nanson", "baldwin", "black",
                 "plurality", "instant_runoff"):
        assert order_of(P, rule) == ABC, rule
    assert pv_tiers(pv_score.plurality_ranking(pv)) == ABC == pv_tiers(pv_iter.instant_runoff_ranking(pv))
    report = srm.check_criteria(P, "borda")
    assert report["majority"].holds is False and report["majority"].evidence["candidate"] == 0
    assert report["condorcet_winner"].holds is False and report["condorcet_winner"].evidence["candidate"] == 0
    iia = report["strong_iia"]
    assert iia.holds is False
    v = {tuple(x["subset"]): x for x in iia.evidence["violations"]}
    assert v[(0, 1)]["restricted_then_aggregated"] == [[0], [1]]  # Borda(P|{A,B}) = A ≻ B
    assert v[(0, 1)]["aggregated_then_restricted"] == [[1], [0]]  # Borda(P)|{A,B} = B ≻ A
    assert report["pareto"].holds in (True, None)
    for rule in ("copeland", "kemeny", "schulze"):
        r = srm.check_criteria(P, rule)
        assert r["majority"].holds is True and r["condorcet_winner"].holds is True, rule


def test_borda_fails_condorcet_without_majority():
    P = rankings_profile([[0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 1, 0]], [1, 2, 1, 3], ["A", "B", "C"])
    pv = pv_of(P)
    assert P.condorcet_winner() == 2 and pv_c1.condorcet(pv) == [2]
    assert order_of(P, "borda") == [[1], [2], [0]] == pv_tiers(pv_score.borda_ranking(pv))
    assert_affine(srm.aggregate(P, rule="borda").scores, [4, 9, 8])
    report = srm.check_criteria(P, "borda", criteria=["majority", "condorcet_winner"])
    assert report["majority"].holds is None
    assert report["condorcet_winner"].holds is False


# -------------------------------------------------------------------------------------------------
# CHOICE.md §6.5 truncated and tied ballots: a 0, b 1, c 2, d 3


def test_truncated_and_tied_borda_and_margins():
    P = srm.Profile.from_rankings([[0, 1], [1, 2, 3, 0], [[2, 3], 0]], weights=[3, 2, 2], n_candidates=4)
    pv = pv_of(P)
    strict = [[0, 1, -4, -4], [-1, 0, 2, 2], [4, -2, 0, 2], [4, -2, -2, 0]]
    extended = [[0, 3, -1, -1], [-3, 0, 3, 3], [1, -3, 0, 2], [1, -3, -2, 0]]
    np.testing.assert_array_equal(P.margins(mode="strict"), strict)
    np.testing.assert_array_equal(P.margins(mode="extended"), extended)
    assert [[pv.margin(a, b) for b in range(4)] for a in range(4)] == strict
    pvx = pv_of(P, extended=True)
    assert [[pvx.margin(a, b) for b in range(4)] for a in range(4)] == extended
    cases = {
        "symmetric": ([1, 3, 0, -4], [[1], [0], [2], [3]], pv_score.symmetric_borda_scores),
        "domination": ([11, 12, 8, 6], [[1], [0], [2], [3]], pv_score.domination_borda_scores),
        "weak_domination": ([18, 19, 20, 18], [[2], [1], [0, 3]], pv_score.weak_domination_borda_scores),
        "non_domination": ([-10, -9, -8, -10], [[2], [1], [0, 3]], pv_score.non_domination_borda_scores),
    }
    for variant, (scores, order, pv_fn) in cases.items():
        res = srm.aggregate(P, rule="borda", variant=variant)
        np.testing.assert_allclose(res.scores, scores, err_msg=variant)
        assert tiers_of(res.ranks) == order, variant
        assert pv_fn(pv) == dict(enumerate(scores))
    # the default is symmetric, as pv's borda_ranking on a ProfileWithTies
    assert order_of(P, "borda") == [[1], [0], [2], [3]] == pv_tiers(pv_score.borda_ranking(pv))


# -------------------------------------------------------------------------------------------------
# CHOICE.md §6.6 reversal symmetry, manipulation, cardinal rules


def test_reversal_nanson_baldwin():
    ballots, w = [[0, 2, 1], [1, 0, 2], [2, 1, 0]], [1, 2, 2]
    P = rankings_profile(ballots, w)
    R = rankings_profile([b[::-1] for b in ballots], w)
    pv, pvr = pv_of(P), pv_of(R)
    for rule, fn in [("nanson", pv_iter.strict_nanson), ("baldwin", pv_iter.baldwin)]:
        assert order_of(P, rule)[0] == [2] == fn(pv)
        assert order_of(R, rule)[0] == [2] == fn(pvr)
    # CHOICE.md says "Nanson"; it holds for strict Nanson only: weak Nanson elects B, then A reversed
    assert pv_iter.weak_nanson(pv) == [1] and pv_iter.weak_nanson(pvr) == [0]
    assert order_of(P, "nanson", variant="weak")[0] == [1]
    assert order_of(R, "nanson", variant="weak")[0] == [0]


def test_reversal_minimax():
    ballots = [[2, 1, 0, 3], [3, 0, 2, 1], [3, 1, 0, 2]]  # C>B>A>D, D>A>C>B, D>B>A>C
    P = rankings_profile(ballots, [1, 1, 1])
    R = rankings_profile([b[::-1] for b in ballots], [1, 1, 1])
    assert P.condorcet_winner() == 3 and order_of(P, "minimax")[0] == [3] == pv_mb.minimax(pv_of(P))
    res = srm.aggregate(R, rule="minimax", order="score")
    np.testing.assert_allclose(res.scores, [-1, -1, -1, -1])
    assert tiers_of(res.ranks) == [[0, 1, 2, 3]]
    assert pv_mb.minimax(pv_of(R)) == [0, 1, 2, 3]


def test_borda_burying():
    P = rankings_profile([[2, 3, 1, 0], [3, 1, 2, 0]], [1, 1], ["A", "B", "C", "D"])  # C>D>B>A, D>B>C>A
    assert_affine(srm.aggregate(P, rule="borda").scores, [0, 3, 4, 5])
    assert order_of(P, "borda")[0] == [3]
    # the CHOICE.md misreport C>A>B>D makes C win (A 2, B 3, C 4, D 3)
    Q = rankings_profile([[2, 0, 1, 3], [3, 1, 2, 0]], [1, 1])
    assert_affine(srm.aggregate(Q, rule="borda").scores, [2, 3, 4, 3])
    assert pv_score.borda(pv_of(Q)) == [2]
    found = srm.find_manipulation(P, "borda")
    assert found is not None
    assert found.ballot_index == 0 and found.coalition_size == 1
    assert tiers_of(found.manipulated.ranks)[0] == [2]  # the manipulator's favourite C wins
    # re-running the rule on the reported profile reproduces the claimed outcome
    R = rankings_profile([found.reported_ballot, [3, 1, 2, 0]], [1, 1])
    assert order_of(R, "borda")[0] == [2]


def test_irv_compromising():
    P = rankings_profile([[0, 2, 1], [1, 0, 2], [2, 1, 0]], [1, 2, 2], ["A", "B", "C"])
    assert order_of(P, "instant_runoff")[0] == [2] == pv_iter.instant_runoff(pv_of(P))
    found = srm.find_manipulation(P, "instant_runoff")
    assert found is not None
    # a B>A>C voter reports A>B>C: B is eliminated first and A beats C 3:2
    assert found.ballot_index == 1 and found.coalition_size == 1 and found.reported_ballot == [0, 1, 2]
    assert tiers_of(found.manipulated.ranks)[0] == [0]
    Q = rankings_profile([[0, 2, 1], [1, 0, 2], [0, 1, 2], [2, 1, 0]], [1, 1, 1, 2])
    assert pv_iter.instant_runoff(pv_of(Q)) == [0] == order_of(Q, "instant_runoff")[0]


def test_cardinal_example():
    from pref_voting.utility_methods import (
        maximin_ranking,
        relative_utilitarian_ranking,
        sum_utilitarian_ranking,
    )
    from pref_voting.utility_profiles import UtilityProfile

    U = np.array([[1, 0.5, 0.45], [1, 0.5, 0.45], [0, 0.4, 0.45]])  # x, y, z
    P = srm.Profile.from_scores(U)
    upv = UtilityProfile([dict(enumerate(map(float, u))) for u in U])
    res = srm.aggregate(P, rule="utilitarian")
    assert_affine(res.scores, [2, 1.4, 1.35])
    assert tiers_of(res.ranks) == [[0], [1], [2]] == pv_tiers(sum_utilitarian_ranking(upv))
    res = srm.aggregate(P, rule="egalitarian")
    np.testing.assert_allclose(res.scores, [0, 0.4, 0.45])
    assert tiers_of(res.ranks) == [[2], [1], [0]] == pv_tiers(maximin_ranking(upv))
    res = srm.aggregate(P, rule="nash")
    # x has u = 0 = d for voter 3: bottom block; y 0.1 vs z 0.091125 (products)
    assert tiers_of(res.ranks) == [[1], [2], [0]]
    res = srm.aggregate(P, rule="relative_utilitarian")
    assert_affine(res.scores, [2, 106 / 99, 1])
    assert tiers_of(res.ranks) == [[0], [1], [2]] == pv_tiers(relative_utilitarian_ranking(upv))


# -------------------------------------------------------------------------------------------------
# DESIGN.md §6 populations


def test_morristown_full_borda():
    # Me 0, Na 1, Ch 2, Kn 3, Mo 4; shares 30/25/15/30 (%)
    orders = [[0, 1, 2, 3, 4], [1, 2, 3, 4, 0], [2, 3, 4, 1, 0], [3, 4, 2, 1, 0]]
    P = rankings_profile(orders, [30, 25, 15, 30], ["Memphis", "Nashville", "Chattanooga", "Knoxville", "Morristown"])
    res = srm.aggregate(P, rule="borda")
    mean = np.array([1.20, 2.35, 2.55, 2.45, 1.45])  # points m-1..0, averaged over voters
    assert_affine(res.scores, mean)
    assert tiers_of(res.ranks) == [[2], [3], [1], [4], [0]]  # Ch ≻ Kn ≻ Na ≻ Mo ≻ Me
    pv = pv_of(P)
    assert {c: s / 100 for c, s in pv.borda_scores().items()} == pytest.approx(dict(enumerate(mean)))


def test_distortion_population():
    # 20% + ε and 80% − ε (ε = 0.1%): A..E = 0..4
    U = np.array([[1.0, 0.9999, 0.9998, 0.9997, 0.9996], [-0.9997, -0.9998, -0.9999, -1.0, 1.0]])
    res = srm.distortion(U, "borda", weights=[0.201, 0.799])
    assert res.chosen.tolist() == [0]  # Borda picks A
    assert res.welfare == pytest.approx(0.201 * 1.0 - 0.799 * 0.9997)
    assert res.welfare == pytest.approx(-0.6, abs=0.01)
    assert res.optimum.tolist() == [4] and res.optimal_welfare == pytest.approx(0.201 * 0.9996 + 0.799, abs=1e-12)
    assert res.optimal_welfare == pytest.approx(1.0, abs=1e-3)
    assert res.ratio == np.inf and res.difference == pytest.approx(res.optimal_welfare - res.welfare)
    # the utilitarian rule picks E (distortion 1); plurality too (E is the majority's top)
    assert srm.distortion(U, "utilitarian", weights=[0.201, 0.799]).ratio == 1.0
    assert srm.distortion(U, "plurality", weights=[0.201, 0.799]).chosen.tolist() == [4]


def test_pairwise_twins():
    # population A = ½ A≻B≻C≻D + ½ B≻A≻D≻C; population B = ½ B≻A≻C≻D + ½ A≻B≻D≻C
    PA = rankings_profile([[0, 1, 2, 3], [1, 0, 3, 2]], [1, 1], list("ABCD"))
    PB = rankings_profile([[1, 0, 2, 3], [0, 1, 3, 2]], [1, 1], list("ABCD"))
    assert not np.array_equal(np.asarray(PA.levels), np.asarray(PB.levels))
    np.testing.assert_array_equal(PA.margins(), PB.margins())
    np.testing.assert_array_equal(PA.margins(), margins_of(np.asarray(PB.levels), np.ones(2)))
    margin_based = [r for r in ("borda", "copeland", "llull", "kemeny", "slater", "minimax", "schulze",
                                "ranked_pairs", "split_cycle") if r in srm.available_rules()]
    for rule in margin_based:
        assert order_of(PA, rule) == order_of(PB, rule), rule
    np.testing.assert_allclose(srm.maximal_lottery(PA), srm.maximal_lottery(PB))
    assert order_of(PA, "copeland") == [[0, 1], [2, 3]]
