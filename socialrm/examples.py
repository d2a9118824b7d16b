"""Example rater populations of DESIGN.md §6, as exact definitions and seeded generators.

Each population is a mixture of rater *types*; every type has one strict order of the candidates
per prompt (on ``inverted`` the reverse of its ``normal`` order). A generator draws raters from the
type shares with a NumPy ``Generator`` seeded by ``seed`` and returns a :class:`~socialrm.PreferenceData`
whose ``rater_labels`` are type indices (``label_names`` the type names).

Tennessee populations (four_types, morristown_*, prompts_*):

- prompts ``normal`` ("The capital of Tennessee should be") and ``inverted`` ("The worst place for
  the capital would be"), in that order (the morristown populations have ``normal`` only);
- one completion per city per prompt, the city's name: completion id ``i * m + c`` is candidate
  ``c`` (index into :attr:`Population.candidates`) of the dataset's prompt ``i``;
- token mode uses one fixed word vocabulary for all of them (:data:`TENNESSEE_VOCAB`).

Partial variants follow DESIGN.md §6. Within each type the number of raters that get the
"partial" treatment is exact, ``floor(share * n_type + 1/2)``, and which raters get it is drawn
with the same generator:

- ``morristown_partial``: 90 % of Memphis raters and 10 % of the others rank all five cities;
  the rest submit their 4-city order (Morristown left out). The truth is ``morristown_full``.
- ``prompts_partial``: every rater rates ``normal``; of each type, the share 35/40 (Memphis),
  5/25 (Nashville), 5/20 (Chattanooga), 5/15 (Knoxville) also rates ``inverted``. Truth:
  ``prompts_full``.
- ``prompts_missing``: every rater rates ``normal``; no Nashville rater rates ``inverted``; half
  of each other type rates both prompts and the other half ``normal`` only. Truth: ``prompts_full``.

Feature mode (``mode="features"``) gives every prompt and completion a fixed standard-normal vector
of length ``feature_dim``, drawn from a generator keyed by ``feature_seed`` and the item's text (the
completion's by prompt text and city), so the same prompt or completion has the same features in
every population and for every rater ``seed``. The raters drawn do not depend on the mode.
"""

from __future__ import annotations

import numbers
import zlib
from dataclasses import dataclass, field

import numpy as np

from .data import PreferenceData, WordTokenizer, _gather_segments, _ptr_from_lengths

__all__ = [
    "POPULATIONS",
    "TENNESSEE_VOCAB",
    "Population",
    "distortion_utilities",
    "four_types",
    "from_ballots",
    "generate",
    "morristown_full",
    "morristown_partial",
    "pairwise_twins",
    "population",
    "prompts_full",
    "prompts_missing",
    "prompts_partial",
    "true_ballots",
]

CITIES = ("Memphis", "Nashville", "Chattanooga", "Knoxville", "Morristown")
TENNESSEE_PROMPTS = {
    "normal": "The capital of Tennessee should be",
    "inverted": "The worst place for the capital would be",
}
TWINS_PROMPTS = {"options": "The best option is"}
TWINS_CANDIDATES = ("A", "B", "C", "D")


def _vocab(texts) -> tuple[str, ...]:
    tok = WordTokenizer()
    for text in texts:
        tok(text)
    return tuple(tok.vocab)


#: Word vocabulary of the Tennessee populations (id 0 is the pad).
TENNESSEE_VOCAB = _vocab(list(TENNESSEE_PROMPTS.values()) + list(CITIES))
TWINS_VOCAB = _vocab(list(TWINS_PROMPTS.values()) + list(TWINS_CANDIDATES))

_ME, _NA, _CH, _KN, _MO = CITIES
_TYPES = (_ME, _NA, _CH, _KN)
_ORDERS4 = ((_ME, _NA, _CH, _KN), (_NA, _CH, _KN, _ME), (_CH, _KN, _NA, _ME), (_KN, _CH, _NA, _ME))
_ORDERS5 = (
    (_ME, _NA, _CH, _KN, _MO),
    (_NA, _CH, _KN, _MO, _ME),
    (_CH, _KN, _MO, _NA, _ME),
    (_KN, _MO, _CH, _NA, _ME),
)


