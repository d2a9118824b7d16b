"""Preference datasets: raters x prompts x (possibly incomplete) strict rankings.

A :class:`PreferenceData` holds what raters said, in flat arrays laid out CSR style so the C core can
take them in one go. With ``R`` raters, ``P`` prompts, ``C`` completions, ``E`` rankings ("entries",
one per rater and rated prompt) and ``K`` ranked completions in total:

=======================  ========  =========  ======================================================
array                    dtype     shape      meaning
=======================  ========  =========  ======================================================
``prompt_tokens``        int32     [P, Lp]    token ids, right-padded with the pad id 0 (token mode)
``prompt_features``      float32   [P, Dp]    feature vectors from a frozen encoder (feature mode)
``completion_prompt``    int32     [C]        the prompt each completion belongs to
``completion_tokens``    int32     [C, Lc]    token ids, right-padded with 0 (token mode)
``completion_features``  float32   [C, Dc]    feature vectors (feature mode)
``rater_ptr``            int64     [R+1]      rater ``r``'s entries are ``rater_ptr[r]:rater_ptr[r+1]``
``entry_prompt``         int32     [E]        the prompt of each entry
``entry_ptr``            int64     [E+1]      entry ``e``'s ranking is ``rankings[entry_ptr[e]:entry_ptr[e+1]]``
``rankings``             int32     [K]        completion ids, best first within each entry
``rater_labels``         int64     [R]        optional: each rater's type (example data)
``rater_weights``        float64   [R]        optional: non-negative weight of each rater
``rater_ids``            int64,    [R]        external rater ids (default ``arange(R)``, so raters keep
                         str or                their original index through ``subset`` and friends)
                         object
``entry_rater``          int64     [E]        derived (property): the rater of each entry
=======================  ========  =========  ======================================================

Besides the arrays: ``vocab`` (token strings, ``vocab[0]`` the pad) and ``vocab_size`` (token mode),
``prompt_names`` and ``completion_names`` (external names; completion names are unique per prompt,
not globally), ``label_names`` (type names), ``allow_single``.

Exactly one of tokens / features is used, for prompts and completions alike. Token id 0 is the pad,
never a real token; every prompt and completion has at least one token.

Invariants checked when a dataset is built (``ValueError`` or ``TypeError`` naming the argument and,
where it applies, the rater and prompt): there is at least one rater; ``rater_ptr`` and
``entry_ptr`` start at 0, never decrease and end at ``E`` and ``K``; every rater has at least one
entry and rates each prompt at most once; a ranking lists distinct completions of its own prompt;
token ids lie in ``[0, vocab_size)``; features are finite. A ranking of a single completion carries
no comparison: such rankings are rejected unless ``allow_single=True``, in which case they are kept
as data (:attr:`PreferenceData.n_single` counts them; :meth:`PreferenceData.pairs` yields nothing
for them).

The order of a rater's entries is kept as given (it is the rater's "prompt position" for the
individual reward model). All arrays are read-only views: derived datasets share them when they can.
"""

from __future__ import annotations

import json
import numbers
import os
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ._validation import seed_from_random_state

__all__ = ["PreferenceData", "WordTokenizer"]

PAD_ID = 0
_FORMAT = "socialrm-preference-data"
_FORMAT_VERSION = 1
# The numeric arrays of a dataset (see the table above), in the order arrays() lists them.
_ARRAY_NAMES = (
    "prompt_tokens",
    "prompt_features",
    "completion_prompt",
    "completion_tokens",
    "completion_features",
    "rater_ptr",
    "entry_prompt",
    "entry_ptr",
    "rankings",
    "rater_labels",
    "rater_weights",
)


class Pairs(NamedTuple):
    """All pairwise comparisons implied by the rankings (see :meth:`PreferenceData.pairs`)."""

    rater: np.ndarray  #: int64 [N] rater index
    prompt: np.ndarray  #: int32 [N] prompt id
    winner: np.ndarray  #: int32 [N] preferred completion id
    loser: np.ndarray  #: int32 [N] other completion id


class WordTokenizer:
    """A whitespace word tokenizer that builds its vocabulary as it goes (id 0 is ``"<pad>"``).

    Parameters
    ----------
    vocab : sequence of str, optional
        Initial vocabulary; ``vocab[0]`` must be ``"<pad>"``. Defaults to ``["<pad>"]``.
    frozen : bool, default False
        If True, an unknown word is a ``ValueError`` instead of a new id.

    Examples
    --------
    >>> tok = WordTokenizer()
    >>> tok("the capital"), tok("capital city"), tok.vocab
    ([1, 2], [2, 3], ['<pad>', 'the', 'capital', 'city'])
    """

    def __init__(self, vocab: Sequence[str] | None = None, frozen: bool = False) -> None:
        words = list(vocab) if vocab is not None else ["<pad>"]
        if not words or words[0] != "<pad>":
            raise ValueError("vocab: the first word (id 0) must be '<pad>'")
        if len(set(words)) != len(words):
            raise ValueError("vocab: words must be distinct")
        self._ids = {w: i for i, w in enumerate(words)}
        self.frozen = frozen

    @property
    def vocab(self) -> list[str]:
        """The words, indexed by id."""
        return list(self._ids)

    def __call__(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise TypeError(f"WordTokenizer: expected a str, got {type(text).__name__}")
        out = []
        for word in text.split():
            idx = self._ids.get(word)
            if idx is None:
                if self.frozen:
                    raise ValueError(f"WordTokenizer: unknown word {word!r} (the tokenizer is frozen)")
                idx = self._ids[word] = len(self._ids)
            out.append(idx)
        return out


# --------------------------------------------------------------------------------------------------
# array helpers


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


def _is_ready(x: Any, dtype: type, ndim: int) -> bool:
    """Whether ``x`` is already one of our validated arrays (read-only, C order, right dtype)."""
    return (
        isinstance(x, np.ndarray)
        and x.dtype == dtype
        and x.ndim == ndim
        and x.flags.c_contiguous
        and not x.flags.writeable
    )


def _int_array(x: Any, name: str, dtype: type, ndim: int) -> np.ndarray:
    """A read-only C-contiguous integer array; reused as is when it already is one."""
    if _is_ready(x, dtype, ndim):
        return x
    arr = np.asarray(x)
    if arr.size == 0 and arr.dtype.kind == "f":  # an empty list becomes float64
        arr = arr.astype(dtype)
    if arr.dtype.kind not in "iub":
        raise TypeError(f"{name}: expected integers, got dtype {arr.dtype}")
    if arr.dtype.kind == "b":
        raise TypeError(f"{name}: expected integers, got booleans")
    if arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    info = np.iinfo(dtype)
    if arr.size and (arr.min() < info.min or arr.max() > info.max):
        raise ValueError(f"{name}: values outside the {np.dtype(dtype).name} range")
    return _readonly(np.array(arr, dtype=dtype, order="C", copy=True))


def _float_array(x: Any, name: str, dtype: type, ndim: int) -> np.ndarray:
    """A read-only C-contiguous finite float array."""
    if _is_ready(x, dtype, ndim):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}: cannot convert to a float array ({exc})") from None
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{name}: expected real numbers, got dtype {arr.dtype}")
        if arr.ndim != ndim:
            raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
        arr = _readonly(np.array(arr, dtype=dtype, order="C", copy=True))
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name}: contains NaN or infinity (first at index {tuple(int(i) for i in bad)})")
    return arr


