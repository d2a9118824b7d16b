"""PyTorch reference of the individual reward model (DESIGN §4) — the spec the C model must match.

Test/benchmark-only code: gradient-equality checks against the C model load these weights (same
names, same [out, in] layout as ``torch.nn.Linear``) and compare every output and gradient; the
benchmarks use it as the "PyTorch eager" peer.  Batches come from ``curriculum.py``.

Dimension legend: B raters, NP prompt positions, S rank slots, Up / Uc distinct prompts /
completions in the batch, Lp / Lc tokens per prompt / completion, D token width (16), Q query
width of the preference encoder (8), Z latent width (8), H heads.

Decisions where DESIGN leaves room (the C model must match each of these)
-------------------------------------------------------------------------
Common blocks
  1. LayerNorm: biased variance over the last axis, eps = 1e-5, learned gain (init 1) and bias (0).
  2. GELU: tanh approximation 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))).
  3. Linear: y = x·Wᵀ + b, W stored [out, in]; every Linear has a bias.  Init: W ~ N(0, 1/in),
     b = 0; embedding tables ~ N(0, 1); LayerNorm gain 1, bias 0; sampler scale s = 0.1.
  4. Attention (``AttnBlock.attention``): H heads (default 1), attention width A = the query
     stream's width (so the preference encoder attends at width 8 over a width-16 memory).
     Self-attention: [q; k; v] = Wqkv·LN_in(x) + bqkv with Wqkv [3A, C] (rows q, then k, then v).
     Cross-attention: q = Wq·LN_in(x) + bq (Wq [A, C]); [k; v] = Wkv·m + bkv (Wkv [2A, Cm], rows k
     then v) on the memory m as given (no LayerNorm on the memory inside the layer).  Per-head
     width A/H, scores q·k/√(A/H), padded keys −∞, softmax over keys, context = Σ w·v,
     output Wo·ctx + bo.  A row whose keys are all masked gets context 0 (so the output is bo),
     never NaN, with zero gradient.  Values at padded *query* rows are unspecified (the nn library
     zeroes them, this reference computes them): they never reach a real output, so comparisons
     use real rows only.  No causal mask anywhere.
  5. NormFormer attention block: x ← x + LN_out(Wo·ctx + bo).
     NormFormer feed-forward block: x ← x + W2·LN_mid(GELU(W1·LN_in(x) + b1)) + b2, hidden F.
     Parameter names are the ``state_dict`` names of this module; inside blocks they are the nn
     library's (``ln_in``, ``qkv`` | ``q`` + ``kv``, ``o``, ``ln_out``; ``ln_in``, ``fc1``,
     ``ln_mid``, ``fc2``), so registering the C blocks under prefixes such as
     ``pref_layers.3.cross_attn`` gives the same table and weights load by name.
  6. Encoder layer = self-attention block, feed-forward block.  Decoder layer = self-attention
     block, cross-attention block, feed-forward block (in that order).  Each stack ends with its
     own final LayerNorm.
Token mode interpretation
  7. One token-embedding table [vocab, D] shared by prompts and completions; separate learned
     position tables for prompt tokens [max_prompt_len, D] and completion tokens
     [max_completion_len, D] (position = token index, pads at the end); input
     x = LN_in(E[tok] + P[pos]) with a separate LN_in per stack.  Token masks: id != 0.
  8. Prompt encoder: 4 encoder layers (A = D, F = 4D), self-attention keys masked by the prompt's
     token mask.  Completion decoder: 4 decoder layers, self-attention over the completion's
     tokens (keys masked by its token mask), cross-attention to the *final* (LN'ed) prompt
     encoder output of its own prompt (keys masked by the prompt token mask).
  9. Every distinct prompt / completion of a batch is interpreted once and gathered (its embedding
     does not depend on the rater); the same completion token embeddings feed both the preference
     encoder's memory and the reward block (gradients from both uses add up).
Feature mode
 10. prompt embedding = LN(Wp·f + bp) and completion embedding = LN(Wc·f + bc) (Linear to D then a
     LayerNorm), each a 1-token sequence with mask true.
Preference encoder
 11. Memory per rater = for each prompt position i (0..NP−1) in order: the prompt's Lp token
     embeddings, then for each slot s (0..S−1) the Lc token embeddings of the completion in that
     slot; length NP·(Lp + S·Lc).  The order does not change the result (one query, no positions
     from the order itself) but it is the C reduction order.
     element = token embedding + PP[i]                              (prompt tokens)
     element = token embedding + LN_rank(RP[s]) + PP[i]             (completion tokens)
     PP = prompt-position table [max_prompts, D]; RP = rank-position table [max_completions, D];
     LN_rank is one LayerNorm (width D) applied to the table row (not to the sum).  Prompt tokens get
     no rank embedding.  No LayerNorm on the assembled memory.  i and s are the grid indices the
     batch delivers: in training the rater's entries come in a random order per draw (so i is a
     grouping label, not a prompt identity) and mask-mode slots are packed; for embedding
     (``curriculum.full_batch``) entries keep the CSR order and completions their true slots.
 12. Visibility: prompt token visible iff entry present & prompt visible & token != pad; completion
     token visible iff entry present & prompt visible & slot visible & token != pad.  Invisible
     elements keep their positions (slot s, prompt position i) — they are only masked as keys.
 13. 8 decoder layers at query width Q = 8, memory width D = 16, attention width A = Q = 8, F = 4Q;
     the query starts as zeros [B, 1, Q]; self-attention over the single query (a length-1
     sequence: weight 1) is kept because it is part of a decoder layer.  μ = final LN output [B, Z]
     (Z = Q).  A rater with nothing visible still gets a finite μ (cross-attention context 0), but
     must not be trained on: at init (zero biases) its query stays exactly 0 through every
     LayerNorm and each LN backward scales by 1/√eps, overflowing float32 after a few layers.  The
     curriculum never produces one (some prompt tokens are always visible).
Sampler and KL
 14. z = μ + s²·ε, ε ~ N(0, I) supplied by the caller (so C and PyTorch can use the same noise);
     σ = s² for every dimension.  KL_bj = ½(μ_bj² + σ² − 1 − ln σ²) (standard KL of N(μ, σ²I) ‖
     N(0, I) per dimension); KL = Σ_j mean_b KL_bj; with free bits λ > 0: Σ_j max(mean_b KL_bj, λ).
     The scale's gradient comes from both uses (z and KL).  Vanilla mode: the encoder and sampler
     are skipped, z = 0 and KL = 0 (the latent decoder then turns the constant into a learned
     shared preference representation).
Latent decoder and reward block
 15. Latent decoder: 4 NormFormer feed-forward blocks at width Z (hidden 32), then a LayerNorm →
     preference representation u [B, Z].
 16. Reward per output position (b, i, s) and completion token t: h = W1·[u_b ; c_t] + b1 (Z + D →
     64; u first, then the token embedding), r_t = w2·LN(GELU(h)) + b2; reward = mean over the
     completion's non-pad tokens.  Rewards are computed on the output grid [B, NP, S].
Loss
 17. ListMLE per (rater, entry) list: logits clipped to [−30, 30] (torch.clamp semantics), items
     in true order, NLL = Σ_{k<m} (logsumexp(r_k..r_{m−1}) − r_k) over the m present items.
     Mean over the lists with m >= 2 in the batch (lists with m < 2 carry no signal and are not
     counted).  Loss = mean ListMLE + β·KL (β from the schedule in curriculum.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LOGIT_CLIP = 30.0


@dataclass
class IndividualConfig:
    mode: str = "tokens"  # "tokens" or "features"
    vocab_size: int = 32
    d_model: int = 16
    d_latent: int = 8
    n_heads: int = 1
    ff_mult: int = 4
    n_encoder_layers: int = 4
    n_decoder_layers: int = 4
    n_pref_layers: int = 8
    n_latent_layers: int = 4
    latent_hidden: int = 32
    reward_hidden: int = 64
    max_prompt_len: int = 16
    max_completion_len: int = 16
    max_prompts: int = 16
    max_completions: int = 16
    prompt_feature_dim: int = 0
    completion_feature_dim: int = 0
    scale_init: float = 0.1
    ln_eps: float = 1e-5
    vanilla: bool = False


def _linear(n_in: int, n_out: int) -> nn.Linear:
    lin = nn.Linear(n_in, n_out)
    with torch.no_grad():
        lin.weight.normal_(0.0, 1.0 / math.sqrt(n_in))
        lin.bias.zero_()
    return lin


def gelu(x: torch.Tensor) -> torch.Tensor:
    return F.gelu(x, approximate="tanh")


class AttnBlock(nn.Module):
    """NormFormer attention block x + LN_out(Wo·Attn(LN_in(x), memory) + bo) (decisions 4–5).

    Self-attention: one fused projection ``qkv`` [3A, C] (rows q, k, v) on LN_in(x).  Cross-attention:
    ``q`` [A, C] on LN_in(x) and ``kv`` [2A, Cm] (rows k, v) on the memory as given.  Names and
    layouts are those of the nn library's srm_attn_block, so a state_dict maps 1:1 onto the C store.
    """

    def __init__(self, d: int, d_kv: int | None, n_heads: int, eps: float):
        super().__init__()
        if d % n_heads:
            raise ValueError(f"width {d} not divisible by n_heads {n_heads}")
        self.h, self.cross = n_heads, d_kv is not None
        self.ln_in = nn.LayerNorm(d, eps=eps)
        if self.cross:
            self.q = _linear(d, d)
            self.kv = _linear(d_kv, 2 * d)
        else:
            self.qkv = _linear(d, 3 * d)
        self.o = _linear(d, d)
        self.ln_out = nn.LayerNorm(d, eps=eps)

    def attention(self, q, k, v, kmask):
        # q [N, Tq, A], k, v [N, Tk, A], kmask [N, Tk] bool
        N, Tq, A = q.shape
        Tk, dh = k.shape[1], A // self.h
        q = q.reshape(N, Tq, self.h, dh).transpose(1, 2)
        k = k.reshape(N, Tk, self.h, dh).transpose(1, 2)
        v = v.reshape(N, Tk, self.h, dh).transpose(1, 2)
        s = q @ k.transpose(-1, -2) / math.sqrt(dh)  # [N, H, Tq, Tk]
        any_key = kmask.any(-1)[:, None, None, None]  # [N, 1, 1, 1]
        s = torch.where(kmask[:, None, None, :], s, torch.full_like(s, -math.inf))
        # fully masked rows: softmax of zeros, then weights 0 -> context 0, zero gradient, no NaN
        s = torch.where(any_key, s, torch.zeros_like(s))
        w = torch.softmax(s, dim=-1) * any_key.to(s.dtype)
        return (w @ v).transpose(1, 2).reshape(N, Tq, A)

    def forward(self, x, kmask, mem=None):
        h = self.ln_in(x)
        A = x.shape[-1]
        if self.cross:
            k, v = self.kv(mem).split(A, dim=-1)
            ctx = self.attention(self.q(h), k, v, kmask)
        else:
            q, k, v = self.qkv(h).split(A, dim=-1)
            ctx = self.attention(q, k, v, kmask)
        return x + self.ln_out(self.o(ctx))


class FFBlock(nn.Module):
    """x + W2·LN_mid(GELU(W1·LN_in(x))) (names as the nn library's srm_ff_block)."""

    def __init__(self, d: int, hidden: int, eps: float):
        super().__init__()
        self.ln_in = nn.LayerNorm(d, eps=eps)
        self.fc1 = _linear(d, hidden)
        self.ln_mid = nn.LayerNorm(hidden, eps=eps)
        self.fc2 = _linear(hidden, d)

    def forward(self, x):
        return x + self.fc2(self.ln_mid(gelu(self.fc1(self.ln_in(x)))))


class EncoderLayer(nn.Module):
    def __init__(self, d, n_heads, ff, eps):
        super().__init__()
        self.self_attn = AttnBlock(d, None, n_heads, eps)
        self.ff = FFBlock(d, ff, eps)

    def forward(self, x, mask):
        return self.ff(self.self_attn(x, mask))


class DecoderLayer(nn.Module):
    def __init__(self, d, d_kv, n_heads, ff, eps):
        super().__init__()
        self.self_attn = AttnBlock(d, None, n_heads, eps)
        self.cross_attn = AttnBlock(d, d_kv, n_heads, eps)
        self.ff = FFBlock(d, ff, eps)

    def forward(self, x, self_mask, mem, mem_mask):
        x = self.self_attn(x, self_mask)
        x = self.cross_attn(x, mem_mask, mem)
        return self.ff(x)


class IndividualRewardModel(nn.Module):
    """The reference model.  ``forward(batch, eps)`` returns a dict of tensors (see ``forward``)."""

    def __init__(self, cfg: IndividualConfig):
        super().__init__()
        self.cfg = cfg
        D, Z, eps = cfg.d_model, cfg.d_latent, cfg.ln_eps
        if cfg.mode == "tokens":
            self.tok_emb = nn.Parameter(torch.randn(cfg.vocab_size, D))
            self.prompt_pos = nn.Parameter(torch.randn(cfg.max_prompt_len, D))
            self.completion_pos = nn.Parameter(torch.randn(cfg.max_completion_len, D))
            self.prompt_ln_in = nn.LayerNorm(D, eps=eps)
            self.completion_ln_in = nn.LayerNorm(D, eps=eps)
            self.prompt_layers = nn.ModuleList(
                EncoderLayer(D, cfg.n_heads, cfg.ff_mult * D, eps) for _ in range(cfg.n_encoder_layers))
            self.prompt_ln_out = nn.LayerNorm(D, eps=eps)
            self.completion_layers = nn.ModuleList(
                DecoderLayer(D, D, cfg.n_heads, cfg.ff_mult * D, eps) for _ in range(cfg.n_decoder_layers))
            self.completion_ln_out = nn.LayerNorm(D, eps=eps)
        elif cfg.mode == "features":
            if cfg.prompt_feature_dim <= 0 or cfg.completion_feature_dim <= 0:
                raise ValueError("feature mode needs prompt_feature_dim and completion_feature_dim")
            self.prompt_proj = _linear(cfg.prompt_feature_dim, D)
            self.prompt_proj_ln = nn.LayerNorm(D, eps=eps)
            self.completion_proj = _linear(cfg.completion_feature_dim, D)
            self.completion_proj_ln = nn.LayerNorm(D, eps=eps)
        else:
            raise ValueError(f"mode must be 'tokens' or 'features', got {cfg.mode!r}")
        if not cfg.vanilla:
            self.prompt_position = nn.Parameter(torch.randn(cfg.max_prompts, D))
            self.rank_position = nn.Parameter(torch.randn(cfg.max_completions, D))
            self.rank_ln = nn.LayerNorm(D, eps=eps)
            self.pref_layers = nn.ModuleList(
                DecoderLayer(Z, D, cfg.n_heads, cfg.ff_mult * Z, eps) for _ in range(cfg.n_pref_layers))
            self.pref_ln_out = nn.LayerNorm(Z, eps=eps)
            self.scale = nn.Parameter(torch.tensor(cfg.scale_init))
        self.latent_layers = nn.ModuleList(FFBlock(Z, cfg.latent_hidden, eps) for _ in range(cfg.n_latent_layers))
        self.latent_ln_out = nn.LayerNorm(Z, eps=eps)
        self.reward_fc1 = _linear(Z + D, cfg.reward_hidden)
        self.reward_ln = nn.LayerNorm(cfg.reward_hidden, eps=eps)
        self.reward_fc2 = _linear(cfg.reward_hidden, 1)

    # ---- interpretation of prompts and completions (rater independent) -------------------------
    def interpret(self, data, prompt_ids, completion_ids, completion_prompt):
        """Token embeddings of the batch's prompts [Up, Lp, D] and completions [Uc, Lc, D] + masks."""
        if self.cfg.mode == "features":
            pf = torch.as_tensor(data.prompt_features[prompt_ids], dtype=torch.float32)
            cf = torch.as_tensor(data.completion_features[completion_ids], dtype=torch.float32)
            p = self.prompt_proj_ln(self.prompt_proj(pf))[:, None, :]
            c = self.completion_proj_ln(self.completion_proj(cf))[:, None, :]
            return p, torch.ones(p.shape[:2], dtype=torch.bool), c, torch.ones(c.shape[:2], dtype=torch.bool)
        pt = torch.as_tensor(np.asarray(data.prompt_tokens[prompt_ids], dtype=np.int64))
        ct = torch.as_tensor(np.asarray(data.completion_tokens[completion_ids], dtype=np.int64))
        pmask, cmask = pt != 0, ct != 0
        Lp, Lc = pt.shape[1], ct.shape[1]
        p = self.prompt_ln_in(self.tok_emb[pt] + self.prompt_pos[:Lp])
        for layer in self.prompt_layers:
            p = layer(p, pmask)
        p = self.prompt_ln_out(p)
        cp = torch.as_tensor(completion_prompt)
        c = self.completion_ln_in(self.tok_emb[ct] + self.completion_pos[:Lc])
        mem, mem_mask = p[cp], pmask[cp]
        for layer in self.completion_layers:
            c = layer(c, cmask, mem, mem_mask)
        c = self.completion_ln_out(c)
        return p, pmask, c, cmask

    # ---- preference encoder -------------------------------------------------------------------
    def encode(self, bt: dict, p, pmask, c, cmask) -> torch.Tensor:
        """μ [B, Z] from the visible part of each rater's profile (decisions 11–13)."""
        mem, mask = self.memory(bt, p, pmask, c, cmask)
        B = mem.shape[0]
        x = torch.zeros(B, 1, self.cfg.d_latent)
        one = torch.ones(B, 1, dtype=torch.bool)
        for layer in self.pref_layers:
            x = layer(x, one, mem, mask)
        return self.pref_ln_out(x)[:, 0]

    def memory(self, bt: dict, p, pmask, c, cmask) -> tuple[torch.Tensor, torch.Tensor]:
        """The flattened rater sequence [B, NP·(Lp + S·Lc), D] and its key mask (decision 11)."""
        B, NP = bt["entry_prompt"].shape
        S = bt["enc_completion"].shape[2]
        D = self.cfg.d_model
        Lp, Lc = p.shape[1], c.shape[1]
        pp = self.prompt_position[:NP]  # [NP, D]
        rp = self.rank_ln(self.rank_position[:S])  # [S, D]
        vis = bt["entry_mask"] & bt["prompt_visible"]  # [B, NP]
        mp = p[bt["entry_prompt"]] + pp[None, :, None, :]  # [B, NP, Lp, D]
        mp_mask = vis[..., None] & pmask[bt["entry_prompt"]]
        mc = c[bt["enc_completion"]] + rp[None, None, :, None, :] + pp[None, :, None, None, :]  # [B,NP,S,Lc,D]
        mc_mask = (vis[..., None] & bt["enc_mask"])[..., None] & cmask[bt["enc_completion"]]
        mem = torch.cat([mp, mc.reshape(B, NP, S * Lc, D)], dim=2).reshape(B, NP * (Lp + S * Lc), D)
        mask = torch.cat([mp_mask, mc_mask.reshape(B, NP, S * Lc)], dim=2).reshape(B, -1)
        return mem, mask

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Preference representation u [N, Z] from latents z [N, Z]."""
        for layer in self.latent_layers:
            z = layer(z)
        return self.latent_ln_out(z)

    def reward(self, u: torch.Tensor, c: torch.Tensor, cmask: torch.Tensor) -> torch.Tensor:
        """Rewards [N, K] of completions c [N, K, Lc, D] (masks [N, K, Lc]) under u [N, Z]."""
        N, K, Lc, _ = c.shape
        uu = u[:, None, None, :].expand(N, K, Lc, u.shape[-1])
        h = self.reward_ln(gelu(self.reward_fc1(torch.cat([uu, c], dim=-1))))
        r = self.reward_fc2(h)[..., 0]  # [N, K, Lc]
        m = cmask.to(r.dtype)
        return (r * m).sum(-1) / m.sum(-1)

    def forward(self, data, batch, eps: np.ndarray | torch.Tensor | None) -> dict:
        """Rewards on the output grid, μ, z and per-dimension KL.

        ``eps`` [B, Z] is the sampler noise (None → z = μ, used for embedding / evaluation).
        Returns {"rewards" [B, NP, S], "mu" [B, Z], "z" [B, Z], "kl_dim" [B, Z], "u" [B, Z]}.
        """
        bt = batch_tensors(batch)
        p, pmask, c, cmask = self.interpret(data, batch.prompt_ids, batch.completion_ids, bt["completion_prompt"])
        B = bt["entry_prompt"].shape[0]
        Z = self.cfg.d_latent
        if self.cfg.vanilla:
            mu = torch.zeros(B, Z)
            z = mu
            kl_dim = torch.zeros(B, Z)
        else:
            mu = self.encode(bt, p, pmask, c, cmask)
            var = self.scale ** 4  # σ = s², σ² = s⁴
            kl_dim = 0.5 * (mu * mu + var - 1.0 - torch.log(var))
            z = mu if eps is None else mu + self.scale ** 2 * torch.as_tensor(eps, dtype=torch.float32)
        u = self.decode(z)
        NP, S = bt["out_completion"].shape[1:]
        oc = bt["out_completion"].reshape(B, NP * S)
        r = self.reward(u, c[oc], cmask[oc]).reshape(B, NP, S)
        return {"rewards": r, "mu": mu, "z": z, "kl_dim": kl_dim, "u": u}


def batch_tensors(batch) -> dict:
    keys = ("completion_prompt", "entry_prompt", "entry_mask", "prompt_visible", "enc_completion", "enc_mask",
            "out_completion", "out_mask")
    return {k: torch.as_tensor(getattr(batch, k)) for k in keys}


def listmle(rewards: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-list Plackett–Luce NLL [...] of packed, true-ordered lists, and the count mask (m >= 2)."""
    r = torch.clamp(rewards, -LOGIT_CLIP, LOGIT_CLIP)
    # Pads get -1e4 rather than -inf: exp(-1e4 - 30) is exactly 0 in float32/64, so they are
    # excluded exactly, and logcumsumexp's backward stays finite on all-pad lists (-inf gives NaN).
    r = torch.where(mask, r, torch.full_like(r, -1e4))
    # reverse log-cumsum-exp: lse_k = log Σ_{j >= k} exp(r_j)
    lse = torch.logcumsumexp(r.flip(-1), dim=-1).flip(-1)
    terms = torch.where(mask, lse - r, torch.zeros_like(r))
    nll = terms.sum(-1)
    counted = mask.sum(-1) >= 2
    return nll, counted


def kl_term(kl_dim: torch.Tensor, free_bits: float = 0.0) -> torch.Tensor:
    per_dim = kl_dim.mean(0)
    if free_bits > 0:
        per_dim = torch.clamp(per_dim, min=free_bits)
    return per_dim.sum()


def loss_fn(out: dict, batch, beta: float, free_bits: float = 0.0, vanilla: bool = False) -> dict:
    mask = torch.as_tensor(batch.out_mask)
    nll, counted = listmle(out["rewards"], mask)
    n = counted.sum()
    lm = (nll * counted).sum() / n.clamp(min=1)
    kl = torch.zeros(()) if vanilla else kl_term(out["kl_dim"], free_bits)
    return {"loss": lm + beta * kl, "listmle": lm, "kl": kl}


# ---- training and evaluation helpers (used by measure.py, the tests and the benchmark) -----------

def make_optimizer(model: nn.Module, name: str = "adafactor", lr: float = 5e-3):
    if name == "adafactor":
        return torch.optim.Adafactor(model.parameters(), lr=lr)
    if name == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    raise ValueError(f"optimizer must be 'adafactor' or 'adamw', got {name!r}")


def train_step(model, opt, data, batch, eps, beta, lr, clip_norm=1.0, free_bits=0.0) -> dict:
    for g in opt.param_groups:
        g["lr"] = lr
    out = model(data, batch, eps)
    losses = loss_fn(out, batch, beta, free_bits, model.cfg.vanilla)
    opt.zero_grad(set_to_none=True)
    losses["loss"].backward()
    if clip_norm > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
    opt.step()
    res = {k: float(v.detach()) for k, v in losses.items()}
    res["kl_dim"] = out["kl_dim"].detach().mean(0).numpy()
    return res


@torch.no_grad()
def embed(model, data, batch) -> np.ndarray:
    """Latent means μ [B, Z] of a (full or partial) profile batch."""
    return model(data, batch, None)["mu"].numpy()


@torch.no_grad()
def rewards_for(model, data, z: np.ndarray, completion_ids: np.ndarray) -> np.ndarray:
    """Rewards [N, K] of global completions (all of one prompt or not) under latents z [N, Z]."""
    completion_ids = np.asarray(completion_ids, dtype=np.int64)
    prompt_ids = np.unique(data.completion_prompt[completion_ids])
    local = {int(g): i for i, g in enumerate(prompt_ids)}
    cp = np.array([local[int(data.completion_prompt[c])] for c in completion_ids], dtype=np.int64)
    _p, _pm, c, cmask = model.interpret(data, prompt_ids, completion_ids, torch.as_tensor(cp))
    u = model.decode(torch.as_tensor(z, dtype=torch.float32))
    N = u.shape[0]
    K = len(completion_ids)
    return model.reward(u, c[None].expand(N, K, *c.shape[1:]), cmask[None].expand(N, K, cmask.shape[1])).numpy()


def pairwise_accuracy(scores: np.ndarray, order: np.ndarray) -> float:
    """Share of pairs (i before j in ``order``) with scores[i] > scores[j]; scores indexed by position."""
    m = len(order)
    good = sum(scores[a] > scores[b] for a in range(m) for b in range(a + 1, m))
    return good / (m * (m - 1) / 2)
