"""The individual reward model (DESIGN §4): one latent preference vector per rater, trained in C.

A rater's ranked completions (over any subset of prompts) are read by a preference encoder into a
latent mean μ; the sampler adds noise μ + s²·ε during training; a latent decoder turns a latent into
a preference representation, and a reward block scores each completion *as that rater would*.
Training runs in the C core (masking curriculum, KL and learning-rate schedules, Adafactor or
AdamW); Python only sees it every ``callback_every`` steps (progress bar, history, Ctrl-C).

Example
-------
>>> import socialrm as srm
>>> from socialrm.models import IndividualRewardModel
>>> data = srm.examples.four_types(n_raters=200, seed=0)
>>> irm = IndividualRewardModel(max_steps=300, progress=False, collapse="ignore", random_state=0).fit(data)
>>> Z = irm.embed_raters(data)
>>> Z.shape
(200, 8)
>>> irm.rewards(Z[:3], 0, data=data).shape  # 3 raters x the 4 completions of prompt 0
(3, 4)
"""

from __future__ import annotations

import json
import math
import numbers
import os
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from . import _core
from ._validation import check_is_fitted, check_n_threads, seed_from_random_state
from .data import PreferenceData
from .io import load_safetensors, save_safetensors

__all__ = ["IndividualRewardModel"]

_FORMAT = "socialrm.IndividualRewardModel/1"
_RECORD_FIELDS = ("loss", "listmle", "kl", "beta", "lr", "repeat", "scale", "grad_norm")
_MODEL_KEYS = (
    "tokens", "vocab", "d_model", "d_latent", "n_heads", "ff_mult", "n_encoder_layers", "n_decoder_layers",
    "n_pref_layers", "n_latent_layers", "latent_hidden", "reward_hidden", "max_prompt_len", "max_completion_len",
    "max_prompts", "max_completions", "prompt_feature_dim", "completion_feature_dim", "scale_init", "vanilla", "seed",
)


def _data_tuple(data: PreferenceData) -> tuple:
    return (
        data.rater_ptr, data.entry_prompt, data.entry_ptr, data.rankings, data.completion_prompt,
        data.prompt_tokens, data.completion_tokens, data.prompt_features, data.completion_features,
    )


def _check_data(data: Any, name: str = "data") -> PreferenceData:
    if not isinstance(data, PreferenceData):
        raise TypeError(f"{name}: expected a socialrm.PreferenceData, got {type(data).__name__}")
    return data


