"""Criteria checks, distortion and manipulation search for voting rules.

Everything here is built on :func:`socialrm.aggregate`: a *rule* is a registry name (see
:func:`socialrm.available_rules`) or a Python callable accepted by ``aggregate``, and
``**rule_options`` are passed through to every ``aggregate`` call (``margin_mode``, ``order``,
``random_state``, ...). The checks run the rule on the given profile and on modified profiles
(restrictions, lifted ballots, misreported ballots) and report *evidence*, not only a boolean.

Three tools:

- :func:`check_criteria` / :func:`criteria_table` -- majority, Condorcet winner and loser, Pareto,
  unanimity, strong IIA (restriction consistency) and a monotonicity probe on one profile
  (CHOICE.md §2);
- :func:`distortion` -- welfare of the rule's choice against the best candidate, from cardinal
  utilities (instance distortion, CHOICE.md §3 (i)); :func:`worst_case_distortion` -- the worst
  case over unit-sum utilities consistent with an ordinal profile (CHOICE.md §3 (ii));
- :func:`find_manipulation` -- exhaustive search for a profitable misreport by one voter or by a
  coalition sharing one true ballot (CHOICE.md §4).

Strong IIA and the manipulation search of registry rules run in C (``csrc/choice/axioms.c``,
``csrc/choice/manipulation.c``, in parallel); callables go through the same enumeration in Python.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import as_finite_array, check_n_threads, seed_from_random_state

__all__ = [
    "CRITERIA",
    "CriteriaReport",
    "CriteriaTable",
    "CriterionResult",
    "DistortionResult",
    "Manipulation",
    "WorstCaseDistortion",
    "check_criteria",
    "criteria_table",
    "distortion",
    "find_manipulation",
    "kendall_tau_distance",
    "worst_case_distortion",
]

#: Criteria understood by :func:`check_criteria`, in report order.
CRITERIA: tuple[str, ...] = (
    "majority",
    "condorcet_winner",
    "condorcet_loser",
    "pareto",
    "unanimity",
    "strong_iia",
    "monotonicity",
)

_MARKS = {True: "✓", False: "✗", None: "—"}
_REL_EPS = 1e-9  # real weights are compared with a relative tolerance (CHOICE.md §0)


# --------------------------------------------------------------------------------------------
# Small helpers on the engine's objects
# --------------------------------------------------------------------------------------------


def _engine():
    from . import choice

    return choice


def _runner(rule, options: Mapping[str, Any]) -> Callable:
    """``Q -> aggregate(Q, rule, **options)``."""
    aggregate = _engine().aggregate
    opts = dict(options)

    def run(Q):
        return aggregate(Q, rule=rule, **opts)

    return run


def _rule_label(rule) -> str:
    if isinstance(rule, str):
        return rule
    return getattr(rule, "__name__", repr(rule))


def _names(P) -> list[str]:
    return [str(c) for c in P.candidates]


def _tiers_from_ranks(ranks: np.ndarray) -> list[list[int]]:
    ranks = np.asarray(ranks)
    return [sorted(np.flatnonzero(ranks == r).tolist()) for r in np.unique(ranks)]


def _dense(ranks: np.ndarray) -> np.ndarray:
    """Re-number ranks densely (0, 1, ...) keeping ties; used after restricting an order."""
    _, inv = np.unique(np.asarray(ranks), return_inverse=True)
    return inv.astype(np.int64)


def _format_order(tiers: Sequence[Sequence[int]], names: Sequence[str]) -> str:
    parts = []
    for tier in tiers:
        if len(tier) == 1:
            parts.append(names[tier[0]])
        else:
            parts.append("{" + ", ".join(names[c] for c in tier) + "}")
    return " ≻ ".join(parts)


def _format_ballot(levels_row: np.ndarray, names: Sequence[str]) -> str:
    row = np.asarray(levels_row)
    ranked = row[row >= 0]
    if ranked.size == 0:
        return "(empty ballot)"
    tiers = [np.flatnonzero(row == lv).tolist() for lv in range(int(ranked.max()) + 1)]
    text = _format_order(tiers, names)
    if np.any(row < 0):
        text += " (rest unranked)"
    return text


def _margin_mode(options: Mapping[str, Any]) -> str:
    mode = options.get("margin_mode")
    return "strict" if mode is None else str(mode)


def _total_weight(P) -> float:
    return float(np.sum(np.asarray(P.weights, dtype=np.float64)))


def _greater(a: float, b: float, scale: float) -> bool:
    """a > b beyond the relative tolerance used for real weights (exact for integer weights)."""
    return a - b > _REL_EPS * max(1.0, abs(scale))


def _with_ballots(P, levels: np.ndarray, weights: np.ndarray):
    """A profile over P's candidates (and P's utilities dropped) with the given ballots.

    Copies: ``Profile`` freezes the arrays it keeps, and the callers reuse their buffers."""
    return _engine().Profile.from_levels(levels.copy(), weights=weights.copy(), candidates=list(P.candidates))


# --------------------------------------------------------------------------------------------
# Criteria
# --------------------------------------------------------------------------------------------


@dataclass
class CriterionResult:
    """Outcome of one criterion on one profile and rule.

    Attributes
    ----------
    criterion : str
        Name of the criterion (one of :data:`CRITERIA`).
    holds : bool or None
        True if satisfied, False if violated, None if the criterion does not apply to this profile
        (e.g. no Condorcet winner exists).
    evidence : dict
        What was checked and, on a violation, the witness: the subset, the candidate, the two
        orders, the ballot. Candidate indices refer to ``P.candidates``.
    message : str
        One readable sentence summarising ``evidence``.
    """

    criterion: str
    holds: bool | None
    evidence: dict = field(default_factory=dict)
    message: str = ""

    @property
    def mark(self) -> str:
        """``✓`` (holds), ``✗`` (violated) or ``—`` (not applicable)."""
        return _MARKS[self.holds]

    def __bool__(self) -> bool:  # a violated criterion is falsy, "not applicable" too
        return bool(self.holds)


class CriteriaReport(Mapping[str, CriterionResult]):
    """Mapping criterion name → :class:`CriterionResult` for one profile and one rule.

    ``str(report)`` is a readable multi-line summary; ``report.order`` is the social order of the
    full profile that the checks refer to.
    """

    def __init__(self, rule: str, order, names: Sequence[str], results: dict[str, CriterionResult]):
        self.rule = rule
        self.order = order
        self.candidates = list(names)
        self._results = results

    def __getitem__(self, key: str) -> CriterionResult:
        return self._results[key]

    def __iter__(self):
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    @property
    def violated(self) -> list[str]:
        """Names of the violated criteria."""
        return [k for k, r in self._results.items() if r.holds is False]

    def __str__(self) -> str:
        tiers = _tiers_from_ranks(self.order.ranks)
        lines = [f"rule {self.rule}: {_format_order(tiers, self.candidates)}"]
        width = max(len(k) for k in self._results) if self._results else 0
        for key, res in self._results.items():
            lines.append(f"  {res.mark} {key:<{width}}  {res.message}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        marks = ", ".join(f"{k}={r.mark}" for k, r in self._results.items())
        return f"CriteriaReport(rule={self.rule!r}, {marks})"


def _unique_tops(levels: np.ndarray) -> np.ndarray:
    """Candidate that is the unique top of each ballot, or -1 (tied top or empty ballot)."""
    at_top = levels == 0
    count = at_top.sum(axis=1)
    top = np.where(count == 1, np.argmax(at_top, axis=1), -1)
    return top


def _check_majority(P, order, names, options) -> CriterionResult:
    levels = np.asarray(P.levels)
    weights = np.asarray(P.weights, dtype=np.float64)
    n = weights.sum()
    tops = _unique_tops(levels)
    m = levels.shape[1]
    firsts = np.bincount(tops[tops >= 0], weights=weights[tops >= 0], minlength=m)
    leader = int(np.argmax(firsts))
    if not _greater(firsts[leader], n / 2.0, n):
        return CriterionResult(
            "majority", None, {"first_place_weight": firsts.tolist(), "total_weight": n},
            "no candidate is the unique top of more than half of the weight",
        )
    tiers = _tiers_from_ranks(order.ranks)
    ok = tiers[0] == [leader]
    ev = {"candidate": leader, "share": firsts[leader] / n, "social_top": tiers[0]}
    if ok:
        msg = f"{names[leader]} holds {firsts[leader] / n:.1%} of the first places and wins alone"
    else:
        msg = (f"{names[leader]} holds {firsts[leader] / n:.1%} of the first places but the top tier is "
               f"{_format_order([tiers[0]], names)}")
    return CriterionResult("majority", ok, ev, msg)


def _check_condorcet(P, order, names, options, loser: bool) -> CriterionResult:
    key = "condorcet_loser" if loser else "condorcet_winner"
    margins = np.asarray(P.margins(mode=_margin_mode(options)), dtype=np.float64)
    m = margins.shape[0]
    scale = _total_weight(P)
    if loser:
        beaten = np.array([all(_greater(0.0, margins[c, d], scale) for d in range(m) if d != c) for c in range(m)])
    else:
        beaten = np.array([all(_greater(margins[c, d], 0.0, scale) for d in range(m) if d != c) for c in range(m)])
    cands = np.flatnonzero(beaten)
    if m < 2 or cands.size == 0:
        what = "loser" if loser else "winner"
        return CriterionResult(key, None, {"margin_mode": _margin_mode(options)},
                               f"no Condorcet {what} ({_margin_mode(options)} margins)")
    c = int(cands[0])
    tiers = _tiers_from_ranks(order.ranks)
    ev = {"candidate": c, "social_top": tiers[0], "margin_mode": _margin_mode(options)}
    if loser:
        ok = c not in tiers[0]
        msg = (f"Condorcet loser {names[c]} is " + ("not among the winners" if ok else "among the winners"))
    else:
        ok = tiers[0] == [c]
        msg = (f"Condorcet winner {names[c]} " + ("wins alone" if ok else
               f"does not win alone (top tier {_format_order([tiers[0]], names)})"))
    return CriterionResult(key, ok, ev, msg)


def _check_pareto(P, order, names, options) -> CriterionResult:
    support = np.asarray(P.support(mode=_margin_mode(options)), dtype=np.float64)
    n = _total_weight(P)
    m = support.shape[0]
    ranks = np.asarray(order.ranks)
    dominated = [(a, b) for a in range(m) for b in range(m)
                 if a != b and not _greater(n, support[a, b], n)]
    if not dominated:
        return CriterionResult("pareto", None, {"margin_mode": _margin_mode(options)},
                               "no pair is ordered the same way by every ballot")
    bad = [(a, b) for a, b in dominated if not ranks[a] < ranks[b]]
    ev = {"unanimous_pairs": dominated, "violations": bad}
    if bad:
        a, b = bad[0]
        msg = (f"every ballot prefers {names[a]} to {names[b]}, but socially "
               f"{names[a]} is {'tied with' if ranks[a] == ranks[b] else 'below'} {names[b]}"
               f" ({len(bad)} of {len(dominated)} unanimous pairs violated)")
    else:
        msg = f"all {len(dominated)} unanimous pairs are respected"
    return CriterionResult("pareto", not bad, ev, msg)


def _check_unanimity(P, order, names, options) -> CriterionResult:
    levels = np.asarray(P.levels)
    weights = np.asarray(P.weights, dtype=np.float64)
    live = levels[weights > 0]
    first = live[0]
    m = levels.shape[1]
    linear = np.all(first >= 0) and np.unique(first).size == m
    if not (linear and np.all(live == first)):
        return CriterionResult("unanimity", None, {},
                               "the ballots are not one identical linear order")
    ranks = np.asarray(order.ranks)
    ok = bool(np.array_equal(_dense(ranks), first))
    ev = {"ballot": first.tolist(), "social_ranks": ranks.tolist()}
    msg = ("the unanimous order is returned" if ok else
           f"all ballots say {_format_ballot(first, names)}, the rule says "
           f"{_format_order(_tiers_from_ranks(ranks), names)}")
    return CriterionResult("unanimity", ok, ev, msg)


def _subsets(m: int, max_subsets: int | None, seed: int) -> tuple[list[tuple[int, ...]], bool]:
    """Every subset of size 2..m-1 (the full set is the profile itself), or a random sample."""
    total = 2**m - m - 2
    if max_subsets is None or total <= max_subsets:
        return [s for k in range(2, m) for s in itertools.combinations(range(m), k)], False
    rng = np.random.default_rng(seed)
    seen: set[tuple[int, ...]] = set()
    while len(seen) < max_subsets:
        mask = rng.random(m) < 0.5
        k = int(mask.sum())
        if 2 <= k < m:
            seen.add(tuple(np.flatnonzero(mask).tolist()))
    return sorted(seen, key=lambda s: (len(s), s)), True


def _restriction_orders(P, order, subsets, rule, options, run_sub, n_threads):
    """For each subset S: (F(P|S), F(P)|S) as dense ranks over S's members (in S's order)."""
    ranks = np.asarray(order.ranks)
    if isinstance(rule, str):
        # Registry rule: every restriction is aggregated in C, in parallel (csrc/choice/axioms.c).
        from ._native import _core

        m = P.n_candidates
        masks = np.zeros((len(subsets), m), dtype=np.uint8)
        for i, S in enumerate(subsets):
            masks[i, list(S)] = 1
        spec, _ = _engine()._rule_spec(P, rule, **options)
        _, local, restricted, _ = _core._analysis_strong_iia(
            np.asarray(P.levels), np.asarray(P.weights), P.utilities, spec, masks, check_n_threads(n_threads))
        for i, S in enumerate(subsets):
            idx = list(S)
            yield idx, local[i, idx], restricted[i, idx]
        return
    for S in subsets:
        idx = list(S)
        yield idx, _dense(np.asarray(run_sub(P.restrict(idx)).ranks)), _dense(ranks[idx])


def _check_strong_iia(P, order, names, rule, options, run_sub, max_subsets, seed, max_evidence,
                      n_threads) -> CriterionResult:
    m = P.n_candidates
    if m < 3:
        return CriterionResult("strong_iia", None, {}, "needs at least 3 candidates")
    subsets, sampled = _subsets(m, max_subsets, seed)
    violations = []
    n_bad = 0
    by_size: dict[int, list[int]] = {}
    for idx, local, restricted in _restriction_orders(P, order, subsets, rule, options, run_sub, n_threads):
        bad = not np.array_equal(local, restricted)
        stats = by_size.setdefault(len(idx), [0, 0])
        stats[0] += 1
        stats[1] += int(bad)
        if bad:
            n_bad += 1
            if len(violations) < max_evidence:
                violations.append({
                    "subset": idx,
                    "restricted_then_aggregated": _tiers_from_local(local, idx),
                    "aggregated_then_restricted": _tiers_from_local(restricted, idx),
                })
    rate = n_bad / len(subsets)
    ev = {"n_subsets": len(subsets), "n_violations": n_bad, "violation_rate": rate, "sampled": sampled,
          "by_size": {k: {"subsets": v[0], "violations": v[1]} for k, v in sorted(by_size.items())},
          "violations": violations}
    what = f"{len(subsets)} {'sampled ' if sampled else ''}subsets"
    if n_bad:
        v = violations[0]
        msg = (f"{n_bad} of {what} violate it ({rate:.1%}); e.g. on {{{', '.join(names[c] for c in v['subset'])}}}: "
               f"F(P|S) = {_format_order(v['restricted_then_aggregated'], names)} but F(P)|S = "
               f"{_format_order(v['aggregated_then_restricted'], names)}")
    else:
        msg = f"all {what} agree with the restricted social order"
    return CriterionResult("strong_iia", n_bad == 0, ev, msg)


def _options_for_subprofile(options: Mapping[str, Any]) -> dict[str, Any]:
    # Options tied to the full candidate set (a tie-breaking order over all candidates) cannot be
    # passed to a restricted profile unchanged.
    return {k: v for k, v in options.items() if k != "tie_break" or isinstance(v, str)}


def _tiers_from_local(local: np.ndarray, idx: Sequence[int]) -> list[list[int]]:
    return [[idx[i] for i in tier] for tier in _tiers_from_ranks(local)]


def _lift(row: np.ndarray, c: int, to_top: bool) -> np.ndarray | None:
    """Ballot ``row`` with candidate ``c`` raised strictly, or None if that is impossible.

    One step (``to_top=False``): if ``c`` shares its tier, the tie is broken in its favour;
    otherwise it swaps places with the tier just above. ``to_top``: ``c`` alone on top. Unranked
    candidates stay unranked; an unranked ``c`` is not lifted (no single obvious lift exists)."""
    lv = int(row[c])
    if lv < 0:
        return None
    alone = np.count_nonzero(row == lv) == 1
    if lv == 0 and alone:
        return None
    # Others keep their order on even keys; c gets an odd key that slots it where it goes.
    key = row.astype(np.int64) * 2
    key[c] = -1 if to_top else (2 * lv - 3 if alone else 2 * lv - 1)
    ranked = row >= 0
    out = np.full(row.shape, -1, dtype=np.int32)
    out[ranked] = np.unique(key[ranked], return_inverse=True)[1]
    return out


def _lift_utilities(u: np.ndarray, row: np.ndarray, c: int, to_top: bool) -> np.ndarray:
    """Utilities of one voter with candidate ``c`` raised as :func:`_lift` raises it in the ballot:
    ``c`` moves just above the tier above it (or, when tied, just above its tier-mates; or above
    everyone), by less than any gap between the voter's distinct utilities."""
    u = np.asarray(u, dtype=np.float64).copy()
    distinct = np.unique(u)
    gaps = np.diff(distinct)
    delta = gaps.min() / 2 if gaps.size else 1.0
    lv = int(row[c])
    alone = np.count_nonzero(row == lv) == 1
    if to_top:
        u[c] = u.max() + delta
    elif alone:
        u[c] = u[row == lv - 1].max() + delta
    else:
        u[c] = u[c] + delta
    return u