@dataclass(frozen=True)
class Population:
    """Exact definition of an example population (DESIGN.md §6).

    Attributes
    ----------
    name : str
        Population name (see :data:`POPULATIONS`).
    types : tuple of str
        Type names; ``rater_labels`` of sampled data index this tuple.
    shares : tuple of float
        Share of each type in the population (sums to 1).
    candidates : tuple of str
        The candidates (completions) of every prompt, in completion-id order.
    prompts : tuple of str
        Prompt names, in prompt-id order.
    prompt_texts : dict of str -> str
        The text of each prompt.
    orders : dict of str -> tuple of tuple of str
        ``orders[prompt][t]``: type ``t``'s full order of the candidates on ``prompt``, best first.
    rated : dict of str -> tuple of float
        ``rated[prompt][t]``: share of type ``t``'s raters whose data include ``prompt``.
    complete : tuple of float
        Share of each type's raters whose rankings include every candidate; the others leave out
        ``omitted``.
    omitted : str or None
        The candidate left out by incomplete ballots.
    truth : str
        The population whose ballots are the full-information truth (itself for full data).
    vocab : tuple of str
        Word vocabulary of the token-mode data.
    """

    name: str
    types: tuple[str, ...]
    shares: tuple[float, ...]
    candidates: tuple[str, ...]
    prompts: tuple[str, ...]
    prompt_texts: dict[str, str]
    orders: dict[str, tuple[tuple[str, ...], ...]]
    rated: dict[str, tuple[float, ...]]
    complete: tuple[float, ...]
    omitted: str | None
    truth: str
    vocab: tuple[str, ...] = field(repr=False, default=TENNESSEE_VOCAB)

    @property
    def n_types(self) -> int:
        """Number of types."""
        return len(self.types)

    def order_indices(self, prompt: str) -> np.ndarray:
        """int64 [n_types, n_candidates]: each type's order on ``prompt`` as candidate indices."""
        if prompt not in self.orders:
            raise ValueError(f"prompt: {self.name} has prompts {list(self.prompts)}, got {prompt!r}")
        index = {c: i for i, c in enumerate(self.candidates)}
        return np.array([[index[c] for c in order] for order in self.orders[prompt]], dtype=np.int64)


def _tennessee(
    name,
    shares,
    *,
    morristown=False,
    prompts=("normal", "inverted"),
    rated_inverted=None,
    complete=None,
    truth=None,
) -> Population:
    orders5 = _ORDERS5 if morristown else _ORDERS4
    orders = {"normal": orders5, "inverted": tuple(o[::-1] for o in orders5)}
    rated = {"normal": (1.0,) * 4, "inverted": rated_inverted or (1.0,) * 4}
    return Population(
        name=name,
        types=_TYPES,
        shares=shares,
        candidates=CITIES if morristown else CITIES[:4],
        prompts=prompts,
        prompt_texts={p: TENNESSEE_PROMPTS[p] for p in prompts},
        orders={p: orders[p] for p in prompts},
        rated={p: rated[p] for p in prompts},
        complete=complete or (1.0,) * 4,
        omitted=_MO if complete else None,
        truth=truth or name,
    )


def _twins(variant: str) -> Population:
    a, b, c, d = TWINS_CANDIDATES
    orders = ((a, b, c, d), (b, a, d, c)) if variant == "A" else ((b, a, c, d), (a, b, d, c))
    name = f"pairwise_twins_{variant}"
    return Population(
        name=name,
        types=tuple("".join(o) for o in orders),
        shares=(0.5, 0.5),
        candidates=TWINS_CANDIDATES,
        prompts=tuple(TWINS_PROMPTS),
        prompt_texts=dict(TWINS_PROMPTS),
        orders={"options": orders},
        rated={"options": (1.0, 1.0)},
        complete=(1.0, 1.0),
        omitted=None,
        truth=name,
        vocab=TWINS_VOCAB,
    )


_SHARES_FOUR = (0.42, 0.26, 0.15, 0.17)
_SHARES_MORRISTOWN = (0.30, 0.25, 0.15, 0.30)
_SHARES_PROMPTS = (0.40, 0.25, 0.20, 0.15)

