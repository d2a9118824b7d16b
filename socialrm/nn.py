"""Python access to the C neural-network core (``csrc/nn``), for tests and benchmarks.

Every op function runs the C forward pass and the C backward pass for a given upstream gradient
``dout`` and returns the forward output(s) followed by the gradients of the inputs. The reward
models of socialrm are assembled in C from the same kernels; this module is not a user-facing
deep-learning API, so it exports nothing through ``socialrm``.

Examples
--------
>>> import numpy as np
>>> from socialrm import nn
>>> x = np.ones((2, 3), np.float32); w = np.eye(3, dtype=np.float32)
>>> out, dx, dw, db = nn.linear(x, w, None, np.ones((2, 3), np.float32))
>>> out.tolist()
[[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._native import _core

__all__: list[str] = []

TestModel = _core.NNTestModel
"""The nn test model: 2-stack prompt encoder / completion decoder with a Bradley–Terry head.

Parameters (keywords): ``vocab, width, heads, hidden, n_enc, n_dec, max_prompt_len,
max_completion_len, postnorm, gelu ('tanh' or 'erf'), chunk, max_batch, init_std, seed``.
Methods: ``param(name)`` / ``grad(name)`` (zero-copy, writable views whose base keeps the model
alive), ``param_info()``, ``flat(grad=False)``, ``loss_grad(prompts, chosen, rejected)``,
``set_optimizer(kind, options)``, ``train(prompts, chosen, rejected, steps, ...)``,
``save(path, metadata_json=None)`` / ``load(path)`` (safetensors).
"""


def embedding(ids: np.ndarray, wte: np.ndarray, wpe: np.ndarray | None, dout: np.ndarray):
    """Token + position embedding. Returns ``(out, dwte, dwpe)`` (``dwpe`` None without ``wpe``)."""
    return _core.nn_embedding(ids, wte, wpe, dout)


def linear(inp: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, dout: np.ndarray, naive: bool = False):
    """``out = inp @ weight.T + bias``. Returns ``(out, dinp, dweight, dbias)``."""
    return _core.nn_linear(inp, weight, bias, dout, naive)


def layernorm(inp: np.ndarray, weight: np.ndarray, bias: np.ndarray, dout: np.ndarray):
    """LayerNorm over the last axis (eps 1e-5). Returns ``(out, dinp, dweight, dbias)``."""
    return _core.nn_layernorm(inp, weight, bias, dout)


def gelu(inp: np.ndarray, dout: np.ndarray, approximate: str = "tanh"):
    """GELU, ``approximate`` 'tanh' or 'erf' (exact, torch's 'none'). Returns ``(out, dinp)``."""
    return _core.nn_gelu(inp, dout, approximate)


def attention(q, k, v, qmask, kmask, heads: int, dout):
    """Masked multi-head attention. Masks are [B,T] / [B,Tk] of 0/1 (or None).

    Returns ``(out, att, dq, dk, dv)``; padded queries and rows without a real key give zeros.
    """
    return _core.nn_attention(q, k, v, qmask, kmask, heads, dout)


def meanpool(inp, mask, dout):
    """Masked mean over tokens. Returns ``(out, dinp)``."""
    return _core.nn_meanpool(inp, mask, dout)


def sampler(mu, scale: float, seed: int, stream: int, index: int, dout):
    """``z = mu + scale**2 * eps``, eps from the counter RNG. Returns ``(z, eps, dmu, dscale)``."""
    return _core.nn_sampler(mu, scale, seed, stream, index, dout)


def listmle(logits, mask, dloss):
    """Per-row ListMLE of lists in true order (best first). Returns ``(loss, dlogits)``."""
    return _core.nn_listmle(logits, mask, dloss)


def bradley_terry(rw, rl, dloss):
    """Per-row ``-log sigmoid(rw - rl)``. Returns ``(loss, drw, drl)``."""
    return _core.nn_bradley_terry(rw, rl, dloss)


def kl(mu, sigma, dloss):
    """Per-row KL(N(mu, sigma^2 I) || N(0, I)). Returns ``(loss, dmu, dsigma)``."""
    return _core.nn_kl(mu, sigma, dloss)


def optimizer_run(kind: str, params: Sequence[np.ndarray], grads: Sequence[Sequence[np.ndarray]],
                  lrs: Sequence[float], **options: float) -> list[np.ndarray]:
    """Run ``len(grads)`` steps of the C optimiser ``kind`` ('adam', 'adamw', 'adafactor').

    ``grads[s][i]`` is the gradient of ``params[i]`` at step ``s``; returns the updated parameters.
    Options: beta1, beta2, eps, weight_decay, eps1, eps2, decay_rate, clip_threshold,
    scale_parameter, min_dim_to_factor (see ``csrc/include/socialrm/optim.h``).
    """
    return _core.nn_optim_run(kind, list(params), [list(g) for g in grads], list(lrs), options)


def clip_grad_norm(grad: np.ndarray, max_norm: float) -> tuple[float, np.ndarray]:
    """Global L2 norm and the clipped copy (torch.nn.utils.clip_grad_norm_ semantics)."""
    return _core.nn_clip_grad_norm(grad, max_norm)


def lr_schedule(base_lr: float, warmup_steps: int, total_steps: int, decay_start: float, floor: float,
                steps: int) -> np.ndarray:
    """Learning rates of steps 0..steps-1: warm-up, constant, cosine decay to ``floor * base_lr``."""
    return _core.nn_lr_schedule(base_lr, warmup_steps, total_steps, decay_start, floor, steps)
