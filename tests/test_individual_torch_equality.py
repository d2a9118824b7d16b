"""The C individual reward model equals the PyTorch reference (tests/reference/individual_torch.py)
on the same weights, batch and noise: loss, its parts, μ, rewards and every parameter gradient.

Tolerance. Both sides compute in float32 but in different orders (the C model projects keys and
values from three tables and sums them, decision 11's linearity; reductions run in other orders),
so results differ by rounding, amplified through ~30 LayerNorms. Measured worst case over these
batches: ~5e-6 absolute on μ and a relative gradient error ~2e-5 of the tensor's largest entry.
The asserted bounds (gradient error <= 1e-3 · max|g_tensor| + 1e-6 · max|g_all|, μ within 1e-4)
are ~50x above that and far below what a wrong term produces (an error of the gradient's own size).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _irm_helpers import c_config, data_tuple, grid_batch, load_torch_weights, new_c_model
from reference import curriculum as cu
from reference import individual_torch as it
from reference import toy_data

torch.set_num_threads(1)


def _compare(cfg, data, raises, beta, free_bits, scale, seed=0, batch_size=40):
    torch.manual_seed(seed)
    mt = it.IndividualRewardModel(cfg)
    if not cfg.vanilla:
        with torch.no_grad():
            mt.scale.fill_(scale)
    mc = new_c_model(c_config(cfg))
    load_torch_weights(mc, mt)
    batch = cu.draw_batch(data, np.random.default_rng(seed + 1), raises, cu.CurriculumConfig(batch_size=batch_size))
    eps = np.random.default_rng(seed + 2).standard_normal((batch_size, cfg.d_latent)).astype(np.float32)
    out = mt(data, batch, eps)
    losses = it.loss_fn(out, batch, beta, free_bits, cfg.vanilla)
    mt.zero_grad()
    losses["loss"].backward()
    res = mc.loss_grad(data_tuple(data), *grid_batch(batch), eps, beta, free_bits, True, 2)
    for key in ("loss", "listmle", "kl"):
        assert res[key] == pytest.approx(float(losses[key].detach()), rel=1e-5, abs=1e-5), key
    assert res["n_lists"] == batch.n_lists()
    if not cfg.vanilla:
        np.testing.assert_allclose(res["mu"], out["mu"].detach().numpy(), atol=1e-4)
    r_t = out["rewards"].detach().numpy()
    np.testing.assert_allclose(res["rewards"][batch.out_mask], r_t[batch.out_mask], atol=1e-4)
    grads = {n: (p.grad.numpy() if p.grad is not None else np.zeros(p.shape, np.float32))
             for n, p in mt.named_parameters()}
    g_all = max(float(np.abs(g).max()) for g in grads.values())
    assert g_all > 0
    for name, g in grads.items():
        gc = mc.param(name, True).reshape(g.shape)
        tol = 1e-3 * float(np.abs(g).max()) + 1e-6 * g_all
        err = float(np.abs(gc - g).max())
        assert err <= tol, f"{name}: max |C - torch| = {err:.3g} > {tol:.3g}"
    return res


@pytest.fixture(scope="module")
def tok_data():
    return toy_data.four_types(60, seed=3)


@pytest.mark.parametrize("raises", [0, 3, 12])
def test_token_mode_equals_torch(tok_data, raises):
    cfg = it.IndividualConfig(vocab_size=len(tok_data.vocab) + 1)
    _compare(cfg, tok_data, raises, beta=0.1, free_bits=0.0, scale=0.7, seed=raises)


def test_free_bits_equal_torch(tok_data):
    cfg = it.IndividualConfig(vocab_size=len(tok_data.vocab) + 1)
    # σ = 0.49: per-dimension KL around 0.3-0.6, so a free-bits level of 0.45 gates some dimensions
    _compare(cfg, tok_data, 2, beta=0.5, free_bits=0.45, scale=0.7, seed=5)


def test_two_heads_and_other_sizes_equal_torch(tok_data):
    cfg = it.IndividualConfig(vocab_size=len(tok_data.vocab) + 1, d_model=12, d_latent=6, n_heads=2,
                              n_encoder_layers=2, n_decoder_layers=1, n_pref_layers=3, n_latent_layers=2,
                              latent_hidden=10, reward_hidden=20)
    _compare(cfg, tok_data, 1, beta=0.2, free_bits=0.0, scale=0.4, seed=7)


def test_feature_mode_equals_torch():
    data = toy_data.four_types(50, seed=4, features=True, feature_dim=12)
    cfg = it.IndividualConfig(mode="features", prompt_feature_dim=12, completion_feature_dim=12)
    _compare(cfg, data, 4, beta=0.1, free_bits=0.0, scale=0.6, seed=9, batch_size=33)


def test_vanilla_equals_torch(tok_data):
    cfg = it.IndividualConfig(vocab_size=len(tok_data.vocab) + 1, vanilla=True)
    res = _compare(cfg, tok_data, 0, beta=0.1, free_bits=0.0, scale=0.7, seed=11)
    assert res["kl"] == 0.0