_POPULATIONS: dict[str, Population] = {
    p.name: p
    for p in (
        _tennessee("four_types", _SHARES_FOUR),
        _tennessee("morristown_full", _SHARES_MORRISTOWN, morristown=True, prompts=("normal",)),
        _tennessee(
            "morristown_partial",
            _SHARES_MORRISTOWN,
            morristown=True,
            prompts=("normal",),
            complete=(0.9, 0.1, 0.1, 0.1),
            truth="morristown_full",
        ),
        _tennessee("prompts_full", _SHARES_PROMPTS),
        _tennessee(
            "prompts_partial",
            _SHARES_PROMPTS,
            rated_inverted=(35 / 40, 5 / 25, 5 / 20, 5 / 15),
            truth="prompts_full",
        ),
        _tennessee(
            "prompts_missing", _SHARES_PROMPTS, rated_inverted=(0.5, 0.0, 0.5, 0.5), truth="prompts_full"
        ),
        _twins("A"),
        _twins("B"),
    )
}

#: Names accepted by :func:`population`, :func:`true_ballots` and :func:`generate`.
POPULATIONS: tuple[str, ...] = tuple(_POPULATIONS)


def population(name: str) -> Population:
    """The exact definition of population ``name`` (one of :data:`POPULATIONS`).

    Examples
    --------
    >>> pop = population("four_types")
    >>> pop.shares, pop.orders["normal"][1]
    ((0.42, 0.26, 0.15, 0.17), ('Nashville', 'Chattanooga', 'Knoxville', 'Memphis'))
    """
    if name == "pairwise_twins":
        raise ValueError("name: say which twin, 'pairwise_twins_A' or 'pairwise_twins_B'")
    try:
        return _POPULATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"name: unknown population {name!r}; known: {list(POPULATIONS)}") from None


def true_ballots(name: str, prompt: str) -> tuple[np.ndarray, np.ndarray]:
    """The true population's weighted ballots on ``prompt``: one full ballot per type.

    For a partial-data population this is its truth (``morristown_partial`` -> the five-city
    ballots of ``morristown_full``): the population as it is, not as its raters reported it.

    Returns
    -------
    rankings : int64 ndarray, shape (n_types, n_candidates)
        Candidate indices (into ``population(name).candidates``), best first.
    weights : float64 ndarray, shape (n_types,)
        The type shares.

    Examples
    --------
    >>> rankings, weights = true_ballots("four_types", "normal")
    >>> rankings[0].tolist(), weights.tolist()
    ([0, 1, 2, 3], [0.42, 0.26, 0.15, 0.17])
    """
    pop = population(population(name).truth)
    return pop.order_indices(prompt), np.array(pop.shares, dtype=np.float64)


# --------------------------------------------------------------------------------------------------
# generators


def _check_args(n_raters, seed, mode, feature_dim, sampling) -> None:
    if isinstance(n_raters, (bool, np.bool_)) or not isinstance(n_raters, numbers.Integral) or n_raters < 1:
        raise ValueError(f"n_raters: expected a positive int, got {n_raters!r}")
    if seed is not None and not isinstance(seed, (numbers.Integral, np.random.Generator)):
        raise TypeError(f"seed: expected an int, a numpy Generator or None, got {type(seed).__name__}")
    if mode not in ("tokens", "features"):
        raise ValueError(f"mode: expected 'tokens' or 'features', got {mode!r}")
    if (
        isinstance(feature_dim, (bool, np.bool_))
        or not isinstance(feature_dim, numbers.Integral)
        or feature_dim < 1
    ):
        raise ValueError(f"feature_dim: expected a positive int, got {feature_dim!r}")
    if sampling not in ("iid", "exact"):
        raise ValueError(f"sampling: expected 'iid' or 'exact', got {sampling!r}")


def _round_half_up(x: float) -> int:
    return int(np.floor(x + 0.5))


def _draw_types(rng: np.random.Generator, shares: tuple[float, ...], n: int, sampling: str) -> np.ndarray:
    p = np.asarray(shares, dtype=np.float64)
    if sampling == "iid":
        return rng.choice(len(p), size=n, p=p).astype(np.int64)
    # exact: largest-remainder apportionment of n, then a random order
    quota = p * n
    counts = np.floor(quota).astype(np.int64)
    remainder = quota - counts
    counts[np.argsort(-remainder, kind="stable")[: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(len(p)), counts)).astype(np.int64)


