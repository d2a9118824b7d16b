"""Keeps the PyTorch reference of the individual reward model and the NumPy curriculum honest.

These are the spec the C model (issue 5) is checked against, so their own rules are tested here:
shapes, masks (pad content and pad slots have no effect), ListMLE against a brute-force
Plackett–Luce likelihood, the KL formula, and the curriculum's invariants and schedules.
"""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from reference import curriculum as cu
from reference import individual_torch as it
from reference import toy_data

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    return toy_data.four_types(100, seed=3)


@pytest.fixture(scope="module")
def model(data):
    torch.manual_seed(0)
    return it.IndividualRewardModel(it.IndividualConfig(vocab_size=len(data.vocab) + 1)).eval()


def _batch(data, seed=0, raises=0, **kw):
    cfg = cu.CurriculumConfig(batch_size=16, **kw)
    return cu.draw_batch(data, np.random.default_rng(seed), raises, cfg)


# ---- model: shapes and masks -----------------------------------------------------------------

def test_toy_data_is_exact_four_types():
    d = toy_data.four_types(1000, seed=1)
    assert np.bincount(d.rater_labels).tolist() == [420, 260, 150, 170]
    orders = toy_data.type_orders()
    for r in (0, 17, 999):
        t = d.rater_labels[r]
        e0, e1 = d.entries(r)
        assert d.ranking(e0).tolist() == orders[t, 0].tolist()
        assert d.ranking(e1).tolist() == [4 + c for c in orders[t, 0][::-1]]
    assert d.completion_prompt.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_forward_shapes_token_mode(data, model):
    b = _batch(data)
    B, NP, S = b.out_mask.shape
    out = model(data, b, np.zeros((B, 8)))
    assert out["rewards"].shape == (B, NP, S)
    assert out["mu"].shape == out["z"].shape == out["kl_dim"].shape == out["u"].shape == (B, 8)
    assert torch.isfinite(out["rewards"]).all()
    n = sum(p.numel() for p in model.parameters())
    assert 40_000 < n < 60_000  # the default sizes (49,106 with this vocabulary); see NOTES.md


def test_forward_shapes_feature_mode():
    d = toy_data.four_types(50, seed=0, features=True, feature_dim=12)
    torch.manual_seed(1)
    m = it.IndividualRewardModel(it.IndividualConfig(mode="features", prompt_feature_dim=12,
                                                     completion_feature_dim=12))
    b = _batch(d)
    out = m(d, b, None)
    assert out["rewards"].shape == b.out_mask.shape
    losses = it.loss_fn(out, b, beta=0.1)
    losses["loss"].backward()
    assert all(torch.isfinite(p.grad).all() for p in m.parameters() if p.grad is not None)
    assert m.scale.grad is not None and m.prompt_proj.weight.grad.abs().sum() > 0


def test_eps_enters_as_s_squared(data, model):
    b = _batch(data)
    eps = np.random.default_rng(0).standard_normal((16, 8))
    out = model(data, b, eps)
    expected = out["mu"] + model.scale.detach() ** 2 * torch.as_tensor(eps, dtype=torch.float32)
    torch.testing.assert_close(out["z"], expected)


def test_pad_slot_content_has_no_effect(data, model):
    b = _batch(data, seed=5)
    ref = model(data, b, None)
    b2 = copy.deepcopy(b)
    rng = np.random.default_rng(0)
    hidden = ~b2.enc_mask
    assert hidden.any()
    b2.enc_completion[hidden] = rng.integers(0, len(b2.completion_ids), hidden.sum())
    pad_out = ~b2.out_mask
    b2.out_completion[pad_out] = rng.integers(0, len(b2.completion_ids), pad_out.sum())
    out = model(data, b2, None)
    torch.testing.assert_close(out["mu"], ref["mu"], rtol=0, atol=0)
    m = torch.as_tensor(b.out_mask)
    torch.testing.assert_close(out["rewards"][m], ref["rewards"][m], rtol=0, atol=0)


def test_hidden_prompt_tokens_do_not_reach_the_encoder(data, model):
    b = _batch(data, seed=2)
    b.prompt_visible[:, 1] = False
    b.enc_mask[:, 1] = False
    ref = model(data, b, None)["mu"]
    b2 = copy.deepcopy(b)
    b2.entry_prompt[:, 1] = 1 - b2.entry_prompt[:, 1]  # a different prompt in the hidden entry
    torch.testing.assert_close(model(data, b2, None)["mu"], ref, rtol=0, atol=0)


