"""PyTorch re-implementations used as references by the nn tests and the nn benchmark.

The test model here mirrors csrc/nn/testmodel.c exactly (same parameter names and shapes), so the
C parameters can be copied in by name and outputs/gradients compared.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def split_heads(q, k, v, heads):
    """[B,T,C] -> [B,H,T,hs] views of q, k, v, and the head size."""
    B, T, C = q.shape
    Tk, hs = k.shape[1], C // heads
    return (q.view(B, T, heads, hs).transpose(1, 2), k.view(B, Tk, heads, hs).transpose(1, 2),
            v.view(B, Tk, heads, hs).transpose(1, 2), hs)


def masked_attention(q, k, v, qmask, kmask, heads):
    """q [B,T,C], k/v [B,Tk,C], masks bool (or None). Padded queries / rows without keys -> 0."""
    B, T, C = q.shape
    qh, kh, vh, hs = split_heads(q, k, v, heads)
    s = qh @ kh.transpose(-1, -2) / math.sqrt(hs)
    if kmask is not None:
        km = kmask[:, None, None, :]
        s = s.masked_fill(~km, -1e30)
        p = torch.softmax(s, dim=-1) * km  # a row with no key: uniform * 0 = 0
    else:
        p = torch.softmax(s, dim=-1)
    out = (p @ vh).transpose(1, 2).reshape(B, T, C)
    if qmask is not None:
        out = out * qmask[..., None]
        p = p * qmask[:, None, :, None]
    return out, p


def sdpa_attention(q, k, v, qmask, kmask, heads):
    """The same through torch's fused F.scaled_dot_product_attention (fewer eager ops: what a
    PyTorch user would write; the benchmark uses it so torch is not handicapped). Every row must
    have at least one real key (the fused kernel gives NaN otherwise); no probabilities returned."""
    B, T, C = q.shape
    qh, kh, vh, _ = split_heads(q, k, v, heads)
    mask = None if kmask is None else kmask[:, None, None, :]
    out = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=mask).transpose(1, 2).reshape(B, T, C)
    return (out if qmask is None else out * qmask[..., None]), None


def listmle(logits, mask):
    """Per-row ListMLE over real entries, logits clipped to +-30 (reference, quadratic)."""
    s = logits.clamp(-30.0, 30.0)
    B, L = s.shape
    rows = []
    for b in range(B):
        idx = [i for i in range(L) if mask is None or mask[b, i]]
        loss = s.new_zeros(())
        for j, i in enumerate(idx):
            rest = s[b, idx[j:]]
            loss = loss + torch.logsumexp(rest, 0) - s[b, i]
        rows.append(loss)
    return torch.stack(rows)


class TorchTestModel(torch.nn.Module):
    """The test model of csrc/nn/testmodel.c, parameters under the same names."""

    def __init__(self, info, heads, postnorm=False, gelu="tanh", dtype=torch.float64, fused_attention=False):
        super().__init__()
        self.heads, self.postnorm = heads, postnorm
        self.attention = sdpa_attention if fused_attention else masked_attention
        self.gelu_approx = "tanh" if gelu == "tanh" else "none"
        self.params = torch.nn.ParameterDict()
        for name, shape, _ in info:
            self.params[name.replace(".", "__")] = torch.nn.Parameter(torch.zeros(shape, dtype=dtype))
        self.n_enc = len({n.split(".")[1] for n, _, _ in info if n.startswith("enc.") and n.split(".")[1].isdigit()})
        self.n_dec = len({n.split(".")[1] for n, _, _ in info if n.startswith("dec.") and n.split(".")[1].isdigit()})

    def p(self, name):
        return self.params[name.replace(".", "__")]

    def load_from(self, model):
        with torch.no_grad():
            for key, par in self.params.items():
                par.copy_(torch.from_numpy(model.param(key.replace("__", ".")).astype("float64")))

    def ln(self, x, prefix):
        return F.layer_norm(x, (x.shape[-1],), self.p(prefix + ".weight"), self.p(prefix + ".bias"), eps=1e-5)

    def lin(self, x, prefix):
        return F.linear(x, self.p(prefix + ".weight"), self.p(prefix + ".bias"))

    def attn(self, x, pre, xmask, mem=None, mmask=None):
        src = x if self.postnorm else self.ln(x, pre + ".ln_in")
        C = x.shape[-1]
        if mem is None:
            qkv = self.lin(src, pre + ".qkv")
            q, k, v = qkv[..., :C], qkv[..., C:2 * C], qkv[..., 2 * C:]
            km = xmask
        else:
            q = self.lin(src, pre + ".q")
            kv = self.lin(mem, pre + ".kv")
            k, v = kv[..., :C], kv[..., C:]
            km = mmask
        a, _ = self.attention(q, k, v, xmask, km, self.heads)
        o = self.lin(a, pre + ".o")
        if self.postnorm:
            return self.ln(x + o, pre + ".ln_out")
        return x + self.ln(o, pre + ".ln_out")

    def ff(self, x, pre):
        if self.postnorm:
            h = F.gelu(self.lin(x, pre + ".fc1"), approximate=self.gelu_approx)
            return self.ln(x + self.lin(h, pre + ".fc2"), pre + ".ln_out")
        h = self.lin(self.ln(x, pre + ".ln_in"), pre + ".fc1")
        h = self.ln(F.gelu(h, approximate=self.gelu_approx), pre + ".ln_mid")
        return x + self.lin(h, pre + ".fc2")

    def rewards(self, mem, pm, ids):
        cm = ids != 0
        Tc = ids.shape[1]
        y = self.ln(self.p("wte")[ids] + self.p("wpe_completion")[:Tc], "dec.ln_emb")
        for layer in range(self.n_dec):
            y = self.attn(y, f"dec.{layer}.self", cm)
            y = self.attn(y, f"dec.{layer}.cross", cm, mem, pm)
            y = self.ff(y, f"dec.{layer}.ff")
        s = self.lin(self.ln(y, "dec.ln_f"), "head")[..., 0]
        return (s * cm).sum(1) / cm.sum(1)

    def forward(self, prompts, chosen, rejected):
        pm = prompts != 0
        Tp = prompts.shape[1]
        x = self.ln(self.p("wte")[prompts] + self.p("wpe_prompt")[:Tp], "enc.ln_emb")
        for layer in range(self.n_enc):
            x = self.attn(x, f"enc.{layer}.attn", pm)
            x = self.ff(x, f"enc.{layer}.ff")
        mem = self.ln(x, "enc.ln_f")
        rw = self.rewards(mem, pm, chosen)
        rl = self.rewards(mem, pm, rejected)
        return F.softplus(rl - rw).mean(), rw, rl


class ReferenceAdafactor(torch.optim.Optimizer):
    """Adafactor as specified in csrc/include/socialrm/optim.h (Shazeer & Stern 2018, the variant
    of transformers.Adafactor with relative_step=False), written from the paper's equations."""

    def __init__(self, params, lr, eps1=1e-30, eps2=1e-3, clip_threshold=1.0, decay_rate=-0.8, beta1=0.0,
                 weight_decay=0.0, scale_parameter=False):
        defaults = {"lr": lr, "eps1": eps1, "eps2": eps2, "clip_threshold": clip_threshold, "decay_rate": decay_rate,
                    "beta1": beta1, "weight_decay": weight_decay, "scale_parameter": scale_parameter}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                st = self.state[p]
                factored = g.dim() >= 2
                if not st:
                    st["step"] = 0
                    if factored:
                        st["row"] = torch.zeros(g.shape[:-1], dtype=g.dtype)
                        st["col"] = torch.zeros(g.shape[:-2] + g.shape[-1:], dtype=g.dtype)
                    else:
                        st["v"] = torch.zeros_like(g)
                    if group["beta1"] > 0:
                        st["m"] = torch.zeros_like(g)
                st["step"] += 1
                rho = 1.0 - st["step"] ** group["decay_rate"]
                alpha = group["lr"]
                if group["scale_parameter"]:
                    alpha *= max(group["eps2"], p.pow(2).mean().sqrt().item())
                sq = g * g + group["eps1"]
                if factored:
                    st["row"].mul_(rho).add_(sq.mean(-1), alpha=1 - rho)
                    st["col"].mul_(rho).add_(sq.mean(-2), alpha=1 - rho)
                    r = (st["row"] / st["row"].mean(-1, keepdim=True)).rsqrt().unsqueeze(-1)
                    c = st["col"].unsqueeze(-2).rsqrt()
                    u = g * r * c
                else:
                    st["v"].mul_(rho).add_(sq, alpha=1 - rho)
                    u = g * st["v"].rsqrt()
                u = u / max(1.0, (u.pow(2).mean().sqrt() / group["clip_threshold"]).item())
                u = u * alpha
                if group["beta1"] > 0:
                    st["m"].mul_(group["beta1"]).add_(u, alpha=1 - group["beta1"])
                    u = st["m"]
                if group["weight_decay"] != 0:
                    p.add_(p, alpha=-group["weight_decay"] * alpha)
                p.add_(-u)