def _pick_within_types(
    rng: np.random.Generator, labels: np.ndarray, fractions: tuple[float, ...]
) -> np.ndarray:
    """bool [n]: for each type, exactly round(fraction * n_type) of its raters, chosen at random."""
    chosen = np.zeros(len(labels), dtype=bool)
    for t, frac in enumerate(fractions):
        members = np.flatnonzero(labels == t)
        k = _round_half_up(frac * len(members))
        if 0 < k < len(members):
            chosen[rng.permutation(members)[:k]] = True
        elif k == len(members):
            chosen[members] = True
    return chosen


def _item_features(feature_seed: int, key: str, dim: int) -> np.ndarray:
    return np.random.default_rng([feature_seed, zlib.crc32(key.encode("utf-8"))]).standard_normal(dim)


def _sample(pop: Population, n_raters, seed, mode="tokens", feature_dim=16, feature_seed=0, sampling="iid"):
    _check_args(n_raters, seed, mode, feature_dim, sampling)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    labels = _draw_types(rng, pop.shares, int(n_raters), sampling)
    # which raters rate which prompt, and whose ballots are complete (draw order is fixed)
    rates = np.stack(
        [
            np.ones(len(labels), bool)
            if min(pop.rated[p]) == 1.0
            else _pick_within_types(rng, labels, pop.rated[p])
            for p in pop.prompts
        ],
        axis=1,
    )
    complete = (
        np.ones(len(labels), bool)
        if min(pop.complete) == 1.0
        else _pick_within_types(rng, labels, pop.complete)
    )
    m, n_prompts = len(pop.candidates), len(pop.prompts)

    # One "pattern" per (type, rated prompts, complete): its entries are fixed, so the dataset is a
    # gather of pattern entries (vectorised for any number of raters).
    n_masks = 1 << n_prompts
    pattern = (labels * n_masks + rates @ (1 << np.arange(n_prompts))) * 2 + complete
    pat_entries: list[list[tuple[int, list[int]]]] = []
    for code in range(pop.n_types * n_masks * 2):
        t, mask, full = code // (2 * n_masks), (code // 2) % n_masks, code % 2
        entries = []
        for i, p in enumerate(pop.prompts):
            if mask >> i & 1:
                order = [pop.candidates.index(c) for c in pop.orders[p][t] if full or c != pop.omitted]
                entries.append((i, [i * m + c for c in order]))
        pat_entries.append(entries)
    if any(not pat_entries[c] for c in np.unique(pattern)):
        raise AssertionError(f"{pop.name}: a rater rates no prompt")  # every population rates prompt 0
    pat_ptr = _ptr_from_lengths(np.array([len(e) for e in pat_entries]))
    pe_prompt = np.array([i for ents in pat_entries for i, _ in ents], dtype=np.int32)
    pe_ptr = _ptr_from_lengths(np.array([len(r) for ents in pat_entries for _, r in ents]))
    pe_rank = np.array([c for ents in pat_entries for _, r in ents for c in r], dtype=np.int32)
    rater_ptr, e_src = _gather_segments(pat_ptr, pattern)
    entry_ptr, k_src = _gather_segments(pe_ptr, e_src)

    texts = [pop.prompt_texts[p] for p in pop.prompts]
    if mode == "tokens":
        tok = WordTokenizer(pop.vocab, frozen=True)
        width = max(len(t.split()) for t in texts)
        prompt_tokens = np.zeros((n_prompts, width), np.int32)
        for i, text in enumerate(texts):
            ids = tok(text)
            prompt_tokens[i, : len(ids)] = ids
        city_ids = np.array([tok(c)[0] for c in pop.candidates], np.int32)
        content = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": np.tile(city_ids, n_prompts)[:, None],
            "vocab": pop.vocab,
        }
    else:
        fs = int(feature_seed)
        content = {
            "prompt_features": np.stack([_item_features(fs, t, feature_dim) for t in texts]),
            "completion_features": np.stack(
                [_item_features(fs, t + "\x00" + c, feature_dim) for t in texts for c in pop.candidates]
            ),
        }
    return PreferenceData(
        completion_prompt=np.repeat(np.arange(n_prompts, dtype=np.int32), m),
        rater_ptr=rater_ptr,
        entry_prompt=pe_prompt[e_src],
        entry_ptr=entry_ptr,
        rankings=pe_rank[k_src],
        prompt_names=pop.prompts,
        completion_names=pop.candidates * n_prompts,
        rater_labels=labels,
        label_names=pop.types,
        **content,
    )