class IndividualRewardModel:
    """Individual reward model: a latent preference space learned from incomplete rater rankings.

    Parameters
    ----------
    d_model, d_latent, n_heads, ff_mult : int
        Token width (16), latent width (8), attention heads (1), feed-forward expansion (4).
    n_encoder_layers, n_decoder_layers, n_pref_layers, n_latent_layers : int
        Prompt encoder (4), completion decoder (4), preference encoder (8), latent decoder (4) depth.
    latent_hidden, reward_hidden : int
        Hidden widths of the latent decoder (32) and of the reward block (64).
    scale_init : float
        Initial sampler scale s (noise std s²), 0.1.
    batch_size : int
        Raters per step (128).
    optimizer : {"adafactor", "adamw"}
        Adafactor with parameter scaling (as ``torch.optim.Adafactor``) or AdamW.
    learning_rate, lr_final_frac : float
        Base rate (5e-3); cosine decay to ``lr_final_frac``·rate over the second half of the run
        (moved to [t, 2t] when the stopping rule holds at step t first).
    clip_norm, weight_decay : float
        Global gradient-norm clip (1.0; 0 = off) and decoupled weight decay (0).
    beta, kl_zero_steps, kl_warmup_steps, free_bits : float, int, int, float
        KL weight β (0.1), held at 0 for the first ``kl_zero_steps`` (2000), then raised linearly
        over ``kl_warmup_steps`` (2000); per-dimension free bits (0 = off).
    scale_lr_mult, scale_freeze_steps : float, int
        The sampler scale's optimiser step is multiplied by ``scale_lr_mult`` (0.1) and frozen for
        the first ``scale_freeze_steps`` (0) steps. Why: Adafactor (and Adam) move a scalar driven
        only by the KL term at full relative speed whatever β is, so once β > 0 the noise σ = s²
        grew ~100x within 500 steps and swamped the type separation (tests/reference/NOTES.md).
        Measured on four_types (seeds 0-2, 8,000 steps): β = 0.1 with the scale at 0.1x speed ends
        with σ 0.07-0.19, type centroids 6-9 σ apart and decoded centroid accuracy 1.0 on all three
        seeds; β = 0.01 at full speed ends with σ ≈ 0.5, centroids 1.4-7 σ apart and 1.0/1.0/0.958.
    p_dummy, p_hide, repeat_step, check_every, stable_window, stable_quantile, reset_window :
        The masking curriculum (DESIGN §4): dummy-mode probability (0.2), per-completion hiding
        probability (0.5), ``repeat`` increment (0.1), stabilisation check every 100 steps over a
        900-step window (median of the first third <= 0.55-quantile of the last), window reset
        after each raise (True).
    p_hide_prompt, hide_prompt_raises : float, int or None
        Probability (0.3) of hiding one whole prompt of a rater from the encoder while keeping its
        order as an output, once ``repeat`` has been raised ``hide_prompt_raises`` times (2; None:
        once repeat > 1, DESIGN's rule, which needs ~11-13k steps). Measured on four_types seeds
        0-2 at 8,000 steps: raters embedded from the ``normal`` prompt alone decoded their orders at
        0.92 / 0.95 / 1.00 with DESIGN's rule (never reached) and 1.00 / 1.00 / 1.00 from the 2nd
        raise (~step 3,700, after the KL warm-up).
    stop_threshold, stop_window : float, int
        Stop once repeat > 1 and the mean ListMLE of the last ``stop_window`` (300) steps is below
        ``stop_threshold`` (2.0) — after the learning-rate decay.
    max_steps : int
        Hard limit on training steps (20000); the decay occupies its second half.
    max_prompts, max_completions : int or None
        Sizes of the prompt-position and rank-position tables (None: from the data).
    vanilla : bool
        One shared preference representation instead of the encoder + sampler: a single reward
        model for everyone (the baseline).
    collapse : {"error", "warn", "ignore"}
        What to do when the fitted latent has collapsed (every training rater decodes to the same
        orders on every checked prompt).
    n_threads : int or None
        OpenMP threads (None or 0: all cores). Results are bitwise identical for any thread count
        (fixed chunks of 16 raters, reductions in chunk order). A step is short (~3-5 ms), so on a
        machine shared with other busy processes, threads that spin-wait at OpenMP barriers can make
        several threads slower than one (measured: 2 threads 24 ms vs 1 thread 5.6 ms per step at
        load 4 on 2 cores; 5.6 ms with ``OMP_WAIT_POLICY=passive`` set before Python starts).
    random_state : int, numpy Generator or None
        Seeds initialisation, the curriculum and the sampler noise.
    progress : bool
        Show a tqdm progress bar during ``fit``.
    callback_every : int
        Steps per C call (the granularity of progress, history checks and interruption).
    monitor_raters : int
        Raters embedded at each check for the collapse monitor (256).

    Attributes
    ----------
    config_ : dict
        Model configuration (sizes, mode, vocabulary) as given to the C core.
    history_ : dict of numpy.ndarray
        Per step: ``loss``, ``listmle``, ``kl``, ``beta``, ``lr``, ``repeat``, ``scale``, ``sigma``,
        ``grad_norm`` [n_steps] and ``kl_dim`` [n_steps, d_latent]; per check (every
        ``callback_every`` steps): ``check_step``, ``active_units`` (dimensions whose standard
        deviation over raters' μ exceeds σ/2) and ``spread`` (median pairwise distance of rater
        μ's / σ), on a fixed sample of ``monitor_raters`` training raters.
    n_steps_ : int
        Steps trained.
    stop_reason_ : str
        ``"stopping rule"``, ``"max_steps"``, ``"interrupted"`` or ``"callback"``.
    raise_steps_ : list of int
        Steps at which ``repeat`` was raised.
    diagnostics_ : dict
        The final collapse diagnostics (:meth:`latent_diagnostics` on the training data).
    """

    def __init__(
        self,
        *,
        d_model: int = 16,
        d_latent: int = 8,
        n_heads: int = 1,
        ff_mult: int = 4,
        n_encoder_layers: int = 4,
        n_decoder_layers: int = 4,
        n_pref_layers: int = 8,
        n_latent_layers: int = 4,
        latent_hidden: int = 32,
        reward_hidden: int = 64,
        scale_init: float = 0.1,
        batch_size: int = 128,
        optimizer: str = "adafactor",
        learning_rate: float = 5e-3,
        lr_final_frac: float = 0.05,
        clip_norm: float = 1.0,
        weight_decay: float = 0.0,
        beta: float = 0.1,
        kl_zero_steps: int = 2000,
        kl_warmup_steps: int = 2000,
        free_bits: float = 0.0,
        scale_lr_mult: float = 0.1,
        scale_freeze_steps: int = 0,
        p_dummy: float = 0.2,
        p_hide: float = 0.5,
        repeat_step: float = 0.1,
        check_every: int = 100,
        stable_window: int = 900,
        stable_quantile: float = 0.55,
        reset_window: bool = True,
        p_hide_prompt: float = 0.3,
        hide_prompt_raises: int | None = 2,
        stop_threshold: float = 2.0,
        stop_window: int = 300,
        max_steps: int = 20000,
        max_prompts: int | None = None,
        max_completions: int | None = None,
        vanilla: bool = False,
        collapse: str = "error",
        n_threads: int | None = None,
        random_state: int | np.random.Generator | None = None,
        progress: bool = True,
        callback_every: int = 100,
        monitor_raters: int = 256,
    ) -> None:
        self.d_model = d_model
        self.d_latent = d_latent
        self.n_heads = n_heads
        self.ff_mult = ff_mult
        self.n_encoder_layers = n_encoder_layers
        self.n_decoder_layers = n_decoder_layers
        self.n_pref_layers = n_pref_layers
        self.n_latent_layers = n_latent_layers
        self.latent_hidden = latent_hidden
        self.reward_hidden = reward_hidden
        self.scale_init = scale_init
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_final_frac = lr_final_frac
        self.clip_norm = clip_norm
        self.weight_decay = weight_decay
        self.beta = beta
        self.kl_zero_steps = kl_zero_steps
        self.kl_warmup_steps = kl_warmup_steps
        self.free_bits = free_bits
        self.scale_lr_mult = scale_lr_mult
        self.scale_freeze_steps = scale_freeze_steps
        self.p_dummy = p_dummy
        self.p_hide = p_hide
        self.repeat_step = repeat_step
        self.check_every = check_every
        self.stable_window = stable_window
        self.stable_quantile = stable_quantile
        self.reset_window = reset_window
        self.p_hide_prompt = p_hide_prompt
        self.hide_prompt_raises = hide_prompt_raises
        self.stop_threshold = stop_threshold
        self.stop_window = stop_window
        self.max_steps = max_steps
        self.max_prompts = max_prompts
        self.max_completions = max_completions
        self.vanilla = vanilla
        self.collapse = collapse
        self.n_threads = n_threads
        self.random_state = random_state
        self.progress = progress
        self.callback_every = callback_every
        self.monitor_raters = monitor_raters

    # ------------------------------------------------------------------ configuration

    def _int_param(self, name: str, low: int) -> int:
        v = getattr(self, name)
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name}: expected an int, got {type(v).__name__}")
        if v < low:
            raise ValueError(f"{name}: must be >= {low}, got {v}")
        return int(v)

    def _float_param(self, name: str, low: float = 0.0, high: float = math.inf) -> float:
        v = getattr(self, name)
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name}: expected a number, got {type(v).__name__}")
        v = float(v)
        if not (low <= v <= high) or math.isnan(v):
            raise ValueError(f"{name}: must be in [{low}, {high}], got {v}")
        return v

    def _model_config(self, data: PreferenceData, seed: int) -> dict:
        tokens = data.prompt_tokens is not None
        n_prompts_max = int(data.max_prompts_per_rater)
        mp = n_prompts_max if self.max_prompts is None else self._int_param("max_prompts", 1)
        mc = int(data.max_list_length) if self.max_completions is None else self._int_param("max_completions", 1)
        if mc < data.max_list_length:
            raise ValueError(f"max_completions: {mc} is shorter than the data's longest ranking ({data.max_list_length})")
        cfg = {
            "tokens": int(tokens),
            "vocab": int(data.vocab_size) if tokens else 2,
            "max_prompt_len": int(data.prompt_tokens.shape[1]) if tokens else 1,
            "max_completion_len": int(data.completion_tokens.shape[1]) if tokens else 1,
            "prompt_feature_dim": 0 if tokens else int(data.prompt_features.shape[1]),
            "completion_feature_dim": 0 if tokens else int(data.completion_features.shape[1]),
            "max_prompts": mp,
            "max_completions": mc,
            "vanilla": int(bool(self.vanilla)),
            "scale_init": self._float_param("scale_init", 1e-6, 1e6),
            "seed": seed,
        }
        for name in ("d_model", "d_latent", "n_heads", "ff_mult", "latent_hidden", "reward_hidden"):
            cfg[name] = self._int_param(name, 1)
        for name in ("n_encoder_layers", "n_decoder_layers", "n_pref_layers", "n_latent_layers"):
            cfg[name] = self._int_param(name, 0)
        return cfg

    def _train_config(self, seed: int) -> dict:
        if self.optimizer not in ("adafactor", "adamw"):
            raise ValueError(f"optimizer: expected 'adafactor' or 'adamw', got {self.optimizer!r}")
        if self.collapse not in ("error", "warn", "ignore"):
            raise ValueError(f"collapse: expected 'error', 'warn' or 'ignore', got {self.collapse!r}")
        cfg = {
            "optimizer": 0 if self.optimizer == "adafactor" else 1,
            "learning_rate": self._float_param("learning_rate", 1e-12, 10.0),
            "lr_final_frac": self._float_param("lr_final_frac", 0.0, 1.0),
            "clip_norm": self._float_param("clip_norm", 0.0, 1e9),
            "weight_decay": self._float_param("weight_decay", 0.0, 1.0),
            "beta": self._float_param("beta", 0.0, 1e6),
            "free_bits": self._float_param("free_bits", 0.0, 1e6),
            "scale_lr_mult": self._float_param("scale_lr_mult", 0.0, 1e6),
            "p_dummy": self._float_param("p_dummy", 0.0, 1.0),
            "p_hide": self._float_param("p_hide", 0.0, 1.0),
            "repeat_step": self._float_param("repeat_step", 1e-6, 1.0),
            "stable_quantile": self._float_param("stable_quantile", 0.0, 1.0),
            "p_hide_prompt": self._float_param("p_hide_prompt", 0.0, 1.0),
            "stop_threshold": self._float_param("stop_threshold", -1e9, 1e9),
            "reset_window": int(bool(self.reset_window)),
            "hide_prompt_raises": -1 if self.hide_prompt_raises is None else self._int_param("hide_prompt_raises", 0),
            "seed": seed,
        }
        for name, low in (("batch_size", 1), ("kl_zero_steps", 0), ("kl_warmup_steps", 0), ("scale_freeze_steps", 0),
                          ("check_every", 1), ("stable_window", 3), ("stop_window", 1), ("max_steps", 1)):
            cfg[name] = self._int_param(name, low)
        self._int_param("callback_every", 1)
        self._int_param("monitor_raters", 2)
        return cfg

    # ------------------------------------------------------------------ fitting

    def fit(self, data: PreferenceData, callback: Callable[[IndividualRewardModel, dict], Any] | None = None
            ) -> IndividualRewardModel:
        """Train on ``data``.

        Parameters
        ----------
        data : PreferenceData
            Raters' rankings (token or feature mode). Validated before training starts.
        callback : callable, optional
            ``callback(model, info)`` every ``callback_every`` steps with the latest numbers
            (``step``, ``loss``, ``listmle``, ``kl``, ``sigma``, ``repeat``, ``active_units``,
            ``spread``); returning True stops training (parameters are kept).

        Returns
        -------
        self
        """
        data = _check_data(data)
        n_threads = check_n_threads(self.n_threads)
        seed = seed_from_random_state(self.random_state)
        mcfg = self._model_config(data, seed)
        tcfg = self._train_config(seed)
        core = _core.IRM(mcfg)
        core.trainer_new(_data_tuple(data), tcfg)  # validates the data against the model
        self.model_ = core
        self.config_ = dict(mcfg)
        self.train_config_ = dict(tcfg)
        monitor = np.sort(np.random.default_rng(seed).permutation(data.n_raters)[: self.monitor_raters])
        records, kl_dims, checks = [], [], []
        stop_reason = "max_steps"
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=tcfg["max_steps"], desc="IndividualRewardModel", leave=False)
        try:
            while True:
                rec, kl_dim, done, finished = core.train(self.callback_every, n_threads)
                records.append(rec[:done])
                kl_dims.append(kl_dim[:done])
                state = core.trainer_state()
                info = self._check_info(data, monitor, rec[done - 1] if done else None, state, n_threads)
                checks.append(info)
                if bar is not None:
                    bar.update(done)
                    bar.set_postfix(loss=f"{info['loss']:.3f}", listmle=f"{info['listmle']:.3f}",
                                    kl=f"{info['kl']:.2f}", scale=f"{info['scale']:.3f}", repeat=f"{info['repeat']:.1f}")
                if finished:
                    stop_reason = "stopping rule" if state["stop_step"] >= 0 else "max_steps"
                    break
                if callback is not None and callback(self, info):
                    stop_reason = "callback"
                    break
        except KeyboardInterrupt:
            stop_reason = "interrupted"
        finally:
            if bar is not None:
                bar.close()
        state = core.trainer_state()
        core.trainer_free()
        rec = np.concatenate(records) if records else np.zeros((0, len(_RECORD_FIELDS)), np.float32)
        hist = {name: rec[:, k].copy() for k, name in enumerate(_RECORD_FIELDS)}
        hist["sigma"] = hist["scale"] ** 2
        hist["kl_dim"] = np.concatenate(kl_dims) if kl_dims else np.zeros((0, mcfg["d_latent"]), np.float32)
        for key in ("check_step", "active_units", "spread"):
            hist[key] = np.array([c[key] for c in checks])
        self.history_ = hist
        self.n_steps_ = int(state["step"])
        self.raise_steps_ = list(state["raise_steps"])
        self.stop_step_ = int(state["stop_step"])
        self.stop_reason_ = stop_reason
        self.diagnostics_ = self.latent_diagnostics(data)
        if stop_reason == "interrupted":
            warnings.warn(f"training interrupted at step {self.n_steps_}; the parameters are kept", RuntimeWarning,
                          stacklevel=2)
        if self.diagnostics_["collapsed"] and self.collapse != "ignore":
            msg = ("the latent has collapsed: every training rater decodes to the same orders on every checked "
                   f"prompt (spread {self.diagnostics_['spread']:.3g} sigma, "
                   f"{self.diagnostics_['active_units']} active units). Try a smaller beta, more kl_zero_steps or "
                   "free_bits; pass collapse='warn' to keep the model anyway")
            if self.collapse == "error":
                raise RuntimeError(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
        return self

    def _check_info(self, data, monitor, last, state, n_threads) -> dict:
        info = {"step": int(state["step"])}
        for k, name in enumerate(_RECORD_FIELDS):
            info[name] = float(last[k]) if last is not None else float("nan")
        info["sigma"] = info["scale"] ** 2
        info["check_step"] = info["step"]
        if self.vanilla:
            info["active_units"], info["spread"] = 0, 0.0
            return info
        mu = self.model_.embed(_data_tuple(data), monitor.astype(np.int64), None, 0, n_threads)
        au, spread = _activity(mu, info["sigma"])
        info["active_units"], info["spread"] = au, spread
        return info

    # ------------------------------------------------------------------ inference

    def _fitted(self) -> None:
        check_is_fitted(self, "model_")

    def _threads(self) -> int:
        return check_n_threads(self.n_threads)

    def embed_raters(
        self,
        data: PreferenceData,
        return_samples: bool = False,
        *,
        raters: Iterable[int] | None = None,
        prompts: Iterable[int] | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Latent means of raters from their (full or partial) profiles.

        Parameters
        ----------
        data : PreferenceData
            Any data over prompts/completions the model can read (same mode, tokens within the
            vocabulary, lengths within the fitted maxima); its raters need not be training raters.
        return_samples : bool
            Also return one sample μ + s²ε per rater.
        raters : iterable of int, optional
            Rater indices (default: all).
        prompts : iterable of int, optional
            Use only these prompts of each profile (e.g. one prompt alone).
        random_state : int, Generator or None
            Seed of the samples.

        Returns
        -------
        numpy.ndarray of shape (n, d_latent), or (means, samples)
        """
        self._fitted()
        data = _check_data(data)
        idx = None
        if raters is not None:
            idx = np.asarray(list(raters) if not isinstance(raters, np.ndarray) else raters)
            if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
                raise TypeError("raters: expected a 1-D sequence of rater indices")
            idx = idx.astype(np.int64)
        keep = None
        if prompts is not None:
            p = np.asarray(list(prompts), dtype=np.int64)
            if p.size and (p.min() < 0 or p.max() >= data.n_prompts):
                raise ValueError(f"prompts: ids must be in [0, {data.n_prompts})")
            keep = np.zeros(data.n_prompts, np.uint8)
            keep[p] = 1
        mu = self.model_.embed(_data_tuple(data), idx, keep, 0, self._threads())
        if not return_samples:
            return mu
        seed = seed_from_random_state(random_state) or 1
        z = self.model_.embed(_data_tuple(data), idx, keep, seed, self._threads())
        return mu, z

    def decode(self, latents: Any) -> np.ndarray:
        """Preference representations [n, d_latent] of latents [n, d_latent]."""
        self._fitted()
        z = np.atleast_2d(np.asarray(latents, dtype=np.float32))
        return self.model_.decode(z, self._threads())

    def _items(self, prompt, completions, data):
        if data is not None:
            data = _check_data(data)
            if isinstance(prompt, (bool, np.bool_)) or not isinstance(prompt, numbers.Integral):
                raise TypeError("prompt: with data=..., expected a prompt id (int)")
            if not 0 <= prompt < data.n_prompts:
                raise ValueError(f"prompt: id {prompt} outside [0, {data.n_prompts})")
            if completions is None:
                comps = data.completions_of(int(prompt))
            else:
                comps = np.asarray(completions, dtype=np.int64).reshape(-1)
                if comps.size and (comps.min() < 0 or comps.max() >= data.n_completions):
                    raise ValueError(f"completions: ids must be in [0, {data.n_completions})")
                if (data.completion_prompt[comps] != prompt).any():
                    raise ValueError(f"completions: some are not completions of prompt {prompt}")
            if data.prompt_tokens is not None:
                return data.prompt_tokens[prompt], data.completion_tokens[comps]
            return data.prompt_features[prompt], data.completion_features[comps]
        if completions is None:
            raise TypeError("completions: required when no data is given (token rows or feature rows)")
        if self.config_["tokens"]:
            return np.asarray(prompt, dtype=np.int32).reshape(-1), np.atleast_2d(np.asarray(completions, np.int32))
        return np.asarray(prompt, dtype=np.float32).reshape(-1), np.atleast_2d(np.asarray(completions, np.float32))

    def rewards(self, latents: Any, prompt: Any, completions: Any = None, *, data: PreferenceData | None = None,
                decoded: bool = False) -> np.ndarray:
        """Rewards ``[n_latents, n_completions]`` of completions of one prompt under each latent.

        Parameters
        ----------
        latents : array-like of shape (n, d_latent)
            Latents, or with ``decoded=True`` their preference representations from :meth:`decode`.
        prompt : int or array-like
            With ``data``: a prompt id. Without: the prompt's token ids (1-D) or feature vector.
        completions : array-like, optional
            With ``data``: completion ids (default: all of the prompt's). Without: token rows
            [m, Lc] (pad 0) or feature rows [m, Fc].
        data : PreferenceData, optional
        decoded : bool
            ``latents`` are already decoded: callers scoring many prompts under the same latents
            (the pipeline's simulated voters) decode once and skip the latent decoder per call.
        """
        self._fitted()
        z = np.atleast_2d(np.asarray(latents, dtype=np.float32))
        p, c = self._items(prompt, completions, data)
        return self.model_.rewards(z, p, c, self._threads(), bool(decoded))

    def rank(self, latents: Any, prompt: Any, completions: Any = None, *, data: PreferenceData | None = None,
             decoded: bool = False) -> np.ndarray:
        """Each latent's ranking: indices into ``completions`` best first, ``[n_latents, n_completions]``."""
        r = self.rewards(latents, prompt, completions, data=data, decoded=decoded)
        return np.argsort(-r, axis=1, kind="stable")

    # ------------------------------------------------------------------ diagnostics

    def latent_diagnostics(self, data: PreferenceData, max_raters: int = 2000, max_prompts: int = 8) -> dict:
        """Collapse diagnostics on ``data``'s raters.

        Returns a dict with ``sigma`` (sampler std s²), ``kl_dim`` (mean KL per dimension of the
        embedded μ's), ``active_units`` (dimensions whose std over raters exceeds σ/2), ``spread`` (median
        pairwise distance between μ's divided by σ), ``decoded_diversity`` (mean over checked
        prompts of the share of rater pairs whose decoded orders differ) and ``collapsed``
        (decoded diversity exactly 0: the reward block ignores the latent).
        """
        self._fitted()
        data = _check_data(data)
        rng = np.random.default_rng(0)
        idx = np.sort(rng.permutation(data.n_raters)[:max_raters]).astype(np.int64)
        mu = self.model_.embed(_data_tuple(data), idx, None, 0, self._threads())
        sigma = float(self.model_.param("scale")[0]) ** 2 if not self.vanilla else 0.0
        out: dict[str, Any] = {"sigma": sigma}
        if self.vanilla:
            out.update(kl_dim=np.zeros(self.config_["d_latent"]), active_units=0, spread=0.0, decoded_diversity=0.0,
                       collapsed=False)
            return out
        var = sigma**2
        out["kl_dim"] = 0.5 * (mu.astype(np.float64) ** 2 + var - 1.0 - math.log(var)).mean(0)
        out["active_units"], out["spread"] = _activity(mu, sigma)
        counts = np.bincount(data.entry_prompt, minlength=data.n_prompts)
        prompts = np.argsort(-counts, kind="stable")[:max_prompts]
        sub = mu[: min(len(mu), 300)]
        div = []
        for p in prompts:
            comps = data.completions_of(int(p))
            if len(comps) < 2:
                continue
            order = self.rank(sub, int(p), data=data)
            codes = np.unique(order, axis=0, return_counts=True)[1].astype(np.float64)
            n = codes.sum()
            div.append(1.0 - float((codes * (codes - 1)).sum() / max(n * (n - 1), 1.0)))
        out["decoded_diversity"] = float(np.mean(div)) if div else 0.0
        out["collapsed"] = out["decoded_diversity"] == 0.0
        return out

    # ------------------------------------------------------------------ parameters, save, load

    @property
    def params_(self) -> dict[str, np.ndarray]:
        """Every parameter by name as a zero-copy float32 view of the C store."""
        self._fitted()
        return {name: self.model_.param(name) for name, _shape, _off in self.model_.param_info()}

    def get_parameter(self, name: str) -> np.ndarray:
        """One parameter as a zero-copy float32 view (KeyError for an unknown name)."""
        self._fitted()
        return self.model_.param(name)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters (scikit-learn convention)."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def save(self, path: str | os.PathLike) -> None:
        """Save parameters and configuration as safetensors (atomic: temp file + rename)."""
        self._fitted()
        meta = {
            "format": _FORMAT,
            "config": json.dumps(self.config_),
            "hyperparameters": json.dumps({k: v for k, v in self.get_params().items() if k != "random_state"},
                                          default=str),
            "n_steps": str(self.n_steps_),
        }
        save_safetensors(path, {k: np.array(v) for k, v in self.params_.items()}, meta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> IndividualRewardModel:
        """Load a model written by :meth:`save` (ValueError for a truncated or foreign file)."""
        tensors, meta = load_safetensors(path)
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{os.fspath(path)}: not an IndividualRewardModel file (format {meta.get('format')!r})")
        try:
            config = json.loads(meta["config"])
            hyper = json.loads(meta.get("hyperparameters", "{}"))
        except (KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"{os.fspath(path)}: corrupted model metadata ({exc})") from None
        if not isinstance(config, dict) or set(config) != set(_MODEL_KEYS):
            raise ValueError(f"{os.fspath(path)}: corrupted model configuration")
        known = set(cls().get_params())
        model = cls(**{k: v for k, v in hyper.items() if k in known})
        core = _core.IRM(config)
        names = {name: tuple(shape) for name, shape, _off in core.param_info()}
        if set(names) != set(tensors):
            raise ValueError(f"{os.fspath(path)}: parameter names do not match the configuration")
        for name, shape in names.items():
            arr = tensors[name]
            if arr.dtype != np.float32 or tuple(arr.shape) != shape:
                raise ValueError(f"{os.fspath(path)}: tensor {name!r} has dtype {arr.dtype} shape {arr.shape}, "
                                 f"expected float32 {shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{os.fspath(path)}: tensor {name!r} holds NaN or infinity")
            core.param(name)[...] = arr
        model.model_ = core
        model.config_ = config
        model.n_steps_ = int(meta.get("n_steps", "0"))
        return model


def _activity(mu: np.ndarray, sigma: float) -> tuple[int, float]:
    """Active units and spread, both relative to the sampler's noise σ.

    A unit is active when its standard deviation over raters' μ exceeds σ / 2: below that, the
    noise added in training drowns the rater-to-rater differences it could carry. (An absolute
    threshold such as Var > 0.01 depends on the latent's scale, which β sets: at β = 0.1 healthy
    μ's vary by ~0.1 while σ ≈ 0.05-0.2.) Spread = median pairwise distance of μ's / σ.
    """
    mu = mu.astype(np.float64)
    au = int((mu.std(0) > 0.5 * sigma).sum()) if sigma > 0 else int((mu.std(0) > 0).sum())
    sub = mu[:256]
    d = np.sqrt(((sub[:, None, :] - sub[None, :, :]) ** 2).sum(-1))
    iu = np.triu_indices(len(sub), 1)
    med = float(np.median(d[iu])) if len(iu[0]) else 0.0
    return au, med / sigma if sigma > 0 else math.inf
