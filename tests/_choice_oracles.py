"""Shared helpers for the choice tests: random profiles, conversion to pref_voting, brute force.

Profiles are handled here in the engine's own representation: ``levels`` [N, M] int32 (tier of each
candidate per ballot, 0 = best, equal = tied, -1 = unranked) with integer ``weights`` [N] (pv
compares with exact float equality, so cross-checks use integer weights; CHOICE.md §0).
"""

from __future__ import annotations

import itertools

import numpy as np

KINDS = ("linear", "truncated", "ties", "ties_truncated")


def random_ballot(rng: np.random.Generator, m: int, kind: str) -> np.ndarray:
    """One ballot as dense levels. ``kind`` is one of :data:`KINDS`."""
    perm = rng.permutation(m)
    if kind in ("linear", "truncated"):
        levels = np.empty(m, dtype=np.int32)
        levels[perm] = np.arange(m, dtype=np.int32)
        if kind == "truncated":
            keep = int(rng.integers(1, m + 1))  # 1..m ranked; m-1 ranked is the same as m
            levels[levels >= keep] = -1
        return levels
    # weak orders: cut the permutation into tiers at random points
    cuts = rng.random(m - 1) < 0.4
    tier = np.concatenate([[0], np.cumsum(cuts)]).astype(np.int32)
    levels = np.empty(m, dtype=np.int32)
    levels[perm] = tier
    if kind == "ties_truncated":
        top = int(levels.max())
        keep = int(rng.integers(0, top + 1))  # keep tiers 0..keep
        levels[levels > keep] = -1
    return levels


def random_profile(rng: np.random.Generator, m: int, n_types: int, kind: str, max_weight: int = 5):
    """Distinct ballots (``n_types`` draws, duplicates merged) with integer weights 1..max_weight."""
    rows: dict[bytes, list] = {}
    for _ in range(n_types):
        b = random_ballot(rng, m, kind)
        key = b.tobytes()
        w = int(rng.integers(1, max_weight + 1))
        if key in rows:
            rows[key][1] += w
        else:
            rows[key] = [b, w]
    levels = np.stack([v[0] for v in rows.values()]).astype(np.int32)
    weights = np.array([v[1] for v in rows.values()], dtype=np.int64)
    return levels, weights


def is_linear(levels: np.ndarray) -> bool:
    m = levels.shape[1]
    return bool(np.all(levels >= 0) and all(np.unique(r).size == m for r in levels))


def pv_profile(levels: np.ndarray, weights: np.ndarray, extended: bool = False, force_ties: bool = False):
    """pref_voting profile of the ballots: a linear ``Profile`` when every ballot is a complete
    strict order (and not ``force_ties``), else a ``ProfileWithTies`` over *all* m candidates (pv
    would otherwise drop candidates nobody ranks, CHOICE.md §5)."""
    from pref_voting.profiles import Profile
    from pref_voting.profiles_with_ties import ProfileWithTies

    m = levels.shape[1]
    if is_linear(levels) and not force_ties:
        rankings = [list(np.argsort(r, kind="stable")) for r in levels]
        return Profile([[int(c) for c in r] for r in rankings], rcounts=[int(w) for w in weights])
    rankings = [{int(c): int(r[c]) + 1 for c in range(m) if r[c] >= 0} for r in levels]
    prof = ProfileWithTies(rankings, rcounts=[int(w) for w in weights], candidates=list(range(m)))
    if extended:
        prof.use_extended_strict_preference()
    return prof


def pv_tiers(ranking) -> list[list[int]]:
    """A pv ``Ranking`` (candidate → rank, 1 = best) as an ordered partition of sorted lists."""
    rmap = ranking.rmap
    ranks = sorted(set(rmap.values()))
    return [sorted(int(c) for c, r in rmap.items() if r == k) for k in ranks]


