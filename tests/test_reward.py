"""socialrm.reward.RewardModel: determinism, save/load, the estimator API and bad input (no torch
here, so the sanitizer build can run this file; the PyTorch equality is in test_reward_torch.py)."""

from __future__ import annotations

import numpy as np
import pytest

import socialrm as srm
from socialrm.exceptions import NotFittedError
from socialrm.reward import RewardModel


def _small(mode="features", **kw):
    base = {"n_steps": 60, "batch_size": 32, "progress_every": 20, "random_state": 7, "learning_rate": 3e-3}
    if mode == "tokens":
        base.update(width=8, n_heads=2, n_encoder_layers=1, n_decoder_layers=1)
    else:
        base.update(hidden_sizes=(16,))
    base.update(kw)
    return RewardModel(mode, **base)


@pytest.fixture(scope="module")
def tiny_tokens():
    return srm.examples.four_types(n_raters=60, seed=1)


@pytest.fixture(scope="module")
def tiny_features():
    return srm.examples.four_types(n_raters=60, seed=1, mode="features")


@pytest.mark.parametrize("mode", ["tokens", "features"])
def test_determinism_threads_and_save_load(mode, tiny_tokens, tiny_features, tmp_path):
    data = tiny_tokens if mode == "tokens" else tiny_features
    a = _small(mode, n_threads=1).fit(data)
    b = _small(mode, n_threads=1).fit(data)
    c = _small(mode, n_threads=2, progress_every=60).fit(data)  # chunking of the C calls is irrelevant
    fa, fb, fc = a.core_.flat(), b.core_.flat(), c.core_.flat()
    assert fa.tobytes() == fb.tobytes()
    assert fa.tobytes() == fc.tobytes()  # 1 and 2 threads: bitwise equal (fixed chunks, ordered sums)
    assert a.n_steps_ == 60 and a.history_["step"] == [20, 40, 60]
    d = _small(mode, random_state=8).fit(data)
    assert d.core_.flat().tobytes() != fa.tobytes()
    p = np.repeat(np.arange(data.n_prompts), 4).astype(np.int32)
    comp = np.arange(data.n_completions, dtype=np.int32)
    s = a.score(p, comp)
    assert s.dtype == np.float32 and s.shape == (8,)
    path = tmp_path / "rm.safetensors"
    a.save(path)
    loaded = RewardModel.load(path)
    assert loaded.mode_ == mode and loaded.n_steps_ == 60
    np.testing.assert_array_equal(loaded.score(p, comp), s)
    assert loaded.history_ == a.history_
    for name in a.param_names():
        np.testing.assert_array_equal(loaded.get_param(name), a.get_param(name))


def test_truncated_and_corrupt_files(tiny_features, tmp_path):
    rm = _small().fit(tiny_features)
    path = tmp_path / "rm.safetensors"
    rm.save(path)
    raw = path.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[: len(raw) - 10])
    with pytest.raises(ValueError):
        RewardModel.load(tmp_path / "cut.safetensors")
    bad = bytearray(raw)
    bad[10:20] = b"\xff" * 10  # inside the JSON header
    (tmp_path / "bad.safetensors").write_bytes(bytes(bad))
    with pytest.raises(ValueError):
        RewardModel.load(tmp_path / "bad.safetensors")
    srm.save_safetensors(tmp_path / "other.safetensors", {"x": np.zeros(3, np.float32)})
    with pytest.raises(ValueError, match="not a socialrm RewardModel"):
        RewardModel.load(tmp_path / "other.safetensors")


def test_params_are_zero_copy_views(tiny_features):
    rm = _small().fit(tiny_features)
    w = rm.get_param("head.bias")
    before = rm.score([0], [0])[0]
    w += 1.0
    assert rm.score([0], [0])[0] == pytest.approx(before + 1.0, abs=1e-5)
    del rm
    assert np.isfinite(w).all()  # the view keeps the C model alive
    assert set(_small().fit(tiny_features).params_) == {"mlp.0.weight", "mlp.0.bias", "head.weight", "head.bias"}


def test_score_new_items_and_rank(tiny_tokens, tiny_features):
    rm = _small("tokens").fit(tiny_tokens)
    p = np.repeat(tiny_tokens.prompt_tokens[:1], 4, axis=0)
    c = tiny_tokens.completion_tokens[:4]
    np.testing.assert_array_equal(rm.score_tokens(p, c), rm.score([0] * 4, [0, 1, 2, 3]))
    order = rm.rank(0, [0, 1, 2, 3])
    r = rm.score([0] * 4, [0, 1, 2, 3])
    assert list(np.argsort(order.ranks, kind="stable")) == list(np.argsort(-r, kind="stable"))
    fm = _small().fit(tiny_features)
    pf = np.repeat(tiny_features.prompt_features[1:2], 3, axis=0)
    np.testing.assert_array_equal(fm.score_features(pf, tiny_features.completion_features[4:7]),
                                  fm.score([1, 1, 1], [4, 5, 6]))
    with pytest.raises(ValueError, match="score_tokens"):
        fm.score_tokens(p, c)


