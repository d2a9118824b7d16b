"""The C nn ops, losses, optimisers and test model against PyTorch autograd on identical inputs.

References run in float64 on the same float32 inputs, so the differences measure our float32
rounding. Tolerance: rtol 1e-4 plus an absolute floor of 1e-5 times the largest reference value of
the compared array — entries near zero come from cancelling sums whose float32 rounding is relative
to the size of the terms, not of the result (the issue's "justified float32 bound").
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _nn_torch_ref import ReferenceAdafactor, TorchTestModel, masked_attention
from _nn_torch_ref import listmle as ref_listmle

from socialrm import nn

RNG = np.random.default_rng(0)


def close(ours, ref, rtol=1e-4, floor=1e-5, scale=None):
    """|ours - ref| <= rtol |ref| + floor * scale, scale = max |ref| unless given."""
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    ours = np.asarray(ours, dtype=np.float64)
    assert ours.shape == ref.shape
    if scale is None:
        scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=floor * max(scale, 1e-3))


def f32(*shape, scale=1.0):
    return (scale * RNG.standard_normal(shape)).astype(np.float32)


def t64(x):
    return torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


def test_embedding():
    B, T, C, V = 3, 5, 8, 11
    ids = RNG.integers(0, V, (B, T)).astype(np.int32)
    wte, wpe, dout = f32(V, C), f32(7, C), f32(B, T, C)
    out, dwte, dwpe = nn.embedding(ids, wte, wpe, dout)
    tw, tp = t64(wte), t64(wpe)
    ref = tw[torch.from_numpy(ids).long()] + tp[:T]
    ref.backward(torch.from_numpy(dout.astype(np.float64)))
    close(out, ref)
    close(dwte, tw.grad)
    close(dwpe, tp.grad)
    out2, _, none = nn.embedding(ids, wte, None, dout)
    assert none is None
    close(out2, tw[torch.from_numpy(ids).long()])


@pytest.mark.parametrize("N,C,OC", [(1, 16, 48), (37, 16, 64), (20, 64, 16), (9, 80, 96), (300, 256, 256)])
@pytest.mark.parametrize("naive", [False, True])
def test_linear(N, C, OC, naive):
    x, w, b, dout = f32(N, C), f32(OC, C, scale=0.2), f32(OC), f32(N, OC)
    out, dx, dw, db = nn.linear(x, w, b, dout, naive=naive)
    tx, tw, tb = t64(x), t64(w), t64(b)
    ref = F.linear(tx, tw, tb)
    ref.backward(torch.from_numpy(dout.astype(np.float64)))
    close(out, ref)
    close(dx, tx.grad)
    close(dw, tw.grad)
    close(db, tb.grad)


@pytest.mark.parametrize("N,C,OC", [(7, 16, 48), (13, 64, 16), (5, 24, 17), (1, 16, 1)])
def test_linear_fast_kernel_is_bitwise_naive(N, C, OC):
    """The blocked kernels add the same products in the same order as the naive loops."""
    x, w, b, dout = f32(N, C), f32(OC, C), f32(OC), f32(N, OC)
    for fast, naive in zip(nn.linear(x, w, b, dout), nn.linear(x, w, b, dout, naive=True)):
        assert fast.tobytes() == naive.tobytes()


def test_layernorm():
    x, w, b, dout = f32(13, 24, scale=3.0) + 2.0, f32(24), f32(24), f32(13, 24)
    out, dx, dw, db = nn.layernorm(x, w, b, dout)
    tx, tw, tb = t64(x), t64(w), t64(b)
    ref = F.layer_norm(tx, (24,), tw, tb, eps=1e-5)
    ref.backward(torch.from_numpy(dout.astype(np.float64)))
    close(out, ref)
    close(dx, tx.grad)
    close(dw, tw.grad)
    close(db, tb.grad)


@pytest.mark.parametrize("approximate", ["tanh", "erf"])
def test_gelu(approximate):
    x, dout = f32(4, 50, scale=3.0), f32(4, 50)
    out, dx = nn.gelu(x, dout, approximate)
    tx = t64(x)
    ref = F.gelu(tx, approximate="tanh" if approximate == "tanh" else "none")
    ref.backward(torch.from_numpy(dout.astype(np.float64)))
    close(out, ref)
    close(dx, tx.grad)


def random_mask(B, T):
    m = RNG.random((B, T)) < 0.7
    m[0, :] = False  # a fully padded row
    if B > 1:
        m[1, :] = True
    return m


@pytest.mark.parametrize("B,T,Tk,C,H,cross", [(4, 5, 5, 16, 1, False), (3, 6, 6, 12, 3, False), (2, 1, 1, 8, 2, False),
                                              (4, 3, 7, 16, 2, True), (3, 1, 4, 8, 1, True)])
def test_attention(B, T, Tk, C, H, cross):
    q, k, v, dout = f32(B, T, C), f32(B, Tk, C), f32(B, Tk, C), f32(B, T, C)
    qm = random_mask(B, T)
    km = random_mask(B, Tk) if cross else qm
    out, att, dq, dk, dv = nn.attention(q, k, v, qm, km, H, dout)
    tq, tk, tv = t64(q), t64(k), t64(v)
    ref, p = masked_attention(tq, tk, tv, torch.from_numpy(qm), torch.from_numpy(km), H)
    ref.backward(torch.from_numpy(dout.astype(np.float64)))
    close(out, ref)
    close(att, p)
    close(dq, tq.grad)
    close(dk, tk.grad)
    close(dv, tv.grad)
    assert np.all(out[0] == 0) and np.all(dq[0] == 0) and np.all(dk[0] == 0)
    assert np.all(np.isfinite(out))
    out2, *_ = nn.attention(q, k, v, None, None, H, dout)
    close(out2, masked_attention(tq, tk, tv, None, None, H)[0])


def test_meanpool():
    x, dout = f32(4, 6, 5), f32(4, 5)
    m = random_mask(4, 6)
    out, dx = nn.meanpool(x, m, dout)
    tx = t64(x)
    mt = torch.from_numpy(m).double()
    ref = (tx * mt[..., None]).sum(1) / mt.sum(1).clamp(min=1)[:, None]
    ref.backward(torch.from_numpy(dout.astype(np.float64)))
    close(out, ref)
    close(dx, tx.grad)


def test_sampler():
    mu, dout = f32(5, 8), f32(5, 8)
    z, eps, dmu, ds = nn.sampler(mu, 0.3, 7, 2, 100, dout)
    tmu, ts = t64(mu), t64(np.float32(0.3))
    ref = tmu + ts**2 * torch.from_numpy(eps.astype(np.float64))
    ref.backward(torch.from_numpy(dout.astype(np.float64)))
    close(z, ref)
    close(dmu, tmu.grad)
    close(ds[0], ts.grad)
    assert abs(eps.mean()) < 0.5 and 0.6 < eps.std() < 1.4
    _, eps2, _, _ = nn.sampler(mu, 0.3, 7, 2, 100, dout)
    assert np.array_equal(eps, eps2)
    assert not np.array_equal(eps, nn.sampler(mu, 0.3, 8, 2, 100, dout)[1])


def test_listmle():
    B, L = 6, 7
    logits, dloss = f32(B, L, scale=4.0), f32(B)
    logits[2, 3] = 45.0  # clipped
    logits[3, 0] = -50.0
    m = random_mask(B, L)
    m[4, :] = False
    m[4, 2] = True  # a one-element list
    loss, dl = nn.listmle(logits, m, dloss)
    tl = t64(logits)
    ref = ref_listmle(tl, torch.from_numpy(m))
    ref.backward(torch.from_numpy(dloss.astype(np.float64)))
    close(loss, ref)
    close(dl, tl.grad)
    loss2, _ = nn.listmle(logits, None, dloss)
    close(loss2, ref_listmle(tl, None))


def test_bradley_terry_and_kl():
    rw, rl, dloss = f32(9, scale=5.0), f32(9, scale=5.0), f32(9)
    rw[0], rl[0] = 80.0, -80.0
    loss, drw, drl = nn.bradley_terry(rw, rl, dloss)
    tw, tl = t64(rw), t64(rl)
    ref = -F.logsigmoid(tw - tl)
    ref.backward(torch.from_numpy(dloss.astype(np.float64)))
    close(loss, ref)
    close(drw, tw.grad)
    close(drl, tl.grad)

    mu, sigma, dloss = f32(5, 8), np.abs(f32(5)) + 0.1, f32(5)
    loss, dmu, dsig = nn.kl(mu, sigma, dloss)
    tm, ts = t64(mu), t64(sigma)
    q = torch.distributions.Normal(tm, ts[:, None].expand_as(tm))
    ref = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1)
    ref.backward(torch.from_numpy(dloss.astype(np.float64)))
    close(loss, ref)
    close(dmu, tm.grad)
    close(dsig, ts.grad)


# ---- optimisers -------------------------------------------------------------------------------

SHAPES = [(6, 4), (5,), (3, 2, 7), (1, 9)]


def opt_problem(steps):
    params = [f32(*s) for s in SHAPES]
    grads = [[f32(*s, scale=10.0 ** RNG.integers(-3, 1)) for s in SHAPES] for _ in range(steps)]
    return params, grads


def run_torch(opt_factory, params, grads, lrs):
    tp = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in params]
    opt = opt_factory(tp)
    for step, gs in enumerate(grads):
        for p, g in zip(tp, gs):
            p.grad = torch.from_numpy(g.copy())
        for group in opt.param_groups:
            group["lr"] = lrs[step]
        opt.step()
    return [p.detach().numpy() for p in tp]


@pytest.mark.parametrize("kind", ["adam", "adamw"])
def test_adam_matches_torch(kind):
    params, grads = opt_problem(3)
    lrs = [1e-2, 5e-3, 2e-2]
    wd = 0.05 if kind == "adamw" else 0.01
    ours = nn.optimizer_run(kind, params, grads, lrs, weight_decay=wd)
    cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    ref = run_torch(lambda ps: cls(ps, lr=1.0, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd), params, grads, lrs)
    for o, r in zip(ours, ref):
        close(o, r, rtol=1e-5, floor=1e-6)
    assert not np.allclose(ours[0], params[0])  # the step did something


@pytest.mark.parametrize("options", [{}, {"beta1": 0.9, "weight_decay": 0.1}, {"scale_parameter": 1},
                                     {"clip_threshold": 0.5}])
def test_adafactor_matches_reference(options):
    params, grads = opt_problem(4)
    lrs = [5e-3, 5e-3, 1e-2, 2e-3]
    ours = nn.optimizer_run("adafactor", params, grads, lrs, **options)
    ref = run_torch(lambda ps: ReferenceAdafactor(ps, lr=1.0, **options), params, grads, lrs)
    for o, r in zip(ours, ref):
        close(o, r, rtol=1e-5, floor=1e-6)
    assert not np.allclose(ours[0], params[0])


def test_clip_and_schedule():
    g = f32(100)
    norm, clipped = nn.clip_grad_norm(g, 1.0)
    tg = torch.nn.Parameter(torch.zeros(100))
    tg.grad = torch.from_numpy(g.copy())
    tnorm = torch.nn.utils.clip_grad_norm_([tg], 1.0)
    assert abs(norm - float(tnorm)) < 1e-4 * float(tnorm)
    close(clipped, tg.grad)
    lrs = nn.lr_schedule(1.0, 10, 100, 0.5, 0.05, 101)
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0) and lrs[50] == pytest.approx(1.0)
    assert lrs[100] == pytest.approx(0.05) and np.all(np.diff(lrs[50:]) <= 0)


# ---- the test model ---------------------------------------------------------------------------

def model_batch(B, Tp, Tc, vocab, seed):
    rng = np.random.default_rng(seed)
    prompts = rng.integers(1, vocab, (B, Tp)).astype(np.int32)
    chosen = rng.integers(1, vocab, (B, Tc)).astype(np.int32)
    rejected = rng.integers(1, vocab, (B, Tc)).astype(np.int32)
    for arr, T in ((prompts, Tp), (chosen, Tc), (rejected, Tc)):
        lengths = rng.integers(1, T + 1, B)
        for b, n in enumerate(lengths):
            arr[b, n:] = 0
    prompts[0, :] = 0  # a fully padded prompt
    return prompts, chosen, rejected


@pytest.mark.parametrize("postnorm,gelu", [(False, "tanh"), (True, "erf")])
def test_model_matches_torch(postnorm, gelu):
    model = nn.TestModel(vocab=13, width=16, heads=2, hidden=64, n_enc=2, n_dec=2, max_prompt_len=8,
                         max_completion_len=6, postnorm=postnorm, gelu=gelu, chunk=8, max_batch=32, init_std=0.3,
                         seed=3)
    flat = model.flat()
    flat += (0.1 * np.random.default_rng(1).standard_normal(flat.shape)).astype(np.float32)
    prompts, chosen, rejected = model_batch(20, 8, 6, 13, 5)
    loss, rw, rl = model.loss_grad(prompts, chosen, rejected, n_threads=2)
    ref = TorchTestModel(model.param_info(), heads=2, postnorm=postnorm, gelu=gelu)
    ref.load_from(model)
    tl, trw, trl = ref(*(torch.from_numpy(a).long() for a in (prompts, chosen, rejected)))
    tl.backward()
    close(loss, tl)
    close(rw, trw)
    close(rl, trl)
    n_nonzero = 0
    # Some gradients are exactly zero in exact arithmetic (a bias feeding a LayerNorm only shifts
    # what the norm removes); float32 leaves ~1e-8 there, so the absolute floor is relative to the
    # largest gradient of the whole model rather than of the tensor.
    scale = max(float(ref.p(name).grad.abs().max()) for name, _, _ in model.param_info())
    for name, _, _ in model.param_info():
        g = ref.p(name).grad
        assert g is not None, name
        close(model.grad(name), g, scale=scale)
        n_nonzero += int(np.any(model.grad(name) != 0))
    assert n_nonzero >= len(model.param_info()) - 1  # every tensor but unused position rows gets gradient


def test_fused_torch_attention_is_the_same_model():
    """The benchmark's torch side (F.scaled_dot_product_attention) computes the model of the tests."""
    model = nn.TestModel(vocab=13, width=16, heads=2, hidden=32, n_enc=2, n_dec=2, max_prompt_len=8,
                         max_completion_len=6, chunk=8, max_batch=32, init_std=0.3, seed=4)
    prompts, chosen, rejected = model_batch(20, 8, 6, 13, 6)
    prompts[0, 0] = 5  # the fused kernel needs a real key in every row
    ids = [torch.from_numpy(a).long() for a in (prompts, chosen, rejected)]
    outs = []
    for fused in (False, True):
        ref = TorchTestModel(model.param_info(), heads=2, fused_attention=fused)
        ref.load_from(model)
        loss, rw, _ = ref(*ids)
        loss.backward()
        outs.append((loss.detach(), rw.detach(), [ref.p(n).grad.clone() for n, _, _ in model.param_info()]))
    (l0, r0, g0), (l1, r1, g1) = outs
    torch.testing.assert_close(l1, l0, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(r1, r0, rtol=1e-12, atol=1e-12)
    for a, b in zip(g1, g0):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