def tiers_of(ranks) -> list[list[int]]:
    """Ordered partition from a rank array (0 = best, equal = tied)."""
    ranks = np.asarray(ranks)
    return [sorted(np.flatnonzero(ranks == r).tolist()) for r in np.unique(ranks)]


def margins_of(levels: np.ndarray, weights: np.ndarray, extended: bool = False) -> np.ndarray:
    """Reference margins by definition (CHOICE.md §0), in plain NumPy."""
    lv = levels.astype(np.int64)
    if extended:
        lv = np.where(lv < 0, lv.max() + 1 if lv.size else 0, lv)
        ranked = np.ones_like(lv, dtype=bool)
    else:
        ranked = lv >= 0
    above = (lv[:, :, None] < lv[:, None, :]) & ranked[:, :, None] & ranked[:, None, :]
    support = np.tensordot(weights.astype(np.float64), above.astype(np.float64), axes=1)
    return support - support.T


def kemeny_brute_force(margins: np.ndarray) -> tuple[float, list[tuple[int, ...]]]:
    """Best agreement score ``Σ_{a above b} M[a][b]`` over all m! linear orders, and every optimum
    (vectorised enumeration; fine up to m = 8)."""
    m = margins.shape[0]
    perms = np.array(list(itertools.permutations(range(m))), dtype=np.int64)
    score = np.zeros(perms.shape[0])
    for i in range(m):
        for j in range(i + 1, m):
            score += margins[perms[:, i], perms[:, j]]
    best = score.max()
    optima = [tuple(int(c) for c in p) for p in perms[score >= best - 1e-9 * max(1.0, abs(best))]]
    return float(best), optima


def ranked_pairs_order(margins: np.ndarray, tie_break: list[int] | None = None) -> list[int]:
    """Tideman's ranked pairs with lexicographic tie-breaking of equal margins (CHOICE.md §1 row
    10): edges (a, b) with M[a][b] >= 0 sorted by margin descending, then by (τ-position of a,
    τ-position of b); lock each unless it closes a cycle. Returns the locked linear order."""
    m = margins.shape[0]
    tau = list(range(m)) if tie_break is None else list(tie_break)
    pos = {c: i for i, c in enumerate(tau)}
    edges = [(a, b) for a in range(m) for b in range(m) if a != b and margins[a, b] >= 0]
    edges.sort(key=lambda e: (-margins[e[0], e[1]], pos[e[0]], pos[e[1]]))
    reach = np.eye(m, dtype=bool)  # reach[x, y]: locked path x -> y
    locked = np.zeros((m, m), dtype=bool)
    for a, b in edges:
        if locked[b, a] or reach[b, a] or locked[a, b]:
            continue
        locked[a, b] = True
        # every x reaching a now reaches everything b reaches
        reach |= np.outer(reach[:, a], reach[b, :])
    # the locked relation is a tournament's transitive closure: sort by number of dominated
    beats = (reach & ~np.eye(m, dtype=bool)).sum(axis=1)
    return [int(c) for c in np.argsort(-beats, kind="stable")]


def irv_winners(levels: np.ndarray, weights: np.ndarray) -> list[int]:
    """Instant runoff by definition (simultaneous elimination of every candidate with the fewest
    first places among those still in; exhausted ballots count for nobody): the candidates left when
    one remains or all remaining have equal first-place weight."""
    m = levels.shape[1]
    big = np.iinfo(np.int32).max
    w = weights.astype(np.float64)
    active = np.ones(m, dtype=bool)
    while True:
        lv = np.where(active[None, :] & (levels >= 0), levels, big)
        best = lv.min(axis=1)
        is_top = (lv == best[:, None]) & (best[:, None] < big)
        unique = is_top.sum(axis=1) == 1
        firsts = np.bincount(np.argmax(is_top, axis=1)[unique], weights=w[unique], minlength=m)
        live = firsts[active]
        if active.sum() == 1 or np.all(live == live[0]):
            return np.flatnonzero(active).tolist()
        active &= ~(firsts == live.min())
