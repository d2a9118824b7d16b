"""IndividualRewardModel: API, determinism, save/load, parameter views, bad input (fast: short fits).

The acceptance checks that need a trained model are in test_individual_training.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import socialrm as srm
from socialrm import _core
from socialrm.models import IndividualRewardModel

SMALL = {"max_steps": 60, "kl_zero_steps": 20, "kl_warmup_steps": 20, "batch_size": 32, "progress": False,
         "collapse": "ignore", "callback_every": 25, "monitor_raters": 64}


@pytest.fixture(scope="module")
def data():
    return srm.examples.four_types(n_raters=120, seed=0)


@pytest.fixture(scope="module")
def fitted(data):
    return IndividualRewardModel(random_state=3, n_threads=1, **SMALL).fit(data)


def test_fit_attributes_and_history(fitted):
    m = fitted
    assert m.n_steps_ == 60 and m.stop_reason_ == "max_steps"
    h = m.history_
    for key in ("loss", "listmle", "kl", "beta", "lr", "repeat", "scale", "sigma", "grad_norm"):
        assert h[key].shape == (60,) and np.all(np.isfinite(h[key])), key
    assert h["kl_dim"].shape == (60, 8)
    np.testing.assert_allclose(h["kl_dim"].sum(1), h["kl"], rtol=1e-5)
    assert h["beta"][0] == 0 and h["beta"][19] == 0 and h["beta"][-1] == pytest.approx(0.1)
    # cosine decay over the second half, to 5 %
    assert h["lr"][29] == pytest.approx(5e-3) and h["lr"][-1] == pytest.approx(5e-3 * (0.05 + 0.95 * 0.5 * (
        1 + np.cos(np.pi * 29 / 30))), rel=1e-5)
    assert list(h["check_step"]) == [25, 50, 60]
    assert h["active_units"].shape == (3,) and h["spread"].shape == (3,)
    assert m.config_["d_latent"] == 8 and m.config_["vocab"] == 17


def test_embed_decode_rewards_rank(fitted, data):
    z = fitted.embed_raters(data)
    assert z.shape == (data.n_raters, 8) and z.dtype == np.float32
    mu, zs = fitted.embed_raters(data, return_samples=True, raters=[0, 5], random_state=1)
    np.testing.assert_array_equal(mu, z[[0, 5]])
    assert not np.array_equal(mu, zs)
    np.testing.assert_allclose(np.abs(zs - mu).std(), fitted.history_["sigma"][-1], rtol=0.8)
    one = fitted.embed_raters(data, prompts=[1], raters=[0, 1])
    assert one.shape == (2, 8) and not np.array_equal(one, z[:2])
    u = fitted.decode(z[:4])
    assert u.shape == (4, 8)
    r = fitted.rewards(z[:4], 0, data=data)
    assert r.shape == (4, 4)
    # the same completions given as raw tokens score identically
    comps = data.completions_of(0)
    r2 = fitted.rewards(z[:4], data.prompt_tokens[0], data.completion_tokens[comps])
    np.testing.assert_array_equal(r, r2)
    # a subset, in another order
    r3 = fitted.rewards(z[:4], 0, comps[::-1][:3], data=data)
    np.testing.assert_array_equal(r3, r[:, ::-1][:, :3])
    order = fitted.rank(z[:4], 0, data=data)
    np.testing.assert_array_equal(order, np.argsort(-r, axis=1, kind="stable"))
    # already-decoded latents skip the latent decoder and score the same, bitwise
    np.testing.assert_array_equal(fitted.rewards(u, 0, data=data, decoded=True), r)
    np.testing.assert_array_equal(fitted.rank(u, 0, data=data, decoded=True), order)
    assert not np.array_equal(fitted.rewards(z[:4], 0, data=data, decoded=True), r)


def test_rewards_blocks_match_single_rows(fitted):
    """Many latents × many new completions (blocked internally) equal one latent at a time."""
    rng = np.random.default_rng(1)
    z = rng.standard_normal((37, 8)).astype(np.float32)
    comps = rng.integers(1, 17, (3000, 1)).astype(np.int32)
    r = fitted.rewards(z, [1, 2, 3], comps)
    assert r.shape == (37, 3000)
    for i in (0, 16, 36):
        np.testing.assert_array_equal(r[i], fitted.rewards(z[i:i + 1], [1, 2, 3], comps)[0])


def test_unseen_partial_rater(fitted):
    new = srm.examples.from_ballots("four_types", [{"normal": ["Memphis", "Knoxville"]}, {"inverted": ["Knoxville",
                                                                                                         "Memphis"]}])
    z = fitted.embed_raters(new)
    assert z.shape == (2, 8) and np.all(np.isfinite(z))


def test_parameter_views_are_zero_copy(fitted, data):
    params = fitted.params_
    assert "pref_layers.7.cross_attn.kv.weight" in params and params["scale"].shape == (1,)
    w = fitted.get_parameter("reward_fc2.bias")
    assert w.base is not None and params["reward_fc2.bias"].ctypes.data == w.ctypes.data
    z = fitted.embed_raters(data, raters=[0])
    before = fitted.rewards(z, 0, data=data)
    old = w.copy()
    w += 1.0  # a view: the C model sees it
    np.testing.assert_allclose(fitted.rewards(z, 0, data=data), before + 1.0, atol=1e-5)
    w[...] = old
    with pytest.raises(KeyError):
        fitted.get_parameter("nope")


def test_determinism_same_seed_and_threads(data):
    a = IndividualRewardModel(random_state=11, n_threads=2, **SMALL).fit(data)
    b = IndividualRewardModel(random_state=11, n_threads=2, **SMALL).fit(data)
    c = IndividualRewardModel(random_state=11, n_threads=1, **SMALL).fit(data)
    d = IndividualRewardModel(random_state=12, n_threads=2, **SMALL).fit(data)
    for name, p in a.params_.items():
        assert np.array_equal(p, b.params_[name]), name
        assert np.array_equal(p, c.params_[name]), name  # fixed chunks: even across thread counts
    assert not np.array_equal(a.params_["tok_emb"], d.params_["tok_emb"])
    np.testing.assert_array_equal(a.history_["loss"], b.history_["loss"])


def test_save_load_roundtrip(fitted, data, tmp_path):
    path = tmp_path / "irm.safetensors"
    fitted.save(path)
    loaded = IndividualRewardModel.load(path)
    z = fitted.embed_raters(data)
    np.testing.assert_array_equal(loaded.embed_raters(data), z)
    np.testing.assert_array_equal(loaded.rewards(z, 1, data=data), fitted.rewards(z, 1, data=data))
    assert loaded.config_ == fitted.config_ and loaded.beta == fitted.beta
    raw = path.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[: len(raw) - 100])
    with pytest.raises(ValueError):
        IndividualRewardModel.load(tmp_path / "cut.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(ValueError):
        IndividualRewardModel.load(tmp_path / "junk.safetensors")
    srm.save_safetensors(tmp_path / "other.safetensors", {"w": np.zeros(2, np.float32)}, {"format": "x"})
    with pytest.raises(ValueError, match="not an IndividualRewardModel"):
        IndividualRewardModel.load(tmp_path / "other.safetensors")


def test_vanilla_is_one_shared_model(data):
    m = IndividualRewardModel(vanilla=True, random_state=0, n_threads=1, **SMALL).fit(data)
    assert "scale" not in m.params_ and "pref_layers.0.ff.fc1.weight" not in m.params_
    z = m.embed_raters(data)
    assert np.all(z == 0)
    r = m.rewards(z[:5], 0, data=data)
    assert np.all(r == r[0])
    assert np.all(m.history_["kl"] == 0)


def test_callback_stops_and_keeps_parameters(data):
    seen = []

    def cb(model, info):
        seen.append(info["step"])
        return info["step"] >= 50

    m = IndividualRewardModel(random_state=0, n_threads=1, **{**SMALL, "max_steps": 500}).fit(data, callback=cb)
    assert seen == [25, 50] and m.n_steps_ == 50 and m.stop_reason_ == "callback"
    assert len(m.history_["loss"]) == 50


def test_keyboard_interrupt_stops_cleanly(data):
    def cb(model, info):
        if info["step"] >= 50:
            raise KeyboardInterrupt

    m = IndividualRewardModel(random_state=0, n_threads=1, **{**SMALL, "max_steps": 500})
    with pytest.warns(RuntimeWarning, match="interrupted at step 50"):
        m.fit(data, callback=cb)
    assert m.stop_reason_ == "interrupted" and m.n_steps_ == 50 and len(m.history_["loss"]) == 50
    assert m.embed_raters(data).shape == (data.n_raters, 8)  # parameters kept, model usable


def test_collapse_guard_raises_on_a_constant_model(data, monkeypatch):
    diag = {"collapsed": True, "spread": 0.0, "active_units": 0}
    monkeypatch.setattr(IndividualRewardModel, "latent_diagnostics", lambda self, d: diag)
    with pytest.raises(RuntimeError, match="collapsed"):
        IndividualRewardModel(random_state=0, n_threads=1, **{**SMALL, "collapse": "error"}).fit(data)
    with pytest.warns(RuntimeWarning, match="collapsed"):
        IndividualRewardModel(random_state=0, n_threads=1, **{**SMALL, "collapse": "warn"}).fit(data)


def test_decoded_diversity_detects_a_constant_reward_block(data):
    """Zeroing the latent's columns of the reward block's first layer makes every rater decode the
    same orders: the diagnostic reports collapse; restoring the weights undoes it."""
    fitted = IndividualRewardModel(random_state=0, n_threads=2, **{**SMALL, "max_steps": 400, "batch_size": 64}).fit(data)
    w = fitted.get_parameter("reward_fc1.weight")
    old = w.copy()
    assert not fitted.latent_diagnostics(data)["collapsed"]
    w[:, :8] = 0.0
    diag = fitted.latent_diagnostics(data)
    w[...] = old
    assert diag["collapsed"] and diag["decoded_diversity"] == 0.0


def test_not_fitted():
    m = IndividualRewardModel()
    with pytest.raises(srm.NotFittedError):
        m.embed_raters(srm.examples.four_types(n_raters=10, seed=0))
    with pytest.raises(srm.NotFittedError):
        _ = m.params_


# ---------------------------------------------------------------- bad input before training starts


@pytest.mark.bad_input
def test_bad_data_is_rejected_before_training():
    with pytest.raises(ValueError, match="twice"):
        srm.PreferenceData.from_records([{"rater": 0, "prompt": "p", "ranking": ["a", "b", "a"]}], tokenizer="words")
    base = srm.examples.four_types(n_raters=10, seed=0)
    kw = dict(base._item_kwargs())
    with pytest.raises(ValueError, match="another prompt"):
        srm.PreferenceData(rater_ptr=[0, 1], entry_prompt=[0], entry_ptr=[0, 2], rankings=[0, 5], **kw)
    with pytest.raises(ValueError, match="no rankings"):
        srm.PreferenceData(rater_ptr=[0, 1, 1], entry_prompt=[0], entry_ptr=[0, 2], rankings=[0, 1], **kw)
    feats = srm.examples.four_types(n_raters=10, seed=0, mode="features", feature_dim=4)
    bad = feats.completion_features.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN|finite"):
        srm.PreferenceData(rater_ptr=feats.rater_ptr, entry_prompt=feats.entry_prompt, entry_ptr=feats.entry_ptr,
                           rankings=feats.rankings, completion_prompt=feats.completion_prompt,
                           prompt_features=feats.prompt_features, completion_features=bad)
    with pytest.raises(ValueError, match="cycle"):
        srm.PreferenceData.from_pairwise([
            {"rater": "r", "prompt": "p", "chosen": "a", "rejected": "b"},
            {"rater": "r", "prompt": "p", "chosen": "b", "rejected": "c"},
            {"rater": "r", "prompt": "p", "chosen": "c", "rejected": "a"}], tokenizer="words")


@pytest.mark.bad_input
def test_model_side_checks(fitted, data):
    """What PreferenceData cannot know: the fitted vocabulary and sizes; and arrays given directly."""
    big = srm.PreferenceData(rater_ptr=[0, 1], entry_prompt=[0], entry_ptr=[0, 2], rankings=[0, 1],
                             completion_prompt=[0, 0], prompt_tokens=[[1, 40]], completion_tokens=[[2], [3]])
    with pytest.raises(ValueError, match="vocab"):
        fitted.embed_raters(big)
    with pytest.raises(ValueError, match="vocab"):
        fitted.rewards(np.zeros((1, 8)), [1, 2], [[99]])
    with pytest.raises(ValueError, match="empty"):
        fitted.rewards(np.zeros((1, 8)), [1, 2], [[0]])
    with pytest.raises(ValueError, match="latents"):
        fitted.rewards(np.full((1, 8), np.nan), 0, data=data)
    with pytest.raises(ValueError, match="columns"):
        fitted.decode(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="PreferenceData"):
        fitted.embed_raters({"rater_ptr": [0]})
    feats = srm.examples.four_types(n_raters=10, seed=0, mode="features", feature_dim=4)
    with pytest.raises(TypeError, match="tokens"):
        fitted.embed_raters(feats)
    # the C checks behind the binding, with arrays PreferenceData would have refused
    core = fitted.model_
    t = [data.rater_ptr, data.entry_prompt, data.entry_ptr, data.rankings.copy(), data.completion_prompt,
         data.prompt_tokens, data.completion_tokens, None, None]
    t[3][1] = t[3][0]
    with pytest.raises(ValueError, match="twice"):
        core.embed(tuple(t), None, None, 0, 1)
    t[3] = data.rankings.copy()
    t[3][0] = 5  # completion of prompt 1 on prompt 0
    with pytest.raises(ValueError, match="belongs"):
        core.embed(tuple(t), None, None, 0, 1)
    t[3] = data.rankings
    rp = data.rater_ptr.copy()
    rp[1] = rp[0]
    t[0] = rp
    with pytest.raises(ValueError, match="no rankings"):
        core.embed(tuple(t), None, None, 0, 1)


@pytest.mark.bad_input
@pytest.mark.parametrize("kw, exc", [
    ({"beta": -1.0}, ValueError), ({"optimizer": "sgd"}, ValueError), ({"batch_size": 0}, ValueError),
    ({"max_steps": 1.5}, TypeError), ({"collapse": "maybe"}, ValueError), ({"p_hide": 2.0}, ValueError),
    ({"n_threads": -1}, ValueError), ({"random_state": "x"}, TypeError), ({"d_model": 10, "n_heads": 3}, ValueError),
    ({"max_completions": 2}, ValueError),
])
def test_bad_hyperparameters(data, kw, exc):
    with pytest.raises(exc):
        IndividualRewardModel(**{**SMALL, **kw}).fit(data)
    with pytest.raises(TypeError, match="PreferenceData"):
        IndividualRewardModel(**SMALL).fit([1, 2])


@pytest.mark.bad_input
def test_binding_rejects_bad_batches(fitted, data):
    core = fitted.model_
    t = (data.rater_ptr, data.entry_prompt, data.entry_ptr, data.rankings, data.completion_prompt,
         data.prompt_tokens, data.completion_tokens, None, None)
    ep = np.array([[0, 1]], np.int32)
    pv = np.ones((1, 2), np.uint8)
    enc = np.full((1, 2, 4), -1, np.int32)
    out = np.full((1, 2, 4), -1, np.int32)
    out[0, 0, :2] = [0, 1]
    res = core.loss_grad(t, ep, pv, enc, out, None, 0.1, 0.0, False, 1)
    assert np.isfinite(res["loss"]) and res["n_lists"] == 1
    bad = out.copy()
    bad[0, 0, 1] = 5  # a completion of prompt 1 in prompt 0's list
    with pytest.raises(ValueError, match="not a completion"):
        core.loss_grad(t, ep, pv, enc, bad, None, 0.1, 0.0, False, 1)
    with pytest.raises(ValueError, match="disagree"):
        core.loss_grad(t, ep, pv, enc[:, :1], out, None, 0.1, 0.0, False, 1)
    with pytest.raises(ValueError, match="beta"):
        core.loss_grad(t, ep, pv, enc, out, None, float("nan"), 0.0, False, 1)
    with pytest.raises(ValueError, match="eps"):
        core.loss_grad(t, ep, pv, enc, out, np.zeros((2, 8), np.float32), 0.1, 0.0, False, 1)
    with pytest.raises(TypeError):
        _core.IRM({"d_model": "x"})


def test_feature_mode_and_progress_bar(tmp_path):
    data = srm.examples.four_types(n_raters=100, seed=0, mode="features", feature_dim=6)
    m = IndividualRewardModel(random_state=0, n_threads=1, **{**SMALL, "progress": True}).fit(data)
    assert m.config_["tokens"] == 0 and m.config_["prompt_feature_dim"] == 6
    assert "prompt_proj.weight" in m.params_ and "tok_emb" not in m.params_
    z = m.embed_raters(data)
    r = m.rewards(z[:2], 1, data=data)
    np.testing.assert_array_equal(r, m.rewards(z[:2], data.prompt_features[1], data.completion_features[4:8]))
    m.save(tmp_path / "f.safetensors")
    np.testing.assert_array_equal(IndividualRewardModel.load(tmp_path / "f.safetensors").embed_raters(data), z)
    with pytest.raises(ValueError, match="feature widths"):
        m.rewards(z[:1], np.zeros(5), np.zeros((2, 6)))