_DOC_ARGS = """
    Parameters
    ----------
    n_raters : int, default 2000
        Number of raters.
    seed : int, numpy Generator or None, default 0
        Seeds the draw of rater types (and of who gets partial data).
    mode : {"tokens", "features"}, default "tokens"
        Token ids over a tiny word vocabulary, or fixed random feature vectors.
    feature_dim : int, default 16
        Feature vector length (feature mode).
    feature_seed : int, default 0
        Seed of the feature vectors (feature mode), independent of ``seed``.
    sampling : {"iid", "exact"}, default "iid"
        ``"iid"``: each rater's type is drawn from the shares. ``"exact"``: type counts are the
        shares times ``n_raters`` (largest remainders), in random order.

    Returns
    -------
    PreferenceData
        With ``rater_labels`` (type index) and ``label_names`` (type names).
"""


def _generator(name: str, summary: str):
    def gen(
        n_raters: int = 2000,
        seed: int | np.random.Generator | None = 0,
        *,
        mode: str = "tokens",
        feature_dim: int = 16,
        feature_seed: int = 0,
        sampling: str = "iid",
    ) -> PreferenceData:
        return _sample(_POPULATIONS[name], n_raters, seed, mode, feature_dim, feature_seed, sampling)

    gen.__name__ = gen.__qualname__ = name
    gen.__doc__ = summary + "\n" + _DOC_ARGS
    return gen


four_types = _generator(
    "four_types",
    "Four types (Me 42 %, Na 26 %, Ch 15 %, Kn 17 %); every rater ranks the 4 cities on both prompts.",
)
morristown_full = _generator(
    "morristown_full",
    "Me 30 %, Na 25 %, Ch 15 %, Kn 30 %; every rater ranks all 5 cities (with Morristown) on ``normal``.",
)
morristown_partial = _generator(
    "morristown_partial",
    "As morristown_full, but only 90 % of Memphis raters and 10 % of the others include Morristown\n"
    "(the rest submit their 4-city order). The truth is morristown_full.",
)
prompts_full = _generator(
    "prompts_full", "Me 40 %, Na 25 %, Ch 20 %, Kn 15 %; every rater ranks the 4 cities on both prompts."
)
prompts_partial = _generator(
    "prompts_partial",
    "As prompts_full, but only part of each type rates ``inverted``: Me 35/40, Na 5/25, Ch 5/20,\n"
    "Kn 5/15; the rest rate ``normal`` only. The truth is prompts_full.",
)
prompts_missing = _generator(
    "prompts_missing",
    "As prompts_full, but no Nashville rater rates ``inverted``; half of each other type rates both\n"
    "prompts and the other half ``normal`` only. The truth is prompts_full.",
)


def pairwise_twins(
    population: str = "A", n_raters: int = 2000, seed: int | np.random.Generator | None = 0, **options
) -> PreferenceData:
    """Two populations with identical pairwise margins (one prompt, ``options``, candidates A-D).

    Population ``"A"``: ½ A≻B≻C≻D + ½ B≻A≻D≻C. Population ``"B"``: ½ B≻A≻C≻D + ½ A≻B≻D≻C. Every
    rater ranks all four candidates. Other parameters (``mode``, ``feature_dim``, ``feature_seed``,
    ``sampling``) as for :func:`four_types`.
    """
    if population not in ("A", "B"):
        raise ValueError(f"population: expected 'A' or 'B', got {population!r}")
    return _sample(_POPULATIONS[f"pairwise_twins_{population}"], n_raters, seed, **options)


def generate(
    name: str, n_raters: int = 2000, seed: int | np.random.Generator | None = 0, **kwargs
) -> PreferenceData:
    """Sample population ``name`` (one of :data:`POPULATIONS`); keyword arguments as for
    :func:`four_types`."""
    pop = population(name)
    return _sample(pop, n_raters, seed, **kwargs)