def _check_monotonicity(P, order, names, run, max_ballots, max_evidence) -> CriterionResult:
    levels = np.asarray(P.levels, dtype=np.int32)
    weights = np.asarray(P.weights, dtype=np.float64)
    ranks = np.asarray(order.ranks)
    winners = np.flatnonzero(ranks == ranks.min()).tolist()
    types = np.argsort(-weights, kind="stable")
    types = [int(t) for t in types if weights[t] > 0][: max_ballots]
    n_probes = 0
    violations = []
    n_bad = 0
    big = np.concatenate([levels, levels[:1]], axis=0)
    w2 = np.concatenate([weights, [0.0]])
    for c in winners:
        for t in types:
            for to_top in (False, True):
                lifted = _lift(levels[t], c, to_top)
                if lifted is None or (to_top and np.array_equal(lifted, _lift(levels[t], c, False))):
                    continue  # impossible, or "to the top" is the same ballot as "one step up"
                moved = min(1.0, weights[t])  # one voter (or the whole fractional type)
                w = w2.copy()
                w[t] -= moved
                w[-1] = moved
                if P.utilities is not None:
                    # cardinal profile: lift in utility space, so cardinal rules can be probed too
                    U = np.concatenate([P.utilities, _lift_utilities(P.utilities[t], levels[t], c, to_top)[None]])
                    Q = _engine().Profile.from_scores(U, weights=w, candidates=list(P.candidates))
                else:
                    big[-1] = lifted
                    Q = _with_ballots(P, big, w)
                new = run(Q)
                new_ranks = np.asarray(new.ranks)
                n_probes += 1
                old_tier, new_tier = int(ranks[c]), int(new_ranks[c])
                if new_tier > old_tier:
                    n_bad += 1
                    if len(violations) < max_evidence:
                        violations.append({
                            "candidate": c, "ballot_index": t, "ballot": levels[t].tolist(),
                            "lifted_ballot": lifted.tolist(), "old_tier": old_tier, "new_tier": new_tier,
                            "new_order": _tiers_from_ranks(new_ranks),
                        })
    if n_probes == 0:
        return CriterionResult("monotonicity", None, {"winners": winners},
                               "no ballot can raise a winner (every winner is already alone on top)")
    ev = {"winners": winners, "n_probes": n_probes, "n_violations": n_bad, "violations": violations,
          "ballots_probed": len(types), "ballots_total": int(np.count_nonzero(weights > 0))}
    if n_bad:
        v = violations[0]
        msg = (f"raising {names[v['candidate']]} on one ballot {_format_ballot(np.array(v['ballot']), names)} "
               f"→ {_format_ballot(np.array(v['lifted_ballot']), names)} drops it from tier {v['old_tier']} "
               f"to {v['new_tier']} ({n_bad} of {n_probes} probes)")
    else:
        msg = f"{n_probes} lifts of a winner on one ballot never made its tier worse"
    return CriterionResult("monotonicity", n_bad == 0, ev, msg)


