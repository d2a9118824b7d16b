"""Criteria checks, distortion and manipulation search: unit tests and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from _choice_oracles import tiers_of

import socialrm as srm
from socialrm.criteria import CRITERIA, kendall_tau_distance

TENNESSEE = ([[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 1, 0], [3, 2, 1, 0]], [42, 26, 15, 17])  # M N C K


@pytest.fixture(scope="module")
def tennessee():
    return srm.Profile.from_rankings(TENNESSEE[0], weights=TENNESSEE[1],
                                     candidates=["Memphis", "Nashville", "Chattanooga", "Knoxville"])


# -------------------------------------------------------------------------------------------------
# check_criteria


def test_condorcet_rule_on_transitive_majority(tennessee):
    report = srm.check_criteria(tennessee, "schulze")
    assert list(report) == list(CRITERIA)
    assert report["majority"].holds is None  # Memphis has only 42%
    assert report["condorcet_winner"].holds is True and report["condorcet_winner"].evidence["candidate"] == 1
    assert report["condorcet_loser"].holds is True and report["condorcet_loser"].evidence["candidate"] == 0
    assert report["pareto"].holds is None  # no pair is unanimous
    assert report["unanimity"].holds is None
    # the majority relation N > C > K > M is transitive: every restriction agrees with it
    iia = report["strong_iia"]
    assert iia.holds is True and iia.evidence["n_subsets"] == 10 and iia.evidence["violation_rate"] == 0
    assert report["monotonicity"].holds is True and report["monotonicity"].evidence["n_probes"] > 0
    assert "✓" in str(report) and "Nashville" in str(report)


def test_plurality_elects_the_condorcet_loser(tennessee):
    report = srm.check_criteria(tennessee, "plurality")
    assert report["condorcet_winner"].holds is False
    loser = report["condorcet_loser"]
    assert loser.holds is False and loser.evidence["candidate"] == 0 and loser.evidence["social_top"] == [0]
    assert "Memphis" in loser.message
    assert "condorcet_loser" in report.violated


def test_borda_strong_iia_rate(tennessee):
    iia = srm.check_criteria(tennessee, "borda", criteria=["strong_iia"])["strong_iia"]
    assert iia.holds is False
    subsets = {tuple(v["subset"]): v for v in iia.evidence["violations"]}
    # Borda ranks Memphis above Knoxville, but Knoxville wins the pair 58:42
    assert subsets[(0, 3)]["restricted_then_aggregated"] == [[3], [0]]
    assert subsets[(0, 3)]["aggregated_then_restricted"] == [[0], [3]]
    # brute force the rate: restrict, aggregate, compare
    full = srm.aggregate(tennessee, rule="borda").ranks
    n_bad = 0
    import itertools

    for k in (2, 3):
        for S in itertools.combinations(range(4), k):
            local = srm.aggregate(tennessee.restrict(list(S)), rule="borda").ranks
            n_bad += tiers_of(local) != tiers_of(np.asarray(full)[list(S)])
    assert iia.evidence["n_violations"] == n_bad
    assert iia.evidence["violation_rate"] == pytest.approx(n_bad / 10)
    assert sum(v["violations"] for v in iia.evidence["by_size"].values()) == n_bad


def test_unanimity_and_pareto_violations_of_anti_plurality():
    P = srm.Profile.from_rankings([[0, 1, 2]] * 3)
    borda = srm.check_criteria(P, "borda", criteria=["unanimity", "pareto"])
    assert borda["unanimity"].holds is True and borda["pareto"].holds is True
    anti = srm.check_criteria(P, "anti_plurality", criteria=["unanimity", "pareto"])
    # anti-plurality ties A and B (no last places): unanimous A > B is lost
    assert anti["unanimity"].holds is False
    assert anti["pareto"].holds is False and (0, 1) in anti["pareto"].evidence["violations"]


def test_majority_criterion():
    P = srm.Profile.from_rankings([[0, 1, 2]] * 3 + [[1, 2, 0]] * 2)
    assert srm.check_criteria(P, "borda", criteria=["majority"])["majority"].holds is False
    assert srm.check_criteria(P, "plurality", criteria=["majority"])["majority"].holds is True
    ev = srm.check_criteria(P, "borda", criteria=["majority"])["majority"].evidence
    assert ev["candidate"] == 0 and ev["share"] == pytest.approx(0.6) and ev["social_top"] == [1]


def test_monotonicity_violation_of_instant_runoff():
    # 7 C>B>A, 5 B>C>A, 5 A>B>C: A and B tie for fewest first places and go out together, C wins.
    # One A>B>C voter raising C to the top (C>A>B) knocks out A alone; B then beats C 9:8.
    from pref_voting.iterative_methods import instant_runoff
    from pref_voting.profiles import Profile as PvProfile

    P = srm.Profile.from_rankings([[2, 1, 0], [1, 2, 0], [0, 1, 2]], weights=[7, 5, 5])
    assert order_top(P, "instant_runoff") == [2]
    mono = srm.check_criteria(P, "instant_runoff", criteria=["monotonicity"])["monotonicity"]
    assert mono.holds is False
    v = mono.evidence["violations"][0]
    assert v["candidate"] == 2 and v["ballot_index"] == 2 and v["lifted_ballot"] == [1, 2, 0]
    assert v["new_order"][0] == [1]
    assert instant_runoff(PvProfile([[2, 1, 0], [1, 2, 0], [0, 1, 2]], [7, 5, 5])) == [2]
    assert instant_runoff(PvProfile([[2, 1, 0], [1, 2, 0], [0, 1, 2], [2, 0, 1]], [7, 5, 4, 1])) == [1]
    # a monotonic rule passes the same probe
    assert srm.check_criteria(P, "borda", criteria=["monotonicity"])["monotonicity"].holds is True


def test_criteria_table(tennessee):
    table = srm.criteria_table(tennessee, rules=["borda", "plurality", "schulze"])
    holds = table.holds()
    assert holds["schulze"]["condorcet_winner"] is True
    assert holds["plurality"]["condorcet_loser"] is False
    assert holds["borda"]["strong_iia"] is False
    text = str(table)
    assert "✓" in text and "✗" in text and "—" in text and "schulze" in text
    default = srm.criteria_table(tennessee, criteria=["condorcet_winner"])
    assert "borda" in default.rules and "schulze" in default.rules and len(default.rules) >= 10


def test_check_criteria_bad_input(tennessee):
    with pytest.raises(ValueError, match="criteria"):
        srm.check_criteria(tennessee, "borda", criteria=["nonsense"])
    with pytest.raises(ValueError, match="max_subsets"):
        srm.check_criteria(tennessee, "borda", max_subsets=0)
    with pytest.raises((ValueError, KeyError)):
        srm.check_criteria(tennessee, "no_such_rule")


def test_callable_rule(tennessee):
    def dictator(P):  # the first ballot decides
        return srm.SocialOrder.from_ranks(np.asarray(P.levels)[0])

    report = srm.check_criteria(tennessee, dictator, criteria=["condorcet_winner", "strong_iia"])
    assert report["condorcet_winner"].holds is False
    assert report["strong_iia"].holds is True  # a dictatorship is restriction-consistent


def test_strong_iia_sampling_is_seeded():
    rng = np.random.default_rng(0)
    P = srm.Profile.from_rankings([rng.permutation(9).tolist() for _ in range(15)])
    a = srm.check_criteria(P, "borda", criteria=["strong_iia"], max_subsets=50, random_state=1)["strong_iia"]
    b = srm.check_criteria(P, "borda", criteria=["strong_iia"], max_subsets=50, random_state=1)["strong_iia"]
    assert a.evidence["sampled"] and a.evidence["n_subsets"] == 50
    assert a.evidence == b.evidence


# -------------------------------------------------------------------------------------------------
# distortion


def test_distortion_values():
    U = np.array([[1.0, 0.5, 0.0], [1.0, 0.5, 0.0], [0.0, 0.9, 1.0]])
    res = srm.distortion(U, "plurality")
    assert res.chosen.tolist() == [0]
    np.testing.assert_allclose(res.welfare_per_candidate, [2 / 3, 1.9 / 3, 1 / 3])
    assert res.welfare == pytest.approx(2 / 3) and res.optimum.tolist() == [0]
    assert res.ratio == 1.0 and res.difference == 0
    # weights shift the optimum to candidate 1
    res = srm.distortion(U, "plurality", weights=[1, 1, 3])
    assert res.chosen.tolist() == [2]
    assert res.optimum.tolist() == [1]
    assert res.optimal_welfare == pytest.approx((0.5 + 0.5 + 2.7) / 5)
    assert res.ratio == pytest.approx(res.optimal_welfare / res.welfare)


def test_distortion_averages_a_tied_top_tier():
    U = np.array([[1.0, 0.0], [0.0, 0.6]])
    res = srm.distortion(U, "borda")  # Borda ties the two candidates
    assert res.chosen.tolist() == [0, 1]
    assert res.welfare == pytest.approx((0.5 + 0.3) / 2)
    assert res.ratio == pytest.approx(0.5 / 0.4)


def test_distortion_bad_input():
    with pytest.raises(ValueError, match="utilities"):
        srm.distortion([[1.0, np.nan]])
    with pytest.raises(ValueError, match="utilities"):
        srm.distortion([[1.0, np.inf], [0.0, 1.0]])
    with pytest.raises(ValueError, match="utilities"):
        srm.distortion([1.0, 2.0])
    with pytest.raises(ValueError, match="utilities"):
        srm.distortion(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="weights"):
        srm.distortion([[1.0, 0.0], [0.0, 1.0]], weights=[1.0])
    with pytest.raises(ValueError, match="weights"):
        srm.distortion([[1.0, 0.0], [0.0, 1.0]], weights=[1.0, -1.0])
    with pytest.raises(TypeError, match="utilities"):
        srm.distortion([["a", "b"]])


# -------------------------------------------------------------------------------------------------
# manipulation


def test_coalition_needed_for_plurality():
    # plurality A wins 3:2:2. One voter can only create a tie (CHOICE.md §4); the two B > C > A
    # voters together make C win (C 4, A 3), which they prefer to A.
    P = srm.Profile.from_rankings([[0, 1, 2], [1, 2, 0], [2, 1, 0]], weights=[3, 2, 2])
    assert srm.find_manipulation(P, "plurality", coalition=False) is None
    assert srm.find_manipulation(P, "plurality", max_coalition=1) is None
    found = srm.find_manipulation(P, "plurality")
    assert found is not None and found.coalition_size == 2 and found.ballot_index == 1
    assert found.reported_ballot == [2, 0, 1]  # first ballot in lexicographic order with C on top
    assert tiers_of(found.manipulated.ranks)[0] == [2] and tiers_of(found.original.ranks)[0] == [0]
    assert found.gain == 1 and "coalition of weight 2" in str(found)
    Q = srm.Profile.from_rankings([[0, 1, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]], weights=[3, 0, 2, 2])
    assert order_top(Q, "plurality") == [2]


def order_top(P, rule):
    return tiers_of(srm.aggregate(P, rule=rule).ranks)[0]


def test_no_manipulation_when_everyone_agrees():
    P = srm.Profile.from_rankings([[1, 0, 2, 3]] * 3)
    for rule in ("borda", "schulze", "instant_runoff", "kemeny"):
        assert srm.find_manipulation(P, rule) is None, rule
    for rule in ("borda", "schulze", "kemeny"):
        assert srm.find_manipulation(P, rule, comparison="kendall") is None, rule
    # IRV's elimination order drops A, C and D together (no first places): B ≻ {A, C, D}. One voter
    # can split that tie in its favour, which the Kendall comparison counts as an improvement.
    found = srm.find_manipulation(P, "instant_runoff", comparison="kendall")
    assert tiers_of(found.original.ranks) == [[1], [0, 2, 3]]
    assert found.gain > 0 and tiers_of(found.manipulated.ranks)[0] == [1]


@pytest.mark.parametrize("rule", ["borda", "plurality", "copeland", "kemeny", "minimax", "schulze",
                                  "ranked_pairs", "instant_runoff", "coombs", "baldwin", "nanson", "black"])
def test_c_search_equals_python_search(rule):
    """The C search (registry rules) and the Python search (callables) enumerate the same tries in
    the same order, so they return the same manipulation."""
    rng = np.random.default_rng(sum(map(ord, rule)))  # stable across runs (unlike hash)
    for _ in range(4):
        m = int(rng.integers(3, 5))
        ballots = [rng.permutation(m).tolist() for _ in range(int(rng.integers(2, 5)))]
        P = srm.Profile.from_rankings(ballots, weights=rng.integers(1, 3, len(ballots)))
        for comparison in ("winner", "kendall"):
            fast = srm.find_manipulation(P, rule, comparison=comparison)
            slow = srm.find_manipulation(P, lambda Q: srm.aggregate(Q, rule=rule), comparison=comparison)
            assert (fast is None) == (slow is None)
            if fast is not None:
                assert (fast.ballot_index, fast.coalition_size, fast.reported_ballot) == (
                    slow.ballot_index, slow.coalition_size, slow.reported_ballot)
                np.testing.assert_array_equal(fast.manipulated.ranks, slow.manipulated.ranks)
                assert fast.gain == slow.gain


def test_manipulation_threads_do_not_change_the_result(tennessee):
    # Borda N 194 ≻ C 173: Chattanooga's 15 voters need a coalition to bury Nashville
    one = srm.find_manipulation(tennessee, "borda", n_threads=1)
    two = srm.find_manipulation(tennessee, "borda", n_threads=2)
    assert one is not None and one.coalition_size > 1
    assert (one.ballot_index, one.coalition_size, one.reported_ballot) == (
        two.ballot_index, two.coalition_size, two.reported_ballot)
    # the smallest coalition: one voter fewer does not succeed
    assert srm.find_manipulation(tennessee, "borda", max_coalition=int(one.coalition_size) - 1) is None


@pytest.mark.parametrize("rule", ["borda", "plurality", "kemeny", "minimax", "instant_runoff", "ranked_pairs",
                                  "black"])
def test_c_strong_iia_equals_python(rule):
    rng = np.random.default_rng(11)
    P = srm.Profile.from_levels(np.array([rng.permutation(6) for _ in range(9)], dtype=np.int32),
                                weights=rng.integers(1, 4, 9))
    fast = srm.check_criteria(P, rule, criteria=["strong_iia"])["strong_iia"].evidence
    slow = srm.check_criteria(P, lambda Q: srm.aggregate(Q, rule=rule), criteria=["strong_iia"])["strong_iia"].evidence
    assert fast == slow


def test_kendall_comparison_finds_order_improvements():
    # Borda A 4, B 3 ... : a voter can improve the *order* without changing the winner
    P = srm.Profile.from_rankings([[0, 1, 2, 3], [0, 2, 1, 3], [3, 2, 1, 0]], weights=[2, 1, 1])
    found = srm.find_manipulation(P, "borda", comparison="kendall")
    assert found is not None
    true = found.true_ballot
    assert kendall_tau_distance(true, found.manipulated.ranks) < kendall_tau_distance(true, found.original.ranks)
    assert found.gain == pytest.approx(kendall_tau_distance(true, found.original.ranks)
                                       - kendall_tau_distance(true, found.manipulated.ranks))


def test_kendall_tau_distance():
    assert kendall_tau_distance([0, 1, 2], [0, 1, 2]) == 0
    assert kendall_tau_distance([0, 1, 2], [2, 1, 0]) == 3
    assert kendall_tau_distance([0, 1, 2], [0, 0, 1]) == 0.5  # one pair tied on one side only
    assert kendall_tau_distance([0, -1, -1], [0, 1, 2]) == 0.5  # unranked pair tied at the bottom


def test_manipulation_bad_input():
    rng = np.random.default_rng(1)
    P = srm.Profile.from_rankings([rng.permutation(8).tolist() for _ in range(5)])
    with pytest.raises(ValueError, match="max_candidates"):
        srm.find_manipulation(P, "borda")
    with pytest.raises(ValueError, match="comparison"):
        srm.find_manipulation(P, "borda", comparison="best")
    with pytest.raises(ValueError, match="max_candidates"):
        srm.find_manipulation(P, "borda", max_candidates=1)


def test_duplicate_rows_form_one_coalition():
    # 3 A>B>C, 2 B>C>A given as five separate rows: Borda elects B (7 vs 6); two A>B>C voters
    # together report A>C>B and A wins 6:5:4 (one alone only creates a tie)
    P = srm.Profile.from_rankings([[0, 1, 2]] * 3 + [[1, 2, 0]] * 2)
    found = srm.find_manipulation(P, "borda")
    assert found is not None and found.coalition_size == 2 and found.ballot_index == 0
    assert found.reported_ballot == [0, 2, 1] and tiers_of(found.manipulated.ranks)[0] == [0]
    assert srm.find_manipulation(P, "borda", coalition=False) is None


# -------------------------------------------------------------------------------------------------
# worst-case distortion (CHOICE.md §3 (ii))


def _charnes_cooper_lp(levels, weights, chosen, a_star):
    """The LP of CHOICE.md §3 (ii), solved by scipy: max Σ w_i y_i(a*) s.t. Σ_a y_i(a) = t, y monotone
    in each ballot (ties equal, unranked tied last), Σ w_i mean_{x ∈ chosen} y_i(x) = 1, y, t >= 0."""
    from scipy.optimize import linprog

    n, m = levels.shape
    nv = n * m + 1  # y[i, a] then t
    A_eq, b_eq, A_ub, b_ub = [], [], [], []
    for i in range(n):
        row = np.zeros(nv)
        row[i * m:(i + 1) * m] = 1
        row[-1] = -1
        A_eq.append(row)
        b_eq.append(0)
        lv = np.where(levels[i] < 0, levels[i].max() + 1, levels[i])
        for a in range(m):
            for b in range(m):
                if lv[a] == lv[b] and a < b:
                    row = np.zeros(nv)
                    row[i * m + a], row[i * m + b] = 1, -1
                    A_eq.append(row)
                    b_eq.append(0)
                elif lv[b] == lv[a] + 1:  # consecutive tiers: y(b) <= y(a)
                    row = np.zeros(nv)
                    row[i * m + b], row[i * m + a] = 1, -1
                    A_ub.append(row)
                    b_ub.append(0)
    row = np.zeros(nv)
    for i in range(n):
        for x in chosen:
            row[i * m + x] = weights[i] / len(chosen)
    A_eq.append(row)
    b_eq.append(1)
    c = np.zeros(nv)
    for i in range(n):
        c[i * m + a_star] = -weights[i]
    res = linprog(c, A_ub=np.array(A_ub) if A_ub else None, b_ub=b_ub if b_ub else None, A_eq=np.array(A_eq),
                  b_eq=b_eq, bounds=(0, None), method="highs")
    if res.status == 3:
        return np.inf
    assert res.status == 0, res.message
    return -res.fun


@pytest.mark.parametrize("kind", ["linear", "truncated", "ties_truncated"])
def test_worst_case_distortion_equals_the_lp(kind):
    pytest.importorskip("scipy.optimize")
    from _choice_oracles import random_profile

    rng = np.random.default_rng(8)
    for trial in range(25):
        levels, weights = random_profile(rng, 3 + trial % 3, int(rng.integers(2, 6)), kind)
        P = srm.Profile.from_levels(levels, weights=weights)
        for rule in ("plurality", "borda", "copeland"):
            res = srm.worst_case_distortion(P, rule)
            for a in range(levels.shape[1]):
                want = _charnes_cooper_lp(levels, weights, res.chosen, a)
                if np.isinf(want):
                    assert np.isinf(res.ratios[a])
                else:
                    assert res.ratios[a] == pytest.approx(want, rel=1e-7), (rule, a)
            if res.utilities is not None:  # the witness is feasible and attains the value
                U = res.utilities
                np.testing.assert_allclose(U.sum(axis=1), 1)
                sw = weights @ U
                assert sw[res.worst_candidate] / sw[res.chosen].mean() == pytest.approx(res.distortion)


def test_worst_case_distortion_values():
    # 3 A>B>C, 2 B>C>A. Plurality elects A; worst case for B: A's voters indifferent (1/3 each), B's
    # voters all-in on B: SW(B) / SW(A) = (1 + 2) / 1 = 3.
    P = srm.Profile.from_rankings([[0, 1, 2]] * 3 + [[1, 2, 0]] * 2)
    res = srm.worst_case_distortion(P, "plurality")
    assert res.chosen.tolist() == [0] and res.worst_candidate == 1 and res.distortion == pytest.approx(3.0)
    # Borda elects B, which nobody ranks first among A's voters: A's voters all-in on A,
    # B's voters indifferent: (3 + 2/3) / (2/3) = 5.5
    assert srm.worst_case_distortion(P, "borda").distortion == pytest.approx(5.5)
    # Borda elects B (A 3, B 4, C 2, D 3) although nobody ranks B first: every voter can give B zero
    # utility, so the distortion is unbounded (CHOICE.md §3: Borda's unit-sum distortion is unbounded)
    Q = srm.Profile.from_rankings([[0, 1, 2, 3], [3, 1, 2, 0]])
    res = srm.worst_case_distortion(Q, "borda")
    assert res.chosen.tolist() == [1] and res.distortion == np.inf and res.utilities is None
    assert np.isinf(_charnes_cooper_lp(np.asarray(Q.levels), np.ones(2), [1], 0)) if _has_scipy() else True
    # plurality elects a top choice of someone: bounded
    assert np.isfinite(srm.worst_case_distortion(Q, "plurality").distortion)


def _has_scipy() -> bool:
    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("rule", ["copeland", "llull", "kemeny", "slater", "minimax", "schulze", "ranked_pairs",
                                  "split_cycle", "maximal_lottery"])
def test_incremental_margin_search_equals_full_reaggregation(rule):
    """Margin-only rules on profiles with more rows than a McGarvey profile take the C search's
    incremental-margins path; the Python search re-aggregates the whole profile. Same answers, on
    complete and truncated ballots, in both margin modes."""
    rng = np.random.default_rng(sum(map(ord, rule)))
    for trial in range(4):
        m = 3 + trial % 2
        n = m * (m - 1) + int(rng.integers(1, 5))
        levels = np.empty((n, m), dtype=np.int32)
        for i in range(n):
            levels[i, rng.permutation(m)] = np.arange(m)
            if trial >= 2:
                levels[i, levels[i] >= rng.integers(1, m + 1)] = -1
        P = srm.Profile.from_levels(levels, weights=rng.integers(1, 3, n))
        for mode in ("strict", "extended"):
            for comparison in ("winner", "kendall"):
                fast = srm.find_manipulation(P, rule, margin_mode=mode, comparison=comparison)
                slow = srm.find_manipulation(P, lambda Q, mode=mode: srm.aggregate(Q, rule=rule, margin_mode=mode),
                                             comparison=comparison)
                assert (fast is None) == (slow is None), (mode, comparison)
                if fast is not None:
                    assert (fast.ballot_index, fast.coalition_size, fast.reported_ballot, fast.gain) == (
                        slow.ballot_index, slow.coalition_size, slow.reported_ballot, slow.gain)


def test_cardinal_rules_in_check_criteria():
    # Utilitarian and egalitarian scores of a candidate ignore the other candidates: restriction-
    # consistent on every subset; raising a winner's utility (monotonicity probe in utility space)
    # never hurts it.
    U = np.random.default_rng(0).random((6, 5))
    P = srm.Profile.from_scores(U)
    for rule in ("utilitarian", "egalitarian"):
        report = srm.check_criteria(P, rule, criteria=["strong_iia", "monotonicity"])
        assert report["strong_iia"].holds is True and report["strong_iia"].evidence["n_subsets"] == 25
        assert report["monotonicity"].holds is True and report["monotonicity"].evidence["n_probes"] > 0
    with pytest.raises(ValueError, match="cardinal"):
        srm.find_manipulation(P, "utilitarian")


def test_lift_utilities_matches_the_ordinal_lift():
    from socialrm.criteria import _lift, _lift_utilities

    u = np.array([0.9, 0.5, 0.5, 0.1, 0.7])  # levels 0, 2, 2, 3, 1
    row = np.array([0, 2, 2, 3, 1], dtype=np.int32)
    for c in range(5):
        for to_top in (False, True):
            lifted = _lift(row, c, to_top)
            if lifted is None:
                continue
            got = srm.Profile.from_scores(_lift_utilities(u, row, c, to_top)[None]).levels[0]
            np.testing.assert_array_equal(got, lifted, err_msg=f"c={c} to_top={to_top}")


def test_distortion_of_several_rules():
    # DESIGN.md §6 distortion population, every rule at once
    U = np.array([[1.0, 0.9999, 0.9998, 0.9997, 0.9996], [-0.9997, -0.9998, -0.9999, -1.0, 1.0]])
    res = srm.distortion(U, ["borda", "plurality", "utilitarian", "copeland"], weights=[0.201, 0.799])
    assert list(res) == ["borda", "plurality", "utilitarian", "copeland"]
    assert res["borda"].chosen.tolist() == [0] and res["borda"].welfare < -0.59
    assert res["plurality"].chosen.tolist() == [4] and res["utilitarian"].ratio == 1.0
    assert res["copeland"].chosen.tolist() == [4]  # E beats everyone 79.9 : 20.1
    with pytest.raises(ValueError, match="rule"):
        srm.distortion(U, [])
