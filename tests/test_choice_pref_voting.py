"""Cross-validation of every rule against pref_voting 1.18.1 ("pv").

Random profiles: m = 3..8 candidates, integer weights (pv compares with exact float equality,
CHOICE.md §0), four ballot kinds -- linear, truncated, with ties, with ties and truncation -- each
rule on the kinds pv supports for it, both margin modes for the pairwise rules. Real elections: every
file in ../shared/data/preflib.

What is compared, per rule: the winner set (pv's VotingMethod) with our top tier under the iterated
construction (I), and the full order wherever pv has the social welfare function: pv's own SWFs
(``borda_ranking``, ``plurality_ranking``, ``anti_plurality_ranking``, ``copeland_ranking``,
``instant_runoff_ranking``) and ``swf_from_vm(vm)`` for (I). Where pv has no equivalent, or the
conventions differ, the test says so and checks our convention against an independent oracle in
``_choice_oracles`` (brute-force Kemeny, a plain ranked-pairs implementation, score sorting).

Each test loops over its profiles and collects every mismatch, so a failure lists them all.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from _choice_oracles import (
    KINDS,
    irv_winners,
    is_linear,
    kemeny_brute_force,
    margins_of,
    pv_profile,
    pv_tiers,
    random_profile,
    ranked_pairs_order,
    tiers_of,
)
from pref_voting import c1_methods as pv_c1
from pref_voting import combined_methods as pv_comb
from pref_voting import iterative_methods as pv_iter
from pref_voting import margin_based_methods as pv_mb
from pref_voting import other_methods as pv_other
from pref_voting import probabilistic_methods as pv_prob
from pref_voting import scoring_methods as pv_score
from pref_voting.helper import swf_from_vm

import socialrm as srm

# Profile counts per kind (m drawn in 3..8, 2..12 ballot draws each). 2,150 profiles in total;
# every profile goes through all the rules pv supports for its kind.
COUNTS = {"linear": 950, "truncated": 450, "ties": 450, "ties_truncated": 300}
MODES = ("strict", "extended")


def _make_profiles():
    rng = np.random.default_rng(20261128)
    out = []
    for kind, count in COUNTS.items():
        for i in range(count):
            m = 3 + i % 6
            n_types = int(rng.integers(2, 13))
            levels, weights = random_profile(rng, m, n_types, kind)
            out.append((kind, levels, weights))
    return out


PROFILES = _make_profiles()


@pytest.fixture(scope="module")
def cases():
    """(kind, levels, weights, our Profile, pv profile in strict mode, pv profile in extended mode)."""
    built = []
    for kind, levels, weights in PROFILES:
        P = srm.Profile.from_levels(levels, weights=weights)
        strict = pv_profile(levels, weights, extended=False)
        extended = strict if is_linear(levels) else pv_profile(levels, weights, extended=True)
        built.append((kind, levels, weights, P, strict, extended))
    return built


def test_profile_count():
    assert len(PROFILES) >= 2000
    assert {k for k, *_ in PROFILES} == set(KINDS)
    assert {lv.shape[1] for _, lv, _ in PROFILES} == set(range(3, 9))


def ours(P, rule, **options):
    return tiers_of(srm.aggregate(P, rule=rule, **options).ranks)


def check_all(cases, fn, kinds=KINDS, max_m=8):
    """Run ``fn(case) -> None or str`` over the cases of the given kinds; fail listing mismatches."""
    bad, n = [], 0
    for case in cases:
        if case[0] in kinds and case[1].shape[1] <= max_m:
            n += 1
            msg = fn(case)
            if msg:
                bad.append(f"[{case[0]} m={case[1].shape[1]} levels={case[1].tolist()} w={case[2].tolist()}] {msg}")
    assert n > 0
    assert not bad, f"{len(bad)} of {n} profiles disagree:\n" + "\n".join(bad[:8])
    return n


def _pv(case, mode):
    return case[4] if mode == "strict" else case[5]


# -------------------------------------------------------------------------------------------------
# margins


@pytest.mark.parametrize("mode", MODES)
def test_margins(cases, mode):
    def one(case):
        _kind, levels, weights, P, *_ = case
        mine = np.asarray(P.margins(mode=mode))
        ref = margins_of(levels, weights, extended=(mode == "extended"))
        pv = _pv(case, mode)
        m = levels.shape[1]
        pvm = np.array([[pv.margin(a, b) for b in range(m)] for a in range(m)])
        if not (np.array_equal(mine, ref) and np.array_equal(mine, pvm)):
            return f"margins differ: ours {mine.tolist()} pv {pvm.tolist()}"
        cw = pv.condorcet_winner()
        if P.condorcet_winner(mode=mode) != cw:
            return f"Condorcet winner ours {P.condorcet_winner(mode=mode)} pv {cw}"
        return None

    check_all(cases, one)


# -------------------------------------------------------------------------------------------------
# scoring rules


def test_plurality(cases):
    # pv's plurality needs a unique top on every ballot: linear and truncated ballots only.
    def one(case):
        P, pv = case[3], case[4]
        got = ours(P, "plurality", order="score")
        want = pv_tiers(pv_score.plurality_ranking(pv))
        if got != want:
            return f"order ours {got} pv {want}"
        if got[0] != pv_score.plurality(pv):
            return f"winners ours {got[0]} pv {pv_score.plurality(pv)}"
        return None

    check_all(cases, one, kinds=("linear", "truncated"))


def test_anti_plurality(cases):
    # pv's anti-plurality is defined on linear profiles only.
    def one(case):
        P, pv = case[3], case[4]
        got = ours(P, "anti_plurality", order="score")
        want = pv_tiers(pv_score.anti_plurality_ranking(pv))
        if got != want or got[0] != pv_score.anti_plurality(pv):
            return f"ours {got} pv {want} / {pv_score.anti_plurality(pv)}"
        return None

    check_all(cases, one, kinds=("linear",))


def test_borda(cases):
    # Linear: pv borda_ranking / borda. Ties and truncation: pv's ProfileWithTies.borda_scores is
    # the *symmetric* score (CHOICE.md §1) = our default; pv's borda_ranking uses it.
    def one(case):
        kind, _levels, _weights, P, pv, _ = case
        got = ours(P, "borda", order="score")
        want = pv_tiers(pv_score.borda_ranking(pv))
        if got != want:
            return f"order ours {got} pv {want}"
        if kind == "linear" and got[0] != pv_score.borda(pv):
            return f"winners ours {got[0]} pv {pv_score.borda(pv)}"
        if kind != "linear":
            vm = pv_score.borda_for_profile_with_ties(pv, borda_scores=pv_score.symmetric_borda_scores)
            if got[0] != vm:
                return f"winners ours {got[0]} pv {vm}"
        return None

    check_all(cases, one)


@pytest.mark.parametrize("variant", ["domination", "weak_domination", "non_domination"])
def test_borda_variants(cases, variant):
    fn = getattr(pv_score, f"{variant}_borda_scores")

    def one(case):
        _kind, levels, weights, P, *_ = case
        pv = pv_profile(levels, weights, force_ties=True)
        res = srm.aggregate(P, rule="borda", variant=variant)
        want = fn(pv)
        if not np.allclose(res.scores, [want[c] for c in range(levels.shape[1])]):
            return f"scores ours {res.scores} pv {want}"
        if tiers_of(res.ranks)[0] != pv_score.borda_for_profile_with_ties(pv, borda_scores=fn):
            return "winners differ"
        return None

    check_all(cases[::4], one)


# -------------------------------------------------------------------------------------------------
# majority-graph rules (both margin modes)


@pytest.mark.parametrize("mode", MODES)
def test_copeland_and_llull(cases, mode):
    # pv's copeland_ranking scores (1, 0, -1), an affine image of our default (1, 1/2, 0).
    def one(case):
        P, pv = case[3], _pv(case, mode)
        got = ours(P, "copeland", margin_mode=mode, order="score")
        want = pv_tiers(pv_c1.copeland_ranking(pv))
        if got != want or got[0] != pv_c1.copeland(pv):
            return f"copeland ours {got} pv {want}"
        got = ours(P, "llull", margin_mode=mode, order="score")
        if got[0] != pv_c1.llull(pv):
            return f"llull winners ours {got[0]} pv {pv_c1.llull(pv)}"
        return None

    check_all(cases, one)


VM_ITERATED = {
    # rule: (pv VotingMethod, kinds pv supports, both margin modes?)
    "minimax": (pv_mb.minimax, KINDS, True),
    "schulze": (pv_mb.beat_path, KINDS, True),
    "split_cycle": (pv_mb.split_cycle, KINDS, True),
    "instant_runoff": (pv_iter.instant_runoff, ("linear",), False),
    "coombs": (pv_iter.coombs, ("linear",), False),
    "baldwin": (pv_iter.baldwin, ("linear",), False),
    "nanson": (pv_iter.strict_nanson, ("linear",), False),
    "black": (pv_comb.blacks, ("linear",), False),
    "bucklin": (pv_other.bucklin, ("linear",), False),
}


# linear-only rules run in one mode: on complete ballots the two margin modes coincide
ITERATED_CASES = [(rule, mode) for rule, (_, _, both) in VM_ITERATED.items() for mode in (MODES if both else MODES[:1])]


@pytest.mark.parametrize(("rule", "mode"), ITERATED_CASES)
def test_iterated_winners_and_orders(cases, rule, mode):
    """Winner sets = pv VM; full order (I) = pv swf_from_vm(VM)."""
    vm, kinds, both_modes = VM_ITERATED[rule]
    if rule not in srm.available_rules():
        pytest.skip(f"{rule} not in the registry")
    swf = swf_from_vm(vm)
    options = {"order": "iterated"}
    if both_modes:
        options["margin_mode"] = mode

    def one(case):
        P, pv = case[3], _pv(case, mode)
        got = ours(P, rule, **options)
        want = pv_tiers(swf(pv))
        if got != want:
            return f"(I) ours {got} pv {want}"
        return None

    check_all(cases, one, kinds=kinds)


def test_weak_nanson(cases):
    swf = swf_from_vm(pv_iter.weak_nanson)
    check_all(cases, lambda c: None if ours(c[3], "nanson", variant="weak", order="iterated") == pv_tiers(swf(c[4]))
              else f"ours {ours(c[3], 'nanson', variant='weak', order='iterated')} pv {pv_tiers(swf(c[4]))}",
              kinds=("linear",))


@pytest.mark.parametrize("mode", MODES)
def test_minimax_score_order(cases, mode):
    # (S): ascending worst defeat; pv minimax_scores returns the negated worst defeat per candidate.
    def one(case):
        P, pv = case[3], _pv(case, mode)
        m = case[1].shape[1]
        for variant, method in (("margins", "margins"), ("winning_votes", "winning"),
                                ("pairwise_opposition", "pairwise_opposition")):
            res = srm.aggregate(P, rule="minimax", order="score", margin_mode=mode, variant=variant)
            want = pv_mb.minimax_scores(pv, score_method=method)
            if not np.allclose(res.scores, [want[c] for c in range(m)]):
                return f"{variant} scores ours {res.scores} pv {want}"
            if tiers_of(res.ranks) != tiers_of(-np.asarray([want[c] for c in range(m)], float)):
                return f"{variant} order"
        return None

    check_all(cases, one)


def test_instant_runoff_elimination_order(cases):
    # (E) = pv instant_runoff_ranking (simultaneous elimination of all tied last); linear only.
    def one(case):
        got = ours(case[3], "instant_runoff", order="elimination")
        want = pv_tiers(pv_iter.instant_runoff_ranking(case[4]))
        return None if got == want else f"ours {got} pv {want}"

    check_all(cases, one, kinds=("linear",))


def test_instant_runoff_truncated(cases):
    # Truncated linear ballots: pv's instant_runoff_for_truncated_linear_orders stops when someone
    # has more than half of the *non-exhausted* ballots; the winner is what we compare.
    def one(case):
        got = ours(case[3], "instant_runoff", order="iterated")[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pv = pv_profile(case[1], case[2], force_ties=True)  # a ProfileWithTies even if all are complete
            want = pv_iter.instant_runoff_for_truncated_linear_orders(pv)
        return None if got == want else f"ours {got} pv {want}"

    check_all(cases, one, kinds=("truncated",))


@pytest.mark.parametrize("mode", MODES)
def test_ranked_pairs(cases, mode):
    # pv's ranked_pairs is the union over all tie-breaking orders (exponential); our default breaks
    # margin ties by candidate index, as pv's ranked_pairs_tb with its default tie_breaker. The full
    # order is the locked linear order (pv has no SWF for it): checked against a plain
    # implementation of CHOICE.md §1 row 10.
    def one(case):
        P, pv = case[3], _pv(case, mode)
        got = ours(P, "ranked_pairs", margin_mode=mode)
        want_w = pv_mb.ranked_pairs_tb(pv)
        if got[0] != want_w:
            return f"winner ours {got[0]} pv {want_w}"
        ref = ranked_pairs_order(np.asarray(P.margins(mode=mode), float))
        if got != [[c] for c in ref]:
            return f"order ours {got} reference {ref}"
        margins = np.asarray(P.margins(mode=mode))
        off = margins[~np.eye(len(margins), dtype=bool)]
        no_ties = np.unique(np.abs(off)).size == off.size // 2 and np.all(off != 0)
        if no_ties and [got[0][0]] != pv_mb.ranked_pairs(pv):  # no ties: all tie-breakings agree
            return f"ours {got[0]} pv {pv_mb.ranked_pairs(pv)}"
        return None

    check_all(cases, one)


@pytest.mark.parametrize("mode", MODES)
def test_kemeny(cases, mode):
    # Our order is the lexicographically first optimum (candidate index order). m <= 6: checked
    # against every optimum by brute force, and on linear profiles against pv's
    # kemeny_young_rankings (all optima; pv is slow beyond m = 6). m = 7, 8: the optimal value is
    # checked with the subset DP written independently below.
    def one(case):
        kind, levels, _weights, P, pv, _ = case
        m = levels.shape[1]
        got = ours(P, "kemeny", margin_mode=mode)
        order = tuple(t[0] for t in got)
        margins = np.asarray(P.margins(mode=mode), float)
        if len(got) != m or sorted(order) != list(range(m)):
            return f"ours {got} is not a linear order"
        if m > 6:
            value = sum(margins[order[i], order[j]] for i in range(m) for j in range(i + 1, m))
            best = _kemeny_dp_value(margins)
            return None if value == best else f"ours {order} scores {value}, optimum {best}"
        best, optima = kemeny_brute_force(margins)
        if order != min(optima):
            return f"ours {order}, first optimum {min(optima)} (best {best})"
        listed = srm.kemeny_optima(P, margin_mode=mode)
        if listed["n_optima"] != len(optima) or sorted(map(tuple, listed["orders"].tolist())) != sorted(optima):
            return f"kemeny_optima {listed['orders'].tolist()} brute force {optima}"
        if kind == "linear" and mode == "strict":
            rankings, _ = pv_other.kemeny_young_rankings(pv)
            if sorted(rankings) != sorted(optima):
                return f"optima pv {rankings} brute force {optima}"
            # pv's winner set = the tops of all optima
            tops = sorted({int(o[0]) for o in listed["orders"]})
            if tops != pv_other.kemeny_young(pv):
                return f"winners ours {tops} pv {pv_other.kemeny_young(pv)}"
        return None

    check_all(cases, one)


@pytest.mark.parametrize("mode", MODES)
def test_slater(cases, mode):
    if "slater" not in srm.available_rules():
        pytest.skip("slater not in the registry")

    def one(case):
        P, pv = case[3], _pv(case, mode)
        got = ours(P, "slater", margin_mode=mode)
        order = tuple(t[0] for t in got)
        rankings, _ = pv_c1.slater_rankings(pv)
        if order not in [tuple(r) for r in rankings]:
            return f"ours {order} not among pv's optima {rankings}"
        return None

    check_all(cases[::3], one, max_m=6)  # pv's slater_rankings enumerates m! orders in Python


def test_maximal_lottery(cases):
    # Unique for an odd total weight and linear ballots (Laffond et al. 1997): compare there.
    def one(case):
        _kind, levels, weights, P, pv, _ = case
        if int(weights.sum()) % 2 == 0:
            return None
        p = srm.maximal_lottery(P)
        want = pv_prob.maximal_lottery(pv)
        if not np.allclose(p, [want.get(c, 0.0) for c in range(levels.shape[1])], atol=1e-7):
            return f"ours {np.round(p, 4)} pv {want}"
        return None

    check_all(cases, one, kinds=("linear",))


def test_random_ballot_lottery(cases):
    # pv random_dictator = share of first places (linear ballots) = our random_ballot_lottery. Our
    # random_ballot rule draws ballot r with probability w_r / n and returns it: deterministic per
    # seed, and always one of the ballots.
    def one(case):
        _kind, levels, _weights, P, pv, _ = case
        p = srm.random_ballot_lottery(P)
        want = pv_prob.random_dictator(pv)
        if not np.allclose(p, [want.get(c, 0.0) for c in range(levels.shape[1])]):
            return f"lottery ours {p} pv {want}"
        a = srm.aggregate(P, rule="random_ballot", random_state=7).ranks
        b = srm.aggregate(P, rule="random_ballot", random_state=7).ranks
        if not np.array_equal(a, b):
            return "not deterministic"
        if not any(np.array_equal(a, lv) for lv in levels):
            return f"{a} is not a ballot"
        return None

    check_all(cases[::5], one, kinds=("linear",))


# -------------------------------------------------------------------------------------------------
# cardinal rules


def test_cardinal_rules():
    from pref_voting.utility_methods import (
        maximin_ranking,
        relative_utilitarian_ranking,
        sum_utilitarian_ranking,
    )
    from pref_voting.utility_profiles import UtilityProfile

    rng = np.random.default_rng(5)
    bad = []
    for i in range(200):
        n, m = int(rng.integers(2, 8)), 3 + i % 6
        # coarse values in eighths: ties happen, and every sum is exact in binary floating point.
        # (With values such as 0.1, sums that are equal in exact arithmetic can differ in the last
        # bit; we tie those (relative tolerance 1e-9, CHOICE.md §0), pv compares floats exactly.)
        U = np.round(rng.random((n, m)) * 8) / 8
        # every voter's range is exactly [0, 1], so the relative rescaling is exact as well
        for row in U:
            lo, hi = rng.choice(m, size=2, replace=False)
            row[lo], row[hi] = 0.0, 1.0
        P = srm.Profile.from_scores(U)
        upv = UtilityProfile([dict(enumerate(map(float, u))) for u in U])
        for rule, fn in (("utilitarian", sum_utilitarian_ranking), ("egalitarian", maximin_ranking),
                         ("relative_utilitarian", relative_utilitarian_ranking)):
            got, want = ours(P, rule), pv_tiers(fn(upv))
            if got != want:
                bad.append(f"{rule} U={U.tolist()} ours {got} pv {want}")
    assert not bad, "\n".join(bad[:5])


# -------------------------------------------------------------------------------------------------
# real elections


def _election_files(preflib_dir: Path) -> list[Path]:
    return sorted(p for p in preflib_dir.rglob("*") if p.suffix in (".soc", ".soi", ".toc", ".toi"))


@pytest.fixture(scope="module")
def elections(preflib_dir):
    from pref_voting.io.readers import preflib_to_profile

    out = []
    for path in _election_files(preflib_dir):
        P = srm.read_preflib(str(path))
        pv_read = preflib_to_profile(str(path))
        levels = np.asarray(P.levels)
        weights = np.asarray(P.weights).astype(np.int64)
        # pv's reader keeps only the candidates somebody ranks (CHOICE.md §5); the rules are compared
        # on a pv profile over all m candidates built from our levels, and the reader separately.
        pv_all = pv_profile(levels, weights, force_ties=True)
        out.append((path, P, pv_read, pv_all))
    return out


def test_every_election_is_read_like_pv(elections):
    assert len(elections) >= 31
    for path, P, pv_read, _ in elections:
        levels = np.asarray(P.levels)
        ranked = np.flatnonzero(np.any(levels >= 0, axis=0))
        # PrefLib ids start at 1; pv keeps them as candidate labels
        assert sorted(pv_read.candidates) == [int(c) + 1 for c in ranked], path.name
        assert P.n_voters == pv_read.num_voters, path.name
        mine = np.asarray(P.margins(mode="strict"))
        pvm = np.array([[pv_read.margin(int(a) + 1, int(b) + 1) for b in ranked] for a in ranked])
        np.testing.assert_array_equal(mine[np.ix_(ranked, ranked)], pvm, err_msg=path.name)


# pv's Borda and truncated-ballot IRV take 3-28 s per Irish election (19k-25k distinct ballots);
# above this size they are checked against the plain definitions in _choice_oracles instead.
PV_MAX_BALLOTS = 3000


def test_elections_against_pv(elections):
    bad = []
    for path, P, _, pv in elections:
        m = P.n_candidates
        levels, weights = np.asarray(P.levels), np.asarray(P.weights)
        small = P.n_ballots <= PV_MAX_BALLOTS
        checks = {
            "copeland": (ours(P, "copeland", margin_mode="strict", order="score"), pv_tiers(pv_c1.copeland_ranking(pv))),
            "minimax": (ours(P, "minimax", margin_mode="strict", order="iterated"), pv_tiers(swf_from_vm(pv_mb.minimax)(pv))),
            "schulze": (ours(P, "schulze", margin_mode="strict", order="iterated"), pv_tiers(swf_from_vm(pv_mb.beat_path)(pv))),
            "ranked_pairs": (ours(P, "ranked_pairs", margin_mode="strict")[:1], [pv_mb.ranked_pairs_tb(pv)]),
            "llull": (ours(P, "llull", margin_mode="strict")[:1], [pv_c1.llull(pv)]),
        }
        if "split_cycle" in srm.available_rules():
            checks["split_cycle"] = (ours(P, "split_cycle", margin_mode="strict", order="iterated"),
                                     pv_tiers(swf_from_vm(pv_mb.split_cycle)(pv)))
        # symmetric Borda = row sums of the extended margins (CHOICE.md §1)
        borda_ref = tiers_of(-margins_of(levels, weights, extended=True).sum(axis=1))
        checks["borda"] = (ours(P, "borda", order="score"),
                           pv_tiers(pv_score.borda_ranking(pv)) if small else borda_ref)
        if path.suffix == ".soi":  # no ties: pv's truncated-ballot IRV and plurality apply
            if small:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    irv = pv_iter.instant_runoff_for_truncated_linear_orders(pv)
            else:
                irv = irv_winners(levels, weights)
            checks["instant_runoff"] = (ours(P, "instant_runoff")[:1], [irv])
            checks["plurality"] = (ours(P, "plurality", order="score"), pv_tiers(pv_score.plurality_ranking(pv)))
        for rule, (got, want) in checks.items():
            if got != want:
                bad.append(f"{path.name} (m={m}) {rule}: ours {got} pv {want}")
    assert not bad, "\n".join(bad)


def test_irv_oracle_matches_pv(cases):
    """The plain IRV used above for the largest elections agrees with pv on the random truncated
    profiles (so replacing pv there loses nothing)."""
    def one(case):
        pv = pv_profile(case[1], case[2], force_ties=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = pv_iter.instant_runoff_for_truncated_linear_orders(pv)
        return None if irv_winners(case[1], case[2]) == want else "oracle differs from pv"

    check_all(cases, one, kinds=("truncated",))


def test_elections_kemeny_optimal(elections):
    # pv's brute-force Kemeny is out of reach at m = 12..14: check our optimum's value against the
    # subset dynamic programme written independently here (m <= 14 → 16k states).
    for path, P, _, _ in elections:
        margins = np.asarray(P.margins(mode="strict"), float)
        order = [t[0] for t in ours(P, "kemeny", margin_mode="strict")]
        m = len(order)
        assert sorted(order) == list(range(m)), path.name
        value = sum(margins[order[i], order[j]] for i in range(m) for j in range(i + 1, m))
        assert value == pytest.approx(_kemeny_dp_value(margins), rel=1e-12), path.name


def _kemeny_dp_value(margins: np.ndarray) -> float:
    """max over linear orders of Σ_{a above b} M[a][b], by DP over the set of candidates already
    placed at the top: placing c next gains Σ_{d unplaced} M[c][d]."""
    m = margins.shape[0]
    masks = np.arange(1 << m)
    unplaced = ((masks[:, None] >> np.arange(m)[None, :]) & 1) == 0  # [2^m, m]
    gain = unplaced.astype(float) @ margins.T  # gain[mask, c] = Σ_{d unplaced} M[c][d]
    best = np.full(1 << m, -np.inf)
    best[0] = 0.0
    for mask in range(1 << m):  # supersets have larger indices
        for c in np.flatnonzero(unplaced[mask]):
            nm = mask | (1 << int(c))
            value = best[mask] + gain[mask, c]
            best[nm] = max(best[nm], value)
    return float(best[-1])