def check_criteria(
    P,
    rule: str | Callable = "borda",
    criteria: Iterable[str] | None = None,
    *,
    max_subsets: int | None = 4096,
    max_ballots: int | None = 200,
    max_evidence: int = 10,
    random_state: int | np.random.Generator | None = 0,
    n_threads: int | None = None,
    **rule_options: Any,
) -> CriteriaReport:
    """Check voting criteria (CHOICE.md §2) for one rule on one profile, with evidence.

    Parameters
    ----------
    P : Profile
        The profile.
    rule : str or callable, default="borda"
        A registry name or a callable accepted by :func:`socialrm.aggregate`.
    criteria : iterable of str, optional
        Subset of :data:`CRITERIA` (default: all).

        - ``majority``: a unique top of more than half of the weight must be the only winner;
        - ``condorcet_winner`` / ``condorcet_loser``: the Condorcet winner (beats every other
          candidate on the rule's margins) must win alone; the Condorcet loser must not win;
        - ``pareto``: if every ballot prefers a to b (support ``S[a][b]`` = total weight), then a is
          strictly above b socially;
        - ``unanimity``: identical linear ballots give that order;
        - ``strong_iia``: for every subset S, ``F(P|S) = F(P)|S``; reports the violating subsets
          and the violation rate (overall and by subset size);
        - ``monotonicity``: each winner is raised in one ballot of each type (one tier up, and to
          the top) by moving one voter's weight; its tier must not get worse.
    max_subsets : int or None, default=4096
        Strong IIA checks every subset when there are at most this many, otherwise a random sample
        of this size (reported as ``sampled``).
    max_ballots : int or None, default=200
        Monotonicity probes the heaviest ``max_ballots`` ballot types.
    max_evidence : int, default=10
        Number of witnesses kept per criterion.
    random_state : int, Generator or None, default=0
        Seed of the subset sample (only used when sampling).
    n_threads : int, optional
        Threads for the strong-IIA restrictions of a registry rule (run in C; 0/None = all cores).
    **rule_options
        Passed to every :func:`socialrm.aggregate` call. The margins used to find Condorcet
        winners, losers and unanimous pairs are the rule's own: its ``margin_mode`` option, else
        its default (:func:`socialrm.rule_info`; strict for callables).

    Returns
    -------
    CriteriaReport
        Mapping criterion → :class:`CriterionResult` (``holds`` True/False/None and ``evidence``).

    Examples
    --------
    >>> P = Profile.from_rankings([[0, 1, 2]] * 3 + [[1, 2, 0]] * 2)
    >>> check_criteria(P, "borda")["condorcet_winner"].holds
    False
    """
    wanted = list(CRITERIA) if criteria is None else [str(c) for c in criteria]
    unknown = [c for c in wanted if c not in CRITERIA]
    if unknown:
        raise ValueError(f"criteria: unknown {unknown}; choose from {list(CRITERIA)}")
    if max_subsets is not None and max_subsets < 1:
        raise ValueError(f"max_subsets: must be >= 1 or None, got {max_subsets}")
    if max_ballots is not None and max_ballots < 1:
        raise ValueError(f"max_ballots: must be >= 1 or None, got {max_ballots}")
    seed = seed_from_random_state(random_state)
    run = _runner(rule, rule_options)
    run_sub = _runner(rule, _options_for_subprofile(rule_options))
    order = run(P)
    names = _names(P)
    opts = dict(rule_options)
    # Condorcet winners/losers and unanimous pairs are read from the margins the rule itself uses
    # (its margin_mode option, else its default: extended for the Borda family, strict otherwise).
    facts = dict(opts)
    if facts.get("margin_mode") is None:
        facts["margin_mode"] = (_engine().rule_info(rule)["default_margin_mode"] if isinstance(rule, str)
                                else "strict")
    results: dict[str, CriterionResult] = {}
    for name in wanted:
        if name == "majority":
            results[name] = _check_majority(P, order, names, facts)
        elif name == "condorcet_winner":
            results[name] = _check_condorcet(P, order, names, facts, loser=False)
        elif name == "condorcet_loser":
            results[name] = _check_condorcet(P, order, names, facts, loser=True)
        elif name == "pareto":
            results[name] = _check_pareto(P, order, names, facts)
        elif name == "unanimity":
            results[name] = _check_unanimity(P, order, names, facts)
        elif name == "strong_iia":
            results[name] = _check_strong_iia(P, order, names, rule, opts, run_sub, max_subsets, seed,
                                              max_evidence, n_threads)
        else:
            results[name] = _check_monotonicity(P, order, names, run, max_ballots, max_evidence)
    return CriteriaReport(_rule_label(rule), order, names, results)


