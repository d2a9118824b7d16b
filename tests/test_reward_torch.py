"""socialrm.reward.RewardModel against a PyTorch re-implementation on the same weights
(tests/reference/reward_torch.py): rewards, loss and every parameter gradient, token and feature
mode, with and without pair weights, including chunks that repeat prompts and items."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference.reward_torch import TorchRewardModel, tables_of

from socialrm import _core


def _token_core(seed=3):
    return _core.RewardCore(mode="tokens", vocab_size=9, width=8, n_heads=2, ff_hidden=12, n_encoder_layers=2,
                            n_decoder_layers=2, max_prompt_len=5, max_completion_len=3, chunk=3, max_batch=16,
                            init_std=0.3, seed=seed)


def _feature_core(seed=3):
    return _core.RewardCore(mode="features", prompt_dim=4, completion_dim=3, hidden_sizes=[6, 5], gelu="erf",
                            chunk=3, max_batch=16, seed=seed)


def _tables(rng):
    pt = rng.integers(1, 9, size=(4, 5)).astype(np.int32)
    pt[1, 2:] = 0
    pt[3, :] = 0  # a fully padded prompt: its completions see no memory
    ct = rng.integers(1, 9, size=(6, 3)).astype(np.int32)
    ct[0, 1:] = 0
    ct[4, 2] = 0
    pf = rng.normal(size=(4, 4)).astype(np.float32)
    cf = rng.normal(size=(6, 3)).astype(np.float32)
    return pt, ct, pf, cf


@pytest.mark.parametrize("mode", ["tokens", "features"])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_and_gradients_equal_torch(mode, weighted):
    rng = np.random.default_rng(0)
    pt, ct, pf, cf = _tables(rng)
    core = _token_core() if mode == "tokens" else _feature_core()
    flat = core.flat()
    flat += 0.05 * rng.normal(size=flat.shape).astype(np.float32)  # LN gains/biases off 1/0
    # chunks of 3 pairs; the last two chunks repeat a prompt and a (prompt, completion) item, which
    # the C model encodes / decodes once and whose gradients it adds up
    pp = np.array([0, 1, 2, 3, 0, 2, 1, 0, 0, 2, 2], np.int32)
    pw = np.array([0, 1, 2, 3, 4, 5, 0, 1, 1, 3, 4], np.int32)
    pl = np.array([1, 2, 3, 4, 5, 0, 5, 0, 2, 4, 3], np.int32)
    wt = rng.uniform(0, 2, size=len(pp)).astype(np.float32) if weighted else None
    args = (pt, ct, None, None) if mode == "tokens" else (None, None, pf, cf)
    loss, rw, rl = core.loss_grad(*args, pp, pw, pl, wt, n_threads=2)

    ref = TorchRewardModel(core, mode, heads=2, gelu="tanh" if mode == "tokens" else "erf")
    tl, trw, trl = ref.loss(tables_of(*args), torch.from_numpy(pp).long(), torch.from_numpy(pw).long(),
                            torch.from_numpy(pl).long(), None if wt is None else torch.from_numpy(wt).double())
    tl.backward()
    np.testing.assert_allclose(rw, trw.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(rl, trl.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert loss == pytest.approx(tl.item(), rel=1e-5, abs=1e-6)
    n_checked = 0
    for name, par in ref.named_c_parameters():
        g = core.param(name, True)
        np.testing.assert_allclose(g, par.grad.numpy(), rtol=2e-3, atol=2e-6, err_msg=name)
        n_checked += 1
    assert n_checked == len(core.param_info())
    # scoring gives the training forward pass's rewards
    np.testing.assert_array_equal(core.score(*args, pp, pw), rw)
