"""Masking curriculum, batching and schedules of the individual reward model, in plain NumPy.

Test/benchmark-only reference (DESIGN §4 "Masking curriculum").  The C training loop must follow
these rules; it draws its randomness from Philox counters instead of NumPy, so it is checked
against this module *statistically* (frequencies of modes, visible counts, output-list sizes) and
exactly on the deterministic parts (``full_batch``, ``RepeatSchedule``, ``beta_at``,
``LRSchedule``).

Rules, pinned down
------------------
Batch.  ``batch_size`` raters drawn uniformly without replacement (with replacement only when the
dataset has fewer raters than ``batch_size``).  Each rater's prompt entries are put in a random
order (``shuffle_prompts``; the prompt position is then a grouping label, not a prompt identity,
so a profile with one prompt at position 0 is in the training distribution); at most
``max_prompts`` entries are kept (the first ones after shuffling).

Per rater (only when ``repeat > 1``, i.e. after 11 raises, and the rater has >= 2 entries):
with probability ``p_hide_prompt`` one entry, uniform, is hidden whole from the encoder (prompt
tokens and every completion slot invisible); its output list is its full ranking.

Per (rater, entry) not hidden whole, with ranking ``L`` (best first, length n):

* dummy mode, probability ``p_dummy``: one index v uniform in [0, n) stays visible *in its true
  slot v* (other slots are pad, positions kept); outputs = ``L`` minus ``L[v]``, plus ``L[v]`` with
  probability ``min(repeat, 1)``;
* mask mode otherwise: each completion is hidden independently with probability ``p_hide``; the
  visible ones are packed into slots 0..k-1 in their true relative order, slots k..n-1 are pad;
  outputs = hidden ones, plus each visible one independently with probability ``min(repeat, 1)``.

Output lists are always in true order (best first), packed into slots 0..m-1.  The encoder grid
and the output grid have the same shape [B, NP, S] with NP = the batch's largest number of
entries per rater and S = the batch's longest ranking; the prompt position of an entry is its index
along NP and the rank position of an encoder slot its index along S.

Redraw.  The ListMLE average runs over lists with >= 2 output items (a 1-item list has likelihood 1
and carries no signal).  A batch with no such list (this includes "fewer than 2 output positions in
total") is discarded and redrawn whole (raters and masks), at most ``max_redraws`` times.

``repeat`` (``RepeatSchedule``).  repeat = 0.1 × raises (kept as an integer count so that
"repeat > 1" means raises >= 11 exactly).  After every step the batch's mean ListMLE is
recorded; every ``check_every`` steps (when ``step + 1`` is a multiple of it), if the window holds
>= ``window`` losses, take the last ``window`` losses, first third ``A`` and last third ``C``: if
``median(A) <= quantile(C, 0.55)`` (NumPy's default linear interpolation) the loss has stabilised,
raises += 1 and, with ``reset_window`` (default), the window restarts empty (losses recorded up to
and including this step are no longer used).

Stop (``should_stop``).  raises >= 11 and the mean ListMLE of the last ``stop_window`` steps is
below ``stop_threshold``.

KL weight (``beta_at``).  0 for steps < ``kl_zero_steps``; then linear warm-up
``beta * min(1, (step - kl_zero_steps + 1) / kl_warmup_steps)``.  Free bits
(``free_bits`` = λ per dimension, 0 = off) are applied in the loss: sum_j max(mean_b KL_bj, λ).

Learning rate (``LRSchedule``).  Constant ``lr`` until ``decay_start``, then cosine from ``lr`` to
``lr_final_frac × lr`` at ``end``: lr(t) = lr·(f + (1 − f)·½(1 + cos(π·(t − start)/(end − start)))).
Defaults: start = max_steps // 2, end = max_steps.  When the stopping rule first holds at step t
before the decay has begun, the decay is moved to [t, min(max_steps, 2t)] (the "second half" of the
run as it turned out) and training ends at its end; so the final state is always a decayed one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class CurriculumConfig:
    batch_size: int = 128
    p_dummy: float = 0.2
    p_hide: float = 0.5
    repeat_step: float = 0.1
    check_every: int = 100
    window: int = 900
    stable_quantile: float = 0.55
    reset_window: bool = True
    stop_threshold: float = 2.0
    stop_window: int = 300
    p_hide_prompt: float = 0.3
    shuffle_prompts: bool = True
    max_prompts: int = 16
    max_completions: int = 16
    max_redraws: int = 1000
    # KL schedule
    beta: float = 0.1
    kl_zero_steps: int = 2000
    kl_warmup_steps: int = 2000
    free_bits: float = 0.0
    # optimisation
    lr: float = 5e-3
    lr_final_frac: float = 0.05
    max_steps: int = 20000
    clip_norm: float = 1.0


@dataclass
class Batch:
    """One training (or embedding) batch, all arrays NumPy.

    Local ids index ``prompt_ids`` / ``completion_ids`` (the batch's distinct prompts and
    completions, global ids ascending), so each prompt and completion is interpreted once per batch.

    prompt_ids        [Up]        global prompt ids
    completion_ids    [Uc]        global completion ids
    completion_prompt [Uc]        local prompt id of each completion
    entry_prompt      [B, NP]     local prompt id of the rater's entry at prompt position i (0 on pad)
    entry_mask        [B, NP]     entry exists (pad entries: rater has fewer prompts)
    prompt_visible    [B, NP]     encoder sees this entry's prompt tokens (False on pad / hidden whole)
    enc_completion    [B, NP, S]  local completion id in encoder slot s (0 on pad)
    enc_mask          [B, NP, S]  slot visible to the encoder
    out_completion    [B, NP, S]  output list, true order, packed (0 on pad)
    out_mask          [B, NP, S]  output position exists
    rater_ids         [B]         global rater ids
    """

    prompt_ids: np.ndarray
    completion_ids: np.ndarray
    completion_prompt: np.ndarray
    entry_prompt: np.ndarray
    entry_mask: np.ndarray
    prompt_visible: np.ndarray
    enc_completion: np.ndarray
    enc_mask: np.ndarray
    out_completion: np.ndarray
    out_mask: np.ndarray
    rater_ids: np.ndarray

    def n_lists(self) -> int:
        """Lists that enter the ListMLE average (>= 2 output items)."""
        return int((self.out_mask.sum(-1) >= 2).sum())


def repeat_value(raises: int, step: float = 0.1) -> float:
    return raises * step


def _assemble(data, rater_ids, per_rater) -> Batch:
    """Pack per-rater lists of (prompt, visible, enc list of (slot, cid), out list of cid)."""
    B = len(rater_ids)
    NP = max(1, max(len(r) for r in per_rater))
    S = 1
    used_p, used_c = set(), set()
    for r in per_rater:
        for gp, _vis, enc, out, full in r:
            used_p.add(gp)
            used_c.update(int(c) for c in full)
            S = max(S, len(full))
    prompt_ids = np.array(sorted(used_p), dtype=np.int64)
    completion_ids = np.array(sorted(used_c), dtype=np.int64)
    p_local = {int(g): i for i, g in enumerate(prompt_ids)}
    c_local = {int(g): i for i, g in enumerate(completion_ids)}
    entry_prompt = np.zeros((B, NP), np.int64)
    entry_mask = np.zeros((B, NP), bool)
    prompt_visible = np.zeros((B, NP), bool)
    enc_c = np.zeros((B, NP, S), np.int64)
    enc_m = np.zeros((B, NP, S), bool)
    out_c = np.zeros((B, NP, S), np.int64)
    out_m = np.zeros((B, NP, S), bool)
    for b, r in enumerate(per_rater):
        for i, (gp, vis, enc, out, _full) in enumerate(r):
            entry_prompt[b, i] = p_local[gp]
            entry_mask[b, i] = True
            prompt_visible[b, i] = vis
            for s, c in enc:
                enc_c[b, i, s] = c_local[int(c)]
                enc_m[b, i, s] = True
            for s, c in enumerate(out):
                out_c[b, i, s] = c_local[int(c)]
                out_m[b, i, s] = True
    completion_prompt = np.array([p_local[int(data.completion_prompt[c])] for c in completion_ids], np.int64)
    return Batch(prompt_ids, completion_ids, completion_prompt, entry_prompt, entry_mask, prompt_visible,
                 enc_c, enc_m, out_c, out_m, np.asarray(rater_ids, np.int64))


def _draw_rater(data, rater: int, rng: np.random.Generator, raises: int, cfg: CurriculumConfig):
    entries = np.array(list(data.entries(rater)), dtype=np.int64)
    if cfg.shuffle_prompts:
        entries = entries[rng.permutation(len(entries))]
    entries = entries[: cfg.max_prompts]
    rep = min(repeat_value(raises, cfg.repeat_step), 1.0)
    hidden_entry = -1
    if raises > round(1.0 / cfg.repeat_step) and len(entries) >= 2 and rng.random() < cfg.p_hide_prompt:
        hidden_entry = int(rng.integers(len(entries)))
    out_rows = []
    for i, e in enumerate(entries):
        L = data.ranking(int(e))
        n = len(L)
        gp = int(data.entry_prompt[e])
        if i == hidden_entry:
            out_rows.append((gp, False, [], list(L), L))
            continue
        if rng.random() < cfg.p_dummy:
            v = int(rng.integers(n))
            keep = rng.random() < rep
            enc = [(v, L[v])]
            out = [L[j] for j in range(n) if j != v or keep]
        else:
            hide = rng.random(n) < cfg.p_hide
            again = rng.random(n) < rep
            vis = [L[j] for j in range(n) if not hide[j]]
            enc = list(enumerate(vis))
            out = [L[j] for j in range(n) if hide[j] or again[j]]
        out_rows.append((gp, True, enc, out, L))
    return out_rows


def draw_batch(data, rng: np.random.Generator, raises: int, cfg: CurriculumConfig) -> Batch:
    """Draw a training batch under the current curriculum state (redrawing as documented above)."""
    R = data.n_raters
    for _ in range(cfg.max_redraws):
        raters = rng.choice(R, size=cfg.batch_size, replace=R < cfg.batch_size)
        per_rater = [_draw_rater(data, int(r), rng, raises, cfg) for r in raters]
        if any(len(out) >= 2 for rows in per_rater for (_p, _v, _e, out, _f) in rows):
            return _assemble(data, raters, per_rater)
    raise RuntimeError(f"no batch with a 2-item output list after {cfg.max_redraws} draws "
                       "(do any rankings have >= 2 completions?)")


def full_batch(data, rater_ids, prompts=None, max_prompts: int = 16) -> Batch:
    """Embedding batch: every listed prompt visible, every completion in its true slot.

    ``prompts`` (global prompt ids) restricts each rater's profile to those prompts (e.g. one prompt
    alone); entries keep the CSR order and are numbered 0.. among the kept ones.  Outputs are each
    entry's full ranking (so the same batch also scores the rater's own orders).
    """
    per_rater = []
    for r in rater_ids:
        rows = []
        for e in data.entries(int(r)):
            gp = int(data.entry_prompt[e])
            if prompts is not None and gp not in prompts:
                continue
            L = data.ranking(e)
            rows.append((gp, True, list(enumerate(L)), list(L), L))
        per_rater.append(rows[:max_prompts])
    return _assemble(data, rater_ids, per_rater)


class RepeatSchedule:
    """The ``repeat`` raise rule (see module docstring)."""

    def __init__(self, cfg: CurriculumConfig):
        self.cfg = cfg
        self.raises = 0
        self.window: list[float] = []
        self.raise_steps: list[int] = []

    @property
    def repeat(self) -> float:
        return repeat_value(self.raises, self.cfg.repeat_step)

    @property
    def past_one(self) -> bool:
        return self.raises > round(1.0 / self.cfg.repeat_step)

    def record(self, step: int, listmle: float) -> bool:
        """Record step ``step``'s mean ListMLE; return True when repeat was raised at this step."""
        cfg = self.cfg
        self.window.append(float(listmle))
        if len(self.window) > cfg.window:
            del self.window[0]
        if (step + 1) % cfg.check_every != 0 or len(self.window) < cfg.window:
            return False
        third = cfg.window // 3
        w = np.asarray(self.window, dtype=np.float64)
        if np.median(w[:third]) <= np.quantile(w[-third:], cfg.stable_quantile):
            self.raises += 1
            self.raise_steps.append(step)
            if cfg.reset_window:
                self.window.clear()
            return True
        return False