def _gather_segments(ptr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Select segments ``idx`` of a CSR pointer array.

    Returns the new pointer array (int64 [len(idx)+1]) and, for every element of the result, the
    index of its source element (int64), so ``values[src]`` gathers the selected segments' values.
    """
    idx = np.asarray(idx, dtype=np.int64)
    starts = ptr[idx]
    lengths = ptr[idx + 1] - starts
    new_ptr = np.zeros(len(idx) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_ptr[1:])
    src = np.repeat(starts - new_ptr[:-1], lengths) + np.arange(new_ptr[-1], dtype=np.int64)
    return new_ptr, src


def _ptr_from_lengths(lengths: np.ndarray) -> np.ndarray:
    ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    return ptr


def _first_duplicate(keys: np.ndarray) -> int | None:
    """Index (into ``keys``) of an element equal to an earlier-sorted one, or None."""
    if len(keys) < 2:
        return None
    order = np.argsort(keys, kind="stable")
    same = keys[order[1:]] == keys[order[:-1]]
    if not same.any():
        return None
    return int(order[1:][np.argmax(same)])


def _pad_token_rows(rows: list[np.ndarray]) -> np.ndarray:
    width = max((len(r) for r in rows), default=1)
    out = np.zeros((len(rows), max(width, 1)), dtype=np.int32)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def _rater_id_array(ids: Any, n: int) -> np.ndarray:
    """External rater ids as an int64, str or (for anything else) object array."""
    if ids is None:
        return _readonly(np.arange(n, dtype=np.int64))
    if isinstance(ids, np.ndarray) and ids.ndim == 1 and not ids.flags.writeable:
        arr = ids
    else:
        seq = list(ids)
        if seq and all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in seq):
            arr = np.array(seq, dtype=np.int64)
        elif seq and all(isinstance(v, str) for v in seq):
            arr = np.array(seq, dtype=str)
        else:
            arr = np.empty(len(seq), dtype=object)
            arr[:] = seq
        _readonly(arr)
    if arr.shape != (n,):
        raise ValueError(f"rater_ids: expected {n} ids (one per rater), got {arr.shape[0]}")
    return arr


def _has_duplicates(values: np.ndarray) -> Any:
    """An external id occurring twice, or None."""
    if values.dtype != object:
        uniq, counts = np.unique(values, return_counts=True)
        return None if not (counts > 1).any() else uniq[np.argmax(counts > 1)].item()
    seen = set()
    for v in values:
        if v in seen:
            return v
        seen.add(v)
    return None


# --------------------------------------------------------------------------------------------------
# the dataset


class PreferenceData:
    """Raters x prompts x strict rankings, stored as flat CSR arrays (see the module docstring).

    Most users build one with :meth:`from_records`, :meth:`from_dataframe` or :meth:`from_pairwise`,
    or take one from :mod:`socialrm.examples`; this constructor takes the arrays directly.

    Parameters
    ----------
    completion_prompt : array-like of int, shape (C,)
        Prompt id of each completion.
    rater_ptr : array-like of int, shape (R+1,)
        Rater ``r`` owns entries ``rater_ptr[r]:rater_ptr[r+1]``.
    entry_prompt : array-like of int, shape (E,)
        Prompt id of each entry.
    entry_ptr : array-like of int, shape (E+1,)
        Entry ``e`` owns ``rankings[entry_ptr[e]:entry_ptr[e+1]]``.
    rankings : array-like of int, shape (K,)
        Completion ids, best first within each entry.
    prompt_tokens, completion_tokens : array-like of int, shapes (P, Lp) and (C, Lc), optional
        Right-padded token ids (pad id 0). Give both or neither.
    prompt_features, completion_features : array-like of float, shapes (P, Dp) and (C, Dc), optional
        Feature vectors (stored as float32). Give both, if no tokens.
    vocab : sequence of str, optional
        Token strings, ``vocab[0]`` being the pad. Sets ``vocab_size = len(vocab)``.
    vocab_size : int, optional
        Upper bound (exclusive) for token ids when there is no ``vocab``; by default the largest
        token id + 1.
    prompt_names, completion_names : sequence, optional
        External names (any hashable; used in messages and by :meth:`to_records`).
    rater_ids : sequence, optional
        External rater ids (distinct); default ``arange(R)``, so raters keep their original index
        through :meth:`subset` and friends.
    rater_labels : array-like of int, shape (R,), optional
        Each rater's type (non-negative; ``< len(label_names)`` when names are given).
    label_names : sequence of str, optional
        Name of each label value.
    rater_weights : array-like of float, shape (R,), optional
        Non-negative finite weight of each rater.
    allow_single : bool, default False
        Accept rankings of a single completion (kept as data, counted by :attr:`n_single`).

    Examples
    --------
    >>> data = PreferenceData.from_records(
    ...     [{"rater": "ann", "prompt": "p", "ranking": ["a b", "c"]},
    ...      {"rater": "bob", "prompt": "p", "ranking": ["c", "a b"]}],
    ...     tokenizer="words")
    >>> data
    PreferenceData(n_raters=2, n_prompts=1, n_completions=2, n_rankings=2, mode='tokens', max_list_length=2)
    >>> data.rater(1)
    [(0, array([1, 0], dtype=int32))]
    """

    def __init__(
        self,
        *,
        completion_prompt: Any,
        rater_ptr: Any,
        entry_prompt: Any,
        entry_ptr: Any,
        rankings: Any,
        prompt_tokens: Any = None,
        completion_tokens: Any = None,
        prompt_features: Any = None,
        completion_features: Any = None,
        vocab: Sequence[str] | None = None,
        vocab_size: int | None = None,
        prompt_names: Sequence[Hashable] | None = None,
        completion_names: Sequence[Hashable] | None = None,
        rater_ids: Sequence[Hashable] | None = None,
        rater_labels: Any = None,
        label_names: Sequence[str] | None = None,
        rater_weights: Any = None,
        allow_single: bool = False,
    ) -> None:
        self.allow_single = bool(allow_single)
        self._set_items(
            prompt_tokens,
            completion_tokens,
            prompt_features,
            completion_features,
            completion_prompt,
            vocab,
            vocab_size,
        )
        self.prompt_names = self._names(prompt_names, self.n_prompts, "prompt_names")
        self.completion_names = self._names(completion_names, self.n_completions, "completion_names")
        self.rater_ptr = _int_array(rater_ptr, "rater_ptr", np.int64, 1)
        self.entry_prompt = _int_array(entry_prompt, "entry_prompt", np.int32, 1)
        self.entry_ptr = _int_array(entry_ptr, "entry_ptr", np.int64, 1)
        self.rankings = _int_array(rankings, "rankings", np.int32, 1)
        n_raters = len(self.rater_ptr) - 1
        if n_raters < 1:
            raise ValueError("empty data: there are no raters (rater_ptr needs at least 2 elements)")
        self.rater_ids = _rater_id_array(rater_ids, n_raters)
        dup = _has_duplicates(self.rater_ids)
        if dup is not None:
            raise ValueError(f"rater_ids: rater {dup!r} appears more than once")
        self._check_ptr(self.rater_ptr, len(self.entry_prompt), "rater_ptr", "entry_prompt")
        self._check_ptr(self.entry_ptr, len(self.rankings), "entry_ptr", "rankings")
        self._set_rater_info(rater_labels, label_names, rater_weights)
        self._check_entries()

    # ---------------------------------------------------------------- construction checks

    def _set_items(self, p_tok, c_tok, p_feat, c_feat, completion_prompt, vocab, vocab_size) -> None:
        has_tokens = p_tok is not None or c_tok is not None
        has_features = p_feat is not None or c_feat is not None
        if has_tokens and has_features:
            raise ValueError("give either token ids (prompt_tokens, completion_tokens) or features, not both")
        if not has_tokens and not has_features:
            raise TypeError(
                "no prompt/completion content: give prompt_tokens and completion_tokens, or features"
            )
        self.prompt_tokens = self.completion_tokens = None
        self.prompt_features = self.completion_features = None
        self.vocab = None
        self.vocab_size = None
        if has_tokens:
            if p_tok is None or c_tok is None:
                raise ValueError("token mode needs both prompt_tokens and completion_tokens")
            self.prompt_tokens = _int_array(p_tok, "prompt_tokens", np.int32, 2)
            self.completion_tokens = _int_array(c_tok, "completion_tokens", np.int32, 2)
            if vocab is not None:
                self.vocab = [str(w) for w in vocab]
                if vocab_size is not None and vocab_size != len(self.vocab):
                    raise ValueError(f"vocab_size: {vocab_size} differs from len(vocab) = {len(self.vocab)}")
                vocab_size = len(self.vocab)
            if vocab_size is not None:
                if not isinstance(vocab_size, numbers.Integral) or vocab_size < 2:
                    raise ValueError(
                        f"vocab_size: expected an int >= 2 (the pad and one token), got {vocab_size!r}"
                    )
                vocab_size = int(vocab_size)
            for arr, kind in ((self.prompt_tokens, "prompt"), (self.completion_tokens, "completion")):
                self._check_tokens(arr, kind, vocab_size)
            if vocab_size is None:
                vocab_size = (
                    int(max(self.prompt_tokens.max(initial=0), self.completion_tokens.max(initial=0))) + 1
                )
            self.vocab_size = vocab_size
            n_prompts, n_completions = len(self.prompt_tokens), len(self.completion_tokens)
        else:
            if p_feat is None or c_feat is None:
                raise ValueError("feature mode needs both prompt_features and completion_features")
            if vocab is not None or vocab_size is not None:
                raise ValueError("vocab/vocab_size apply to token mode only")
            self.prompt_features = _float_array(p_feat, "prompt_features", np.float32, 2)
            self.completion_features = _float_array(c_feat, "completion_features", np.float32, 2)
            for arr, name in (
                (self.prompt_features, "prompt_features"),
                (self.completion_features, "completion_features"),
            ):
                if arr.shape[1] < 1:
                    raise ValueError(f"{name}: feature dimension must be >= 1, got shape {arr.shape}")
            n_prompts, n_completions = len(self.prompt_features), len(self.completion_features)
        if n_prompts < 1:
            raise ValueError("empty data: there are no prompts")
        self.completion_prompt = _int_array(completion_prompt, "completion_prompt", np.int32, 1)
        if len(self.completion_prompt) != n_completions:
            raise ValueError(
                f"completion_prompt: {len(self.completion_prompt)} entries but there are {n_completions} completions"
            )
        if n_completions and (self.completion_prompt.min() < 0 or self.completion_prompt.max() >= n_prompts):
            c = int(np.flatnonzero((self.completion_prompt < 0) | (self.completion_prompt >= n_prompts))[0])
            raise ValueError(
                f"completion_prompt: completion {c} refers to prompt {int(self.completion_prompt[c])}, "
                f"outside [0, {n_prompts})"
            )

    def _check_tokens(self, tokens: np.ndarray, kind: str, vocab_size: int | None) -> None:
        name = f"{kind}_tokens"
        if tokens.shape[1] < 1:
            raise ValueError(f"{name}: need at least one token column, got shape {tokens.shape}")
        if tokens.size == 0:
            return
        if tokens.min() < 0:
            row = int(np.flatnonzero((tokens < 0).any(axis=1))[0])
            raise ValueError(f"{name}: {kind} {row} has a negative token id")
        if vocab_size is not None and tokens.max() >= vocab_size:
            row = int(np.flatnonzero((tokens >= vocab_size).any(axis=1))[0])
            raise ValueError(
                f"{name}: {kind} {row} has token id {int(tokens[row].max())} >= vocab size {vocab_size}"
            )
        empty = tokens[:, 0] == PAD_ID
        if empty.any():
            raise ValueError(
                f"{name}: {kind} {int(np.flatnonzero(empty)[0])} has no tokens (starts with the pad id 0)"
            )
        after_pad = np.logical_or.accumulate(tokens == PAD_ID, axis=1) & (tokens != PAD_ID)
        if after_pad.any():
            row = int(np.flatnonzero(after_pad.any(axis=1))[0])
            raise ValueError(f"{name}: {kind} {row} is not right-padded (a token follows the pad id 0)")

    @staticmethod
    def _names(names: Sequence | None, n: int, arg: str) -> tuple | None:
        if names is None:
            return None
        out = tuple(names)
        if len(out) != n:
            raise ValueError(f"{arg}: expected {n} names, got {len(out)}")
        return out

    @staticmethod
    def _check_ptr(ptr: np.ndarray, n: int, name: str, target: str) -> None:
        if len(ptr) < 1 or ptr[0] != 0:
            raise ValueError(f"{name}: must start at 0")
        if ptr[-1] != n:
            raise ValueError(f"{name}: must end at len({target}) = {n}, ends at {int(ptr[-1])}")
        if len(ptr) > 1 and (np.diff(ptr) < 0).any():
            raise ValueError(f"{name}: must be non-decreasing (position {int(np.argmax(np.diff(ptr) < 0))})")

    def _set_rater_info(self, labels, label_names, weights) -> None:
        n = self.n_raters
        self.label_names = None if label_names is None else tuple(str(s) for s in label_names)
        self.rater_labels = None
        if labels is not None:
            self.rater_labels = _int_array(labels, "rater_labels", np.int64, 1)
            if len(self.rater_labels) != n:
                raise ValueError(
                    f"rater_labels: expected {n} labels (one per rater), got {len(self.rater_labels)}"
                )
            if self.rater_labels.min() < 0:
                raise ValueError("rater_labels: labels must be non-negative")
            if self.label_names is not None and self.rater_labels.max() >= len(self.label_names):
                raise ValueError(
                    f"rater_labels: label {int(self.rater_labels.max())} has no name "
                    f"(label_names has {len(self.label_names)})"
                )
        elif self.label_names is not None:
            raise ValueError("label_names: given without rater_labels")
        self.rater_weights = None
        if weights is not None:
            self.rater_weights = _float_array(weights, "rater_weights", np.float64, 1)
            if len(self.rater_weights) != n:
                raise ValueError(
                    f"rater_weights: expected {n} weights (one per rater), got {len(self.rater_weights)}"
                )
            if (self.rater_weights < 0).any():
                raise ValueError("rater_weights: weights must be non-negative")

    def _check_entries(self) -> None:
        n_entries = np.diff(self.rater_ptr)
        if (n_entries == 0).any():
            r = int(np.argmax(n_entries == 0))
            raise ValueError(f"{self._rater_desc(r)} has no rankings")
        entry_rater = self.entry_rater
        ep = self.entry_prompt
        if len(ep) and (ep.min() < 0 or ep.max() >= self.n_prompts):
            e = int(np.flatnonzero((ep < 0) | (ep >= self.n_prompts))[0])
            raise ValueError(
                f"entry_prompt: {self._rater_desc(int(entry_rater[e]))} rates prompt {int(ep[e])}, "
                f"outside [0, {self.n_prompts})"
            )
        e = _first_duplicate(entry_rater * self.n_prompts + ep)
        if e is not None:
            raise ValueError(
                f"{self._rater_desc(int(entry_rater[e]))} lists {self._prompt_desc(int(ep[e]))} twice"
            )
        lengths = np.diff(self.entry_ptr)
        minimum = 1 if self.allow_single else 2
        if (lengths < minimum).any():
            e = int(np.argmax(lengths < minimum))
            what = (
                "an empty ranking"
                if lengths[e] == 0
                else "a ranking of a single completion, which carries no comparison (pass allow_single=True to keep it)"
            )
            raise ValueError(f"{self._entry_desc(e)}: {what}")
        rk = self.rankings
        entry_of = np.repeat(np.arange(len(ep), dtype=np.int64), lengths)
        if len(rk) and (rk.min() < 0 or rk.max() >= self.n_completions):
            k = int(np.flatnonzero((rk < 0) | (rk >= self.n_completions))[0])
            raise ValueError(
                f"rankings: {self._entry_desc(int(entry_of[k]))} lists completion {int(rk[k])}, "
                f"outside [0, {self.n_completions})"
            )
        wrong = self.completion_prompt[rk] != ep[entry_of]
        if wrong.any():
            k = int(np.argmax(wrong))
            c = int(rk[k])
            raise ValueError(
                f"rankings: {self._entry_desc(int(entry_of[k]))} lists {self._completion_desc(c)}, "
                f"a completion of another prompt ({self._prompt_desc(int(self.completion_prompt[c]))})"
            )
        k = _first_duplicate(entry_of * max(self.n_completions, 1) + rk)
        if k is not None:
            raise ValueError(
                f"rankings: {self._entry_desc(int(entry_of[k]))} lists {self._completion_desc(int(rk[k]))} twice"
            )

    # ---------------------------------------------------------------- descriptions for messages

    def _rater_desc(self, r: int) -> str:
        rid = self.rater_ids[r]
        rid = rid.item() if isinstance(rid, np.generic) else rid
        same = isinstance(rid, int) and rid == r
        return f"rater {rid!r}" if same else f"rater {rid!r} (index {r})"

    def _prompt_desc(self, p: int) -> str:
        return f"prompt {p}" if self.prompt_names is None else f"prompt {self.prompt_names[p]!r} (id {p})"

    def _completion_desc(self, c: int) -> str:
        return (
            f"completion {c}"
            if self.completion_names is None
            else f"completion {self.completion_names[c]!r} (id {c})"
        )

    def _entry_desc(self, e: int) -> str:
        return (
            f"{self._rater_desc(int(self.entry_rater[e]))} on {self._prompt_desc(int(self.entry_prompt[e]))}"
        )

    # ---------------------------------------------------------------- sizes and views

    @property
    def mode(self) -> str:
        """``"tokens"`` or ``"features"``."""
        return "tokens" if self.prompt_tokens is not None else "features"

    @property
    def n_raters(self) -> int:
        """Number of raters ``R``."""
        return len(self.rater_ptr) - 1

    @property
    def n_prompts(self) -> int:
        """Number of prompts ``P``."""
        return len(self.prompt_tokens if self.prompt_tokens is not None else self.prompt_features)

    @property
    def n_completions(self) -> int:
        """Number of completions ``C``."""
        return len(self.completion_prompt)

    @property
    def n_rankings(self) -> int:
        """Number of entries ``E`` (one ranking per rater and rated prompt)."""
        return len(self.entry_prompt)

    @property
    def entry_rater(self) -> np.ndarray:
        """int64 [E]: the rater of each entry."""
        cached = self.__dict__.get("_entry_rater")
        if cached is None:
            cached = _readonly(np.repeat(np.arange(self.n_raters, dtype=np.int64), np.diff(self.rater_ptr)))
            self.__dict__["_entry_rater"] = cached
        return cached

    @property
    def entry_length(self) -> np.ndarray:
        """int64 [E]: the number of completions in each entry's ranking."""
        return np.diff(self.entry_ptr)

    @property
    def max_list_length(self) -> int:
        """Longest ranking (the padded list width for batching)."""
        return int(self.entry_length.max())

    @property
    def max_prompts_per_rater(self) -> int:
        """Most entries of any rater (the padded prompt count for batching)."""
        return int(np.diff(self.rater_ptr).max())

    @property
    def n_single(self) -> int:
        """Number of rankings of a single completion (only possible with ``allow_single=True``)."""
        return int((self.entry_length == 1).sum())

    def __len__(self) -> int:
        return self.n_raters

    def __repr__(self) -> str:
        extra = ""
        if self.rater_labels is not None:
            extra += f", n_labels={len(self.label_names) if self.label_names else int(self.rater_labels.max()) + 1}"
        if self.rater_weights is not None:
            extra += ", weighted"
        if self.n_single:
            extra += f", n_single={self.n_single}"
        return (
            f"PreferenceData(n_raters={self.n_raters}, n_prompts={self.n_prompts}, "
            f"n_completions={self.n_completions}, n_rankings={self.n_rankings}, mode={self.mode!r}, "
            f"max_list_length={self.max_list_length}{extra})"
        )

    def rater(self, i: int) -> list[tuple[int, np.ndarray]]:
        """Rater ``i``'s entries as ``[(prompt id, ranking of completion ids best first), ...]``."""
        if not isinstance(i, numbers.Integral) or isinstance(i, (bool, np.bool_)):
            raise TypeError(f"i: expected an int rater index, got {type(i).__name__}")
        if not -self.n_raters <= i < self.n_raters:
            raise IndexError(f"i: rater index {i} out of range for {self.n_raters} raters")
        i = int(i) % self.n_raters
        return [
            (int(self.entry_prompt[e]), self.rankings[self.entry_ptr[e] : self.entry_ptr[e + 1]].copy())
            for e in range(self.rater_ptr[i], self.rater_ptr[i + 1])
        ]

    def completions_of(self, prompt: int) -> np.ndarray:
        """int32 ids of the completions of ``prompt``, in id order."""
        return np.flatnonzero(self.completion_prompt == prompt).astype(np.int32)

    def arrays(self) -> dict[str, np.ndarray]:
        """The numeric arrays by name (read-only; absent optional arrays are left out)."""
        return {n: getattr(self, n) for n in _ARRAY_NAMES if getattr(self, n) is not None}

    # ---------------------------------------------------------------- derived datasets

    def _item_kwargs(self) -> dict[str, Any]:
        """Constructor arguments describing the prompts and completions (shared, not copied)."""
        return {
            "completion_prompt": self.completion_prompt,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "prompt_features": self.prompt_features,
            "completion_features": self.completion_features,
            "vocab": self.vocab,
            "vocab_size": self.vocab_size if self.vocab is None and self.prompt_tokens is not None else None,
            "prompt_names": self.prompt_names,
            "completion_names": self.completion_names,
            "allow_single": self.allow_single,
        }

    def _rater_kwargs(self, idx: np.ndarray) -> dict[str, Any]:
        return {
            "rater_ids": self.rater_ids[idx],
            "rater_labels": None if self.rater_labels is None else self.rater_labels[idx],
            "label_names": self.label_names,
            "rater_weights": None if self.rater_weights is None else self.rater_weights[idx],
        }

    def subset(self, rater_indices: Any) -> PreferenceData:
        """A dataset of the given raters (in the given order; indices may not repeat).

        Accepts integer indices or a boolean mask of length ``n_raters``. Prompts and completions
        are kept whole, so ids stay comparable across subsets.
        """
        idx = np.asarray(rater_indices)
        if idx.dtype == bool:
            if idx.shape != (self.n_raters,):
                raise ValueError(
                    f"rater_indices: boolean mask must have shape ({self.n_raters},), got {idx.shape}"
                )
            idx = np.flatnonzero(idx)
        idx = _int_array(idx.reshape(-1) if idx.ndim == 0 else idx, "rater_indices", np.int64, 1)
        if len(idx) == 0:
            raise ValueError("rater_indices: empty data (no raters selected)")
        if idx.min() < -self.n_raters or idx.max() >= self.n_raters:
            raise IndexError(f"rater_indices: index out of range for {self.n_raters} raters")
        idx = np.where(idx < 0, idx + self.n_raters, idx)
        if len(np.unique(idx)) != len(idx):
            raise ValueError("rater_indices: a rater is selected twice")
        rater_ptr, e_src = _gather_segments(self.rater_ptr, idx)
        entry_ptr, k_src = _gather_segments(self.entry_ptr, e_src)
        return PreferenceData(
            rater_ptr=rater_ptr,
            entry_prompt=self.entry_prompt[e_src],
            entry_ptr=entry_ptr,
            rankings=self.rankings[k_src],
            **self._item_kwargs(),
            **self._rater_kwargs(idx),
        )

    def _with_entries(
        self, keep: np.ndarray, entry_ptr: np.ndarray, rankings: np.ndarray, drop_empty: bool, what: str
    ):
        """Keep entries ``keep`` (bool [E]) with new rankings; drop raters left without entries."""
        per_rater = np.bincount(self.entry_rater[keep], minlength=self.n_raters)
        empty = per_rater == 0
        if empty.all():
            raise ValueError(f"{what}: empty data (no rankings left)")
        if empty.any() and not drop_empty:
            raise ValueError(
                f"{what}: {self._rater_desc(int(np.argmax(empty)))} would be left with no rankings"
            )
        kept_entries = np.flatnonzero(keep)
        new_entry_ptr, k_src = _gather_segments(entry_ptr, kept_entries)
        raters = np.flatnonzero(~empty)
        return PreferenceData(
            rater_ptr=_ptr_from_lengths(per_rater[raters]),
            entry_prompt=self.entry_prompt[kept_entries],
            entry_ptr=new_entry_ptr,
            rankings=rankings[k_src],
            **self._item_kwargs(),
            **self._rater_kwargs(raters),
        )

    def restrict_prompts(self, prompt_ids: Any, *, drop_empty: bool = True) -> PreferenceData:
        """Keep only the rankings of the given prompts.

        Raters left with no rankings are dropped (their ids and labels go with them), or, with
        ``drop_empty=False``, a ``ValueError`` names the first such rater. Prompt and completion ids
        are unchanged (all prompts stay in the dataset; the others are simply not rated).
        """
        ids = _int_array(np.atleast_1d(np.asarray(prompt_ids)), "prompt_ids", np.int64, 1)
        if len(ids) and (ids.min() < 0 or ids.max() >= self.n_prompts):
            raise ValueError(f"prompt_ids: ids must lie in [0, {self.n_prompts})")
        keep = np.isin(self.entry_prompt, ids)
        return self._with_entries(keep, self.entry_ptr, self.rankings, drop_empty, "restrict_prompts")

    def drop_completions(
        self,
        completion_ids: Any,
        raters: Any = None,
        *,
        min_length: int | None = None,
        drop_empty: bool = True,
    ) -> PreferenceData:
        """Remove completions from the rankings (of all raters, or of the rater indices ``raters``).

        The remaining completions keep their relative order. Rankings left shorter than
        ``min_length`` (default 2, or 1 with ``allow_single``) are dropped; raters left with no
        rankings are dropped too (or a ``ValueError`` with ``drop_empty=False``).
        """
        ids = _int_array(np.atleast_1d(np.asarray(completion_ids)), "completion_ids", np.int64, 1)
        if len(ids) and (ids.min() < 0 or ids.max() >= self.n_completions):
            raise ValueError(f"completion_ids: ids must lie in [0, {self.n_completions})")
        remove = np.isin(self.rankings, ids)
        if raters is not None:
            which = _int_array(np.atleast_1d(np.asarray(raters)), "raters", np.int64, 1)
            if len(which) and (which.min() < 0 or which.max() >= self.n_raters):
                raise IndexError(f"raters: rater index out of range for {self.n_raters} raters")
            sel = np.zeros(self.n_raters, dtype=bool)
            sel[which] = True
            remove &= np.repeat(sel[self.entry_rater], self.entry_length)
        kept = ~remove
        entry_of = np.repeat(np.arange(self.n_rankings), self.entry_length)
        lengths = np.bincount(entry_of[kept], minlength=self.n_rankings)
        floor = (1 if self.allow_single else 2) if min_length is None else max(int(min_length), 1)
        return self._with_entries(
            lengths >= floor, _ptr_from_lengths(lengths), self.rankings[kept], drop_empty, "drop_completions"
        )

    def map_rankings(
        self, fn: Callable[[int, int, np.ndarray], Any], *, drop_empty: bool = True
    ) -> PreferenceData:
        """Rewrite every ranking with ``fn(rater_index, prompt_id, ranking) -> new ranking or None``.

        ``None`` (or an empty sequence) drops the entry. The new rankings are validated like any
        input (distinct completions of the same prompt, length >= 2 unless ``allow_single``).
        Raters left with no rankings are dropped (``drop_empty=False``: ``ValueError``). A Python
        loop over entries, meant for building partial profiles in tests and notebooks.

        Examples
        --------
        Keep only the first two completions of every ranking:

        >>> from socialrm import examples
        >>> data = examples.four_types(n_raters=10, seed=0)
        >>> data.map_rankings(lambda r, p, ranking: ranking[:2]).max_list_length
        2
        """
        new = []
        for e in range(self.n_rankings):
            ranking = self.rankings[self.entry_ptr[e] : self.entry_ptr[e + 1]].copy()
            out = fn(int(self.entry_rater[e]), int(self.entry_prompt[e]), ranking)
            new.append(np.zeros(0, np.int32) if out is None else np.asarray(out, dtype=np.int64).reshape(-1))
        lengths = np.array([len(r) for r in new], dtype=np.int64)
        flat = np.concatenate(new) if new else np.zeros(0, np.int64)
        if flat.size and (flat.min() < 0 or flat.max() >= self.n_completions):
            raise ValueError(f"map_rankings: fn returned a completion id outside [0, {self.n_completions})")
        return self._with_entries(
            lengths > 0, _ptr_from_lengths(lengths), flat.astype(np.int32), drop_empty, "map_rankings"
        )

    def pairs(self) -> Pairs:
        """Every comparison implied by the rankings: for each entry and each ``i < j``, the completion
        at position ``i`` beats the one at ``j``. Ordered by entry, then ``i``, then ``j``.

        These are the raw rater comparisons a vanilla Bradley–Terry reward model trains on (weight
        them with ``rater_weights[pairs.rater]`` if the data is weighted).
        """
        lengths = self.entry_length
        chunks_e, chunks_w, chunks_l = [], [], []
        for m in np.unique(lengths):
            if m < 2:
                continue
            entries = np.flatnonzero(lengths == m)
            i, j = np.triu_indices(int(m), 1)
            starts = self.entry_ptr[entries][:, None]
            chunks_e.append(np.repeat(entries, len(i)))
            chunks_w.append((starts + i).reshape(-1))
            chunks_l.append((starts + j).reshape(-1))
        if not chunks_e:
            empty = np.zeros(0, np.int32)
            return Pairs(np.zeros(0, np.int64), empty, empty.copy(), empty.copy())
        e = np.concatenate(chunks_e)
        w = np.concatenate(chunks_w)
        lo = np.concatenate(chunks_l)
        order = np.lexsort((lo, w, e))  # by entry, then winner position, then loser position
        e, w, lo = e[order], w[order], lo[order]
        return Pairs(
            self.entry_rater[e].copy(),
            self.entry_prompt[e].copy(),
            self.rankings[w].copy(),
            self.rankings[lo].copy(),
        )

    def concat(self, other: PreferenceData, *, renumber: bool = False) -> PreferenceData:
        """The raters of ``self`` followed by those of ``other`` (same prompts and completions).

        Prompts, completions, names and vocabulary must be identical. Rater ids must be distinct
        across the two datasets unless ``renumber=True``, which replaces them by ``arange(R)``.
        Labels and weights must be present in both or in neither (and label names must agree).
        """
        if not isinstance(other, PreferenceData):
            raise TypeError(f"other: expected a PreferenceData, got {type(other).__name__}")
        for name in (
            "prompt_tokens",
            "completion_tokens",
            "prompt_features",
            "completion_features",
            "completion_prompt",
        ):
            a, b = getattr(self, name), getattr(other, name)
            if (a is None) != (b is None) or (a is not None and not np.array_equal(a, b)):
                raise ValueError(
                    f"other: {name} differs; concatenation needs the same prompts and completions"
                )
        for name in (
            "prompt_names",
            "completion_names",
            "vocab",
            "vocab_size",
            "label_names",
            "allow_single",
        ):
            if getattr(self, name) != getattr(other, name):
                raise ValueError(f"other: {name} differs")
        for name in ("rater_labels", "rater_weights"):
            if (getattr(self, name) is None) != (getattr(other, name) is None):
                raise ValueError(f"other: {name} present in one dataset only")
        if renumber:
            ids = None
        else:
            ids = np.concatenate([self.rater_ids.astype(object), other.rater_ids.astype(object)])
            dup = _has_duplicates(ids)
            if dup is not None:
                raise ValueError(
                    f"other: rater id {dup!r} is in both datasets (pass renumber=True to renumber)"
                )
            ids = list(ids)

        def cat(name):
            a = getattr(self, name)
            return None if a is None else np.concatenate([a, getattr(other, name)])

        return PreferenceData(
            rater_ptr=np.concatenate([self.rater_ptr, other.rater_ptr[1:] + self.rater_ptr[-1]]),
            entry_prompt=cat("entry_prompt"),
            entry_ptr=np.concatenate([self.entry_ptr, other.entry_ptr[1:] + self.entry_ptr[-1]]),
            rankings=cat("rankings"),
            rater_ids=ids,
            rater_labels=cat("rater_labels"),
            label_names=self.label_names,
            rater_weights=cat("rater_weights"),
            **self._item_kwargs(),
        )

    def train_test_split(
        self, test_size: float = 0.25, random_state: int | np.random.Generator | None = None
    ) -> tuple[PreferenceData, PreferenceData]:
        """Split the raters into a train and a test dataset (whole raters go to one side).

        Parameters
        ----------
        test_size : float in (0, 1) or int
            Share of raters (rounded up) or number of raters in the test set; both sides must be
            non-empty.
        random_state : int, numpy Generator or None
            Seed of the permutation; the same seed gives the same split.

        Returns
        -------
        train, test : PreferenceData
            Raters keep their original relative order within each side.
        """
        n = self.n_raters
        if isinstance(test_size, (bool, np.bool_)):
            raise TypeError("test_size: expected a float in (0, 1) or an int count, got a bool")
        if isinstance(test_size, numbers.Integral):
            n_test = int(test_size)
        elif isinstance(test_size, numbers.Real):
            if not 0.0 < float(test_size) < 1.0:
                raise ValueError(f"test_size: a share must lie in (0, 1), got {test_size}")
            n_test = int(np.ceil(float(test_size) * n))
        else:
            raise TypeError(f"test_size: expected a float or an int, got {type(test_size).__name__}")
        if not 0 < n_test < n:
            raise ValueError(
                f"test_size: gives {n_test} test raters out of {n}; both sides must be non-empty"
            )
        rng = np.random.default_rng(seed_from_random_state(random_state))
        test = np.zeros(n, dtype=bool)
        test[rng.permutation(n)[:n_test]] = True
        return self.subset(~test), self.subset(test)

    # ---------------------------------------------------------------- export

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per entry: ``{"rater", "prompt", "ranking"}`` (+ ``"label"``, ``"weight"``).

        Raters are their external ids, prompts and completions their names when the dataset has
        names (ids otherwise), labels their names when there are label names. Feeding the result
        to :meth:`from_records` with the same content (and ``label_names``) rebuilds the dataset.
        """
        pn, cn, ln = self.prompt_names, self.completion_names, self.label_names
        ids = self.rater_ids.tolist()
        out = []
        for e in range(self.n_rankings):
            r = int(self.entry_rater[e])
            p = int(self.entry_prompt[e])
            ranking = self.rankings[self.entry_ptr[e] : self.entry_ptr[e + 1]].tolist()
            rec: dict[str, Any] = {
                "rater": ids[r],
                "prompt": p if pn is None else pn[p],
                "ranking": ranking if cn is None else [cn[c] for c in ranking],
            }
            if self.rater_labels is not None:
                label = int(self.rater_labels[r])
                rec["label"] = label if ln is None else ln[label]
            if self.rater_weights is not None:
                rec["weight"] = float(self.rater_weights[r])
            out.append(rec)
        return out

    def save(self, path: str | os.PathLike) -> Path:
        """Save to a safetensors file (arrays as tensors, names and vocabulary as JSON metadata)."""
        from .io import save_safetensors

        meta: dict[str, Any] = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "allow_single": self.allow_single,
            "vocab": self.vocab,
            "vocab_size": self.vocab_size,
            "prompt_names": None if self.prompt_names is None else list(self.prompt_names),
            "completion_names": None if self.completion_names is None else list(self.completion_names),
            "label_names": None if self.label_names is None else list(self.label_names),
        }
        tensors = dict(self.arrays())
        if self.rater_ids.dtype.kind == "i":
            tensors["rater_ids"] = self.rater_ids
        else:
            meta["rater_ids"] = self.rater_ids.tolist()
        for key in ("prompt_names", "completion_names", "rater_ids"):
            bad = [v for v in meta.get(key) or () if not isinstance(v, (str, int, float, bool))]
            if bad:
                raise TypeError(
                    f"{path}: {key} must be strings or numbers to be saved (they are stored as JSON), "
                    f"got {bad[0]!r}"
                )
        text = json.dumps(meta, allow_nan=False)
        return save_safetensors(path, tensors, {"socialrm_data": text})

    @classmethod
    def load(cls, path: str | os.PathLike) -> PreferenceData:
        """Load a dataset written by :meth:`save` (validated like any new dataset)."""
        from .io import load_safetensors

        tensors, metadata = load_safetensors(path)
        try:
            meta = json.loads(metadata["socialrm_data"])
        except (KeyError, ValueError):
            raise ValueError(
                f"{path}: not a socialrm preference dataset (metadata 'socialrm_data' missing)"
            ) from None
        if meta.get("format") != _FORMAT or meta.get("version") != _FORMAT_VERSION:
            raise ValueError(
                f"{path}: unsupported dataset format {meta.get('format')!r} v{meta.get('version')!r}"
            )
        rater_ids = tensors.pop("rater_ids", None)
        if rater_ids is None:
            rater_ids = meta.get("rater_ids")
        unknown = set(tensors) - set(_ARRAY_NAMES)
        if unknown:
            raise ValueError(f"{path}: unexpected tensors {sorted(unknown)}")
        missing = {"completion_prompt", "rater_ptr", "entry_prompt", "entry_ptr", "rankings"} - set(tensors)
        if missing:
            raise ValueError(f"{path}: missing tensors {sorted(missing)}")
        return cls(
            **tensors,
            vocab=meta.get("vocab"),
            vocab_size=meta.get("vocab_size") if meta.get("vocab") is None else None,
            prompt_names=meta.get("prompt_names"),
            completion_names=meta.get("completion_names"),
            label_names=meta.get("label_names"),
            rater_ids=rater_ids,
            allow_single=bool(meta.get("allow_single", False)),
        )

    # ---------------------------------------------------------------- constructors

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        prompts: Sequence[Hashable] | Mapping[Hashable, Any] | None = None,
        completions: Mapping[Hashable, Sequence[Hashable] | Mapping[Hashable, Any]] | None = None,
        tokenizer: Callable[[str], Sequence[int]] | str | None = None,
        vocab: Sequence[str] | None = None,
        vocab_size: int | None = None,
        prompt_features: Any = None,
        completion_features: Any = None,
        label_names: Sequence[str] | None = None,
        allow_single: bool = False,
    ) -> PreferenceData:
        """Build a dataset from records ``{"rater": r, "prompt": p, "ranking": [c1, c2, ...]}``.

        Optional record keys ``"label"`` (int, or a name in ``label_names``) and ``"weight"``
        (float) must be the same on all records of a rater.

        Ids. Raters get indices in order of first appearance (their external ids are kept in
        ``rater_ids``); a rater's rankings keep the records' order. Prompt ids follow ``prompts``
        if given (then a record naming another prompt is an error), else first appearance.
        Completions are named per prompt: ``("normal", "Memphis")`` and ``("inverted", "Memphis")``
        are two completions. Completion ids follow ``completions`` if given (iterating the mapping,
        then each prompt's list; a ranking naming an unlisted completion is an error), else first
        appearance in the records.

        Content, token mode. The text of a prompt is ``prompts[key]`` when ``prompts`` is a
        mapping, else the key itself; a completion's text is ``completions[prompt][key]`` when that
        is a mapping, else its key. A text that is a ``str`` is turned into token ids by
        ``tokenizer`` (a callable ``str -> list of int``; ``"words"`` builds a
        :class:`WordTokenizer`, starting from ``vocab`` if given, whose final vocabulary becomes
        ``vocab``); any other text must be a sequence of token ids (>= 1; 0 is the pad).

        Content, feature mode (``prompt_features`` and ``completion_features`` given): each is a
        mapping (prompt key -> vector; ``(prompt key, completion key)`` -> vector), a callable
        (``prompt_features(text)``, ``completion_features(prompt text, completion text)``) or an
        array whose rows follow the ids described above.

        Parameters
        ----------
        records : iterable of dict
            The rankings.
        prompts, completions : optional
            The closed lists (and texts) of prompts and completions, as described above.
        tokenizer : callable or "words", optional
            Text to token ids.
        vocab, vocab_size : optional
            Token strings or the vocabulary size (token ids must be below it).
        prompt_features, completion_features : optional
            Feature-mode content.
        label_names : sequence of str, optional
            Names of the label values.
        allow_single : bool, default False
            Accept rankings of one completion.

        Returns
        -------
        PreferenceData
        """
        if isinstance(records, (Mapping, str, bytes)):
            raise TypeError("records: expected an iterable of dicts with keys 'rater', 'prompt', 'ranking'")
        feature_mode = prompt_features is not None or completion_features is not None
        if feature_mode and tokenizer is not None:
            raise ValueError("give either tokenizer or prompt_features/completion_features, not both")
        own_tokenizer = isinstance(tokenizer, str) and tokenizer == "words"
        if own_tokenizer:
            tokenizer = WordTokenizer(vocab) if vocab is not None else WordTokenizer()
        elif tokenizer is not None and not callable(tokenizer):
            raise TypeError(f"tokenizer: expected a callable or 'words', got {type(tokenizer).__name__}")

        # prompts and completions: closed lists if given
        prompt_ids: dict[Hashable, int] = {}
        prompt_text: dict[Hashable, Any] = {}
        prompts_closed = prompts is not None
        if prompts is not None:
            if isinstance(prompts, (str, bytes)):
                raise TypeError("prompts: expected a sequence of prompt keys or a mapping key -> text")
            items = prompts.items() if isinstance(prompts, Mapping) else ((k, k) for k in prompts)
            for key, text in items:
                if key in prompt_ids:
                    raise ValueError(f"prompts: prompt {key!r} is listed twice")
                prompt_ids[key] = len(prompt_ids)
                prompt_text[key] = key if text is None else text
        comp_ids: dict[tuple[Hashable, Hashable], int] = {}
        comp_text: dict[tuple[Hashable, Hashable], Any] = {}
        comps_closed = completions is not None
        if completions is not None:
            if not isinstance(completions, Mapping):
                raise TypeError(
                    "completions: expected a mapping prompt key -> list (or mapping) of completions"
                )
            for pkey, listed in completions.items():
                if pkey not in prompt_ids:
                    if prompts_closed:
                        raise ValueError(f"completions: prompt {pkey!r} is not in prompts")
                    prompt_ids[pkey] = len(prompt_ids)
                    prompt_text[pkey] = pkey
                if isinstance(listed, (str, bytes)):
                    raise TypeError(
                        f"completions[{pkey!r}]: expected a list or mapping of completions, got a str"
                    )
                items = listed.items() if isinstance(listed, Mapping) else ((k, k) for k in listed)
                for ckey, text in items:
                    if (pkey, ckey) in comp_ids:
                        raise ValueError(
                            f"completions: completion {ckey!r} of prompt {pkey!r} is listed twice"
                        )
                    comp_ids[(pkey, ckey)] = len(comp_ids)
                    comp_text[(pkey, ckey)] = ckey if text is None else text

        # records
        rater_index: dict[Hashable, int] = {}
        rater_entries: list[list[tuple[int, list[int]]]] = []
        rater_fields: dict[int, dict[str, Any]] = {}
        for n, rec in enumerate(records):
            if not isinstance(rec, Mapping):
                raise TypeError(f"records[{n}]: expected a dict, got {type(rec).__name__}")
            missing = {"rater", "prompt", "ranking"} - set(rec)
            if missing:
                raise ValueError(f"records[{n}]: missing keys {sorted(missing)}")
            rkey, pkey, ranking = rec["rater"], rec["prompt"], rec["ranking"]
            try:
                hash(rkey), hash(pkey)
            except TypeError:
                raise TypeError(f"records[{n}]: rater and prompt must be hashable") from None
            if pkey not in prompt_ids:
                if prompts_closed:
                    raise ValueError(
                        f"records[{n}]: rater {rkey!r} ranks prompt {pkey!r}, which is not in prompts"
                    )
                prompt_ids[pkey] = len(prompt_ids)
                prompt_text[pkey] = pkey
            if isinstance(ranking, (str, bytes)) or not isinstance(ranking, Iterable):
                raise TypeError(
                    f"records[{n}]: ranking of rater {rkey!r} on prompt {pkey!r} must be a list of completions"
                )
            ids = []
            for ckey in ranking:
                try:
                    cid = comp_ids.get((pkey, ckey))
                except TypeError:
                    raise TypeError(f"records[{n}]: completion {ckey!r} is not hashable") from None
                if cid is None:
                    if comps_closed:
                        raise ValueError(
                            f"records[{n}]: rater {rkey!r} ranks {ckey!r} on prompt {pkey!r}, "
                            f"which is not a completion of that prompt"
                        )
                    cid = comp_ids[(pkey, ckey)] = len(comp_ids)
                    comp_text[(pkey, ckey)] = ckey
                ids.append(cid)
            r = rater_index.setdefault(rkey, len(rater_index))
            if r == len(rater_entries):
                rater_entries.append([])
            rater_entries[r].append((prompt_ids[pkey], ids))
            _note_rater_fields(rater_fields.setdefault(r, {}), rec, f"records[{n}]", rkey)
        if not rater_entries:
            raise ValueError("records: empty data (no records)")
        n_raters = len(rater_entries)
        rater_label = {r: f["label"] for r, f in rater_fields.items() if "label" in f}
        rater_weight = {r: f["weight"] for r, f in rater_fields.items() if "weight" in f}
        labels, label_names = _labels_from_records(rater_label, n_raters, label_names)
        weights = None
        if rater_weight:
            if len(rater_weight) != n_raters:
                raise ValueError("records: 'weight' must be given for every rater or for none")
            weights = [rater_weight[r] for r in range(n_raters)]

        # content
        pkeys = list(prompt_ids)
        ckeys = list(comp_ids)
        content: dict[str, Any] = {}
        if feature_mode:
            if prompt_features is None or completion_features is None:
                raise ValueError("feature mode needs both prompt_features and completion_features")
            content["prompt_features"] = _features_for(
                prompt_features, pkeys, lambda k: (prompt_text[k],), "prompt_features"
            )
            content["completion_features"] = _features_for(
                completion_features, ckeys, lambda k: (prompt_text[k[0]], comp_text[k]), "completion_features"
            )
        else:
            content["prompt_tokens"] = _pad_token_rows(
                [_tokens_for(prompt_text[k], tokenizer, f"prompt {k!r}") for k in pkeys]
            )
            content["completion_tokens"] = _pad_token_rows(
                [
                    _tokens_for(comp_text[k], tokenizer, f"completion {k[1]!r} of prompt {k[0]!r}")
                    for k in ckeys
                ]
            )
            if isinstance(tokenizer, WordTokenizer) and (vocab is None or own_tokenizer):
                vocab = tokenizer.vocab
            content["vocab"] = vocab
            content["vocab_size"] = vocab_size

        entries = [e for ents in rater_entries for e in ents]
        return cls(
            completion_prompt=np.array([prompt_ids[k[0]] for k in ckeys], dtype=np.int32),
            rater_ptr=_ptr_from_lengths(np.array([len(ents) for ents in rater_entries], dtype=np.int64)),
            entry_prompt=np.array([p for p, _ in entries], dtype=np.int32),
            entry_ptr=_ptr_from_lengths(np.array([len(ids) for _, ids in entries], dtype=np.int64)),
            rankings=np.array([c for _, ids in entries for c in ids], dtype=np.int64),
            prompt_names=pkeys,
            completion_names=[k[1] for k in ckeys],
            rater_ids=list(rater_index),
            rater_labels=labels,
            label_names=label_names,
            rater_weights=weights,
            allow_single=allow_single,
            **content,
        )

    @classmethod
    def from_ballots(
        cls,
        rankings: Any,
        *,
        counts: Any = None,
        candidate_names: Sequence[Hashable] | None = None,
        prompt: Hashable = "election",
        **kwargs: Any,
    ) -> PreferenceData:
        """One prompt whose completions are the candidates; one rater per ballot (an election).

        Bridges a voting profile (e.g. a PrefLib ``.soc``/``.soi`` election) to rater data.

        Parameters
        ----------
        rankings : array-like of int, shape (n_ballots, max_length), or list of lists
            Strict ballots as candidate indices, best first, padded with -1 (a truncated ballot
            ranks only the candidates it lists; here that means the others were not seen). Ties
            cannot be represented.
        counts : array-like of int, shape (n_ballots,), optional
            How many raters cast each ballot; each becomes its own rater (ids ``0..R-1`` in
            ballot order).
        candidate_names : sequence, optional
            Name of each candidate (default ``0..m-1``, ``m`` the largest index + 1); completions
            get these names and, in token mode, these texts.
        prompt : hashable, default "election"
            The prompt's name (and text, in token mode).
        **kwargs
            Content and options for :meth:`from_records` (``tokenizer``, ``prompt_features``, ...).
        """
        if isinstance(rankings, np.ndarray) or (
            isinstance(rankings, Sequence) and rankings and not isinstance(rankings[0], Sequence)
        ):
            matrix = _int_array(np.asarray(rankings), "rankings", np.int64, 2)
            ballots = [row[row >= 0].tolist() for row in matrix]
            if (matrix < -1).any():
                raise ValueError("rankings: candidate indices must be >= 0 (-1 pads)")
        else:
            ballots = [[int(c) for c in b if int(c) >= 0] for b in rankings]
        if not ballots:
            raise ValueError("rankings: empty data (no ballots)")
        n_candidates = max((max(b) for b in ballots if b), default=-1) + 1
        if candidate_names is None:
            candidate_names = list(range(n_candidates))
        candidate_names = list(candidate_names)
        if n_candidates > len(candidate_names):
            raise ValueError(
                f"rankings: candidate {n_candidates - 1} has no name ({len(candidate_names)} names)"
            )
        multiplicity = np.ones(len(ballots), np.int64)
        if counts is not None:
            multiplicity = _int_array(np.asarray(counts), "counts", np.int64, 1)
            if len(multiplicity) != len(ballots) or (multiplicity < 1).any():
                raise ValueError(f"counts: expected {len(ballots)} positive counts (one per ballot)")
        records = []
        for ballot, k in zip(ballots, multiplicity.tolist()):
            ranking = [candidate_names[c] for c in ballot]
            start = len(records)
            records.extend({"rater": start + i, "prompt": prompt, "ranking": ranking} for i in range(k))
        kwargs.setdefault("completions", {prompt: candidate_names})
        return cls.from_records(records, **kwargs)

    @classmethod
    def from_dataframe(
        cls, df: Any, *, rater: str = "rater", prompt: str = "prompt", ranking: str = "ranking", **kwargs: Any
    ) -> PreferenceData:
        """Build a dataset from a pandas DataFrame with one row per (rater, prompt) ranking.

        The ``ranking`` column holds lists of completions, best first. Optional columns ``label``
        and ``weight`` are used as in :meth:`from_records`. Column names can be changed with the
        ``rater``, ``prompt`` and ``ranking`` arguments; other keyword arguments go to
        :meth:`from_records`.
        """
        return cls.from_records(
            _frame_records(df, {rater: "rater", prompt: "prompt", ranking: "ranking"}), **kwargs
        )

    @classmethod
    def from_pairwise(
        cls,
        pairs: Any,
        *,
        rater: str = "rater",
        prompt: str = "prompt",
        chosen: str = "chosen",
        rejected: str = "rejected",
        ambiguous: str = "error",
        **kwargs: Any,
    ) -> PreferenceData:
        """Build a dataset from pairwise comparisons (TRL style): ``rater, prompt, chosen, rejected``.

        ``pairs`` is a pandas DataFrame or an iterable of dicts. All pairs of one rater on one
        prompt are chained into a single ranking when they are consistent, i.e. when they
        determine a unique linear order of the completions they mention: the directed graph
        "chosen -> rejected" must be acyclic and its topological order unique (equivalently, it
        has a Hamiltonian path; redundant pairs implied by transitivity are fine, as are repeats).

        - A cycle is a ``ValueError`` naming the rater, the prompt and the cycle.
        - A pair with ``chosen == rejected`` is a ``ValueError``.
        - Pairs leaving two completions unordered (e.g. ``a > b`` and ``a > c`` only) cannot be one
          ranking. With ``ambiguous="error"`` (default) that is a ``ValueError`` naming the rater,
          prompt and two unordered completions; with ``ambiguous="drop"`` those (rater, prompt)
          groups are left out with a ``UserWarning`` giving their number (raters left with no
          ranking are left out too). Inventing an order for them would invent comparisons the
          rater never made.

        Optional ``label``/``weight`` columns are used as in :meth:`from_records`; other keyword
        arguments (content: ``tokenizer``, features, ...) go to :meth:`from_records`.
        """
        if ambiguous not in ("error", "drop"):
            raise ValueError(f"ambiguous: expected 'error' or 'drop', got {ambiguous!r}")
        rows = _frame_records(
            pairs, {rater: "rater", prompt: "prompt", chosen: "chosen", rejected: "rejected"}
        )
        groups: dict[tuple[Hashable, Hashable], list[tuple[Any, Any]]] = {}
        extras: dict[tuple[Hashable, Hashable], dict[str, Any]] = {}
        for n, row in enumerate(rows):
            key = (row["rater"], row["prompt"])
            a, b = row["chosen"], row["rejected"]
            if a == b:
                raise ValueError(f"pairs[{n}]: rater {key[0]!r} on prompt {key[1]!r} chose {a!r} over itself")
            groups.setdefault(key, []).append((a, b))
            _note_rater_fields(extras.setdefault(key, {}), row, f"pairs[{n}]", key[0])
        if not groups:
            raise ValueError("pairs: empty data (no comparisons)")
        records = []
        n_dropped = 0
        for (rkey, pkey), edges in groups.items():
            order = _chain_pairs(edges, rkey, pkey, ambiguous == "error")
            if order is None:
                n_dropped += 1
                continue
            records.append({"rater": rkey, "prompt": pkey, "ranking": order, **extras[(rkey, pkey)]})
        if n_dropped:
            warnings.warn(
                f"from_pairwise: dropped {n_dropped} of {len(groups)} (rater, prompt) groups whose pairs "
                f"do not determine a single order",
                UserWarning,
                stacklevel=2,
            )
        if not records:
            raise ValueError("pairs: empty data (every group was ambiguous and dropped)")
        return cls.from_records(records, **kwargs)


# --------------------------------------------------------------------------------------------------
# constructor helpers


def _note_rater_fields(store: dict[str, Any], row: Mapping[str, Any], where: str, rkey: Any) -> None:
    """Record a row's optional ``label``/``weight`` in ``store``; they must agree across a rater's rows."""
    for name in ("label", "weight"):
        if name in row:
            if name in store and store[name] != row[name]:
                raise ValueError(
                    f"{where}: rater {rkey!r} has two different {name}s ({store[name]!r}, {row[name]!r})"
                )
            store[name] = row[name]


def _labels_from_records(rater_label: dict[int, Any], n_raters: int, label_names):
    if not rater_label:
        return None, label_names
    if len(rater_label) != n_raters:
        raise ValueError("records: 'label' must be given for every rater or for none")
    values = [rater_label[r] for r in range(n_raters)]
    if all(isinstance(v, str) for v in values):
        names = list(label_names) if label_names is not None else list(dict.fromkeys(values))
        index = {name: i for i, name in enumerate(names)}
        unknown = [v for v in values if v not in index]
        if unknown:
            raise ValueError(f"records: label {unknown[0]!r} is not in label_names")
        return [index[v] for v in values], names
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        return values, label_names
    raise TypeError("records: labels must be all ints or all strings")


def _tokens_for(text: Any, tokenizer, what: str) -> np.ndarray:
    if isinstance(text, str):
        if tokenizer is None:
            raise TypeError(
                f"{what}: text {text!r} needs a tokenizer (pass tokenizer=..., or token ids, or features)"
            )
        ids = tokenizer(text)
    else:
        ids = text
    try:
        arr = np.asarray(ids)
    except (TypeError, ValueError):
        raise TypeError(f"{what}: token ids must be a sequence of ints") from None
    if arr.size == 0:
        raise ValueError(f"{what}: has no tokens")
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise TypeError(f"{what}: token ids must be a 1-D sequence of ints, got {ids!r}")
    if (arr <= PAD_ID).any():
        raise ValueError(f"{what}: token ids must be >= 1 (0 is the pad id), got {arr.tolist()}")
    if arr.max() > np.iinfo(np.int32).max:
        raise ValueError(f"{what}: token id {int(arr.max())} does not fit in int32")
    return arr.astype(np.int32)


def _features_for(source: Any, keys: list, args: Callable[[Any], tuple], name: str) -> np.ndarray:
    if isinstance(source, Mapping):
        rows = []
        for k in keys:
            if k not in source:
                raise ValueError(f"{name}: no feature vector for {k!r}")
            rows.append(np.asarray(source[k], dtype=np.float64).reshape(-1))
    elif callable(source):
        rows = [np.asarray(source(*args(k)), dtype=np.float64).reshape(-1) for k in keys]
    else:
        arr = np.asarray(source)
        if arr.ndim != 2 or len(arr) != len(keys):
            raise ValueError(f"{name}: expected an array of shape ({len(keys)}, D), got {arr.shape}")
        return arr
    dims = {len(r) for r in rows}
    if len(dims) > 1:
        raise ValueError(f"{name}: feature vectors have different lengths {sorted(dims)}")
    return np.stack(rows) if rows else np.zeros((0, 1))


def _frame_records(source: Any, columns: dict[str, str]) -> list[dict[str, Any]]:
    """Rows of a DataFrame or an iterable of dicts, with the given columns renamed to the standard
    names (extra ``label``/``weight`` columns kept)."""
    if hasattr(source, "columns") and hasattr(source, "to_dict"):
        missing = [c for c in columns if c not in source.columns]
        if missing:
            raise ValueError(f"df: missing columns {missing} (have {list(source.columns)})")
        cols = list(columns) + [c for c in ("label", "weight") if c in source.columns and c not in columns]
        rows = source[cols].to_dict("records")
    else:
        if isinstance(source, (str, bytes, Mapping)) or not isinstance(source, Iterable):
            raise TypeError(
                f"expected a pandas DataFrame or an iterable of dicts, got {type(source).__name__}"
            )
        rows = list(source)
    out = []
    for n, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"row {n}: expected a dict, got {type(row).__name__}")
        missing = [c for c in columns if c not in row]
        if missing:
            raise ValueError(f"row {n}: missing keys {missing}")
        rec = {std: _plain(row[c]) for c, std in columns.items()}
        for extra in ("label", "weight"):
            if extra in row and extra not in columns:
                rec[extra] = _plain(row[extra])
        out.append(rec)
    return out


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays (as pandas hands them out) to plain Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _chain_pairs(edges: list[tuple[Any, Any]], rkey: Any, pkey: Any, strict: bool) -> list | None:
    """The unique linear order implied by ``edges`` (winner, loser), best first.

    Kahn's algorithm; the order is unique iff exactly one source remains at every step. Returns
    None (``strict=False``) or raises for an ambiguous order; always raises for a cycle.
    """
    nodes = list(dict.fromkeys(x for e in edges for x in e))
    succ: dict[Any, set] = {v: set() for v in nodes}
    pred: dict[Any, set] = {v: set() for v in nodes}
    for a, b in edges:
        succ[a].add(b)
        pred[b].add(a)
    indegree = {v: len(pred[v]) for v in nodes}
    sources = [v for v in nodes if indegree[v] == 0]
    order = []
    while sources:
        if len(sources) > 1:
            if strict:
                raise ValueError(
                    f"from_pairwise: the pairs of rater {rkey!r} on prompt {pkey!r} do not determine a single "
                    f"order: {sources[0]!r} and {sources[1]!r} are never compared, directly or through other "
                    f"completions (pass ambiguous='drop' to leave such groups out)"
                )
            return None
        v = sources.pop()
        order.append(v)
        for w in sorted(succ[v], key=nodes.index):
            indegree[w] -= 1
            if indegree[w] == 0:
                sources.append(w)
    if len(order) < len(nodes):
        raise ValueError(
            f"from_pairwise: the pairs of rater {rkey!r} on prompt {pkey!r} form a cycle: "
            + " > ".join(repr(v) for v in _find_cycle(nodes, pred, set(order)))
        )
    return order


def _find_cycle(nodes: list, pred: dict[Any, set], done: set) -> list:
    """A cycle among the nodes Kahn's algorithm could not place, as ``[a, b, ..., a]`` (a beats b)."""
    left = [v for v in nodes if v not in done]
    # Every node left has a predecessor that is left too: walk predecessors until one repeats.
    walk = [left[0]]
    seen = {left[0]: 0}
    while True:
        v = next(u for u in nodes if u in pred[walk[-1]] and u not in done)
        if v in seen:
            cycle = walk[seen[v] :]
            break
        seen[v] = len(walk)
        walk.append(v)
    # ``walk`` follows predecessors (each element is beaten by the next); reverse to "beats" order.
    cycle = cycle[::-1]
    start = min(range(len(cycle)), key=lambda i: nodes.index(cycle[i]))  # begin at the first-seen node
    cycle = cycle[start:] + cycle[:start]
    return cycle + [cycle[0]]
