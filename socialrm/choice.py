"""Profiles, voting rules and social orders (the social-choice engine's Python face).

All numerics run in the C core (``csrc/choice``); this module validates arguments, names candidates
and wraps results.

Conventions (see ``CHOICE.md`` §0 of the design notes):

* A :class:`Profile` holds ``N`` distinct ballots with weights over ``M`` candidates. A ballot is
  stored as *levels*: ``levels[b, c]`` is the tier of candidate ``c`` on ballot ``b`` (0 = best,
  equal = tied, -1 = not ranked).
* Pairwise counts come in two *margin modes*: ``"strict"`` counts a pair only when the ballot ranks
  both candidates; ``"extended"`` puts ranked candidates above unranked ones (which are mutually
  tied). Both agree on complete ballots.
* A social order is an ordered partition (:class:`SocialOrder`): ``ranks[c]`` is the tier of ``c``
  (0 = best, ties share a tier). How a rule's winners become a full order is selectable per rule
  with ``order=``: ``"score"`` (sort by the rule's score), ``"iterated"`` (winners, then winners of
  the rest, ...), ``"elimination"`` (reverse elimination order), ``"layers"`` (undefeated first,
  with the full profile's defeat relation), ``"optimum"`` (Kemeny/Slater's optimal order) and
  ``"draw"`` (random ballot). :func:`rule_info` gives each rule's default.
* Integer weights are exact; real weights are compared with relative tolerance 1e-9 (and cardinal
  scores with 1e-9 times the largest utility), so results do not depend on the order of the voters.

Truncated ballots and ties, per rule family: plurality / anti-plurality count a ballot only for a
*unique* top / bottom candidate; instant runoff and Coombs give the ballot's weight to every member of
its top / bottom tier (pref_voting's "approval" counting); a ballot's bottom tier is its unranked
candidates when it has any; the random ballot lottery splits a tied top tier's weight; Borda and the
Borda-based rules (Black, Baldwin, Nanson) use the extended reading by default, pairwise rules the
strict one (both selectable with ``margin_mode``); Bucklin positions count only ranked candidates.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ._native import _core
from ._validation import check_n_threads, seed_from_random_state

__all__ = [
    "Profile",
    "SocialOrder",
    "aggregate",
    "available_rules",
    "kemeny_optima",
    "margins_from_scores",
    "maximal_lottery",
    "parse_preflib",
    "random_ballot_lottery",
    "read_preflib",
    "rule_info",
]

MARGIN_MODES = {"strict": 0, "extended": 1}
_MODE_NAMES = {v: k for k, v in MARGIN_MODES.items()}
ORDER_METHODS = {"score": 1, "iterated": 2, "elimination": 3, "layers": 4, "optimum": 5, "draw": 6}
_ORDER_NAMES = {v: k for k, v in ORDER_METHODS.items()}
_MINIMAX_VARIANTS = {"margins": 0, "winning_votes": 1, "pairwise_opposition": 2}
_BORDA_VARIANTS = {"symmetric": 0, "domination": 1, "weak_domination": 2, "non_domination": 3}
_NANSON_VARIANTS = {"strict": 0, "weak": 1}
_EGALITARIAN_VARIANTS = {"min": 0, "leximin": 1}

_DESCRIPTIONS = {
    "plurality": "weight of ballots with the candidate as unique top",
    "anti_plurality": "minus the weight of ballots with the candidate as unique bottom",
    "borda": "Borda count; on truncated/tied ballots per variant (symmetric = sum of margins)",
    "copeland": "win/tie/loss points from the pairwise majority relation (default 1, 0.5, 0)",
    "llull": "Copeland with points (1, 1, 0)",
    "kemeny": "Kemeny-Young: linear order maximising pairwise agreement (exact subset DP, m <= 20)",
    "slater": "Slater: linear order closest to the majority tournament (exact subset DP)",
    "minimax": "Simpson-Kramer: ascending worst pairwise defeat (margins / winning votes / opposition)",
    "schulze": "Schulze beat-path method (strongest paths, Floyd-Warshall)",
    "ranked_pairs": "Tideman's ranked pairs with a linear tie-breaker for equal margins",
    "split_cycle": "Split Cycle: defeats that are not the weakest edge of a majority cycle",
    "instant_runoff": "instant runoff: repeatedly drop the fewest first places (all tied at once)",
    "coombs": "Coombs: majority winner, else drop the most last places, repeat",
    "baldwin": "Baldwin: repeatedly drop the lowest Borda score (recomputed)",
    "nanson": "Nanson: repeatedly drop Borda scores below (strict) or at most (weak) the mean",
    "black": "Condorcet winner if there is one, else Borda winners",
    "bucklin": "Bucklin: smallest k where some candidate is in the top k of a majority",
    "random_ballot": "random ballot (dictator): a ballot drawn with probability weight / n",
    "maximal_lottery": "maximal lottery: p with p^T M >= 0 (LP); order = iterated supports",
    "utilitarian": "weighted mean utility (cardinal)",
    "relative_utilitarian": "mean utility after rescaling each voter to [0, 1] (cardinal)",
    "egalitarian": "minimum utility over voters, or over group means (cardinal); variant='leximin' refines",
    "nash": "mean log(utility - disagreement point); non-positive gains rank last (cardinal)",
}

_ALIASES = {
    "irv": "instant_runoff",
    "hare": "instant_runoff",
    "ranked_choice": "instant_runoff",
    "kemeny_young": "kemeny",
    "beat_path": "schulze",
    "tideman": "ranked_pairs",
    "simpson_kramer": "minimax",
    "blacks": "black",
    "random_dictator": "random_ballot",
    "sum_utilitarian": "utilitarian",
    "nash_welfare": "nash",
}

_CARDINAL = {"utilitarian", "relative_utilitarian", "egalitarian", "nash"}
_COMMON_OPTIONS = ("margin_mode", "order", "tie_break", "n_threads")
_RULE_OPTIONS = {
    "copeland": ("copeland",),
    "minimax": ("variant",),
    "borda": ("variant",),
    "nanson": ("variant",),
    "random_ballot": ("random_state",),
    "kemeny": ("allow_heuristic", "exact_limit"),
    "slater": ("allow_heuristic", "exact_limit"),
    "egalitarian": ("groups", "variant"),
    "nash": ("disagreement",),
}


def _load_rule_table() -> dict[str, dict[str, Any]]:
    table = {}
    for rid, name, default_order, orders, default_mode in _core._choice_rule_table():
        table[name] = {
            "id": rid,
            "default_order": _ORDER_NAMES[default_order],
            "orders": [_ORDER_NAMES[o] for o in orders],
            "default_margin_mode": _MODE_NAMES[default_mode],
        }
    return table


_RULES = _load_rule_table()


def available_rules() -> list[str]:
    """Names of every registered rule (aliases such as ``"irv"`` are accepted too).

    Example
    -------
    >>> "schulze" in available_rules()
    True
    """
    return list(_RULES)


def _canonical_rule(rule: str) -> str:
    if not isinstance(rule, str):
        raise TypeError(f"rule: expected a rule name or a callable, got {type(rule).__name__}")
    key = rule.strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in _RULES:
        raise ValueError(f"rule: unknown rule {rule!r}; available: {', '.join(available_rules())}")
    return key


def rule_info(name: str) -> dict[str, Any]:
    """Describe a rule: kind, order methods, default order and margin mode, options.

    Returns
    -------
    dict
        ``name``, ``kind`` ("ordinal", "cardinal" or "lottery"), ``default_order``, ``orders``
        (supported order methods), ``default_margin_mode``, ``options`` (keyword options accepted by
        :func:`aggregate` for this rule) and ``description``.
    """
    key = _canonical_rule(name)
    entry = _RULES[key]
    kind = "cardinal" if key in _CARDINAL else "lottery" if key in ("maximal_lottery", "random_ballot") else "ordinal"
    info = {
        "name": key,
        "kind": kind,
        "default_order": entry["default_order"],
        "orders": list(entry["orders"]),
        "default_margin_mode": entry["default_margin_mode"],
        "options": list(_COMMON_OPTIONS + _RULE_OPTIONS.get(key, ())),
        "description": _DESCRIPTIONS[key],
    }
    if key == "random_ballot":
        info["lottery"] = "random_ballot_lottery (plurality shares; tied tops split the weight)"
    if key == "maximal_lottery":
        info["lottery"] = "maximal_lottery"
        info["heuristic_orders"] = ["score"]
    return info


# ---------------------------------------------------------------------------------------------
# Profiles


def _as_weights(weights, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n, dtype=np.float64)
    if isinstance(weights, (str, bytes)):
        raise TypeError("weights: expected numbers")
    try:
        w = np.asarray(weights)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"weights: cannot convert to an array ({exc})") from None
    if w.dtype == bool or w.dtype.kind not in "iuf":
        raise TypeError(f"weights: expected numbers, got dtype {w.dtype}")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"weights: expected shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights: contains NaN or infinity")
    if np.any(w < 0):
        raise ValueError(f"weights: must be >= 0 (ballot {int(np.argmax(w < 0))} is negative)")
    if not w.sum() > 0:
        raise ValueError("weights: total weight must be > 0 (empty profile)")
    return w


def _owned(arr: np.ndarray, source) -> np.ndarray:
    """``arr``, copied if it may share memory with the caller's ``source`` (a profile makes its arrays
    read-only, which must not change the caller's arrays)."""
    if isinstance(source, np.ndarray) and np.may_share_memory(arr, source):
        return arr.copy()
    return arr


