"""The social / vanilla reward model: the single Bradley–Terry reward model of standard RLHF.

Trained on raw rater comparisons (:meth:`RewardModel.fit` on a :class:`~socialrm.PreferenceData`)
it *is* vanilla RLHF, the baseline socialrm compares against. Trained on social orders
(:meth:`RewardModel.fit_orders`, every pair an order implies, ties giving none) or on explicit
pairs (:meth:`RewardModel.fit_pairs`) it becomes the social reward model of the pipeline.

Token mode: prompt encoder (token + learned positions, NormFormer self-attention layers) and
completion decoder (self-attention over the completion, cross-attention to the prompt), a Linear
head per token averaged over the non-pad tokens. Feature mode: an MLP on the concatenated prompt
and completion features. Both train in C (``csrc/models/reward.c``): minibatches of pairs drawn by a
counter-based RNG (results depend only on the seed and the step), AdamW or Adafactor, global-norm
clipping, a learning rate decaying in the second half, fixed-order reductions (bitwise identical for
the same seed and thread count).
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import io as _io
from ._native import _core
from ._validation import check_is_fitted, check_n_threads, seed_from_random_state

__all__ = ["RewardModel"]

_FORMAT = "socialrm.RewardModel"
_FORMAT_VERSION = 1
_HYPER = ("mode", "width", "n_encoder_layers", "n_decoder_layers", "n_heads", "ff_hidden", "hidden_sizes", "gelu",
          "max_prompt_len", "max_completion_len", "optimizer", "learning_rate", "weight_decay", "n_steps",
          "batch_size", "max_grad_norm", "warmup_steps", "decay_start", "lr_floor", "init_std", "chunk",
          "progress_every", "verbose", "callback", "random_state", "n_threads")
_TABLES = ("prompt_tokens", "completion_tokens", "prompt_features", "completion_features")


def _int_param(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bound = f"in {low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name}: must be {bound}, got {value}")
    return int(value)


def _float_param(value: Any, name: str, low: float, high: float | None = None) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name}: must be finite and {bound}, got {value}")
    return value


def _ids(x: Any, name: str) -> np.ndarray:
    """1-D int32 ids (integers only; floats that are whole numbers are refused too)."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of ids, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer ids, got dtype {arr.dtype}")
    if arr.size and (arr.min() < np.iinfo(np.int32).min or arr.max() > np.iinfo(np.int32).max):
        raise ValueError(f"{name}: ids out of the int32 range")
    return np.ascontiguousarray(arr, dtype=np.int32)


def _table(x: Any, name: str, dtype) -> np.ndarray | None:
    if x is None:
        return None
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array, got shape {arr.shape}")
    if dtype is np.int32:
        if arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"{name}: expected integer token ids, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() > np.iinfo(np.int32).max):
            raise ValueError(f"{name}: token ids must be in [0, 2^31)")
    else:
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"{name}: expected a float array, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: contains NaN or infinity")
    return np.ascontiguousarray(arr, dtype=dtype)


def _dense_ranks_from_scores(rewards: np.ndarray) -> np.ndarray:
    """0 = highest reward; equal rewards share a rank."""
    return np.unique(-np.asarray(rewards, np.float64), return_inverse=True)[1].astype(np.int64).reshape(-1)


