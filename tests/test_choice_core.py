"""Engine core: profiles, margins, every rule on the worked examples of CHOICE.md §6 and DESIGN.md §6,
social orders, the registry, and input validation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import socialrm as srm
from socialrm import Profile, SocialOrder, aggregate

# ---------------------------------------------------------------------------------------------
# fixtures: the worked examples

ME, NA, CH, KN = 0, 1, 2, 3
CITIES = ["Me", "Na", "Ch", "Kn"]


def tennessee(weights=(42, 26, 15, 17)) -> Profile:
    orders = [[ME, NA, CH, KN], [NA, CH, KN, ME], [CH, KN, NA, ME], [KN, CH, NA, ME]]
    return Profile.from_rankings(np.array(orders), weights=list(weights), candidates=CITIES)


def cycle() -> Profile:  # CHOICE §6.2: 4 A>B>C, 3 B>C>A, 2 C>A>B
    return Profile.from_rankings([[0, 1, 2], [1, 2, 0], [2, 0, 1]], weights=[4, 3, 2], candidates=list("ABC"))


def tiers_by_name(order: SocialOrder) -> str:
    return str(order)


# ---------------------------------------------------------------------------------------------
# §6.1 Tennessee


def test_tennessee_margins_both_modes():
    P = tennessee()
    want = np.array([[0, -16, -16, -16], [16, 0, 36, 36], [16, -36, 0, 66], [16, -36, -66, 0]])
    np.testing.assert_array_equal(P.margins("strict"), want)
    np.testing.assert_array_equal(P.margins("extended"), want)
    assert P.support()[NA, CH] == 68
    assert P.condorcet_winner() == NA and P.condorcet_loser() == ME
    assert P.n_voters == 100 and isinstance(P.n_voters, int) and P.n_ballots == 4 and P.is_linear


@pytest.mark.parametrize(
    "rule, options, expected",
    [
        ("plurality", {}, "Me ≻ Na ≻ Kn ≻ Ch"),
        ("anti_plurality", {}, "{Na, Ch} ≻ Kn ≻ Me"),
        ("borda", {}, "Na ≻ Ch ≻ Me ≻ Kn"),
        ("copeland", {}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("llull", {}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("kemeny", {}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("slater", {}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("minimax", {}, "Na ≻ Me ≻ Ch ≻ Kn"),
        ("minimax", {"variant": "winning_votes"}, "Na ≻ Me ≻ Ch ≻ Kn"),
        ("minimax", {"variant": "pairwise_opposition"}, "Na ≻ Me ≻ Ch ≻ Kn"),
        ("minimax", {"order": "iterated"}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("schulze", {}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("schulze", {"order": "iterated"}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("ranked_pairs", {}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("split_cycle", {}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("black", {}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("black", {"order": "score"}, "Na ≻ Ch ≻ Me ≻ Kn"),
        ("nanson", {}, "Na ≻ Ch ≻ {Me, Kn}"),
        ("nanson", {"variant": "weak"}, "Na ≻ Ch ≻ {Me, Kn}"),
        ("nanson", {"order": "iterated"}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("baldwin", {}, "Na ≻ Ch ≻ Me ≻ Kn"),
        ("baldwin", {"order": "iterated"}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("coombs", {}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("coombs", {"order": "elimination"}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("instant_runoff", {}, "Kn ≻ Me ≻ Na ≻ Ch"),
        ("irv", {"order": "iterated"}, "Kn ≻ Ch ≻ Na ≻ Me"),
        ("bucklin", {}, "Na ≻ Ch ≻ Me ≻ Kn"),
        ("bucklin", {"order": "iterated"}, "Na ≻ Ch ≻ Kn ≻ Me"),
        ("maximal_lottery", {}, "Na ≻ Ch ≻ Kn ≻ Me"),
    ],
)
def test_tennessee_orders(rule, options, expected):
    assert str(aggregate(tennessee(), rule, **options)) == expected


def test_tennessee_scores():
    P = tennessee()
    borda_points = np.array([126, 194, 173, 107])  # standard Borda points (m - 1 ... 0)
    np.testing.assert_array_equal(aggregate(P, "borda").scores, 2 * borda_points - 3 * 100)  # symmetric variant
    np.testing.assert_array_equal(aggregate(P, "borda", variant="domination").scores, borda_points)
    np.testing.assert_array_equal(aggregate(P, "plurality").scores, [42, 26, 15, 17])
    np.testing.assert_array_equal(aggregate(P, "copeland").scores, [0, 3, 2, 1])
    np.testing.assert_array_equal(aggregate(P, "copeland", copeland=(1, 0, -1)).scores, [-3, 3, 1, -1])
    np.testing.assert_array_equal(aggregate(P, "llull").scores, [0, 3, 2, 1])
    np.testing.assert_array_equal(aggregate(P, "minimax").scores, [-16, 0, -36, -66])
    np.testing.assert_array_equal(aggregate(P, "minimax", variant="winning_votes").scores, [-58, 0, -68, -83])
    np.testing.assert_array_equal(aggregate(P, "minimax", variant="pairwise_opposition").scores, [-58, -42, -68, -83])
    np.testing.assert_array_equal(aggregate(P, "bucklin").scores, [42, 68, 58, 32])
    np.testing.assert_array_equal(aggregate(P, "anti_plurality").scores, [-58, 0, 0, -42])
    np.testing.assert_allclose(srm.random_ballot_lottery(P), [0.42, 0.26, 0.15, 0.17])
    np.testing.assert_allclose(srm.maximal_lottery(P), [0, 1, 0, 0], atol=1e-12)
    k = aggregate(P, "kemeny")
    assert k.info["n_optima"] == 1 and not k.info["ties"]
    assert k.info["distance"] == 207 and k.info["agreement"] == 186
    np.testing.assert_array_equal(k.info["optima"], [[NA, CH, KN, ME]])
    s = aggregate(P, "slater")
    assert s.info["distance"] == 0


def test_four_types_inverted_prompt_reverses():
    P = tennessee().reversed()
    assert str(aggregate(P, "borda")) == "Kn ≻ Me ≻ Ch ≻ Na"
    for rule in ("copeland", "kemeny", "schulze"):
        assert str(aggregate(P, rule)) == "Me ≻ Kn ≻ Ch ≻ Na"


# ---------------------------------------------------------------------------------------------
# §6.2 Condorcet cycle


@pytest.mark.parametrize(
    "rule, options, expected",
    [
        ("plurality", {}, "A ≻ B ≻ C"),
        ("anti_plurality", {}, "B ≻ A ≻ C"),
        ("borda", {}, "{A, B} ≻ C"),
        ("copeland", {}, "{A, B, C}"),
        ("llull", {}, "{A, B, C}"),
        ("kemeny", {}, "A ≻ B ≻ C"),
        ("minimax", {}, "A ≻ B ≻ C"),
        ("minimax", {"variant": "winning_votes"}, "A ≻ B ≻ C"),
        ("schulze", {}, "A ≻ B ≻ C"),
        ("ranked_pairs", {}, "A ≻ B ≻ C"),
        ("split_cycle", {}, "A ≻ B ≻ C"),
        ("nanson", {}, "A ≻ B ≻ C"),
        ("baldwin", {}, "A ≻ B ≻ C"),
        ("coombs", {}, "A ≻ B ≻ C"),
        ("instant_runoff", {}, "A ≻ B ≻ C"),
        ("black", {}, "{A, B} ≻ C"),
        ("bucklin", {}, "B ≻ A ≻ C"),
        ("bucklin", {"order": "iterated"}, "B ≻ C ≻ A"),
    ],
)
def test_cycle_orders(rule, options, expected):
    assert str(aggregate(cycle(), rule, **options)) == expected


def test_cycle_numbers():
    P = cycle()
    M = P.margins()
    assert (M[0, 1], M[1, 2], M[2, 0]) == (3, 5, 1)
    assert P.condorcet_winner() is None
    np.testing.assert_array_equal(aggregate(P, "borda", variant="domination").scores, [10, 10, 7])
    np.testing.assert_array_equal(aggregate(P, "minimax", variant="winning_votes").scores, [-5, -6, -7])
    k = aggregate(P, "kemeny")
    assert k.info["distance"] == 10 and k.info["agreement"] == 7
    slater = srm.kemeny_optima(P, rule="slater")
    assert slater["n_optima"] == 3
    np.testing.assert_array_equal(slater["orders"], [[0, 1, 2], [1, 2, 0], [2, 0, 1]])
    assert sorted(aggregate(P, "slater", order="iterated").winners()) == [0, 1, 2]
    p = srm.maximal_lottery(P)
    np.testing.assert_allclose(p, [5 / 9, 1 / 9, 3 / 9], atol=1e-12)
    np.testing.assert_allclose(p @ M, 0, atol=1e-9)
    # Schulze strongest paths
    assert str(aggregate(P, "schulze", order="iterated")) == "A ≻ B ≻ C"


# ---------------------------------------------------------------------------------------------
# §6.3 - §6.6


def test_borda_fails_majority_condorcet_and_iia():
    P = Profile.from_rankings([[0, 1, 2]] * 3 + [[1, 2, 0]] * 2, candidates=list("ABC"))
    assert P.condorcet_winner() == 0
    np.testing.assert_array_equal(aggregate(P, "borda", variant="domination").scores, [6, 7, 2])
    assert str(aggregate(P, "borda")) == "B ≻ A ≻ C"
    assert str(aggregate(P, "anti_plurality")) == "B ≻ A ≻ C"
    for rule in ("copeland", "kemeny", "schulze", "ranked_pairs", "minimax", "plurality", "irv", "bucklin",
                 "split_cycle", "black", "nanson", "baldwin", "coombs"):
        assert str(aggregate(P, rule)) == "A ≻ B ≻ C", rule
    # strong IIA: Borda on {A, B} alone says A > B, restricting Borda's order says B > A
    assert str(aggregate(P.restrict([0, 1]), "borda")) == "A ≻ B"


def test_borda_fails_condorcet_without_majority():
    P = Profile.from_rankings([[0, 2, 1], [1, 0, 2], [1, 0, 2], [1, 2, 0]] + [[2, 1, 0]] * 3, candidates=list("ABC"))
    assert P.condorcet_winner() == 2
    np.testing.assert_array_equal(aggregate(P, "borda", variant="domination").scores, [4, 9, 8])
    assert str(aggregate(P, "borda")) == "B ≻ C ≻ A"
    assert aggregate(P, "copeland").winners() == [2]


def test_truncated_and_tied_ballots():
    P = Profile.from_rankings([[0, 1], [1, 2, 3, 0], [{2, 3}, 0]], weights=[3, 2, 2], candidates=list("abcd"))
    np.testing.assert_array_equal(P.margins("strict"), [[0, 1, -4, -4], [-1, 0, 2, 2], [4, -2, 0, 2], [4, -2, -2, 0]])
    np.testing.assert_array_equal(P.margins("extended"), [[0, 3, -1, -1], [-3, 0, 3, 3], [1, -3, 0, 2], [1, -3, -2, 0]])
    table = {
        "symmetric": ([1, 3, 0, -4], "b ≻ a ≻ c ≻ d"),
        "domination": ([11, 12, 8, 6], "b ≻ a ≻ c ≻ d"),
        "weak_domination": ([18, 19, 20, 18], "c ≻ b ≻ {a, d}"),
        "non_domination": ([-10, -9, -8, -10], "c ≻ b ≻ {a, d}"),
    }
    for variant, (scores, order) in table.items():
        o = aggregate(P, "borda", variant=variant)
        np.testing.assert_array_equal(o.scores, scores)
        assert str(o) == order
    assert not P.is_linear and not P.is_complete


def test_reversal_and_manipulation_examples():
    # §6.6 reversal: Nanson and Baldwin elect C both before and after reversal
    P = Profile.from_rankings([[0, 2, 1], [1, 0, 2], [1, 0, 2], [2, 1, 0], [2, 1, 0]], candidates=list("ABC"))
    for rule in ("nanson", "baldwin"):
        assert aggregate(P, rule, order="iterated").winners() == [2]
        assert aggregate(P.reversed(), rule, order="iterated").winners() == [2]
    # minimax: D is the Condorcet winner, yet all tie after reversal
    Q = Profile.from_rankings([[2, 1, 0, 3], [3, 0, 2, 1], [3, 1, 0, 2]], candidates=list("ABCD"))
    assert Q.condorcet_winner() == 3 and aggregate(Q, "minimax").winners() == [3]
    assert aggregate(Q.reversed(), "minimax").winners() == [0, 1, 2, 3]
    # Borda burying: C > D > B > A, D > B > C > A; the first voter reports C > A > B > D
    truth = Profile.from_rankings([[2, 3, 1, 0], [3, 1, 2, 0]], candidates=list("ABCD"))
    np.testing.assert_array_equal(aggregate(truth, "borda", variant="domination").scores, [0, 3, 4, 5])
    lie = Profile.from_rankings([[2, 0, 1, 3], [3, 1, 2, 0]], candidates=list("ABCD"))
    np.testing.assert_array_equal(aggregate(lie, "borda", variant="domination").scores, [2, 3, 4, 3])
    assert aggregate(lie, "borda").winners() == [2]


def test_cardinal_rules():
    U = np.array([[1, 0.5, 0.45], [1, 0.5, 0.45], [0, 0.4, 0.45]])
    P = Profile.from_scores(U, candidates=list("xyz"))
    o = aggregate(P, "utilitarian")
    np.testing.assert_allclose(o.scores * 3, [2, 1.4, 1.35])
    assert str(o) == "x ≻ y ≻ z"
    o = aggregate(P, "egalitarian")
    np.testing.assert_allclose(o.scores, [0, 0.4, 0.45])
    assert str(o) == "z ≻ y ≻ x"
    o = aggregate(P, "nash")
    np.testing.assert_allclose(np.exp(o.scores[1:] * 3), [0.1, 0.091125])
    assert o.scores[0] == -np.inf and str(o) == "y ≻ z ≻ x"
    o = aggregate(P, "relative_utilitarian")
    np.testing.assert_allclose(o.scores * 3, [2, 106 / 99, 1])
    assert str(o) == "x ≻ y ≻ z"
    # groups: the group {v1, v2} vs {v3}; disagreement point shifts Nash
    o = aggregate(P, "egalitarian", groups=["g", "g", "h"])
    np.testing.assert_allclose(o.scores, [0, 0.4, 0.45])
    o = aggregate(P, "nash", disagreement=-1.0)
    assert np.all(np.isfinite(o.scores)) and o.winners() == [0]
    with pytest.raises(ValueError, match="utilities"):
        aggregate(tennessee(), "utilitarian")


def test_egalitarian_leximin():
    # minimum utilities tie (0 and 0); the second smallest decides: (0, 2, 3) beats (0, 1, 5)
    U = np.array([[0.0, 0.0, -1.0], [1.0, 2.0, 4.0], [5.0, 3.0, 4.0]])
    P = Profile.from_scores(U)
    assert str(aggregate(P, "egalitarian")) == "{0, 1} ≻ 2"
    assert str(aggregate(P, "egalitarian", variant="leximin")) == "1 ≻ 0 ≻ 2"
    assert str(aggregate(P, "egalitarian", variant="leximin", order="iterated")) == "1 ≻ 0 ≻ 2"
    # group means: groups {0, 1} and {2}: means (0.5, 1, 1.5) and (5, 3, 4) -> mins 0.5, 1, 1.5
    assert str(aggregate(P, "egalitarian", variant="leximin", groups=[0, 0, 1])) == "2 ≻ 1 ≻ 0"
    from pref_voting.utility_methods import lexicographic_maximin_ranking
    from pref_voting.utility_profiles import UtilityProfile

    rng = np.random.default_rng(2)
    for _ in range(100):
        U = np.round(rng.random((int(rng.integers(1, 6)), int(rng.integers(2, 7)))) * 4) / 4
        r = lexicographic_maximin_ranking(UtilityProfile([dict(enumerate(map(float, u))) for u in U]))
        want = SocialOrder.from_ranks([r.rmap[c] for c in range(U.shape[1])])
        assert aggregate(Profile.from_scores(U), "egalitarian", variant="leximin").ranks.tolist() == want.ranks.tolist()


# ---------------------------------------------------------------------------------------------
# DESIGN.md §6 populations


def test_morristown_full_borda_scores():
    me, na, ch, kn, mo = range(5)
    orders = [[me, na, ch, kn, mo], [na, ch, kn, mo, me], [ch, kn, mo, na, me], [kn, mo, ch, na, me]]
    P = Profile.from_rankings(np.array(orders), weights=[30, 25, 15, 30], candidates=["Me", "Na", "Ch", "Kn", "Mo"])
    o = aggregate(P, "borda", variant="domination")
    np.testing.assert_allclose(o.scores / 100, [1.20, 2.35, 2.55, 2.45, 1.45])
    assert str(o) == "Ch ≻ Kn ≻ Na ≻ Mo ≻ Me"
    assert str(aggregate(P, "borda")) == "Ch ≻ Kn ≻ Na ≻ Mo ≻ Me"


def test_pairwise_twins_identical_margins():
    a, b, c, d = range(4)
    A = Profile.from_rankings([[a, b, c, d], [b, a, d, c]], weights=[1, 1], candidates=list("ABCD"))
    B = Profile.from_rankings([[b, a, c, d], [a, b, d, c]], weights=[1, 1], candidates=list("ABCD"))
    np.testing.assert_array_equal(A.margins(), B.margins())
    assert not np.array_equal(A.levels, B.levels)
    for rule in ("borda", "copeland", "kemeny", "schulze", "ranked_pairs", "minimax", "split_cycle", "slater",
                 "maximal_lottery", "black", "nanson", "baldwin", "llull"):
        assert aggregate(A, rule) == aggregate(B, rule), rule


def test_distortion_population_borda_picks_a():
    eps = 0.001
    U = np.array([[1.0, 0.9999, 0.9998, 0.9997, 0.9996], [-0.9997, -0.9998, -0.9999, -1.0, 1.0]])
    P = Profile.from_scores(U, weights=[0.2 + eps, 0.8 - eps], candidates=list("ABCDE"))
    assert aggregate(P, "borda").winners() == [0]
    welfare = aggregate(P, "utilitarian").scores
    assert welfare[0] == pytest.approx(-0.6, abs=0.02) and welfare[4] == pytest.approx(1.0, abs=0.02)
    assert aggregate(P, "utilitarian").winners() == [4]
    assert not isinstance(P.n_voters, int)


# ---------------------------------------------------------------------------------------------
# profiles


def test_profile_constructors_agree():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, size=(50, 5)).astype(float)  # many ties
    P = Profile.from_scores(scores)
    # tiers from scores: level = number of distinct scores above
    for i in range(50):
        for c in range(5):
            assert P.levels[i, c] == len({s for s in scores[i] if s > scores[i, c]})
    Q = Profile.from_levels(P.levels)
    for mode in ("strict", "extended"):
        np.testing.assert_array_equal(P.margins(mode), Q.margins(mode))
    np.testing.assert_array_equal(P.utilities, scores)
    assert Q.utilities is None
    lists = [[[int(c) for c in np.nonzero(P.levels[i] == l)[0]] for l in range(P.levels[i].max() + 1)]
             for i in range(50)]
    R = Profile.from_rankings(lists, n_candidates=5)
    np.testing.assert_array_equal(R.levels, P.levels)
    # int array path with padding
    S = Profile.from_rankings(np.array([[2, 0, -1], [1, -1, -1]]), n_candidates=4)
    np.testing.assert_array_equal(S.levels, [[1, -1, 0, -1], [-1, 0, -1, -1]])


def test_profile_methods():
    P = tennessee()
    D = Profile.from_rankings(np.repeat(np.array([[0, 1, 2, 3], [1, 2, 3, 0]]), [3, 2], axis=0))
    assert D.n_ballots == 5
    Dd = D.deduplicated()
    assert Dd.n_ballots == 2 and Dd.n_voters == 5
    np.testing.assert_array_equal(Dd.weights, [3, 2])
    np.testing.assert_array_equal(Dd.margins(), D.margins())
    R = P.restrict([CH, NA])
    assert R.candidates == ["Ch", "Na"] and R.n_voters == 100
    np.testing.assert_array_equal(R.margins(), P.margins()[np.ix_([CH, NA], [CH, NA])])
    T = Profile.from_rankings([[0, 1], [2]], n_candidates=3).restrict([0, 1])
    np.testing.assert_array_equal(T.levels, [[0, 1], [-1, -1]])  # empty ballot kept
    np.testing.assert_array_equal(P.reversed().margins(), -P.margins())
    assert "n_candidates=4" in repr(P)
    with pytest.raises(ValueError):
        P.levels[0, 0] = 3  # read-only
    with pytest.raises(ValueError, match="mode"):
        P.margins("weird")


def test_weights_exact_and_real():
    P = Profile.from_rankings([[0, 1], [1, 0]], weights=[0.1, 0.2])
    assert P.n_voters == pytest.approx(0.3) and not P.integral_weights
    assert aggregate(P, "borda").winners() == [1]
    # equal real weights summed in different orders still tie
    Q = Profile.from_rankings([[0, 1]] * 3 + [[1, 0]] * 3, weights=[0.1, 0.2, 0.3, 0.3, 0.2, 0.1])
    assert aggregate(Q, "copeland").winners() == [0, 1]
    assert aggregate(Q, "schulze").winners() == [0, 1]


def test_scores_threads_and_float32():
    rng = np.random.default_rng(0)
    S = rng.standard_normal((5000, 6)).astype(np.float32)
    s1, m1 = srm.margins_from_scores(S, n_threads=1)
    s2, _ = srm.margins_from_scores(S, n_threads=2)
    np.testing.assert_array_equal(s1, s2)
    ref = (S[:, :, None] > S[:, None, :]).sum(0)
    np.testing.assert_array_equal(s1, ref)
    np.testing.assert_array_equal(Profile.from_scores(S).margins(), m1)
    w = rng.random(5000)
    sw, _ = srm.margins_from_scores(S.astype(np.float64), weights=w)
    np.testing.assert_allclose(sw, np.einsum("i,iab->ab", w, (S[:, :, None] > S[:, None, :])), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# social orders and registry


def test_social_order_api():
    o = SocialOrder.from_ranks([3, 0, 0, 7], candidates=["a", "b", "c", "d"], rule="x")
    np.testing.assert_array_equal(o.ranks, [1, 0, 0, 2])
    assert o.tiers() == [[1, 2], [0], [3]] and o.winners() == [1, 2] and not o.is_strict
    assert str(o) == "{b, c} ≻ a ≻ d" and "rule='x'" in repr(o)
    assert o == SocialOrder.from_tiers([[1, 2], [0], [3]], candidates=["a", "b", "c", "d"])
    assert o != SocialOrder.from_ranks([0, 1, 2, 3], candidates=["a", "b", "c", "d"])
    assert SocialOrder.from_scores([1.0, 3.0, 2.0]).order() == [1, 2, 0]
    with pytest.raises(ValueError):
        SocialOrder.from_tiers([[0], [0]])


def test_registry():
    names = srm.available_rules()
    for needed in ("plurality", "anti_plurality", "borda", "copeland", "llull", "kemeny", "minimax", "schulze",
                   "ranked_pairs", "instant_runoff", "coombs", "baldwin", "nanson", "black", "random_ballot",
                   "maximal_lottery", "utilitarian", "relative_utilitarian", "egalitarian", "nash", "slater",
                   "split_cycle", "bucklin"):
        assert needed in names
    assert srm.rule_info("irv")["name"] == "instant_runoff"
    info = srm.rule_info("instant_runoff")
    assert info["default_order"] == "elimination" and "iterated" in info["orders"] and info["kind"] == "ordinal"
    assert srm.rule_info("coombs")["default_order"] == "iterated"
    assert srm.rule_info("schulze")["default_order"] == "layers"
    assert srm.rule_info("borda")["default_margin_mode"] == "extended"
    assert srm.rule_info("nash")["kind"] == "cardinal"
    assert srm.rule_info("maximal_lottery")["kind"] == "lottery"
    assert "variant" in srm.rule_info("minimax")["options"]
    with pytest.raises(ValueError, match="unknown rule"):
        srm.rule_info("nope")


def test_callable_rules():
    P = tennessee()
    o = aggregate(P, lambda Q: Q.margins().sum(axis=1))  # float = scores
    assert str(o) == "Na ≻ Ch ≻ Me ≻ Kn"
    o = aggregate(P, lambda Q: np.array([3, 0, 1, 2]))  # int = ranks
    assert str(o) == "Na ≻ Ch ≻ Kn ≻ Me"
    o = aggregate(P, lambda Q, bonus=0: aggregate(Q, "copeland"), bonus=1)
    assert o.rule == "copeland"
    with pytest.raises(ValueError, match="shape"):
        aggregate(P, lambda Q: np.zeros(3))


def test_tie_break_and_random_ballot():
    P = cycle()
    o = aggregate(P, "copeland", tie_break=[2, 0, 1])
    assert str(o) == "C ≻ A ≻ B" and o.is_strict
    assert str(aggregate(P, "copeland", tie_break="alphabetic")) == "A ≻ B ≻ C"
    # ranked pairs uses the tie-breaker on equal margins: all-tied profile
    T = Profile.from_rankings([[0, 1, 2], [2, 1, 0]])
    assert aggregate(T, "ranked_pairs").order() == [0, 1, 2]
    assert aggregate(T, "ranked_pairs", tie_break=[2, 1, 0]).order() == [2, 1, 0]
    # random ballot: seeded, returns one of the ballots, frequencies follow the weights
    draws = [str(aggregate(P, "random_ballot", random_state=s)) for s in range(3000)]
    assert set(draws) == {"A ≻ B ≻ C", "B ≻ C ≻ A", "C ≻ A ≻ B"}
    assert draws.count("A ≻ B ≻ C") / 3000 == pytest.approx(4 / 9, abs=0.03)
    assert aggregate(P, "random_ballot", random_state=5) == aggregate(P, "random_ballot", random_state=5)
    np.testing.assert_allclose(aggregate(P, "random_ballot", random_state=1).scores, [4 / 9, 3 / 9, 2 / 9])
    assert str(aggregate(P, "random_ballot", order="score")) == "A ≻ B ≻ C"
    # truncated ballot drawn: unranked = bottom block
    Q = Profile.from_rankings([[1]], n_candidates=3)
    assert str(aggregate(Q, "random_ballot", random_state=0)) == "1 ≻ {0, 2}"


def test_kemeny_ties_and_limits():
    # all-tied two-candidate profile: two optima, lexicographically first under the tie-break
    P = Profile.from_rankings([[0, 1], [1, 0]])
    o = aggregate(P, "kemeny")
    assert o.info["ties"] and o.info["n_optima"] == 2 and o.order() == [0, 1]
    assert aggregate(P, "kemeny", tie_break=[1, 0]).order() == [1, 0]
    assert aggregate(P, "kemeny", order="iterated").winners() == [0, 1]
    # a 22-cycle is one strongly connected component above the exact limit
    m = 22
    R = np.array([np.roll(np.arange(m), k) for k in range(m)])
    Q = Profile.from_rankings(R)
    with pytest.raises(ValueError, match="allow_heuristic"):
        aggregate(Q, "kemeny")
    h = aggregate(Q, "kemeny", allow_heuristic=True)
    assert h.info["heuristic"] and h.is_strict
    # a Condorcet order splits into singletons: m = 30 is exact
    L = Profile.from_rankings(np.array([np.arange(30)] * 3 + [np.arange(30)[::-1]] * 2))
    o = aggregate(L, "kemeny")
    assert o.order() == list(range(30)) and o.info["n_components"] == 30


def test_kemeny_matches_brute_force_small():
    rng = np.random.default_rng(7)
    for _ in range(30):
        m = int(rng.integers(2, 6))
        R = np.array([rng.permutation(m) for _ in range(int(rng.integers(1, 6)))])
        P = Profile.from_rankings(R, weights=rng.integers(1, 4, size=len(R)))
        S = P.support()
        best, count = None, 0
        for perm in itertools.permutations(range(m)):
            d = sum(S[perm[j], perm[i]] for i in range(m) for j in range(i + 1, m))
            if best is None or d < best:
                best, count = d, 1
            elif d == best:
                count += 1
        o = aggregate(P, "kemeny")
        assert o.info["distance"] == best and o.info["n_optima"] == count


# ---------------------------------------------------------------------------------------------
# validation


def test_bad_inputs():
    with pytest.raises(ValueError, match="NaN"):
        Profile.from_scores([[1.0, np.nan]])
    with pytest.raises(ValueError, match="NaN"):
        Profile.from_scores([[1.0, np.inf]])
    with pytest.raises(ValueError, match="out of range"):
        Profile.from_rankings([[0, 5]], n_candidates=3)
    with pytest.raises(ValueError, match="out of range"):
        Profile.from_rankings(np.array([[0, 5]]), n_candidates=3)
    with pytest.raises(ValueError, match="repeats candidate 1"):
        Profile.from_rankings([[1, 0, 1]])
    with pytest.raises(ValueError, match="repeats candidate 1"):
        Profile.from_rankings(np.array([[1, 0, 1]]))
    with pytest.raises(ValueError, match="repeats"):
        Profile.from_rankings([[{0, 1}, 1]])
    with pytest.raises(ValueError, match="weights"):
        Profile.from_rankings([[0, 1]], weights=[-1])
    with pytest.raises(ValueError, match="weights"):
        Profile.from_rankings([[0, 1]], weights=[0])
    with pytest.raises(ValueError, match="weights"):
        Profile.from_rankings([[0, 1]], weights=[1, 2])
    with pytest.raises(ValueError, match="empty"):
        Profile.from_rankings([])
    with pytest.raises(ValueError, match="empty"):
        Profile.from_scores(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="empty"):
        Profile.from_scores(np.zeros((3, 0)))
    with pytest.raises(TypeError, match="integers"):
        Profile.from_rankings([[0, "a"]])
    with pytest.raises(TypeError, match="integers"):
        Profile.from_rankings([[True, 0]])
    with pytest.raises(ValueError, match="padding"):
        Profile.from_rankings(np.array([[0, -1, 1]]))
    with pytest.raises(ValueError, match="dense"):
        Profile.from_levels([[0, 2, 2]])
    with pytest.raises(ValueError, match="candidates"):
        Profile.from_levels([[0, 1]], candidates=["a"])
    P = tennessee()
    with pytest.raises(TypeError, match="'colour'"):
        aggregate(P, "borda", colour=3)
    with pytest.raises(TypeError, match="'copeland'"):
        aggregate(P, "borda", copeland=(1, 0, 0))
    with pytest.raises(ValueError, match="order"):
        aggregate(P, "borda", order="elimination")
    with pytest.raises(ValueError, match="variant"):
        aggregate(P, "minimax", variant="strange")
    with pytest.raises(ValueError, match="margin_mode"):
        aggregate(P, "schulze", margin_mode="loose")
    with pytest.raises(ValueError, match="tie_break"):
        aggregate(P, "schulze", tie_break=[0, 0, 1, 2])
    with pytest.raises(ValueError, match="unknown rule"):
        aggregate(P, "best_rule")
    with pytest.raises(TypeError, match="Profile"):
        aggregate(np.zeros((3, 3)), "borda")
    with pytest.raises(ValueError, match="groups"):
        aggregate(Profile.from_scores(np.eye(3)), "egalitarian", groups=[0, 1])
    with pytest.raises(ValueError, match="skew"):
        srm.maximal_lottery(np.ones((3, 3)))


def test_inputs_unmodified_and_refcounts_stable():
    import sys

    rng = np.random.default_rng(0)
    scores = rng.standard_normal((40, 5))
    before = scores.copy()
    P = Profile.from_scores(scores)
    np.testing.assert_array_equal(scores, before)
    lv, w = P.levels, P.weights
    counts = (sys.getrefcount(lv), sys.getrefcount(w), sys.getrefcount(scores))
    for _ in range(200):
        for rule in ("schulze", "kemeny", "instant_runoff", "coombs", "maximal_lottery", "utilitarian"):
            aggregate(P, rule)
        with pytest.raises(ValueError):
            aggregate(P, "schulze", order="elimination")
        srm.margins_from_scores(scores)
    assert (sys.getrefcount(lv), sys.getrefcount(w), sys.getrefcount(scores)) == counts
    np.testing.assert_array_equal(scores, before)
    # the caller's arrays stay writable (the profile keeps read-only copies)
    levels, weights = np.array([[0, 1], [1, 0]], dtype=np.int32), np.array([1.0, 2.0])
    Q = Profile.from_levels(levels, weights)
    assert scores.flags.writeable and levels.flags.writeable and weights.flags.writeable
    levels[0, 0] = 1
    assert Q.levels[0, 0] == 0 and not Q.levels.flags.writeable