def _as_names(candidates, m: int) -> list[str]:
    if candidates is None:
        return [str(i) for i in range(m)]
    if isinstance(candidates, (str, bytes)):
        raise TypeError("candidates: expected a sequence of names, got a string")
    names = [str(c) for c in candidates]
    if len(names) != m:
        raise ValueError(f"candidates: expected {m} names, got {len(names)}")
    if len(set(names)) != m:
        raise ValueError("candidates: names must be unique")
    return names


def _check_id(c, m: int, where: str) -> int:
    if isinstance(c, (bool, np.bool_)) or not isinstance(c, numbers.Integral):
        raise TypeError(f"rankings: {where}: candidate ids must be integers, got {c!r}")
    c = int(c)
    if c < 0 or c >= m:
        raise ValueError(f"rankings: {where}: candidate id {c} out of range [0, {m})")
    return c


class Profile:
    """Weighted ballots over ``M`` candidates: strict, truncated or with ties, or cardinal scores.

    Build one with :meth:`from_scores`, :meth:`from_rankings`, :meth:`from_levels` or
    :func:`socialrm.read_preflib`. Profiles are immutable (their arrays are read-only).

    Attributes
    ----------
    levels : ndarray of int32, shape (n_ballots, n_candidates)
        Tier of each candidate per ballot (0 = best, equal = tied, -1 = unranked).
    weights : ndarray of float64, shape (n_ballots,)
    utilities : ndarray of float64 or None
        The cardinal scores a profile was built from (``from_scores``), else None.
    candidates : list of str
        Candidate names (default "0" .. "m-1").

    Example
    -------
    >>> P = Profile.from_rankings([[0, 1, 2], [1, 2, 0]], weights=[3, 2])
    >>> P.margins()[0, 1]
    1.0
    """

    def __init__(self, levels, weights=None, candidates=None, utilities=None):
        lv = np.asarray(levels)
        if lv.dtype == bool or lv.dtype.kind not in "iu":
            raise TypeError(f"levels: expected an integer array, got dtype {lv.dtype}")
        if lv.ndim != 2:
            raise ValueError(f"levels: expected a 2-D array [n_ballots, n_candidates], got shape {lv.shape}")
        if lv.shape[0] == 0:
            raise ValueError("levels: empty profile (no ballots)")
        if lv.shape[1] == 0:
            raise ValueError("levels: empty profile (no candidates)")
        if np.any(lv < -1) or np.any(lv >= lv.shape[1]):
            raise ValueError(f"levels: values must be in [-1, {lv.shape[1] - 1}]")
        lv = _owned(np.ascontiguousarray(lv, dtype=np.int32), levels)
        w = _owned(_as_weights(weights, lv.shape[0]), weights)
        u = None
        if utilities is not None:
            u = _owned(np.ascontiguousarray(utilities, dtype=np.float64), utilities)
            if u.shape != lv.shape:
                raise ValueError(f"utilities: expected shape {lv.shape}, got {u.shape}")
        _core._choice_validate(lv, w, u)
        for arr in (lv, w, u):
            if arr is not None:
                arr.flags.writeable = False
        self._levels, self._weights, self._utilities = lv, w, u
        self._candidates = _as_names(candidates, lv.shape[1])
        self._cache: dict[str, Any] = {}
        self.metadata: dict[str, Any] = {}

    # ---- constructors -------------------------------------------------------------------------

    @classmethod
    def from_levels(cls, levels, weights=None, candidates=None) -> Profile:
        """Profile from the raw level matrix (see the class docstring)."""
        return cls(levels, weights, candidates)

    @classmethod
    def from_scores(cls, scores, weights=None, candidates=None) -> Profile:
        """Profile from a score matrix ``[n_voters, m]`` (higher = better, equal scores tie).

        The scores are kept as :attr:`utilities`, so cardinal rules (``"utilitarian"``,
        ``"egalitarian"``, ``"nash"``, ...) work on the result.
        """
        try:
            s = np.asarray(scores)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"scores: cannot convert to an array ({exc})") from None
        if s.dtype == bool or s.dtype.kind not in "iuf":
            raise TypeError(f"scores: expected a numeric array, got dtype {s.dtype}")
        if s.ndim != 2:
            raise ValueError(f"scores: expected a 2-D array [n_voters, n_candidates], got shape {s.shape}")
        if s.shape[0] == 0 or s.shape[1] == 0:
            raise ValueError(f"scores: empty profile (shape {s.shape})")
        s = np.ascontiguousarray(s, dtype=np.float64)
        finite = np.isfinite(s)
        if not finite.all():
            i, c = np.argwhere(~finite)[0]
            raise ValueError(f"scores: voter {i}, candidate {c} is NaN or infinite")
        # The tiers (levels) are computed on first use: margins of a score profile come straight
        # from the scores, so building one and taking its margins never materialises them.
        self = cls.__new__(cls)
        self._levels = None
        self._weights = _owned(_as_weights(weights, s.shape[0]), weights)
        s = _owned(s, scores)
        s.flags.writeable = False
        self._weights.flags.writeable = False
        self._utilities = s
        self._candidates = _as_names(candidates, s.shape[1])
        self._cache = {}
        self.metadata = {}
        return self

    @classmethod
    def from_rankings(cls, rankings, weights=None, n_candidates: int | None = None, candidates=None) -> Profile:
        """Profile from ballots listed best first.

        Parameters
        ----------
        rankings : int array [n, L] padded with -1, or a sequence of ballots
            A ballot is a sequence whose elements are candidate ids or collections (list, tuple, set)
            of tied ids, e.g. ``[[0, {1, 2}, 3], [2, 1]]``. Candidates missing from a ballot are
            unranked on it.
        weights : array-like [n], optional
            Ballot weights (default 1 each).
        n_candidates : int, optional
            Number of candidates (default: ``len(candidates)`` or the largest id + 1).
        candidates : sequence of str, optional
        """
        m_given = None
        if n_candidates is not None:
            if isinstance(n_candidates, (bool, np.bool_)) or not isinstance(n_candidates, numbers.Integral):
                raise TypeError("n_candidates: expected an int")
            if n_candidates < 1:
                raise ValueError(f"n_candidates: must be >= 1, got {n_candidates}")
            m_given = int(n_candidates)
        if candidates is not None and not isinstance(candidates, (str, bytes)):
            candidates = list(candidates)
            if m_given is None:
                m_given = len(candidates)
        if isinstance(rankings, np.ndarray) and rankings.ndim == 2 and rankings.dtype.kind in "iu":
            levels = cls._levels_from_array(rankings, m_given)
        else:
            levels = cls._levels_from_lists(rankings, m_given)
        return cls(levels, weights, candidates)

    @staticmethod
    def _levels_from_array(r: np.ndarray, m: int | None) -> np.ndarray:
        n = r.shape[0]
        if n == 0:
            raise ValueError("rankings: empty profile (no ballots)")
        if r.size and (r.min() < -1 or r.max() >= 2**31 - 1):
            raise ValueError("rankings: ids must be in [0, 2**31 - 1) (-1 pads the end of a ballot)")
        if m is None:
            m = int(r.max()) + 1 if r.size else 0
        if m < 1:
            raise ValueError("rankings: empty profile (no candidates)")
        return _core._choice_levels_from_rankings(np.ascontiguousarray(r, dtype=np.int32), m)

    @staticmethod
    def _levels_from_lists(rankings, m: int | None) -> np.ndarray:
        if isinstance(rankings, (str, bytes)) or not isinstance(rankings, Iterable):
            raise TypeError(f"rankings: expected a sequence of ballots, got {type(rankings).__name__}")
        ballots = []
        for b, ballot in enumerate(rankings):
            if isinstance(ballot, np.ndarray):
                ballot = ballot.tolist()
            if isinstance(ballot, (str, bytes)) or not isinstance(ballot, Iterable):
                raise TypeError(f"rankings: ballot {b} must be a sequence, got {type(ballot).__name__}")
            tiers = []
            for item in ballot:
                if isinstance(item, (list, tuple, set, frozenset, np.ndarray)):
                    group = list(item.tolist() if isinstance(item, np.ndarray) else item)
                    if len(group) == 0:
                        continue
                    tiers.append(group)
                elif isinstance(item, numbers.Integral) and not isinstance(item, (bool, np.bool_)) and item == -1:
                    continue  # padding
                else:
                    tiers.append([item])
            ballots.append(tiers)
        if not ballots:
            raise ValueError("rankings: empty profile (no ballots)")
        if m is None:
            top = -1
            for b, tiers in enumerate(ballots):
                for group in tiers:
                    for c in group:
                        _check_id(c, 2**31 - 1, f"ballot {b}")
                        top = max(top, int(c))
            m = top + 1
            if m < 1:
                raise ValueError("rankings: empty profile (no candidate is ranked)")
        levels = np.full((len(ballots), m), -1, dtype=np.int32)
        for b, tiers in enumerate(ballots):
            row = levels[b]
            for lvl, group in enumerate(tiers):
                for c in group:
                    c = _check_id(c, m, f"ballot {b}")
                    if row[c] >= 0:
                        raise ValueError(f"rankings: ballot {b} repeats candidate {c}")
                    row[c] = lvl
        return levels

    # ---- attributes ---------------------------------------------------------------------------

    @property
    def levels(self) -> np.ndarray:
        if self._levels is None:  # a score profile computes its tiers on first use
            lv = _core._choice_levels_from_scores(self._utilities)
            lv.flags.writeable = False
            self._levels = lv
        return self._levels

    @property
    def weights(self) -> np.ndarray:
        return self._weights

    @property
    def utilities(self) -> np.ndarray | None:
        return self._utilities

    @property
    def candidates(self) -> list[str]:
        return list(self._candidates)

    @property
    def n_ballots(self) -> int:
        return int(self._weights.shape[0])

    @property
    def n_candidates(self) -> int:
        return len(self._candidates)

    @property
    def integral_weights(self) -> bool:
        """True when every weight is an integer (pairwise counts are then exact integers)."""
        if "integral" not in self._cache:
            w = self._weights
            self._cache["integral"] = bool(np.all(w == np.floor(w)) and w.sum() < 2.0**53)
        return self._cache["integral"]

    @property
    def n_voters(self) -> int | float:
        """Total weight (an int when the weights are integers)."""
        total = float(self._weights.sum())
        return int(total) if self.integral_weights else total

    @property
    def is_linear(self) -> bool:
        """True when every ballot ranks every candidate strictly."""
        if "linear" not in self._cache:
            lv = self.levels
            self._cache["linear"] = bool(np.all(lv >= 0) and np.all(lv.max(axis=1) == lv.shape[1] - 1))
        return self._cache["linear"]

    @property
    def is_complete(self) -> bool:
        """True when every ballot ranks every candidate (ties allowed)."""
        return self._utilities is not None or bool(np.all(self.levels >= 0))

    def _mode(self, mode) -> int:
        if mode not in MARGIN_MODES:
            raise ValueError(f"mode: expected 'strict' or 'extended', got {mode!r}")
        return MARGIN_MODES[mode]

    def _pairwise(self, mode: str, n_threads=None) -> tuple[np.ndarray, np.ndarray]:
        code = self._mode(mode)
        if self.is_complete:
            code = 0  # both modes coincide on complete ballots
        key = f"pairwise{code}"
        if key not in self._cache:
            t = check_n_threads(n_threads)
            if self._utilities is not None:
                w = None if np.all(self._weights == 1.0) else self._weights
                sup, mar = _core._choice_margins_from_scores(self._utilities, w, t)
            else:
                sup, mar = _core._choice_margins(self.levels, self._weights, code, t)
            sup.flags.writeable = False
            mar.flags.writeable = False
            self._cache[key] = (sup, mar)
        return self._cache[key]

    def margins(self, mode: str = "strict", n_threads: int | None = None) -> np.ndarray:
        """Margin matrix ``M[a, b] = S[a, b] - S[b, a]`` (float64 [m, m]; exact for integer weights).

        Parameters
        ----------
        mode : {"strict", "extended"}
            "strict": a pair counts only when both are ranked; "extended": ranked beats unranked.
        """
        return self._pairwise(mode, n_threads)[1].copy()

    def support(self, mode: str = "strict", n_threads: int | None = None) -> np.ndarray:
        """Support matrix ``S[a, b]`` = total weight of ballots ranking a above b (float64 [m, m])."""
        return self._pairwise(mode, n_threads)[0].copy()

    def condorcet_winner(self, mode: str = "strict") -> int | None:
        """Index of the candidate beating every other one by a positive margin, or None."""
        M = self._pairwise(mode)[1]
        m = self.n_candidates
        tol = 0.0 if self.integral_weights else 1e-9 * float(self._weights.sum())
        for c in range(m):
            if all(M[c, d] > tol for d in range(m) if d != c):
                return c
        return None

    def condorcet_loser(self, mode: str = "strict") -> int | None:
        """Index of the candidate beaten by every other one, or None."""
        M = self._pairwise(mode)[1]
        m = self.n_candidates
        tol = 0.0 if self.integral_weights else 1e-9 * float(self._weights.sum())
        for c in range(m):
            if all(M[d, c] > tol for d in range(m) if d != c):
                return c
        return None

    # ---- derived profiles ---------------------------------------------------------------------

    def restrict(self, candidate_indices: Sequence[int]) -> Profile:
        """Profile over a subset of candidates, in the order given.

        Ballots are re-densified; a ballot that ranks none of the kept candidates is kept as an empty
        ballot (all unranked), so the total weight never changes.
        """
        idx = np.asarray(list(candidate_indices))
        if idx.dtype == bool or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError("candidate_indices: expected integer candidate ids")
        idx = idx.astype(np.int32)
        lv, u = _core._choice_restrict(self.levels, self._weights, self._utilities, idx)
        return Profile(lv, self._weights, [self._candidates[i] for i in idx], utilities=u)

    def reversed(self) -> Profile:
        """Every ballot reversed (ranked candidates only; unranked ones stay unranked)."""
        lv = self.levels
        top = lv.max(axis=1, keepdims=True)
        rev = np.where(lv >= 0, top - lv, -1).astype(np.int32)
        u = None if self._utilities is None else -self._utilities
        return Profile(rev, self._weights, self._candidates, utilities=u)

    def deduplicated(self) -> Profile:
        """Distinct ballots with summed weights (in order of first appearance). Drops utilities."""
        uniq, first, inverse = np.unique(self.levels, axis=0, return_index=True, return_inverse=True)
        weights = np.bincount(inverse.ravel(), weights=self._weights, minlength=len(uniq))
        order = np.argsort(first, kind="stable")
        return Profile(uniq[order], weights[order], self._candidates)

    def __repr__(self) -> str:
        kind = "linear" if self.is_linear else "complete" if self.is_complete else "truncated"
        if self._utilities is not None:
            kind += ", cardinal"
        return (f"Profile(n_voters={self.n_voters!r}, n_ballots={self.n_ballots}, "
                f"n_candidates={self.n_candidates}, {kind})")