class RewardModel:
    """Bradley–Terry reward model (the vanilla RLHF baseline, or the social reward model).

    Parameters
    ----------
    mode : {'auto', 'tokens', 'features'}
        'auto' takes the mode of the training data.
    width : int
        Model width C (token mode). Default 32.
    n_encoder_layers, n_decoder_layers : int
        Prompt-encoder / completion-decoder layers (token mode). Default 8 each.
    n_heads : int
        Attention heads (width must be a multiple). Default 1.
    ff_hidden : int or None
        Feed-forward hidden width; None = 4 × width.
    hidden_sizes : sequence of int
        Hidden layer widths of the feature-mode MLP (at most 8). Default (64, 64).
    gelu : {'tanh', 'erf'}
    max_prompt_len, max_completion_len : int or None
        Size of the learned position tables (token mode); None = the training data's widths.
        Prompts / completions scored later may not be longer.
    optimizer : {'adamw', 'adafactor'}
    learning_rate : float
        Peak learning rate (default 1e-3).
    weight_decay : float
        Decoupled weight decay (default 0).
    n_steps : int
        Optimiser steps of one ``fit`` (default 2000).
    batch_size : int
        Pairs per step (default 128).
    max_grad_norm : float
        Global-norm gradient clipping; 0 disables it (default 1).
    warmup_steps : int
        Linear learning-rate warm-up (default 0).
    decay_start : float
        Fraction of ``n_steps`` after which the learning rate decays (cosine) to
        ``lr_floor × learning_rate`` (default 0.5: decay in the second half).
    lr_floor : float
        Final learning rate as a fraction of the peak (default 0.05).
    init_std : float
        Standard deviation of the token model's initial matrices (default 0.02; the feature MLP
        uses 1/√fan_in).
    chunk : int
        Pairs per parallel work unit. Results depend on it (and on the seed), not on the threads.
    progress_every : int
        Steps between returns from C: progress bar, ``history_`` and ``callback`` (default 100).
    verbose : bool
        Show a tqdm progress bar with the loss.
    callback : callable, optional
        ``callback(step, loss)`` every ``progress_every`` steps (loss = mean over those steps); a
        true return value stops training.
    random_state : int, numpy Generator or None
        Seed of the initialisation and of the minibatch draws.
    n_threads : int or None
        OpenMP threads (None or 0 = all cores).

    Attributes
    ----------
    mode_ : str
    core_ : socialrm._core.RewardCore
        The C model (parameters, optimiser state).
    history_ : dict of lists
        ``step`` and ``loss`` (mean loss over each ``progress_every`` steps).
    n_steps_ : int
        Optimiser steps taken.
    n_pairs_ : int
        Training pairs.
    interrupted_ : bool
        True if training was stopped by the callback or KeyboardInterrupt.
    vocab_size_, prompt_dim_, completion_dim_ : int
        Input sizes of the fitted model.

    Examples
    --------
    >>> import socialrm as srm
    >>> from socialrm.reward import RewardModel
    >>> data = srm.examples.four_types(n_raters=200, seed=0, mode="features")
    >>> rm = RewardModel(n_steps=300, random_state=0, hidden_sizes=(32,)).fit(data)
    >>> rm.score([0, 0], [0, 1]).shape
    (2,)
    """

    def __init__(
        self,
        mode: str = "auto",
        *,
        width: int = 32,
        n_encoder_layers: int = 8,
        n_decoder_layers: int = 8,
        n_heads: int = 1,
        ff_hidden: int | None = None,
        hidden_sizes: Sequence[int] = (64, 64),
        gelu: str = "tanh",
        max_prompt_len: int | None = None,
        max_completion_len: int | None = None,
        optimizer: str = "adamw",
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        n_steps: int = 2000,
        batch_size: int = 128,
        max_grad_norm: float = 1.0,
        warmup_steps: int = 0,
        decay_start: float = 0.5,
        lr_floor: float = 0.05,
        init_std: float = 0.02,
        chunk: int = 16,
        progress_every: int = 100,
        verbose: bool = False,
        callback: Callable[[int, float], object] | None = None,
        random_state: int | np.random.Generator | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.mode = mode
        self.width = width
        self.n_encoder_layers = n_encoder_layers
        self.n_decoder_layers = n_decoder_layers
        self.n_heads = n_heads
        self.ff_hidden = ff_hidden
        self.hidden_sizes = hidden_sizes
        self.gelu = gelu
        self.max_prompt_len = max_prompt_len
        self.max_completion_len = max_completion_len
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.n_steps = n_steps
        self.batch_size = batch_size
        self.max_grad_norm = max_grad_norm
        self.warmup_steps = warmup_steps
        self.decay_start = decay_start
        self.lr_floor = lr_floor
        self.init_std = init_std
        self.chunk = chunk
        self.progress_every = progress_every
        self.verbose = verbose
        self.callback = callback
        self.random_state = random_state
        self.n_threads = n_threads

    # ---- scikit-learn plumbing ----------------------------------------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters as a dict (scikit-learn convention)."""
        return {name: getattr(self, name) for name in _HYPER}

    def set_params(self, **params: Any) -> RewardModel:
        """Set hyper-parameters (scikit-learn convention); returns self."""
        for name, value in params.items():
            if name not in _HYPER:
                raise ValueError(f"set_params: unknown parameter '{name}'")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        return f"RewardModel(mode={self.mode!r}, n_steps={self.n_steps}, random_state={self.random_state!r})"

    # ---- fitting ------------------------------------------------------------------------------

    def fit(self, data, sample_weight: Any = None) -> RewardModel:
        """Vanilla RLHF: train on every raw rater comparison of ``data`` (``data.pairs()``).

        Parameters
        ----------
        data : PreferenceData
        sample_weight : array-like of float, shape (n_pairs,), optional
            Weight of each pair of ``data.pairs()``. By default the raters' weights
            (``data.rater_weights``) if the data has them, else 1.

        Returns
        -------
        self
        """
        tables = self._tables_of(data, "data")
        pairs = data.pairs()
        if sample_weight is None and getattr(data, "rater_weights", None) is not None:
            sample_weight = np.asarray(data.rater_weights, np.float64)[pairs.rater]
        return self._fit(tables, pairs.prompt, pairs.winner, pairs.loser, sample_weight, getattr(data, "vocab_size", None))

    def fit_pairs(
        self,
        prompt_ids: Any,
        winner_ids: Any,
        loser_ids: Any,
        data=None,
        *,
        prompt_tokens: Any = None,
        completion_tokens: Any = None,
        prompt_features: Any = None,
        completion_features: Any = None,
        vocab_size: int | None = None,
        sample_weight: Any = None,
    ) -> RewardModel:
        """Train on explicit comparisons: completion ``winner_ids[i]`` ≻ ``loser_ids[i]`` on
        prompt ``prompt_ids[i]``.

        The ids index the prompt and completion tables, taken from ``data`` (a PreferenceData) or
        given as ``prompt_tokens``/``completion_tokens`` (int32 [n, T], 0 = pad) or
        ``prompt_features``/``completion_features`` (float [n, d]).
        """
        if data is not None:
            tables = self._tables_of(data, "data")
            vocab_size = getattr(data, "vocab_size", None) if vocab_size is None else vocab_size
        else:
            tables = self._explicit_tables(prompt_tokens, completion_tokens, prompt_features, completion_features)
        return self._fit(tables, prompt_ids, winner_ids, loser_ids, sample_weight, vocab_size)

    def fit_orders(
        self,
        prompts: Any,
        completions: Sequence[Any],
        orders: Sequence[Any],
        data=None,
        *,
        prompt_tokens: Any = None,
        completion_tokens: Any = None,
        prompt_features: Any = None,
        completion_features: Any = None,
        vocab_size: int | None = None,
        sample_weight: Any = None,
    ) -> RewardModel:
        """Train on social orders: every pair each order implies (ties give no pair).

        Parameters
        ----------
        prompts : array-like of int, shape (K,)
            Prompt id of each order.
        completions : sequence of K array-likes of int
            The completion ids each order ranks.
        orders : sequence of K SocialOrder or rank arrays
            Rank of each completion (0 = best, equal = tied), aligned with ``completions[k]``.
        data, prompt_tokens, completion_tokens, prompt_features, completion_features, vocab_size
            The tables, as in :meth:`fit_pairs`.
        sample_weight : array-like of float, shape (K,), optional
            Weight of each order (given to each of its pairs).
        """
        pp, pw, pl, pwt = self.pairs_from_orders(prompts, completions, orders, sample_weight)
        return self.fit_pairs(pp, pw, pl, data, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                              prompt_features=prompt_features, completion_features=completion_features,
                              vocab_size=vocab_size, sample_weight=pwt)

    @staticmethod
    def pairs_from_orders(prompts: Any, completions: Sequence[Any], orders: Sequence[Any],
                          sample_weight: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Every (prompt, winner, loser) an order implies: ``ranks[i] < ranks[j]`` gives
        completion i ≻ j; ties give no pair. Returns int32 arrays and the per-pair weights."""
        prompts = _ids(prompts, "prompts")
        if len(completions) != len(prompts) or len(orders) != len(prompts):
            raise ValueError(f"prompts, completions, orders: lengths differ ({len(prompts)}, {len(completions)}, "
                             f"{len(orders)})")
        weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight, np.float64)
            if weights.shape != (len(prompts),):
                raise ValueError(f"sample_weight: expected one weight per order ({len(prompts)}), got shape "
                                 f"{weights.shape}")
        out_p, out_w, out_l, out_wt = [], [], [], []
        for k in range(len(prompts)):
            comp = _ids(completions[k], f"completions[{k}]")
            order = orders[k]
            ranks = np.asarray(getattr(order, "ranks", order))
            if ranks.shape != comp.shape:
                raise ValueError(f"orders[{k}]: {ranks.shape[0] if ranks.ndim else 0} ranks for {comp.shape[0]} "
                                 f"completions")
            if ranks.size and ranks.dtype.kind not in "iu":
                raise TypeError(f"orders[{k}]: ranks must be integers (0 = best), got dtype {ranks.dtype}")
            if len(np.unique(comp)) != len(comp):
                raise ValueError(f"completions[{k}]: a completion is listed twice")
            i, j = np.nonzero(ranks[:, None] < ranks[None, :])
            out_p.append(np.full(len(i), prompts[k], np.int32))
            out_w.append(comp[i])
            out_l.append(comp[j])
            if weights is not None:
                out_wt.append(np.full(len(i), weights[k]))
        cat = (lambda xs: np.concatenate(xs).astype(np.int32)) if out_p else (lambda xs: np.zeros(0, np.int32))
        return cat(out_p), cat(out_w), cat(out_l), (np.concatenate(out_wt) if out_wt else None)

    # ---- internals ----------------------------------------------------------------------------

    @staticmethod
    def _tables_of(data, name: str) -> dict[str, np.ndarray | None]:
        if not all(hasattr(data, a) for a in _TABLES):
            raise TypeError(f"{name}: expected a PreferenceData, got {type(data).__name__}")
        return {a: getattr(data, a) for a in _TABLES}

    @staticmethod
    def _explicit_tables(pt, ct, pf, cf) -> dict[str, np.ndarray | None]:
        tables = {"prompt_tokens": _table(pt, "prompt_tokens", np.int32),
                  "completion_tokens": _table(ct, "completion_tokens", np.int32),
                  "prompt_features": _table(pf, "prompt_features", np.float32),
                  "completion_features": _table(cf, "completion_features", np.float32)}
        tok = tables["prompt_tokens"] is not None and tables["completion_tokens"] is not None
        feat = tables["prompt_features"] is not None and tables["completion_features"] is not None
        if tok == feat:
            raise ValueError("give either prompt_tokens and completion_tokens, or prompt_features and "
                             "completion_features (or data)")
        return tables

    def _resolve_mode(self, tables) -> str:
        has_tok = tables["prompt_tokens"] is not None and tables["completion_tokens"] is not None
        has_feat = tables["prompt_features"] is not None and tables["completion_features"] is not None
        if self.mode not in ("auto", "tokens", "features"):
            raise ValueError(f"mode: expected 'auto', 'tokens' or 'features', got {self.mode!r}")
        mode = self.mode
        if mode == "auto":
            mode = "tokens" if has_tok else "features"
        if mode == "tokens" and not has_tok:
            raise ValueError("mode='tokens' but the data has no token ids")
        if mode == "features" and not has_feat:
            raise ValueError("mode='features' but the data has no feature vectors")
        return mode

    def _check_hyper(self) -> dict[str, Any]:
        if self.optimizer not in ("adamw", "adafactor"):
            raise ValueError(f"optimizer: expected 'adamw' or 'adafactor', got {self.optimizer!r}")
        if self.gelu not in ("tanh", "erf"):
            raise ValueError(f"gelu: expected 'tanh' or 'erf', got {self.gelu!r}")
        if self.callback is not None and not callable(self.callback):
            raise TypeError("callback: expected a callable or None")
        try:
            hidden = tuple(self.hidden_sizes)
        except TypeError:
            raise TypeError(f"hidden_sizes: expected a sequence of ints, got {type(self.hidden_sizes).__name__}") \
                from None
        if len(hidden) > 8:
            raise ValueError(f"hidden_sizes: at most 8 layers, got {len(hidden)}")
        width = _int_param(self.width, "width", 1, 4096)
        return {
            "width": width,
            "n_encoder_layers": _int_param(self.n_encoder_layers, "n_encoder_layers", 0, 64),
            "n_decoder_layers": _int_param(self.n_decoder_layers, "n_decoder_layers", 0, 64),
            "n_heads": _int_param(self.n_heads, "n_heads", 1, 4096),
            "ff_hidden": 4 * width if self.ff_hidden is None else _int_param(self.ff_hidden, "ff_hidden", 1, 1 << 16),
            "hidden_sizes": [_int_param(h, "hidden_sizes", 1, 1 << 16) for h in hidden],
            "learning_rate": _float_param(self.learning_rate, "learning_rate", 0.0),
            "weight_decay": _float_param(self.weight_decay, "weight_decay", 0.0),
            "n_steps": _int_param(self.n_steps, "n_steps", 0, 1 << 28),
            "batch_size": _int_param(self.batch_size, "batch_size", 1, 1 << 20),
            "max_grad_norm": _float_param(self.max_grad_norm, "max_grad_norm", 0.0),
            "warmup_steps": _int_param(self.warmup_steps, "warmup_steps", 0),
            "decay_start": _float_param(self.decay_start, "decay_start", 0.0, 1.0),
            "lr_floor": _float_param(self.lr_floor, "lr_floor", 0.0, 1.0),
            "init_std": _float_param(self.init_std, "init_std", 0.0),
            "chunk": _int_param(self.chunk, "chunk", 1, 1 << 20),
            "progress_every": _int_param(self.progress_every, "progress_every", 1),
        }

    def _fit(self, tables, prompt_ids, winner_ids, loser_ids, sample_weight, vocab_size) -> RewardModel:
        hp = self._check_hyper()
        n_threads = check_n_threads(self.n_threads)
        mode = self._resolve_mode(tables)
        if mode == "tokens":
            tables = {"prompt_tokens": _table(tables["prompt_tokens"], "prompt_tokens", np.int32),
                      "completion_tokens": _table(tables["completion_tokens"], "completion_tokens", np.int32),
                      "prompt_features": None, "completion_features": None}
        else:
            tables = {"prompt_tokens": None, "completion_tokens": None,
                      "prompt_features": _table(tables["prompt_features"], "prompt_features", np.float32),
                      "completion_features": _table(tables["completion_features"], "completion_features",
                                                    np.float32)}
        pp, pw, pl = _ids(prompt_ids, "prompt_ids"), _ids(winner_ids, "winner_ids"), _ids(loser_ids, "loser_ids")
        if not (len(pp) == len(pw) == len(pl)):
            raise ValueError(f"prompt_ids, winner_ids, loser_ids: lengths differ ({len(pp)}, {len(pw)}, {len(pl)})")
        if len(pp) == 0:
            raise ValueError("no training pairs: the data implies no comparison (empty data, or only ties / "
                             "single-completion rankings)")
        weights = None
        if sample_weight is not None:
            w = np.asarray(sample_weight, np.float64)
            if w.shape != pp.shape:
                raise ValueError(f"sample_weight: expected shape {pp.shape}, got {w.shape}")
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError("sample_weight: weights must be finite and >= 0")
            if w.sum() <= 0:
                raise ValueError("sample_weight: all weights are zero")
            weights = (w / w.mean()).astype(np.float32)  # mean 1: the learning rate keeps its meaning
        seed = seed_from_random_state(self.random_state)
        if mode == "tokens":
            pt, ct = tables["prompt_tokens"], tables["completion_tokens"]
            if vocab_size is None:
                vocab_size = int(max(pt.max(initial=0), ct.max(initial=0))) + 1
            vocab_size = _int_param(vocab_size, "vocab_size", 2)
            max_tp = pt.shape[1] if self.max_prompt_len is None else _int_param(self.max_prompt_len,
                                                                                   "max_prompt_len", 1)
            max_tc = ct.shape[1] if self.max_completion_len is None else _int_param(
                self.max_completion_len, "max_completion_len", 1)
            arch = {"mode": mode, "vocab_size": vocab_size, "width": hp["width"], "n_heads": hp["n_heads"],
                    "ff_hidden": hp["ff_hidden"], "n_encoder_layers": hp["n_encoder_layers"],
                    "n_decoder_layers": hp["n_decoder_layers"], "max_prompt_len": max_tp,
                    "max_completion_len": max_tc}
        else:
            arch = {"mode": mode, "prompt_dim": tables["prompt_features"].shape[1],
                    "completion_dim": tables["completion_features"].shape[1], "hidden_sizes": hp["hidden_sizes"]}
        arch.update(gelu=self.gelu, chunk=hp["chunk"], max_batch=hp["batch_size"], init_std=hp["init_std"], seed=seed)
        core = _core.RewardCore(**arch)
        core.set_optimizer(self.optimizer, weight_decay=hp["weight_decay"])
        # zero steps: the C core validates the tables and the pairs (ids, winner != loser, weights)
        core.train(*[tables[a] for a in _TABLES], pp, pw, pl, weights, 0, batch=hp["batch_size"],
                   n_threads=n_threads)
        # Everything validated: set the fitted state, then train (an interrupted fit keeps it).
        self.core_ = core
        self.arch_ = arch
        self.mode_ = mode
        self.items_ = tables
        self.vocab_size_ = arch.get("vocab_size", 0)
        self.prompt_dim_ = arch.get("prompt_dim", 0)
        self.completion_dim_ = arch.get("completion_dim", 0)
        self.n_pairs_ = len(pp)
        self.history_ = {"step": [], "loss": []}
        self.n_steps_ = 0
        self.interrupted_ = False
        self._train(core, tables, pp, pw, pl, weights, hp, seed, n_threads)
        return self

    def _train(self, core, tables, pp, pw, pl, weights, hp, seed, n_threads) -> None:
        total, every = hp["n_steps"], hp["progress_every"]
        bar = None
        if self.verbose:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc="RewardModel", leave=False)
        args = [tables[a] for a in _TABLES]
        try:
            done = 0
            while done < total:
                k = min(every, total - done)
                losses = core.train(*args, pp, pw, pl, weights, k, batch=hp["batch_size"], lr=hp["learning_rate"],
                                    warmup_steps=hp["warmup_steps"], total_steps=total,
                                    decay_start=hp["decay_start"], floor=hp["lr_floor"],
                                    max_grad_norm=hp["max_grad_norm"], seed=seed, n_threads=n_threads)
                done += k
                self.n_steps_ = done
                loss = float(np.mean(losses))
                self.history_["step"].append(done)
                self.history_["loss"].append(loss)
                if bar is not None:
                    bar.update(k)
                    bar.set_postfix(loss=f"{loss:.4f}")
                if self.callback is not None and self.callback(done, loss):
                    self.interrupted_ = True
                    break
        except KeyboardInterrupt:
            # The C loop returns after its chunk of steps; the parameters reached are kept.
            self.interrupted_ = True
            self.n_steps_ = core.n_steps()
            raise
        finally:
            if bar is not None:
                bar.close()

    # ---- scoring ------------------------------------------------------------------------------

    def _score_tables(self, tables, prompt_ids, completion_ids) -> np.ndarray:
        n_threads = check_n_threads(self.n_threads)
        p, c = _ids(prompt_ids, "prompt_ids"), _ids(completion_ids, "completion_ids")
        if len(p) != len(c):
            raise ValueError(f"prompt_ids, completion_ids: lengths differ ({len(p)}, {len(c)})")
        if len(p) == 0:
            return np.zeros(0, np.float32)
        return self.core_.score(*[tables[a] for a in _TABLES], p, c, n_threads=n_threads)

    def score(self, prompt_ids: Any, completion_ids: Any, data=None) -> np.ndarray:
        """Rewards of (prompt, completion) pairs given by ids into the training tables (or into
        ``data``'s tables, e.g. new prompts and completions in a PreferenceData).

        Returns
        -------
        ndarray of float32, shape (n,)
        """
        check_is_fitted(self, "core_")
        tables = self.items_
        if data is not None:
            tables = self._typed(self._tables_of(data, "data"))
        return self._score_tables(tables, prompt_ids, completion_ids)

    def _typed(self, tables) -> dict[str, np.ndarray | None]:
        """The mode's two tables converted and checked; the other two None."""
        tokens = self.mode_ == "tokens"
        keys = ("prompt_tokens", "completion_tokens") if tokens else ("prompt_features", "completion_features")
        out: dict[str, np.ndarray | None] = dict.fromkeys(_TABLES)
        for a in keys:
            if tables.get(a) is None:
                raise ValueError(f"{a}: required by this {self.mode_}-mode model")
            out[a] = _table(tables[a], a, np.int32 if tokens else np.float32)
        return out

    def score_tokens(self, prompt_tokens: Any, completion_tokens: Any) -> np.ndarray:
        """Rewards of new items: row i of ``prompt_tokens`` [n, Tp] with row i of
        ``completion_tokens`` [n, Tc] (int32 ids, 0 = pad). Returns float32 [n]."""
        check_is_fitted(self, "core_")
        if self.mode_ != "tokens":
            raise ValueError("score_tokens: this model works on features; use score_features")
        t = self._typed({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                         "prompt_features": None, "completion_features": None})
        n = t["prompt_tokens"].shape[0]
        if t["completion_tokens"].shape[0] != n:
            raise ValueError(f"prompt_tokens, completion_tokens: row counts differ ({n}, "
                             f"{t['completion_tokens'].shape[0]})")
        ids = np.arange(n, dtype=np.int32)
        return self._score_tables(t, ids, ids) if n else np.zeros(0, np.float32)

    def score_features(self, prompt_features: Any, completion_features: Any) -> np.ndarray:
        """Rewards of new items: row i of ``prompt_features`` [n, d_p] with row i of
        ``completion_features`` [n, d_c]. Returns float32 [n]."""
        check_is_fitted(self, "core_")
        if self.mode_ != "features":
            raise ValueError("score_features: this model works on token ids; use score_tokens")
        t = self._typed({"prompt_tokens": None, "completion_tokens": None, "prompt_features": prompt_features,
                         "completion_features": completion_features})
        n = t["prompt_features"].shape[0]
        if t["completion_features"].shape[0] != n:
            raise ValueError(f"prompt_features, completion_features: row counts differ ({n}, "
                             f"{t['completion_features'].shape[0]})")
        ids = np.arange(n, dtype=np.int32)
        return self._score_tables(t, ids, ids) if n else np.zeros(0, np.float32)

    def rank(self, prompt: int, completions: Any, data=None):
        """The model's order of ``completions`` (ids) on ``prompt``, as a SocialOrder (ranks 0 =
        best, equal rewards tie; ``scores`` = the rewards)."""
        from .choice import SocialOrder

        comp = _ids(completions, "completions")
        rewards = self.score(np.full(len(comp), prompt, np.int32), comp, data)
        return SocialOrder(_dense_ranks_from_scores(rewards), scores=rewards, rule="reward_model")

    # ---- parameters ---------------------------------------------------------------------------

    def param_names(self) -> list[str]:
        """Names of the parameter tensors, in storage order."""
        check_is_fitted(self, "core_")
        return [name for name, _, _ in self.core_.param_info()]

    def get_param(self, name: str) -> np.ndarray:
        """Zero-copy, writable float32 view of parameter ``name`` (its base keeps the model alive)."""
        check_is_fitted(self, "core_")
        return self.core_.param(name)

    @property
    def params_(self) -> dict[str, np.ndarray]:
        """Every parameter as a zero-copy view, by name."""
        check_is_fitted(self, "core_")
        return {name: self.core_.param(name) for name in self.param_names()}

    # ---- persistence --------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Save parameters, the item tables and the configuration as one safetensors file
        (config in the metadata; temp file + rename). Never pickles."""
        check_is_fitted(self, "core_")
        tensors = dict(self.params_)
        for a, t in self.items_.items():
            if t is not None:
                tensors[f"items.{a}"] = t
        hyper = {k: v for k, v in self.get_params().items() if k not in ("callback", "random_state")}
        hyper["hidden_sizes"] = list(hyper["hidden_sizes"])
        meta = {"format": _FORMAT, "version": str(_FORMAT_VERSION), "arch": json.dumps(self.arch_),
                "hyper": json.dumps(hyper), "history": json.dumps(self.history_),
                "state": json.dumps({"n_steps_": self.n_steps_, "n_pairs_": self.n_pairs_,
                                     "interrupted_": self.interrupted_})}
        _io.save_safetensors(path, tensors, meta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> RewardModel:
        """Load a model written by :meth:`save`. Truncated or corrupted files raise ValueError."""
        tensors, meta = _io.load_safetensors(path)
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{path}: not a socialrm RewardModel file (format {meta.get('format')!r})")
        try:
            arch = json.loads(meta["arch"])
            hyper = json.loads(meta["hyper"])
            history = json.loads(meta["history"])
            state = json.loads(meta["state"])
        except (KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: corrupted RewardModel metadata ({exc})") from None
        model = cls(**hyper)
        core = _core.RewardCore(**arch)
        names = [name for name, _, _ in core.param_info()]
        for name in names:
            if name not in tensors:
                raise ValueError(f"{path}: missing parameter tensor '{name}'")
            view = core.param(name)
            if tensors[name].shape != view.shape or tensors[name].dtype != np.float32:
                raise ValueError(f"{path}: tensor '{name}' has shape {tensors[name].shape} "
                                 f"{tensors[name].dtype}, expected {view.shape} float32")
            view[...] = tensors[name]
        core.set_optimizer(model.optimizer, weight_decay=float(model.weight_decay))
        model.core_ = core
        model.arch_ = arch
        model.mode_ = arch["mode"]
        model.items_ = {a: (np.ascontiguousarray(tensors[f"items.{a}"]) if f"items.{a}" in tensors else None)
                        for a in _TABLES}
        model.vocab_size_ = arch.get("vocab_size", 0)
        model.prompt_dim_ = arch.get("prompt_dim", 0)
        model.completion_dim_ = arch.get("completion_dim", 0)
        model.history_ = history
        model.n_steps_ = state["n_steps_"]
        model.n_pairs_ = state["n_pairs_"]
        model.interrupted_ = state["interrupted_"]
        return model