def _pad(batch, extra_np=1, extra_s=2):
    b = copy.deepcopy(batch)
    for name in ("entry_prompt", "entry_mask", "prompt_visible"):
        a = getattr(b, name)
        setattr(b, name, np.concatenate([a, np.zeros((a.shape[0], extra_np), a.dtype)], axis=1))
    for name in ("enc_completion", "enc_mask", "out_completion", "out_mask"):
        a = getattr(b, name)
        a = np.concatenate([a, np.zeros((a.shape[0], a.shape[1], extra_s), a.dtype)], axis=2)
        a = np.concatenate([a, np.zeros((a.shape[0], extra_np, a.shape[2]), a.dtype)], axis=1)
        setattr(b, name, a)
    return b


def test_pad_slots_and_pad_tokens_have_no_effect(data, model):
    b = _batch(data, seed=7)
    ref = model(data, b, None)
    out = model(data, _pad(b), None)
    _, NP, S = b.out_mask.shape
    torch.testing.assert_close(out["mu"], ref["mu"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out["rewards"][:, :NP, :S], ref["rewards"], rtol=1e-5, atol=1e-6)
    # extra pad token columns on prompts and completions
    d2 = copy.deepcopy(data)
    d2.prompt_tokens = np.concatenate([d2.prompt_tokens, np.zeros((2, 3), np.int32)], axis=1)
    d2.completion_tokens = np.concatenate([d2.completion_tokens, np.zeros((8, 2), np.int32)], axis=1)
    out2 = model(d2, b, None)
    torch.testing.assert_close(out2["mu"], ref["mu"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out2["rewards"], ref["rewards"], rtol=1e-5, atol=1e-6)


def test_rater_with_only_prompt_tokens_visible_has_finite_gradients(data, model):
    b = _batch(data, seed=1)
    b.enc_mask[0] = False
    m = copy.deepcopy(model).train()
    out = m(data, b, np.zeros((16, 8)))
    it.loss_fn(out, b, beta=0.1)["loss"].backward()
    assert all(torch.isfinite(p.grad).all() for p in m.parameters() if p.grad is not None)


def test_rater_with_nothing_visible_gets_a_finite_mu(data, model):
    """Forward is finite.  (Its gradient is not: at init, with zero biases, the query stays exactly 0
    through every LayerNorm, each scaling the backward by 1/sqrt(eps); the curriculum never produces
    such a rater — see test_every_drawn_rater_sees_something — and the C model must not either.)"""
    b = _batch(data, seed=1)
    b.prompt_visible[0] = False
    b.enc_mask[0] = False
    out = model(data, b, None)
    assert torch.isfinite(out["mu"]).all() and torch.isfinite(out["rewards"]).all()


def test_positions_matter(data, model):
    """Moving a visible completion to another slot (rank position) changes μ: positions are used."""
    b = full = cu.full_batch(data, [0])
    ref = model(data, b, None)["mu"]
    b2 = copy.deepcopy(full)
    b2.enc_completion[0, 0, [0, 1]] = b2.enc_completion[0, 0, [1, 0]]
    assert not torch.allclose(model(data, b2, None)["mu"], ref)


def test_memory_keys_values_decompose_into_gathered_projections(data, model):
    """The C plan (csrc/models/DESIGN_individual.md §1.2): kv(token + LN(rank) + pos) equals the sum of
    the separately projected parts, so keys/values are projected per distinct token and gathered."""
    b = _batch(data, seed=9)
    bt = it.batch_tensors(b)
    with torch.no_grad():
        p, pmask, c, cmask = model.interpret(data, b.prompt_ids, b.completion_ids, bt["completion_prompt"])
        mem, _mask = model.memory(bt, p, pmask, c, cmask)
        kv = model.pref_layers[5].cross_attn.kv
        B, NP = bt["entry_prompt"].shape
        S, Lp, Lc = bt["enc_completion"].shape[2], p.shape[1], c.shape[1]
        W = kv.weight
        kv_p, kv_c = p @ W.T, c @ W.T
        kv_r = model.rank_ln(model.rank_position[:S]) @ W.T
        kv_pos = model.prompt_position[:NP] @ W.T + kv.bias
        gp = kv_p[bt["entry_prompt"]] + kv_pos[None, :, None, :]
        gc = kv_c[bt["enc_completion"]] + kv_r[None, None, :, None, :] + kv_pos[None, :, None, None, :]
        gathered = torch.cat([gp, gc.reshape(B, NP, S * Lc, -1)], dim=2).reshape(B, NP * (Lp + S * Lc), -1)
        torch.testing.assert_close(gathered, kv(mem), rtol=1e-5, atol=1e-5)


def test_vanilla_mode_ignores_the_rater(data):
    torch.manual_seed(2)
    m = it.IndividualRewardModel(it.IndividualConfig(vocab_size=len(data.vocab) + 1, vanilla=True))
    b = cu.full_batch(data, np.arange(10))
    out = m(data, b, None)
    assert torch.equal(out["u"], out["u"][:1].expand_as(out["u"]))
    assert float(it.loss_fn(out, b, beta=0.1, vanilla=True)["kl"]) == 0.0


# ---- losses --------------------------------------------------------------------------------------

def _pl_nll(r):
    """Plackett–Luce NLL of the order 0, 1, ..., m-1 by enumerating all m! orders."""
    w = np.exp(np.asarray(r, dtype=np.float64))

    def prob(order):
        p, rest = 1.0, list(order)
        for k in order:
            p *= w[k] / sum(w[j] for j in rest)
            rest.remove(k)
        return p

    total = sum(prob(o) for o in itertools.permutations(range(len(r))))
    assert math.isclose(total, 1.0, rel_tol=1e-9)  # the enumeration is a distribution
    return -math.log(prob(range(len(r))))


@pytest.mark.parametrize("m", [1, 2, 3, 5])
def test_listmle_equals_brute_force_plackett_luce(m):
    rng = np.random.default_rng(m)
    S = 6
    r = rng.normal(0, 2, size=(4, S))
    mask = np.zeros((4, S), bool)
    mask[:, :m] = True
    r[:, m:] = rng.normal(0, 50, size=(4, S - m))  # pad content must not matter
    nll, counted = it.listmle(torch.as_tensor(r), torch.as_tensor(mask))
    for i in range(4):
        assert nll[i].item() == pytest.approx(_pl_nll(r[i, :m]), rel=1e-9, abs=1e-12)
    assert counted.tolist() == [m >= 2] * 4


def test_listmle_clips_logits():
    r = torch.tensor([[45.0, -3.0, -80.0]], dtype=torch.float64)
    nll, _ = it.listmle(r, torch.ones(1, 3, dtype=torch.bool))
    assert nll.item() == pytest.approx(_pl_nll([30.0, -3.0, -30.0]), rel=1e-9)


def test_loss_averages_over_lists_with_two_or_more_items():
    r = torch.tensor([[[0.1, 0.5, 0.0], [0.3, 0.0, 0.0]], [[2.0, 1.0, -1.0], [0.0, 0.0, 0.0]]])
    mask = np.array([[[1, 1, 0], [1, 0, 0]], [[1, 1, 1], [0, 0, 0]]], bool)

    class B:
        out_mask = mask
    out = {"rewards": r, "kl_dim": torch.zeros(2, 8)}
    lm = it.loss_fn(out, B, beta=0.0)["listmle"].item()
    assert lm == pytest.approx((_pl_nll([0.1, 0.5]) + _pl_nll([2.0, 1.0, -1.0])) / 2, rel=1e-6)


def test_kl_matches_closed_form_and_torch_distributions():
    mu = torch.randn(5, 8, dtype=torch.float64)
    s = torch.tensor(0.37, dtype=torch.float64)
    var = s ** 4
    kl_dim = 0.5 * (mu * mu + var - 1.0 - torch.log(var))
    ref = torch.distributions.kl_divergence(torch.distributions.Normal(mu, s ** 2), torch.distributions.Normal(0.0, 1.0))
    torch.testing.assert_close(kl_dim, ref)
    assert it.kl_term(kl_dim).item() == pytest.approx(ref.mean(0).sum().item())
    fb = it.kl_term(torch.zeros(3, 8, dtype=torch.float64) + 0.001, free_bits=0.05).item()
    assert fb == pytest.approx(8 * 0.05)


def test_model_kl_dim_is_the_formula(data, model):
    out = model(data, _batch(data), None)
    var = model.scale.detach() ** 4
    torch.testing.assert_close(out["kl_dim"], 0.5 * (out["mu"] ** 2 + var - 1 - torch.log(var)))


# ---- curriculum ----------------------------------------------------------------------------------

def _rows(data, b):
    """(rater, entry position, ranking, enc list, out list) in global ids."""
    for k, r in enumerate(b.rater_ids):
        for i in range(b.entry_mask.shape[1]):
            if not b.entry_mask[k, i]:
                continue
            gp = b.prompt_ids[b.entry_prompt[k, i]]
            (e,) = [e for e in data.entries(r) if data.entry_prompt[e] == gp]
            L = data.ranking(e).tolist()
            enc = {s: int(b.completion_ids[b.enc_completion[k, i, s]]) for s in np.flatnonzero(b.enc_mask[k, i])}
            out = [int(b.completion_ids[b.out_completion[k, i, s]]) for s in np.flatnonzero(b.out_mask[k, i])]
            assert b.out_mask[k, i, : len(out)].all()  # packed
            yield k, i, L, enc, out


@pytest.mark.parametrize("raises", [0, 10])
def test_dummy_mode_keeps_one_completion_in_its_true_slot(data, raises):
    b = _batch(data, seed=11, raises=raises, p_dummy=1.0)
    for _k, _i, L, enc, out in _rows(data, b):
        assert len(enc) == 1
        (s, c), = enc.items()
        assert L[s] == c
        expected = L if raises == 10 else [x for x in L if x != c]
        assert out == expected


@pytest.mark.parametrize("raises", [0, 10])
def test_mask_mode_packs_visible_first_and_outputs_hidden(data, raises):
    b = _batch(data, seed=12, raises=raises, p_dummy=0.0)
    for _k, _i, L, enc, out in _rows(data, b):
        vis = [enc[s] for s in sorted(enc)]
        assert sorted(enc) == list(range(len(vis)))  # packed into the first slots
        assert vis == [x for x in L if x in vis]  # true relative order
        hidden = [x for x in L if x not in vis]
        assert out == (L if raises == 10 else hidden)


def test_every_drawn_rater_sees_something(data):
    rng = np.random.default_rng(4)
    cfg = cu.CurriculumConfig(batch_size=64, p_hide_prompt=0.9)
    for raises in (0, 11):
        for _ in range(20):
            b = cu.draw_batch(data, rng, raises, cfg)
            assert (b.prompt_visible & b.entry_mask).any(1).all()


def test_mode_frequencies(data):
    cfg = cu.CurriculumConfig(batch_size=64)
    rng = np.random.default_rng(0)
    n_one, n_lists, n_vis, n_slots = 0, 0, 0, 0
    for _ in range(40):
        b = cu.draw_batch(data, rng, 0, cfg)
        vis = b.enc_mask.sum(-1)[b.entry_mask]
        n_lists += vis.size
        n_vis += vis.sum()
        n_slots += 4 * vis.size
        n_one += (vis == 1).sum()
    # P(exactly one visible) = 0.2 + 0.8·4·0.5⁴ = 0.4;  E[visible] = 0.2·1 + 0.8·2 = 1.8
    assert n_one / n_lists == pytest.approx(0.4, abs=0.03)
    assert n_vis / n_lists == pytest.approx(1.8, abs=0.05)


def test_whole_prompt_hiding_only_after_repeat_passes_one(data):
    rng = np.random.default_rng(1)
    cfg = cu.CurriculumConfig(batch_size=64)
    for raises in (0, 11):
        hidden, total = 0, 0
        for _ in range(30):
            b = cu.draw_batch(data, rng, raises, cfg)
            hid = (~b.prompt_visible & b.entry_mask).sum(1)
            assert (hid <= 1).all()
            hidden += hid.sum()
            total += len(hid)
            for k, i, L, enc, out in _rows(data, b):
                if not b.prompt_visible[k, i]:
                    assert enc == {} and out == L
        if raises == 0:
            assert hidden == 0
        else:
            assert hidden / total == pytest.approx(0.3, abs=0.04)


def test_batches_always_have_a_scoring_list_and_unusable_data_raises(data):
    rng = np.random.default_rng(2)
    cfg = cu.CurriculumConfig(batch_size=1, p_dummy=0.0, p_hide=0.0)  # repeat 0: outputs usually empty
    with pytest.raises(RuntimeError, match="2-item output list"):
        cu.draw_batch(data, rng, 0, cfg)
    cfg = cu.CurriculumConfig(batch_size=2, p_dummy=0.0, p_hide=0.1, max_redraws=10_000)
    for _ in range(20):
        assert cu.draw_batch(data, rng, 0, cfg).n_lists() >= 1


def test_full_batch_single_prompt_uses_position_zero(data):
    b = cu.full_batch(data, [4, 5], prompts={1})
    assert b.entry_mask.shape == (2, 1) and b.entry_mask.all()
    assert b.prompt_ids.tolist() == [1]
    assert b.enc_mask.all() and b.out_mask.all()


def _run_schedule(cfg, loss_of, n_steps):
    sched = cu.RepeatSchedule(cfg)
    last = 0
    for step in range(n_steps):
        if sched.record(step, loss_of(step - last)):
            last = step + 1
    return sched.raise_steps


def test_repeat_rule_on_flat_and_decreasing_losses():
    cfg = cu.CurriculumConfig()
    assert _run_schedule(cfg, lambda t: 1.0, 2000) == [899, 1799]
    assert _run_schedule(cfg, lambda t: 10.0 - 0.001 * t, 3000) == []  # still improving: no raise
    no_reset = cu.CurriculumConfig(reset_window=False)
    assert _run_schedule(no_reset, lambda t: 1.0, 1200) == [899, 999, 1099, 1199]


def test_repeat_window_reset_ignores_the_jump_after_a_raise():
    """After each raise the loss jumps to 3 and decays back to a plateau at 1 (rounded, so the plateau
    is flat).  With the reset, repeat is raised once per plateau; without it, the jump right after a
    raise makes the last third look worse than the first, i.e. 'stable', at every check."""
    def loss(t):  # t = steps since the last raise
        return round(1.0 + 2.0 * math.exp(-t / 200.0), 3)

    assert _run_schedule(cu.CurriculumConfig(), loss, 8000) == [2499, 4999, 7499]
    without = _run_schedule(cu.CurriculumConfig(reset_window=False), loss, 8000)
    assert without[:3] == [2499, 2599, 2699] and len(without) == 56


def test_stop_rule_and_schedules():
    cfg = cu.CurriculumConfig(max_steps=10_000)
    sched = cu.RepeatSchedule(cfg)
    sched.raises = 10
    assert not cu.should_stop(sched, [0.5] * 300, cfg)  # repeat == 1 is not > 1
    sched.raises = 11
    assert sched.repeat > 1.0 and sched.past_one
    assert cu.should_stop(sched, [5.0] * 100 + [1.9] * 300, cfg)
    assert not cu.should_stop(sched, [1.0] * 299, cfg)
    assert not cu.should_stop(sched, [2.1] * 300, cfg)
    assert cu.beta_at(0, cfg) == cu.beta_at(1999, cfg) == 0.0
    assert cu.beta_at(2000, cfg) == pytest.approx(0.1 / 2000)
    assert cu.beta_at(3999, cfg) == cu.beta_at(9000, cfg) == pytest.approx(0.1)
    lr = cu.LRSchedule(cfg)
    assert lr(0) == lr(4999) == 5e-3
    assert lr(7500) == pytest.approx(5e-3 * (0.05 + 0.95 * 0.5))
    assert lr(9999) == pytest.approx(5e-3 * 0.05, rel=1e-3)
    lr.stop_rule_met(3000)
    assert (lr.start, lr.end) == (3000, 6000) and lr(2999) == 5e-3
    assert lr(6000) == pytest.approx(2.5e-4) and lr.finished(5999)
    lr.stop_rule_met(4000)  # already decaying: unchanged
    assert (lr.start, lr.end) == (3000, 6000)


def test_curriculum_is_a_function_of_the_seed(data):
    cfg = cu.CurriculumConfig(batch_size=32)
    a = cu.draw_batch(data, np.random.default_rng(8), 11, cfg)
    b = cu.draw_batch(data, np.random.default_rng(8), 11, cfg)
    c = cu.draw_batch(data, np.random.default_rng(9), 11, cfg)
    for name in ("rater_ids", "entry_prompt", "prompt_visible", "enc_completion", "enc_mask", "out_completion",
                 "out_mask"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.enc_mask, c.enc_mask)