# ---------------------------------------------------------------------------------------------
# Social orders


def _dense_ranks(ranks) -> np.ndarray:
    r = np.asarray(ranks)
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"ranks: expected a non-empty 1-D array, got shape {r.shape}")
    if r.dtype.kind == "f" and not np.all(np.isfinite(r)):
        raise ValueError("ranks: contains NaN or infinity")
    if r.dtype == bool or r.dtype.kind not in "iuf":
        raise TypeError(f"ranks: expected numbers, got dtype {r.dtype}")
    _, dense = np.unique(r, return_inverse=True)
    return dense.astype(np.int64).ravel()


class SocialOrder:
    """An ordered partition of the candidates (ties allowed), best tier first.

    Attributes
    ----------
    ranks : ndarray of int64, shape (m,)
        Tier of each candidate (0 = best, equal = tied, dense).
    scores : ndarray of float64 or None
        The rule's natural score (higher = better) when it has one.
    rule : str or None
    candidates : list of str
    info : dict
        Rule-specific extras (Kemeny: ``n_optima``, ``ties``, ``distance``, ``optima``, ...).
    """

    def __init__(self, ranks, candidates=None, scores=None, rule: str | None = None, info: dict | None = None):
        self.ranks = _dense_ranks(ranks)
        self.ranks.flags.writeable = False
        m = self.ranks.shape[0]
        self.candidates = _as_names(candidates, m)
        if scores is not None:
            scores = np.asarray(scores, dtype=np.float64).copy()
            if scores.shape != (m,):
                raise ValueError(f"scores: expected shape ({m},), got {scores.shape}")
            if np.all(np.isnan(scores)):
                scores = None
        self.scores = scores
        self.rule = rule
        self.info = dict(info or {})

    @classmethod
    def _from_engine(cls, ranks: np.ndarray, candidates: list[str], scores, rule: str, info: dict) -> SocialOrder:
        """Wrap the engine's output (dense int ranks, validated names) without re-checking it."""
        self = cls.__new__(cls)
        self.ranks = ranks.astype(np.int64)
        self.ranks.flags.writeable = False
        self.candidates = candidates
        self.scores = None if scores is None or np.isnan(scores).all() else scores
        self.rule = rule
        self.info = info
        return self

    @classmethod
    def from_ranks(cls, ranks, candidates=None, scores=None, rule: str | None = None) -> SocialOrder:
        """From any ranks (lower = better; equal = tied); they are densified."""
        return cls(ranks, candidates, scores, rule)

    @classmethod
    def from_scores(cls, scores, candidates=None, rule: str | None = None) -> SocialOrder:
        """Score order: higher score = better tier, equal scores tie."""
        s = np.asarray(scores, dtype=np.float64)
        if s.ndim != 1 or not np.all(np.isfinite(s) | (s == -np.inf)):
            raise ValueError("scores: expected a 1-D array without NaN or +inf")
        return cls(-s, candidates, s, rule)

    @classmethod
    def from_tiers(cls, tiers: Sequence[Iterable[int]], candidates=None, rule: str | None = None) -> SocialOrder:
        """From a list of tiers of candidate indices, best first (every candidate exactly once)."""
        flat = [int(c) for t in tiers for c in t]
        m = len(flat)
        if sorted(flat) != list(range(m)):
            raise ValueError("tiers: must contain every candidate 0..m-1 exactly once")
        ranks = np.empty(m, dtype=np.int64)
        for lvl, t in enumerate(tiers):
            for c in t:
                ranks[int(c)] = lvl
        return cls(ranks, candidates, None, rule)

    @property
    def n_candidates(self) -> int:
        return int(self.ranks.shape[0])

    def tiers(self) -> list[list[int]]:
        """Candidate indices per tier, best first."""
        out: list[list[int]] = [[] for _ in range(int(self.ranks.max()) + 1)]
        for c, r in enumerate(self.ranks):
            out[int(r)].append(c)
        return out

    def winners(self) -> list[int]:
        """The best tier."""
        return [int(c) for c in np.nonzero(self.ranks == 0)[0]]

    @property
    def is_strict(self) -> bool:
        """True when no two candidates are tied."""
        return int(self.ranks.max()) == self.n_candidates - 1

    def order(self) -> list[int]:
        """Candidates best first (ties in index order)."""
        return [int(c) for c in np.argsort(self.ranks, kind="stable")]

    def prefers(self, a: int, b: int) -> bool:
        """True when a is in a strictly better tier than b."""
        return bool(self.ranks[a] < self.ranks[b])

    def __eq__(self, other) -> bool:
        if not isinstance(other, SocialOrder):
            return NotImplemented
        return self.candidates == other.candidates and np.array_equal(self.ranks, other.ranks)

    def __hash__(self) -> int:
        return hash((tuple(self.candidates), tuple(int(r) for r in self.ranks)))

    def __str__(self) -> str:
        parts = []
        for tier in self.tiers():
            names = [self.candidates[c] for c in tier]
            parts.append(names[0] if len(names) == 1 else "{" + ", ".join(names) + "}")
        return " ≻ ".join(parts)

    def __repr__(self) -> str:
        rule = f", rule={self.rule!r}" if self.rule else ""
        return f"SocialOrder({str(self)!r}{rule})"