def from_ballots(name: str, ballots: list, labels: list | None = None, **options) -> PreferenceData:
    """Hand-made raters on population ``name``'s prompts and completions.

    The result has exactly the prompt and completion arrays of the population's sampled data (same
    ``mode``, ``feature_dim`` and ``feature_seed`` options as :func:`four_types`), so it can be
    embedded by a model trained on that data or concatenated with it.

    Parameters
    ----------
    name : str
        A population of :data:`POPULATIONS`.
    ballots : list of dict
        One dict per rater: prompt name -> candidate names, best first (any subset of at least two).
    labels : list of (int or str), optional
        Each rater's type (index or name).

    Examples
    --------
    The single comparison Memphis > Knoxville on ``normal``, and a ballot omitting Chattanooga:

    >>> data = from_ballots("four_types", [{"normal": ["Memphis", "Knoxville"]},
    ...                                    {"normal": ["Knoxville", "Nashville", "Memphis"]}])
    >>> data.rankings.tolist(), data.rater_ptr.tolist()
    ([0, 3, 3, 1, 0], [0, 1, 2])
    """
    pop = population(name)
    template = _sample(pop, 1, 0, **options)
    m = len(pop.candidates)
    if isinstance(ballots, dict) or not len(ballots):
        raise ValueError("ballots: expected a non-empty list of dicts (one per rater)")
    entries, prompts = [], []
    for r, ballot in enumerate(ballots):
        if not isinstance(ballot, dict) or not ballot:
            raise ValueError(f"ballots[{r}]: expected a non-empty dict prompt -> candidates")
        for prompt, order in ballot.items():
            if prompt not in pop.prompts:
                raise ValueError(f"ballots[{r}]: unknown prompt {prompt!r}; {name} has {list(pop.prompts)}")
            unknown = [c for c in order if c not in pop.candidates]
            if unknown:
                raise ValueError(
                    f"ballots[{r}]: unknown candidate {unknown[0]!r}; {name} has {list(pop.candidates)}"
                )
            i = pop.prompts.index(prompt)
            prompts.append(i)
            entries.append([i * m + pop.candidates.index(c) for c in order])
    if labels is not None:
        if len(labels) != len(ballots):
            raise ValueError(f"labels: expected {len(ballots)} labels (one per rater), got {len(labels)}")
        labels = [pop.types.index(t) if isinstance(t, str) and t in pop.types else t for t in labels]
    return PreferenceData(
        rater_ptr=_ptr_from_lengths(np.array([len(b) for b in ballots])),
        entry_prompt=np.array(prompts, dtype=np.int32),
        entry_ptr=_ptr_from_lengths(np.array([len(e) for e in entries])),
        rankings=np.array([c for e in entries for c in e], dtype=np.int32),
        rater_labels=labels,
        label_names=pop.types if labels is not None else None,
        **template._item_kwargs(),
    )


def distortion_utilities(eps: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """The distortion population of DESIGN.md §6, candidates A, B, C, D, E.

    Type 0 (share 0.2 + eps): utilities A 1.0, B 0.9999, C 0.9998, D 0.9997, E 0.9996.
    Type 1 (share 0.8 - eps): E 1.0, A -0.9997, B -0.9998, C -0.9999, D -1.0.
    For ``eps > 0`` Borda picks A (mean utility about -0.6) although E's is about 1; at
    ``eps = 0`` A and E tie under Borda.

    Returns
    -------
    utilities : float64 ndarray, shape (2, 5)
        One row per type, columns A..E.
    shares : float64 ndarray, shape (2,)
        The type shares.
    """
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real) or not np.isfinite(eps):
        raise ValueError(f"eps: expected a finite real number, got {eps!r}")
    if not 0.0 <= eps <= 0.8:
        raise ValueError(f"eps: must lie in [0, 0.8] so both shares stay non-negative, got {eps}")
    utilities = np.array(
        [[1.0, 0.9999, 0.9998, 0.9997, 0.9996], [-0.9997, -0.9998, -0.9999, -1.0, 1.0]], dtype=np.float64
    )
    return utilities, np.array([0.2 + eps, 0.8 - eps], dtype=np.float64)