class CriteriaTable:
    """Rules × criteria table of :class:`CriteriaReport` objects (see :func:`criteria_table`).

    ``table[rule][criterion]`` is a :class:`CriterionResult`; ``table.holds()`` gives a nested dict
    of True/False/None; ``str(table)`` draws it with ✓ (holds), ✗ (violated), — (not applicable).
    """

    def __init__(self, reports: dict[str, CriteriaReport], criteria: Sequence[str]):
        self.reports = reports
        self.criteria = list(criteria)

    def __getitem__(self, rule: str) -> CriteriaReport:
        return self.reports[rule]

    def __iter__(self):
        return iter(self.reports)

    def __len__(self) -> int:
        return len(self.reports)

    @property
    def rules(self) -> list[str]:
        return list(self.reports)

    def holds(self) -> dict[str, dict[str, bool | None]]:
        """``{rule: {criterion: holds}}``."""
        return {r: {c: rep[c].holds for c in self.criteria} for r, rep in self.reports.items()}

    def __str__(self) -> str:
        heads = {"majority": "maj", "condorcet_winner": "CW", "condorcet_loser": "CL", "pareto": "Pareto",
                 "unanimity": "unan", "strong_iia": "sIIA", "monotonicity": "mono"}
        cols = [heads.get(c, c) for c in self.criteria]
        rw = max([len("rule")] + [len(r) for r in self.reports])
        lines = [f"{'rule':<{rw}}  " + "  ".join(f"{h:^6}" for h in cols) + "  social order"]
        lines.append("-" * len(lines[0]))
        for r, rep in self.reports.items():
            marks = "  ".join(f"{rep[c].mark:^6}" for c in self.criteria)
            order = _format_order(_tiers_from_ranks(rep.order.ranks), rep.candidates)
            lines.append(f"{r:<{rw}}  {marks}  {order}")
        lines.append("✓ holds, ✗ violated, — not applicable to this profile")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"CriteriaTable(rules={self.rules}, criteria={self.criteria})"