# ---------------------------------------------------------------------------------------------
# Rules


def _tie_break_array(P: Profile, tie_break) -> np.ndarray | None:
    if tie_break is None:
        return None
    m = P.n_candidates
    if isinstance(tie_break, str):
        if tie_break != "alphabetic":
            raise ValueError(f"tie_break: expected None, 'alphabetic' or a permutation, got {tie_break!r}")
        names = P.candidates
        return np.array(sorted(range(m), key=lambda c: (names[c], c)), dtype=np.int32)
    arr = np.asarray(tie_break)
    if arr.dtype == bool or arr.dtype.kind not in "iu":
        raise TypeError("tie_break: expected a permutation of candidate indices")
    if arr.shape != (m,) or sorted(arr.tolist()) != list(range(m)):
        raise ValueError(f"tie_break: expected a permutation of 0..{m - 1}")
    return np.ascontiguousarray(arr, dtype=np.int32)


def _rule_spec(P: Profile, rule: str, **options) -> tuple[dict[str, Any], str]:
    """Validate ``options`` for ``rule`` and build the spec dict the C binding understands.

    Returns ``(spec, canonical_name)``. Shared by :func:`aggregate` and the analyses.
    """
    name = _canonical_rule(rule)
    entry = _RULES[name]
    allowed = set(_COMMON_OPTIONS + _RULE_OPTIONS.get(name, ()))
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"aggregate: option(s) {', '.join(map(repr, unknown))} not supported by rule {name!r} "
                        f"(supported: {', '.join(sorted(allowed))})")
    spec: dict[str, Any] = {"rule": entry["id"]}
    mode = options.get("margin_mode")
    if mode is not None:
        if mode not in MARGIN_MODES:
            raise ValueError(f"margin_mode: expected 'strict' or 'extended', got {mode!r}")
        spec["margin_mode"] = MARGIN_MODES[mode]
    order = options.get("order")
    if order is not None:
        if order not in ORDER_METHODS:
            raise ValueError(f"order: expected one of {', '.join(ORDER_METHODS)}, got {order!r}")
        if order not in entry["orders"]:
            raise ValueError(f"order: rule {name!r} supports {', '.join(entry['orders'])}, not {order!r}")
        spec["order"] = ORDER_METHODS[order]
    spec["tie_break"] = _tie_break_array(P, options.get("tie_break"))
    if options.get("n_threads") is not None:
        check_n_threads(options["n_threads"])
    if "copeland" in options:
        pts = options["copeland"]
        try:
            w, t, l = (float(x) for x in pts)
        except (TypeError, ValueError):
            raise TypeError(f"copeland: expected (win, tie, loss) numbers, got {pts!r}") from None
        if not all(np.isfinite([w, t, l])):
            raise ValueError("copeland: points must be finite")
        spec["copeland"] = (w, t, l)
    if "variant" in options and options["variant"] is not None:
        v = options["variant"]
        table = {"minimax": _MINIMAX_VARIANTS, "borda": _BORDA_VARIANTS, "nanson": _NANSON_VARIANTS,
                 "egalitarian": _EGALITARIAN_VARIANTS}[name]
        if v not in table:
            raise ValueError(f"variant: rule {name!r} accepts {', '.join(table)}, got {v!r}")
        key = {"minimax": "minimax_variant", "borda": "borda_variant", "nanson": "nanson_variant",
               "egalitarian": "leximin"}[name]
        spec[key] = table[v]
    if name == "random_ballot":
        spec["seed"] = seed_from_random_state(options.get("random_state"))
    if "allow_heuristic" in options:
        spec["allow_heuristic"] = int(bool(options["allow_heuristic"]))
    if options.get("exact_limit") is not None:
        lim = options["exact_limit"]
        if isinstance(lim, (bool, np.bool_)) or not isinstance(lim, numbers.Integral):
            raise TypeError("exact_limit: expected an int")
        if not 1 <= lim <= 25:
            raise ValueError(f"exact_limit: must be in [1, 25], got {lim}")
        spec["kemeny_exact_limit"] = int(lim)
    if options.get("groups") is not None:
        g = np.asarray(options["groups"])
        if g.shape != (P.n_ballots,):
            raise ValueError(f"groups: expected one label per ballot ({P.n_ballots}), got shape {g.shape}")
        _, inv = np.unique(g, return_inverse=True)
        spec["groups"] = np.ascontiguousarray(inv.ravel(), dtype=np.int32)
        spec["n_groups"] = int(inv.max()) + 1
    if options.get("disagreement") is not None:
        d = np.asarray(options["disagreement"], dtype=np.float64)
        if d.ndim == 0:
            d = np.full(P.n_ballots, float(d))
        if d.shape != (P.n_ballots,):
            raise ValueError(f"disagreement: expected a number or one value per ballot ({P.n_ballots}), got shape {d.shape}")
        if not np.all(np.isfinite(d)):
            raise ValueError("disagreement: contains NaN or infinity")
        spec["disagreement"] = np.ascontiguousarray(d)
    return spec, name