def test_fit_orders_pairs():
    pp, pw, pl, wt = RewardModel.pairs_from_orders([0, 1], [[3, 1, 2], [5, 4]], [[0, 2, 0], [1, 0]], [2.0, 1.0])
    got = sorted(zip(pp.tolist(), pw.tolist(), pl.tolist(), wt.tolist()))
    assert got == [(0, 2, 1, 2.0), (0, 3, 1, 2.0), (1, 4, 5, 1.0)]  # the tie 3 ~ 2 gives no pair


def test_not_fitted_and_estimator_api():
    rm = RewardModel(n_steps=5)
    with pytest.raises(NotFittedError):
        rm.score([0], [0])
    assert rm.get_params()["n_steps"] == 5
    assert rm.set_params(n_steps=7) is rm and rm.n_steps == 7
    with pytest.raises(ValueError, match="unknown parameter"):
        rm.set_params(bogus=1)


def test_bad_input(tiny_tokens, tiny_features):
    pf = tiny_features.prompt_features.copy()
    cf = tiny_features.completion_features.copy()
    pp = np.array([0, 0, 1], np.int32)
    pw = np.array([0, 1, 4], np.int32)
    pl = np.array([1, 2, 5], np.int32)
    bad = cf.copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="completion_features"):
        _small().fit_pairs(pp, pw, pl, prompt_features=pf, completion_features=bad)
    with pytest.raises(ValueError, match="loser_ids"):
        _small().fit_pairs(pp, pw, np.array([1, 2, 99], np.int32), prompt_features=pf, completion_features=cf)
    with pytest.raises(ValueError, match="prompt_ids"):
        _small().fit_pairs(np.array([0, 0, 2], np.int32), pw, pl, prompt_features=pf, completion_features=cf)
    with pytest.raises(ValueError, match="itself"):
        _small().fit_pairs(pp, pw, np.array([1, 2, 4], np.int32), prompt_features=pf, completion_features=cf)
    with pytest.raises(ValueError, match="no training pairs"):
        _small().fit_pairs(pp[:0], pw[:0], pl[:0], prompt_features=pf, completion_features=cf)
    with pytest.raises(ValueError, match="sample_weight"):
        _small().fit_pairs(pp, pw, pl, prompt_features=pf, completion_features=cf, sample_weight=[1, -1, 1])
    ct = tiny_tokens.completion_tokens.copy()
    ct[0, 0] = 1000
    with pytest.raises(ValueError, match="completion tokens"):
        _small("tokens").fit_pairs(pp, pw, pl, prompt_tokens=tiny_tokens.prompt_tokens, completion_tokens=ct,
                                   vocab_size=tiny_tokens.vocab_size)
    ct[0, 0] = -1
    with pytest.raises(ValueError, match="completion_tokens"):
        _small("tokens").fit_pairs(pp, pw, pl, prompt_tokens=tiny_tokens.prompt_tokens, completion_tokens=ct)
    rm = _small("tokens").fit(tiny_tokens)
    with pytest.raises(ValueError, match="completion tokens"):
        rm.score_tokens(tiny_tokens.prompt_tokens[:1], np.array([[rm.vocab_size_]], np.int32))
    with pytest.raises(ValueError, match="empty"):
        rm.score_tokens(tiny_tokens.prompt_tokens[:1], np.array([[0]], np.int32))
    with pytest.raises(ValueError, match="completion_ids"):
        rm.score([0], [8])
    with pytest.raises(ValueError, match="features"):
        _small("features").fit(tiny_tokens)
    with pytest.raises(ValueError, match="optimizer"):
        _small(optimizer="sgd").fit(tiny_features)
    with pytest.raises(ValueError, match="n_heads"):
        _small("tokens", width=8, n_heads=3).fit(tiny_tokens)
    with pytest.raises(TypeError, match="PreferenceData"):
        _small().fit([1, 2, 3])


def test_callback_stops_and_keeps_parameters(tiny_features):
    seen = []
    rm = _small(n_steps=100, callback=lambda step, loss: seen.append((step, loss)) or step >= 40).fit(tiny_features)
    assert [s for s, _ in seen] == [20, 40] and rm.interrupted_ and rm.n_steps_ == 40
    full = _small(n_steps=100, n_threads=1).fit(tiny_features)
    assert full.n_steps_ == 100 and not full.interrupted_


def test_keyboard_interrupt_keeps_parameters(tiny_features):
    def stop(step, loss):
        raise KeyboardInterrupt

    rm = _small(n_steps=100, callback=stop)
    with pytest.raises(KeyboardInterrupt):
        rm.fit(tiny_features)
    assert rm.interrupted_ and rm.n_steps_ == 20
    assert np.isfinite(rm.score([0, 0], [0, 1])).all()


def test_adafactor_and_verbose(tiny_features):
    rm = _small(optimizer="adafactor", learning_rate=1e-2, verbose=True).fit(tiny_features)
    assert np.isfinite(rm.history_["loss"]).all()


def test_failed_fit_leaves_the_estimator_unfitted(tiny_features):
    rm = _small()
    pf, cf = tiny_features.prompt_features, tiny_features.completion_features
    with pytest.raises(ValueError, match="itself"):
        rm.fit_pairs([0], [1], [1], prompt_features=pf, completion_features=cf)
    with pytest.raises(NotFittedError):
        rm.score([0], [0])
