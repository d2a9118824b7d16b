"""PyTorch re-implementation of socialrm.RewardModel (csrc/models/reward.c), for the equality tests
and the benchmark.

Same parameter names and shapes as the C model, so its parameters are copied in by name. Token
mode reuses the nn test model's reference (the architecture is the same tensor for tensor); what
this module adds is the pair data path (prompt/completion tables indexed by pair ids), per-pair
weights, the feature-mode MLP, and a plain eager training step for the benchmark.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from _nn_torch_ref import TorchTestModel


class TorchRewardModel(torch.nn.Module):
    """Reference of the C reward model.

    Parameters
    ----------
    core : socialrm._core.RewardCore
        The C model whose tensor table (and, with ``copy=True``, values) to take.
    mode : {'tokens', 'features'}
    heads : int
        Attention heads (token mode).
    gelu : {'tanh', 'erf'}
    """

    def __init__(self, core, mode: str, heads: int = 1, gelu: str = "tanh", dtype=torch.float64, copy: bool = True):
        super().__init__()
        self.mode = mode
        self.gelu_approx = "tanh" if gelu == "tanh" else "none"
        info = core.param_info()
        if mode == "tokens":
            self.net = TorchTestModel(info, heads=heads, gelu=gelu, dtype=dtype)
            if copy:
                self.net.load_from(core)
        else:
            self.params = torch.nn.ParameterDict()
            for name, shape, _ in info:
                value = core.param(name).astype("float64") if copy else torch.zeros(shape)
                self.params[name.replace(".", "__")] = torch.nn.Parameter(torch.as_tensor(value, dtype=dtype))
            self.n_hidden = sum(1 for name, _, _ in info if name.startswith("mlp.") and name.endswith(".weight"))

    def named_c_parameters(self):
        """(C name, parameter) pairs."""
        params = self.net.params if self.mode == "tokens" else self.params
        return [(key.replace("__", "."), par) for key, par in params.items()]

    def _mlp(self, x):
        p = self.params
        for k in range(self.n_hidden):
            x = F.gelu(F.linear(x, p[f"mlp__{k}__weight"], p[f"mlp__{k}__bias"]), approximate=self.gelu_approx)
        return F.linear(x, p["head__weight"], p["head__bias"])[..., 0]

    def rewards(self, tables, prompt_ids, completion_ids):
        """Rewards of (prompt_ids[i], completion_ids[i]) given the tables (torch tensors)."""
        pt, ct, pf, cf = tables
        if self.mode == "features":
            return self._mlp(torch.cat([pf[prompt_ids], cf[completion_ids]], dim=1))
        prompts = pt[prompt_ids]
        pm = prompts != 0
        net = self.net
        x = net.ln(net.p("wte")[prompts] + net.p("wpe_prompt")[: prompts.shape[1]], "enc.ln_emb")
        for layer in range(net.n_enc):
            x = net.attn(x, f"enc.{layer}.attn", pm)
            x = net.ff(x, f"enc.{layer}.ff")
        mem = net.ln(x, "enc.ln_f")
        return net.rewards(mem, pm, ct[completion_ids])

    def loss(self, tables, prompt_ids, winner_ids, loser_ids, weights=None):
        """(1/B) Σ ω_b · softplus(r_l − r_w), and the rewards (encoder shared by both sides)."""
        pt, ct, _, _ = tables
        if self.mode == "features":
            rw = self.rewards(tables, prompt_ids, winner_ids)
            rl = self.rewards(tables, prompt_ids, loser_ids)
            per = F.softplus(rl - rw)
        else:
            _, rw, rl = self.net(pt[prompt_ids], ct[winner_ids], ct[loser_ids])
            per = F.softplus(rl - rw)
        if weights is not None:
            per = per * weights
        return per.mean(), rw, rl


def tables_of(pt=None, ct=None, pf=None, cf=None, dtype=torch.float64):
    """Torch versions of the four item tables (None stays None)."""
    def conv(a, is_float):
        if a is None:
            return None
        t = torch.from_numpy(np.array(a))  # a copy: data tables are read-only
        return t.to(dtype) if is_float else t.long()
    return conv(pt, False), conv(ct, False), conv(pf, True), conv(cf, True)