def _callable_result(P: Profile, rule: Callable, options) -> SocialOrder:
    out = rule(P, **options)
    name = getattr(rule, "__name__", "custom")
    if isinstance(out, SocialOrder):
        return out
    arr = np.asarray(out)
    if arr.shape != (P.n_candidates,):
        raise ValueError(f"rule: a callable rule must return a SocialOrder or an array of shape ({P.n_candidates},), "
                         f"got {arr.shape}")
    if arr.dtype.kind in "iu":
        return SocialOrder(arr, P.candidates, None, name)
    if arr.dtype.kind == "f":
        return SocialOrder.from_scores(arr, P.candidates, name)
    raise TypeError(f"rule: a callable rule returned dtype {arr.dtype} (int = ranks, float = scores)")


def aggregate(P: Profile, rule: str | Callable = "schulze", **options) -> SocialOrder:
    """Aggregate a profile into a social order with a rule from the registry.

    Parameters
    ----------
    P : Profile
    rule : str or callable
        A name from :func:`available_rules` (aliases such as ``"irv"`` work), or a callable taking the
        profile (and the options as keywords) and returning a :class:`SocialOrder`, an integer ranks
        array (0 = best) or a float scores array (higher = better).
    margin_mode : {"strict", "extended"}, optional
        Pairwise counting of unranked candidates (default per rule: extended for the Borda family —
        Borda, Black, Baldwin, Nanson — matching pref_voting's ``ProfileWithTies.borda_scores``;
        strict otherwise, pref_voting's ``ProfileWithTies`` default).
    order : str, optional
        How the rule's result becomes a full order; see :func:`rule_info` for each rule's default
        and supported methods.
    tie_break : None, "alphabetic" or permutation of candidate indices, optional
        None keeps ties. Otherwise ties left in the output are broken by this order (earlier =
        better), and ranked pairs / Kemeny use it among equal margins / equal optima (without it
        they use the candidate index order).
    copeland : (win, tie, loss), optional
        Copeland points (default (1, 0.5, 0)).
    variant : str, optional
        minimax: "margins" (default), "winning_votes", "pairwise_opposition"; borda: "symmetric"
        (default), "domination", "weak_domination", "non_domination"; nanson: "strict" (default),
        "weak"; egalitarian: "min" (default) or "leximin" (ties on the minimum broken by the next
        smallest utility, ...).
    random_state : int, Generator or None
        Random ballot's draw.
    allow_heuristic : bool
        Kemeny/Slater when a strongly connected component has more than ``exact_limit`` (20)
        candidates: False raises ValueError; True orders that component by local search (start at
        the net-margin (Borda) order, apply the best improving move of one candidate to another
        position until none improves) and sets ``info["heuristic"]``.
    groups : array [n_ballots], optional
        Egalitarian over group means instead of over individual ballots.
    disagreement : float or array [n_ballots], optional
        Nash's disagreement point (default 0).
    n_threads : int, optional
        Accepted for uniformity; rules run on one thread (margins are computed once per call).

    Returns
    -------
    SocialOrder
        With ``scores`` when the rule has a natural score and, for Kemeny/Slater, ``info`` holding
        ``n_optima``, ``ties``, ``distance`` (weighted Kendall-tau), ``agreement`` and up to 1000
        ``optima`` (array [k, m] of orders, best first).

    Example
    -------
    >>> P = Profile.from_rankings([[0, 1, 2]] * 4 + [[1, 2, 0]] * 3 + [[2, 0, 1]] * 2)
    >>> str(aggregate(P, "schulze"))
    '0 ≻ 1 ≻ 2'
    """
    if not isinstance(P, Profile):
        raise TypeError(f"P: expected a Profile, got {type(P).__name__}")
    if callable(rule) and not isinstance(rule, str):
        return _callable_result(P, rule, options)
    spec, name = _rule_spec(P, rule, **options)
    order_method = options.get("order") or _RULES[name]["default_order"]
    info: dict[str, Any] = {}
    if name in ("kemeny", "slater") and order_method == "optimum":
        ranks, info = _kemeny_order(P, name, spec, options)
        scores = None
    else:
        sup_strict, sup_ext = _cached_supports(P, name, spec)
        ranks, scores = _core._choice_aggregate(P.levels, P._weights, P._utilities, spec, False, None,
                                                sup_strict, sup_ext)
    info["order"] = order_method
    return SocialOrder._from_engine(ranks, P.candidates, scores, name, info)