def _default_table_rules(P) -> list[str]:
    engine = _engine()
    ordinal = ["plurality", "anti_plurality", "borda", "copeland", "kemeny", "minimax", "schulze",
               "ranked_pairs", "instant_runoff", "coombs", "baldwin", "nanson", "black"]
    available = set(engine.available_rules())
    rules = [r for r in ordinal if r in available]
    if P.n_candidates > 20:
        rules = [r for r in rules if r != "kemeny"]  # exact Kemeny is limited to m <= 20
    return rules


def criteria_table(
    P,
    rules: Iterable[str | Callable] | None = None,
    criteria: Iterable[str] | None = None,
    **options: Any,
) -> CriteriaTable:
    """Check every criterion for several rules on one profile (rules × criteria).

    Parameters
    ----------
    P : Profile
        The profile.
    rules : iterable of str or callable, optional
        Rules to check; default: the ordinal rules of the registry (plurality, anti-plurality,
        Borda, Copeland, Kemeny, minimax, Schulze, ranked pairs, instant runoff, Coombs, Baldwin,
        Nanson, Black).
    criteria : iterable of str, optional
        Subset of :data:`CRITERIA` (default: all).
    **options
        Passed to :func:`check_criteria` for every rule (and so to ``aggregate``).

    Returns
    -------
    CriteriaTable
        ``print(table)`` shows ✓/✗/— marks and each rule's social order.
    """
    rules = _default_table_rules(P) if rules is None else list(rules)
    if not rules:
        raise ValueError("rules: expected at least one rule")
    wanted = list(CRITERIA) if criteria is None else list(criteria)
    reports = {}
    for rule in rules:
        report = check_criteria(P, rule, criteria=wanted, **options)
        reports[report.rule] = report
    return CriteriaTable(reports, wanted)


# --------------------------------------------------------------------------------------------
# Distortion
# --------------------------------------------------------------------------------------------


@dataclass
class DistortionResult:
    """Welfare of a rule's choice against the best candidate (instance distortion).

    Attributes
    ----------
    rule : str
        The rule.
    chosen : numpy.ndarray
        Indices of the rule's top tier (the choice; welfare is averaged uniformly over it).
    welfare : float
        Social welfare of the choice: weighted mean utility, averaged over ``chosen``.
    optimum : numpy.ndarray
        Indices of the candidates with the highest welfare.
    optimal_welfare : float
        Their welfare.
    ratio : float
        ``optimal_welfare / welfare`` when ``welfare > 0`` (the distortion of this instance;
        1 = optimal). Ratios are only meaningful for positive welfare: if ``welfare <= 0`` it is
        ``1.0`` when the choice is optimal and ``inf`` otherwise; use ``difference`` for signed
        utilities.
    difference : float
        ``optimal_welfare - welfare`` (regret; >= 0).
    welfare_per_candidate : numpy.ndarray
        Weighted mean utility of every candidate.
    order : SocialOrder
        The rule's social order on the ordinal profile induced by the utilities.
    """

    rule: str
    chosen: np.ndarray
    welfare: float
    optimum: np.ndarray
    optimal_welfare: float
    ratio: float
    difference: float
    welfare_per_candidate: np.ndarray
    order: Any = None

    def __str__(self) -> str:
        return (f"{self.rule}: choice {self.chosen.tolist()} welfare {self.welfare:.6g}; optimum "
                f"{self.optimum.tolist()} welfare {self.optimal_welfare:.6g}; ratio {self.ratio:.6g}, "
                f"difference {self.difference:.6g}")