def should_stop(schedule: RepeatSchedule, listmle_history, cfg: CurriculumConfig) -> bool:
    if not schedule.past_one or len(listmle_history) < cfg.stop_window:
        return False
    return float(np.mean(listmle_history[-cfg.stop_window:])) < cfg.stop_threshold


def beta_at(step: int, cfg: CurriculumConfig) -> float:
    if step < cfg.kl_zero_steps:
        return 0.0
    if cfg.kl_warmup_steps <= 0:
        return cfg.beta
    return cfg.beta * min(1.0, (step - cfg.kl_zero_steps + 1) / cfg.kl_warmup_steps)


class LRSchedule:
    """Constant, then cosine decay to ``lr_final_frac`` (moved forward by the stopping rule)."""

    def __init__(self, cfg: CurriculumConfig):
        self.cfg = cfg
        self.start = cfg.max_steps // 2
        self.end = cfg.max_steps

    def __call__(self, step: int) -> float:
        cfg = self.cfg
        if step < self.start:
            return cfg.lr
        frac = min(1.0, (step - self.start) / max(1, self.end - self.start))
        f = cfg.lr_final_frac
        return cfg.lr * (f + (1.0 - f) * 0.5 * (1.0 + math.cos(math.pi * frac)))

    def stop_rule_met(self, step: int) -> None:
        """The stopping rule holds at ``step``: begin the decay now if it has not begun."""
        if step < self.start:
            self.start = step
            self.end = min(self.cfg.max_steps, 2 * step)

    def finished(self, step: int) -> bool:
        return step + 1 >= self.end