_BALLOT_RULES = {"plurality", "anti_plurality", "instant_runoff", "coombs", "bucklin", "random_ballot"} | _CARDINAL


def _cached_supports(P: Profile, name: str, spec: dict) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The profile's cached support matrices the rule will read (computed once per profile)."""
    if name in _BALLOT_RULES:
        return None, None
    mode = spec.get("margin_mode", MARGIN_MODES[_RULES[name]["default_margin_mode"]])
    if mode == 1:
        return None, P._pairwise("extended")[0]
    if spec.get("borda_variant", 0) != 0:
        return P._pairwise("strict")[0], P._pairwise("extended")[0]
    return P._pairwise("strict")[0], None


def _kemeny_cost(P: Profile, name: str, mode: str) -> np.ndarray:
    sup, mar = P._pairwise(mode)
    if name == "kemeny":
        return sup
    tol = 0.0 if P.integral_weights else 1e-9 * float(P.weights.sum()) * P.n_candidates
    return (mar > tol).astype(np.float64)


def _kemeny_order(P: Profile, name: str, spec: dict, options) -> tuple[np.ndarray, dict]:
    mode = options.get("margin_mode") or _RULES[name]["default_margin_mode"]
    cost = _kemeny_cost(P, name, mode)
    order, info, optima = _core._choice_kemeny(cost, spec["tie_break"], spec.get("kemeny_exact_limit", 20),
                                               spec.get("allow_heuristic", 0), 1000)
    ranks = np.empty(P.n_candidates, dtype=np.int64)
    ranks[order] = np.arange(P.n_candidates)
    info = dict(info)
    info["optima"] = optima
    return ranks, info