def distortion(
    utilities,
    rule: str | Callable | Sequence[str | Callable] = "borda",
    weights=None,
    candidates: Sequence | None = None,
    **rule_options: Any,
) -> DistortionResult | dict[str, DistortionResult]:
    """Welfare of ``rule``'s choice versus the optimum, from cardinal utilities (CHOICE.md §3 (i)).

    The rule sees only what an ordinal rule can see -- each voter's ranking induced by its
    utilities (equal utilities tie) -- unless it is a cardinal rule (``utilitarian``, ...), which
    receives the utilities themselves (``Profile.from_scores`` keeps them). Social welfare of a
    candidate is the weighted mean utility ``Σ w_i u_i(a) / Σ w_i``; the welfare of the choice is
    the uniform average over the rule's top tier.

    Parameters
    ----------
    utilities : array-like of shape (n_voters, m)
        Cardinal utilities, higher is better; finite.
    rule : str, callable or sequence of them, default="borda"
        A registry name or a callable accepted by :func:`socialrm.aggregate`; with a sequence, the
        result is a dict rule name → :class:`DistortionResult`.
    weights : array-like of shape (n_voters,), optional
        Non-negative voter weights (default: 1 each).
    candidates : sequence, optional
        Candidate labels.
    **rule_options
        Passed to :func:`socialrm.aggregate`.

    Returns
    -------
    DistortionResult or dict

    Examples
    --------
    >>> u = [[1.0, 0.9], [1.0, 0.9], [0.0, 1.0]]
    >>> distortion(u, "plurality").chosen
    array([0])
    """
    U = as_finite_array(utilities, "utilities", ndim=2)
    if U.shape[0] < 1 or U.shape[1] < 1:
        raise ValueError(f"utilities: expected a non-empty [n_voters, m] array, got shape {U.shape}")
    if weights is None:
        w = np.ones(U.shape[0])
    else:
        w = as_finite_array(weights, "weights", ndim=1)
        if w.shape[0] != U.shape[0]:
            raise ValueError(f"weights: expected {U.shape[0]} entries (one per voter), got {w.shape[0]}")
        if np.any(w < 0) or not np.any(w > 0):
            raise ValueError("weights: must be non-negative with at least one positive entry")
    P = _engine().Profile.from_scores(U, weights=None if weights is None else w, candidates=candidates)
    if isinstance(rule, (list, tuple)):
        if not rule:
            raise ValueError("rule: expected a rule or a non-empty sequence of rules")
        return {_rule_label(r): _distortion_of(P, U, w, r, rule_options) for r in rule}
    return _distortion_of(P, U, w, rule, rule_options)


def _distortion_of(P, U: np.ndarray, w: np.ndarray, rule, rule_options) -> DistortionResult:
    order = _engine().aggregate(P, rule=rule, **rule_options)
    ranks = np.asarray(order.ranks)
    chosen = np.flatnonzero(ranks == ranks.min())
    sw = (w @ U) / w.sum()
    welfare = float(sw[chosen].mean())
    best = float(sw.max())
    optimum = np.flatnonzero(sw >= best - _REL_EPS * max(1.0, abs(best)))
    difference = max(0.0, best - welfare)
    if welfare > 0:
        ratio = best / welfare
    else:
        ratio = 1.0 if difference <= _REL_EPS * max(1.0, abs(best)) else math.inf
    return DistortionResult(_rule_label(rule), chosen, welfare, optimum, best, ratio, difference, sw, order)


@dataclass
class WorstCaseDistortion:
    """Worst-case distortion of a rule's choice on one ordinal profile (unit-sum utilities).

    Attributes
    ----------
    rule : str
        The rule.
    chosen : numpy.ndarray
        The rule's top tier (welfare averaged uniformly over it).
    distortion : float
        ``max_a max_u SW(a) / SW(chosen)`` over unit-sum utilities consistent with the ballots;
        ``inf`` when every ballot can give the chosen candidates zero utility while some candidate
        keeps a positive welfare.
    worst_candidate : int
        The candidate ``a`` attaining the maximum.
    ratios : numpy.ndarray
        The maximum ratio for every candidate ``a``.
    utilities : numpy.ndarray or None
        A witness, one unit-sum utility vector per ballot row ``[n_ballots, m]`` consistent with it,
        attaining ``distortion`` (None when it is infinite).
    """

    rule: str
    chosen: np.ndarray
    distortion: float
    worst_candidate: int
    ratios: np.ndarray
    utilities: np.ndarray | None


