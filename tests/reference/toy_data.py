"""A small local generator of the DESIGN §6 ``four_types`` population in the CSR form of DESIGN §3.

Test/benchmark-only: it lets the reference model and curriculum be exercised without depending on
``socialrm.examples`` (written in parallel).  Shares and orders are exactly DESIGN §6:

=========== ====== =================== ==============================
type        share  ``normal`` order    ``inverted`` order (reversed)
=========== ====== =================== ==============================
Memphis     42 %   Me Na Ch Kn         Kn Ch Na Me
Nashville   26 %   Na Ch Kn Me         Me Kn Ch Na
Chattanooga 15 %   Ch Kn Na Me         Me Na Kn Ch
Knoxville   17 %   Kn Ch Na Me         Me Na Ch Kn
=========== ====== =================== ==============================

Type counts are the shares times ``n_raters`` rounded by largest remainder (so the shares are exact
whenever ``n_raters`` is a multiple of 100); the rater order is a seeded permutation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CITIES = ("memphis", "nashville", "chattanooga", "knoxville")
TYPE_NAMES = ("Memphis", "Nashville", "Chattanooga", "Knoxville")
TYPE_SHARES = (0.42, 0.26, 0.15, 0.17)
# Normal-prompt orders as city indices (0 Me, 1 Na, 2 Ch, 3 Kn), best first.
NORMAL_ORDERS = ((0, 1, 2, 3), (1, 2, 3, 0), (2, 3, 1, 0), (3, 2, 1, 0))
PROMPTS = (
    "the capital of tennessee should be",
    "the worst place for the capital would be",
)


@dataclass
class CSRData:
    """Rater data in the flat arrays of DESIGN §3.

    ``rater_ptr[r]:rater_ptr[r+1]`` are rater r's entries; entry e is prompt ``entry_prompt[e]``
    with ranking ``rankings[entry_ptr[e]:entry_ptr[e+1]]`` (completion ids, best first).
    Token mode: ``prompt_tokens`` [P, Lp] and ``completion_tokens`` [C, Lc], int32, pad id 0.
    Feature mode: ``prompt_features`` [P, Dp] and ``completion_features`` [C, Dc], float32.
    """

    rater_ptr: np.ndarray
    entry_prompt: np.ndarray
    entry_ptr: np.ndarray
    rankings: np.ndarray
    completion_prompt: np.ndarray
    prompt_tokens: np.ndarray | None = None
    completion_tokens: np.ndarray | None = None
    prompt_features: np.ndarray | None = None
    completion_features: np.ndarray | None = None
    rater_labels: np.ndarray | None = None
    vocab: dict[str, int] = field(default_factory=dict)

    @property
    def n_raters(self) -> int:
        return len(self.rater_ptr) - 1

    @property
    def n_prompts(self) -> int:
        return len(self.prompt_tokens if self.prompt_tokens is not None else self.prompt_features)

    @property
    def n_completions(self) -> int:
        return len(self.completion_prompt)

    def entries(self, rater: int) -> range:
        return range(int(self.rater_ptr[rater]), int(self.rater_ptr[rater + 1]))

    def ranking(self, entry: int) -> np.ndarray:
        return self.rankings[self.entry_ptr[entry] : self.entry_ptr[entry + 1]]


def type_counts(n_raters: int, shares=TYPE_SHARES) -> np.ndarray:
    """Counts per type: shares × n rounded by largest remainder (sum is exactly n)."""
    raw = np.asarray(shares, dtype=np.float64) * n_raters
    counts = np.floor(raw).astype(np.int64)
    rest = n_raters - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def type_orders() -> np.ndarray:
    """[4 types, 2 prompts, 4] completion ids best first (completion id = 4 × prompt + city)."""
    out = np.empty((4, 2, 4), dtype=np.int64)
    for t, order in enumerate(NORMAL_ORDERS):
        out[t, 0] = order
        out[t, 1] = [4 + c for c in reversed(order)]
    return out


def four_types(n_raters: int = 1000, seed: int = 0, features: bool = False, feature_dim: int = 12) -> CSRData:
    """Sample the four_types population: every rater ranks all four cities on both prompts.

    In feature mode the prompts and completions get fixed random features (seeded) instead of tokens;
    completion features of the same city share a city component, so the model has to use the prompt.
    """
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), type_counts(n_raters))
    labels = labels[rng.permutation(n_raters)]
    orders = type_orders()
    rater_ptr = np.arange(0, 2 * n_raters + 1, 2, dtype=np.int64)
    entry_prompt = np.tile(np.array([0, 1], dtype=np.int64), n_raters)
    entry_ptr = np.arange(0, 8 * n_raters + 1, 4, dtype=np.int64)
    rankings = orders[labels].reshape(-1)
    completion_prompt = np.repeat(np.array([0, 1], dtype=np.int64), 4)
    words = sorted({w for p in PROMPTS for w in p.split()} | set(CITIES))
    vocab = {w: i + 1 for i, w in enumerate(words)}  # 0 is the pad id
    data = CSRData(rater_ptr, entry_prompt, entry_ptr, rankings, completion_prompt,
                   rater_labels=labels, vocab=vocab)
    if features:
        frng = np.random.default_rng(12345)
        prompt_f = frng.standard_normal((2, feature_dim)).astype(np.float32)
        city_f = frng.standard_normal((4, feature_dim)).astype(np.float32)
        data.prompt_features = prompt_f
        data.completion_features = np.concatenate([city_f + 0.5 * prompt_f[0], city_f + 0.5 * prompt_f[1]])
    else:
        lp = max(len(p.split()) for p in PROMPTS)
        pt = np.zeros((2, lp), dtype=np.int32)
        for i, p in enumerate(PROMPTS):
            ids = [vocab[w] for w in p.split()]
            pt[i, : len(ids)] = ids
        ct = np.array([[vocab[c]] for _ in range(2) for c in CITIES], dtype=np.int32)
        data.prompt_tokens = pt
        data.completion_tokens = ct
    return data