def kemeny_optima(P: Profile, *, rule: str = "kemeny", margin_mode: str = "strict", tie_break=None,
                  max_orders: int = 1000, exact_limit: int = 20) -> dict[str, Any]:
    """All optimal Kemeny (or Slater) orders of a profile.

    Returns
    -------
    dict
        ``orders`` (int32 array [k, m], candidates best first, lexicographic under ``tie_break``,
        at most ``max_orders``), ``n_optima`` (total count), ``distance`` (optimal weighted
        Kendall-tau distance for Kemeny; number of reversed majority edges for Slater),
        ``n_components``.
    """
    if not isinstance(P, Profile):
        raise TypeError(f"P: expected a Profile, got {type(P).__name__}")
    name = _canonical_rule(rule)
    if name not in ("kemeny", "slater"):
        raise ValueError(f"rule: expected 'kemeny' or 'slater', got {rule!r}")
    if isinstance(max_orders, (bool, np.bool_)) or not isinstance(max_orders, numbers.Integral) or max_orders < 1:
        raise ValueError(f"max_orders: expected a positive int, got {max_orders!r}")
    tb = _tie_break_array(P, tie_break)
    _, info, optima = _core._choice_kemeny(_kemeny_cost(P, name, margin_mode), tb, int(exact_limit), 0, int(max_orders))
    return {"orders": optima, "n_optima": info["n_optima"], "distance": info["distance"],
            "n_components": info["n_components"]}