def _prefix_vertices(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of each ballot's utility polytope {u >= 0, Σu = 1, u monotone in the ballot}.

    They are the uniform distributions over the ballot's upper sets: the first j tiers, j = 1..T
    (unranked candidates form the last tier). Returns ``inside`` [N, J, M] (candidate in the j-th
    upper set) and ``value`` [N, J] (1 / size of that set), J = the largest T; padding vertices
    repeat the full set."""
    lv = levels.astype(np.int64)
    top = lv.max(axis=1, keepdims=True)
    tiers = np.where(lv < 0, top + 1, lv)  # unranked: one last tier
    n_tiers = tiers.max(axis=1) + 1
    J = int(n_tiers.max())
    j = np.arange(J)[None, :, None]
    inside = tiers[:, None, :] <= np.minimum(j, (n_tiers - 1)[:, None, None])
    value = 1.0 / inside.sum(axis=2)
    return inside, value


def worst_case_distortion(P, rule: str | Callable = "borda", *, tol: float = 1e-12,
                          **rule_options: Any) -> WorstCaseDistortion:
    """Worst-case distortion of ``rule`` on the ordinal profile ``P`` (CHOICE.md §3 (ii)).

    Over all unit-sum utility profiles consistent with the ballots (``a ≻ b ⇒ u(a) >= u(b)``, tied
    candidates equal, unranked candidates tied below the ranked ones; ``Σ_a u_i(a) = 1``, ``u >= 0``),
    the largest ``SW(a) / SW(B_1)``, with ``SW(c) = Σ_i w_i u_i(c)`` and ``SW(B_1)`` the uniform
    average over the rule's top tier.

    This is the linear-fractional program that CHOICE.md writes as a Charnes-Cooper LP per ``a``.
    It is solved exactly without an LP solver: each ballot's feasible set is a polytope whose
    vertices are the uniform distributions over its upper sets, the objective is a ratio of two
    separable linear functions, and Dinkelbach's method (pick, per ballot, the vertex maximising
    ``w_i (u_i(a) - λ u_i(B_1))``, update λ to the new ratio) reaches the optimum in finitely many
    steps.

    Parameters
    ----------
    P : Profile
        The ordinal profile.
    rule : str or callable, default="borda"
        A registry name or a callable accepted by :func:`socialrm.aggregate`.
    tol : float, default=1e-12
        Relative stopping tolerance of the Dinkelbach iteration.
    **rule_options
        Passed to :func:`socialrm.aggregate`.

    Returns
    -------
    WorstCaseDistortion

    Examples
    --------
    >>> P = Profile.from_rankings([[0, 1, 2]] * 3 + [[1, 2, 0]] * 2)
    >>> round(worst_case_distortion(P, "plurality").distortion, 9)
    3.0
    """
    order = _engine().aggregate(P, rule=rule, **rule_options)
    ranks = np.asarray(order.ranks)
    chosen = np.flatnonzero(ranks == ranks.min())
    levels = np.asarray(P.levels)
    w = np.asarray(P.weights, dtype=np.float64)
    live = w > 0
    levels, w = levels[live], w[live]
    inside, value = _prefix_vertices(levels)  # [N, J, M], [N, J]
    util = inside * value[:, :, None]  # utility of each candidate at each vertex
    d_vert = util[:, :, chosen].mean(axis=2)  # [N, J] welfare of the choice per vertex
    m = ranks.shape[0]
    ratios = np.empty(m)
    picks = np.zeros((m, levels.shape[0]), dtype=np.int64)
    zero_d = d_vert <= 0
    can_zero = zero_d.any(axis=1)  # ballot can give the chosen candidates nothing
    for a in range(m):
        n_vert = util[:, :, a]
        if np.all(can_zero) and np.any(np.where(zero_d, n_vert, 0.0).max(axis=1) > 0):
            ratios[a] = math.inf
            continue
        pick = np.full(levels.shape[0], inside.shape[1] - 1)  # start: uniform over all
        rows = np.arange(levels.shape[0])
        lam = float(w @ n_vert[rows, pick]) / float(w @ d_vert[rows, pick])
        for _ in range(10_000):
            gain = n_vert - lam * d_vert
            pick = np.argmax(gain, axis=1)
            num = float(w @ n_vert[rows, pick])
            den = float(w @ d_vert[rows, pick])
            # F(λ) = max_u N(u) - λ D(u) = 0 at the optimum. While F > 0 the maximiser has D > 0
            # (D = 0 everywhere with N > 0 is the unbounded case excluded above).
            if num - lam * den <= tol * max(1.0, abs(num)):
                break
            lam = num / den
        ratios[a] = lam
        picks[a] = pick
    worst = int(np.argmax(ratios))
    if math.isinf(ratios[worst]):
        witness = None
    else:
        full = np.zeros((live.shape[0], m))
        full[live] = util[np.arange(levels.shape[0]), picks[worst]]
        witness = full
    return WorstCaseDistortion(_rule_label(rule), chosen, float(ratios[worst]), worst, ratios, witness)


# --------------------------------------------------------------------------------------------
# Manipulation
# --------------------------------------------------------------------------------------------


@dataclass
class Manipulation:
    """A profitable misreport found by :func:`find_manipulation`.

    Attributes
    ----------
    rule : str
        The rule.
    ballot_index : int
        Row of ``P.levels`` holding the true ballot (the first such row if several do).
    true_ballot : numpy.ndarray
        The coalition's true ballot as levels (0 = best, -1 = unranked).
    coalition_size : float
        Weight that misreports (1 = a single voter).
    reported_ballot : list of int
        The misreported linear ballot, best first (candidate indices).
    original : SocialOrder
        Outcome with sincere ballots.
    manipulated : SocialOrder
        Outcome after the misreport.
    comparison : str
        ``"winner"`` or ``"kendall"`` (see :func:`find_manipulation`).
    gain : float
        For ``"winner"``: how many tiers of the true ballot the winner moved up. For
        ``"kendall"``: the decrease of the Kendall-tau distance to the true ballot.
    candidates : list
        Candidate labels.
    """

    rule: str
    ballot_index: int
    true_ballot: np.ndarray
    coalition_size: float
    reported_ballot: list[int]
    original: Any
    manipulated: Any
    comparison: str
    gain: float
    candidates: list = field(default_factory=list)

    def __str__(self) -> str:
        names = [str(c) for c in self.candidates]
        who = "one voter" if self.coalition_size == 1 else f"a coalition of weight {self.coalition_size:g}"
        return (f"{self.rule}: {who} with true ballot {_format_ballot(self.true_ballot, names)} reports "
                f"{' ≻ '.join(names[c] for c in self.reported_ballot)}; outcome "
                f"{_format_order(_tiers_from_ranks(self.original.ranks), names)} → "
                f"{_format_order(_tiers_from_ranks(self.manipulated.ranks), names)}")


def _ballot_rank(true_levels: np.ndarray) -> np.ndarray:
    """Comparable position of each candidate on a ballot: unranked candidates share the bottom."""
    lv = true_levels.astype(np.int64)
    bottom = (lv.max() + 1) if np.any(lv >= 0) else 0
    return np.where(lv < 0, bottom, lv)


def kendall_tau_distance(ballot_levels, social_ranks, penalty: float = 0.5) -> float:
    """Kendall-tau distance between a (possibly tied or truncated) ballot and a social order.

    Over unordered pairs: 1 if both are strict and disagree, ``penalty`` if exactly one of them
    ties the pair, 0 otherwise (pv ``kendalltau_dist_for_rankings_with_ties``). Unranked candidates
    of the ballot are tied at its bottom."""
    r = _ballot_rank(np.asarray(ballot_levels))
    s = np.asarray(social_ranks, dtype=np.int64)
    dr = np.sign(r[:, None] - r[None, :])
    ds = np.sign(s[:, None] - s[None, :])
    iu = np.triu_indices(len(r), 1)
    dr, ds = dr[iu], ds[iu]
    disagree = np.count_nonzero((dr * ds) < 0)
    one_tied = np.count_nonzero((dr == 0) ^ (ds == 0))
    return float(disagree + penalty * one_tied)


def _better_outcome(true_pos: np.ndarray, true_levels, old_ranks, new_ranks, comparison: str) -> float:
    """Gain (> 0 means strictly better for the true ballot), 0 otherwise."""
    if comparison == "winner":
        old_w = np.flatnonzero(old_ranks == old_ranks.min())
        new_w = np.flatnonzero(new_ranks == new_ranks.min())
        if old_w.size != 1 or new_w.size != 1:
            return 0.0
        return float(true_pos[old_w[0]] - true_pos[new_w[0]])
    return kendall_tau_distance(true_levels, old_ranks) - kendall_tau_distance(true_levels, new_ranks)


def find_manipulation(
    P,
    rule: str | Callable = "borda",
    coalition: bool = True,
    max_candidates: int = 7,
    comparison: str = "winner",
    max_coalition: int | None = None,
    n_threads: int | None = None,
    **rule_options: Any,
) -> Manipulation | None:
    """Search exhaustively for a profitable misreport (CHOICE.md §4).

    Voters with identical ballots form one ballot type (duplicate rows of ``P`` are merged). For
    each coalition size k (1 only when ``coalition=False``), each ballot type r whose weight is
    at least k, and each linear ballot L ≠ r (in lexicographic order of permutations), weight k is
    moved from r to L and the rule is re-run. The first misreport whose outcome the true ballot r
    strictly prefers is returned, so the result uses the smallest coalition that succeeds.

    Parameters
    ----------
    P : Profile
        The sincere profile. Coalition sizes are whole voters: k = 1, ..., floor(w_r) (a ballot
        type of weight below 1 is tried once with its whole weight).
    rule : str or callable, default="borda"
        A registry name or a callable accepted by :func:`socialrm.aggregate`.
    coalition : bool, default=True
        Also try coalitions sharing one true ballot (uniform coalitions, pv's default).
    max_candidates : int, default=7
        The search enumerates m! ballots per try; larger m raises ``ValueError``.
    comparison : {"winner", "kendall"}, default="winner"
        ``"winner"`` (default; pv ``strategy_proofness(set_preference="single-winner")``): both
        outcomes have a unique winner and the new winner is strictly above the old one on the true
        ballot (unranked candidates at its bottom). ``"kendall"`` (for social welfare functions):
        the Kendall-tau distance from the true ballot to the social order decreases (½ per pair
        tied on one side only).
    max_coalition : int, optional
        Largest coalition size tried (default: no limit beyond the ballot type's weight).
    n_threads : int, optional
        Threads of the C search (registry rules; 0/None = all cores). The result does not depend
        on it: the first hit in the enumeration order is returned.
    **rule_options
        Passed to :func:`socialrm.aggregate` (with ``random_ballot``, pass a fixed
        ``random_state`` or the outcome is not a function of the ballots).

    Returns
    -------
    Manipulation or None
        None if no profitable misreport exists.

    Examples
    --------
    >>> P = Profile.from_rankings([[2, 3, 1, 0], [3, 1, 2, 0]])  # CHOICE.md §6.6, Borda burying
    >>> find_manipulation(P, "borda").reported_ballot
    [2, 0, 1, 3]
    """
    if comparison not in ("winner", "kendall"):
        raise ValueError(f"comparison: expected 'winner' or 'kendall', got {comparison!r}")
    if not isinstance(max_candidates, numbers.Integral) or max_candidates < 2:
        raise ValueError(f"max_candidates: expected an int >= 2, got {max_candidates!r}")
    m = int(P.n_candidates)
    if m > max_candidates:
        raise ValueError(
            f"P: {m} candidates exceed max_candidates={max_candidates}; the exhaustive search tries "
            f"{math.factorial(m):,} ballots per coalition (raise max_candidates to accept the cost)")
    if m < 2:
        return None
    if max_coalition is not None and (not isinstance(max_coalition, numbers.Integral) or max_coalition < 1):
        raise ValueError(f"max_coalition: expected an int >= 1 or None, got {max_coalition!r}")
    # A coalition is every voter with the same true ballot: merge duplicate rows first (in order of
    # first appearance), and report the first row of P holding the manipulators' ballot.
    D = P.deduplicated() if _has_duplicate_rows(P) else P
    if isinstance(rule, str) and _engine().rule_info(rule)["kind"] == "cardinal":
        raise ValueError(f"rule: {rule!r} is a cardinal rule; find_manipulation searches misreported ordinal "
                         "ballots, which carry no utilities")
    if isinstance(rule, str):
        found = _find_manipulation_c(D, rule, coalition, max_candidates, comparison, max_coalition, n_threads,
                                     rule_options)
    else:
        found = _find_manipulation_py(D, rule, coalition, comparison, max_coalition, rule_options)
    if found is not None and D is not P:
        rows = np.flatnonzero(np.all(np.asarray(P.levels) == found.true_ballot[None, :], axis=1))
        found.ballot_index = int(rows[0])
    return found


def _has_duplicate_rows(P) -> bool:
    levels = np.asarray(P.levels)
    return np.unique(levels, axis=0).shape[0] < levels.shape[0]


def _find_manipulation_c(P, rule, coalition, max_candidates, comparison, max_coalition, n_threads, options):
    """Registry rules: the whole search runs in C (csrc/choice/manipulation.c), in parallel."""
    from ._native import _core

    engine = _engine()
    spec, name = engine._rule_spec(P, rule, **options)
    found, t, moved, gain, orig, reported, manipulated = _core._analysis_manipulation(
        np.asarray(P.levels), np.asarray(P.weights), P.utilities, spec, bool(coalition),
        int(max_coalition or 0), 0 if comparison == "winner" else 1, int(max_candidates),
        check_n_threads(n_threads))
    if not found:
        return None
    cands = list(P.candidates)
    original = engine.SocialOrder(orig, cands, None, name)
    new = engine.SocialOrder(manipulated, cands, None, name)
    true_levels = np.array(P.levels[t], dtype=np.int32)
    return Manipulation(name, int(t), true_levels, float(moved), [int(c) for c in reported], original, new,
                        comparison, float(gain), cands)


def _find_manipulation_py(P, rule, coalition, comparison, max_coalition, options):
    """Callable rules: the same enumeration as the C search, one aggregate call per try."""
    m = int(P.n_candidates)
    levels = np.ascontiguousarray(P.levels, dtype=np.int32)
    weights = np.asarray(P.weights, dtype=np.float64)
    run = _runner(rule, options)
    original = run(P)
    old_ranks = np.asarray(original.ranks)
    perms = np.array(list(itertools.permutations(range(m))), dtype=np.int32)
    # levels of the linear ballot "perm": candidate perm[i] gets level i
    perm_levels = np.empty_like(perms)
    np.put_along_axis(perm_levels, perms, np.arange(m, dtype=np.int32)[None, :], axis=1)
    big = np.concatenate([levels, levels[:1]], axis=0)
    types = [t for t in range(levels.shape[0]) if weights[t] > 0]
    max_w = max(weights[t] for t in types)
    k_max = max(1, math.floor(max_w + _REL_EPS)) if coalition else 1
    if max_coalition is not None:
        k_max = min(k_max, int(max_coalition))
    for k in range(1, k_max + 1):
        for t in types:
            wt = weights[t]
            if k > 1 and wt + _REL_EPS < k:
                continue
            moved = min(float(k), wt)
            true_levels = levels[t]
            true_pos = _ballot_rank(true_levels)
            w = np.concatenate([weights, [moved]])
            w[t] = max(0.0, wt - moved)
            for p in range(perms.shape[0]):
                if np.array_equal(perm_levels[p], true_levels):
                    continue
                big[-1] = perm_levels[p]
                new = run(_with_ballots(P, big, w))
                new_ranks = np.asarray(new.ranks)
                gain = _better_outcome(true_pos, true_levels, old_ranks, new_ranks, comparison)
                if gain > 0:
                    return Manipulation(_rule_label(rule), t, true_levels.copy(), moved,
                                        perms[p].tolist(), original, new, comparison, gain,
                                        list(P.candidates))
    return None