def maximal_lottery(P, margin_mode: str = "strict") -> np.ndarray:
    """Maximal lottery: probabilities ``p`` [m] with ``p @ M >= 0`` column-wise (LP solved in C).

    ``P`` is a :class:`Profile` or a skew-symmetric margin matrix. Unique for an odd number of
    voters with linear ballots; otherwise one optimal vertex of the LP is returned.
    """
    if isinstance(P, Profile):
        M = P._pairwise(margin_mode)[1]
    else:
        M = np.asarray(P, dtype=np.float64)
    return _core._choice_maximal_lottery(M)


def random_ballot_lottery(P: Profile) -> np.ndarray:
    """Random ballot's lottery: each ballot's weight goes to its top tier (shared when tied), / n."""
    if not isinstance(P, Profile):
        raise TypeError(f"P: expected a Profile, got {type(P).__name__}")
    return _core._choice_random_ballot_lottery(P.levels, P._weights)


def margins_from_scores(scores, weights=None, n_threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Support and margin matrices straight from a score matrix [n_voters, m] (no profile is built).

    float32 input is read in place; other dtypes are converted to float64. Returns
    ``(support, margins)``, float64 [m, m].
    """
    t = check_n_threads(n_threads)
    s = np.asarray(scores)
    if s.dtype == bool or s.dtype.kind not in "iuf":
        raise TypeError(f"scores: expected a numeric array, got dtype {s.dtype}")
    if s.dtype not in (np.float32, np.float64):
        s = s.astype(np.float64)
    w = None if weights is None else _as_weights(weights, s.shape[0] if s.ndim == 2 else -1)
    return _core._choice_margins_from_scores(s, w, t)


# ---------------------------------------------------------------------------------------------
# PrefLib


def parse_preflib(text: str | bytes, *, data_type: str | None = None, allow_real_counts: bool = False) -> Profile:
    """Parse PrefLib ordinal data (.soc .soi .toc .toi) from a string.

    Parameters
    ----------
    text : str or bytes
    data_type : {"soc", "soi", "toc", "toi"}, optional
        Enforce this type (must agree with the header's DATA TYPE). By default the header's DATA TYPE
        is enforced when present.
    allow_real_counts : bool
        Accept non-integer counts (an extension; not valid PrefLib).

    Returns
    -------
    Profile
        One ballot per order line (weights = counts), candidates named from the header; candidates
        missing from a ballot are unranked on it, so both readings are available through
        ``margin_mode`` ("strict", or "extended" = PrefLib's convention for imbued files: unranked
        tied at the bottom). ``P.metadata`` holds ``title`` and ``data_type``.

    Raises
    ------
    ValueError
        With the offending line number for malformed input.
    """
    if isinstance(text, str):
        text = text.encode("utf-8")
    if not isinstance(text, (bytes, bytearray, memoryview)):
        raise TypeError(f"text: expected str or bytes, got {type(text).__name__}")
    if data_type is not None and data_type not in ("soc", "soi", "toc", "toi"):
        raise ValueError(f"data_type: expected soc, soi, toc or toi, got {data_type!r}")
    levels, weights, names, dtype, title = _core._choice_parse_preflib(bytes(text), data_type, bool(allow_real_counts))
    P = Profile(levels, weights, names)
    P.metadata = {"title": title, "data_type": dtype or data_type or ""}
    return P


def read_preflib(path, *, data_type: str | None = None, allow_real_counts: bool = False) -> Profile:
    """Read a PrefLib file (.soc .soi .toc .toi); see :func:`parse_preflib`.

    The type is taken from the file extension when it is one of the four (and must agree with the
    header's DATA TYPE). Errors name the file and the line.
    """
    import os

    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if data_type is None and ext in ("soc", "soi", "toc", "toi"):
        data_type = ext
    with open(path, "rb") as fh:
        text = fh.read()
    try:
        P = parse_preflib(text, data_type=data_type, allow_real_counts=allow_real_counts)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    P.metadata["file"] = path
    return P
