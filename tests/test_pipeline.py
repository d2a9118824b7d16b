"""SocialChoiceRewardModel: stages, swapping stages, scoring, relabelling, disagreement, save/load.

Small sizes (a few hundred steps): these tests check the plumbing and the numbers it must preserve;
the seed's experiments at full size are in test_pipeline_experiments.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import socialrm as srm
from socialrm.choice import Profile, aggregate
from socialrm.exceptions import NotFittedError
from socialrm.models import IndividualRewardModel
from socialrm.pipeline import SocialChoiceRewardModel

SMALL = dict(n_voters=300, verbose=False, n_threads=1, social={"n_steps": 200})


@pytest.fixture(scope="module")
def data():
    return srm.examples.four_types(n_raters=300, seed=0, mode="features")


@pytest.fixture(scope="module")
def irm(data):
    return IndividualRewardModel(max_steps=1500, collapse="ignore", progress=False, random_state=0,
                                 n_threads=1).fit(data)


@pytest.fixture(scope="module")
def pipe(data, irm):
    return SocialChoiceRewardModel(rule="borda", individual=irm, **SMALL).fit(data)


def test_stages_and_artefacts(pipe, data, irm):
    assert pipe.individual_ is irm
    assert pipe.latents_.shape == (300, irm.config_["d_latent"])
    np.testing.assert_array_equal(pipe.latents_, irm.embed_raters(data))
    assert pipe.voter_latents_.shape == (300, irm.config_["d_latent"]) and pipe.voter_latents_.dtype == np.float32
    assert pipe.voter_components_.shape == (300,)
    assert pipe.density_.means_.shape[0] == 10
    assert list(pipe.prompts_) == [0, 1]
    for k, p in enumerate(pipe.prompts_):
        comps = pipe.completions_[k]
        np.testing.assert_array_equal(comps, data.completions_of(int(p)))
        R = irm.rewards(pipe.voter_latents_, int(p), data=data)
        np.testing.assert_array_equal(pipe.voter_rewards_[k], R)
        # the social order is the rule applied to the voters' score profile
        expected = aggregate(Profile.from_scores(R), "borda")
        np.testing.assert_array_equal(pipe.social_orders_[k].ranks, expected.ranks)
        np.testing.assert_allclose(pipe.margins_[k], Profile.from_scores(R).margins() / 300)
        # the social model learned the social order
        np.testing.assert_array_equal(pipe.social_model_.rank(int(p), comps, data).ranks, expected.ranks)


def test_voters_are_decoded_once(data, irm, monkeypatch):
    """Relabelling shares the latent decoding: fit decodes the voters once, and every reward
    computation afterwards (fit's prompts, relabel, voter_rewards) starts from those decodings."""
    calls = {"decode": 0, "rewards": []}
    decode, rewards = irm.decode, irm.rewards

    def counting_decode(latents):
        calls["decode"] += 1
        return decode(latents)

    def recording_rewards(*args, **kw):
        calls["rewards"].append(kw.get("decoded", False))
        return rewards(*args, **kw)

    monkeypatch.setattr(irm, "decode", counting_decode)
    monkeypatch.setattr(irm, "rewards", recording_rewards)
    p = SocialChoiceRewardModel(rule="borda", individual=irm, social=False, **{k: v for k, v in SMALL.items()
                                                                               if k != "social"}).fit(data)
    rng = np.random.default_rng(3)
    p.relabel(rng.normal(size=(5, 16)).astype(np.float32), rng.normal(size=(5, 4, 16)).astype(np.float32))
    p.relabel(data=data)
    p.voter_rewards(0, data=data)
    assert calls["decode"] == 1
    assert calls["rewards"] and all(calls["rewards"]), calls["rewards"]
    np.testing.assert_array_equal(p.voter_preferences_, decode(p.voter_latents_))


def test_score_ids_and_new_items(pipe, data):
    s = pipe.score([0, 0, 1], [0, 1, 4])
    assert s.shape == (3,) and s.dtype == np.float32
    np.testing.assert_array_equal(s, pipe.social_model_.score([0, 0, 1], [0, 1, 4]))
    feats = pipe.score(data.prompt_features[[0, 0, 1]], data.completion_features[[0, 1, 4]])
    np.testing.assert_allclose(feats, s, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError):
        pipe.score(np.zeros((2, 3), np.float32), np.zeros((2, 16), np.float32))


def test_deterministic(data, irm, pipe):
    again = SocialChoiceRewardModel(rule="borda", individual=irm, **SMALL).fit(data)
    np.testing.assert_array_equal(again.voter_latents_, pipe.voter_latents_)
    np.testing.assert_array_equal(again.score([0, 1], [2, 5]), pipe.score([0, 1], [2, 5]))
    other = SocialChoiceRewardModel(rule="borda", individual=irm, **{**SMALL, "social": False}, random_state=1).fit(data)
    assert not np.array_equal(other.voter_latents_, pipe.voter_latents_)


def test_swap_stages(data, irm, pipe):
    # own latents: the type centroids' positions replaced by exact copies of 4 raters' latents
    Z = pipe.latents_.copy()
    for k in range(4):
        Z[data.rater_labels == k] = pipe.latents_[np.flatnonzero(data.rater_labels == k)[0]]
    own = SocialChoiceRewardModel(rule="borda", individual=irm, n_components=4, covariance_type="spherical",
                                  **{**SMALL, "social": False}).fit(data, latents=Z)
    np.testing.assert_array_equal(own.latents_, Z)
    # a fitted density is used as is (not refitted)
    gm = srm.GaussianMixture(n_components=2, covariance_type="diag", random_state=3).fit(pipe.latents_)
    means = gm.means_.copy()
    withgm = SocialChoiceRewardModel(rule="borda", individual=irm, density=gm, **{**SMALL, "social": False}).fit(data)
    assert withgm.density_ is gm
    np.testing.assert_array_equal(gm.means_, means)
    assert set(np.unique(withgm.voter_components_)) <= {0, 1}
    # a scikit-learn density, unfitted: fitted on the latents, sampled without a seed argument
    from sklearn.mixture import GaussianMixture as SkGM

    sk = SkGM(n_components=3, covariance_type="diag", random_state=0)
    withsk = SocialChoiceRewardModel(rule="borda", individual=irm, density=sk, **{**SMALL, "social": False}).fit(data)
    assert withsk.density_ is sk and sk.means_.shape == (3, pipe.latents_.shape[1])
    assert withsk.voter_latents_.shape == (300, pipe.latents_.shape[1])
    # own rule as a callable: scores (higher = better) -> order; here anti-Borda reverses Borda
    calls = []

    def anti_borda(P, **options):
        calls.append(options)
        return -np.asarray(aggregate(P, "borda").scores)

    anti = SocialChoiceRewardModel(rule=anti_borda, individual=irm, rule_options={"x": 1}, **SMALL).fit(data)
    assert calls and calls[0] == {"x": 1}
    for k in range(2):
        b = np.asarray(pipe.social_orders_[k].ranks)
        np.testing.assert_array_equal(anti.social_orders_[k].ranks, b.max() - b)


def test_random_ballot_trains_on_the_voters_ballots(data, irm, pipe):
    rb = SocialChoiceRewardModel(rule="random_ballot", individual=irm, **SMALL).fit(data)
    # pairs the social model saw = the voters' pairs: its order is the voters' pairwise-majority /
    # net-support order on four_types, which is the voters' Borda order (a BT fit of every ballot)
    for k, p in enumerate(rb.prompts_):
        ranks = rb.social_model_.rank(int(p), rb.completions_[k], data).ranks
        np.testing.assert_array_equal(ranks, pipe.social_orders_[k].ranks)


def test_relabel_new_items_batched_equals_per_prompt(pipe, data):
    rng = np.random.default_rng(0)
    P = rng.normal(size=(40, 16)).astype(np.float32)
    C = rng.normal(size=(40, 6, 16)).astype(np.float32)
    orders, profiles = pipe.relabel(P, C, return_profiles=True)
    assert len(orders) == 40
    for k in (0, 17, 39):
        R = pipe.individual_.rewards(pipe.voter_latents_, P[k], C[k])  # one C call per prompt
        np.testing.assert_array_equal(profiles[k].utilities, R)
        np.testing.assert_array_equal(orders[k].ranks, aggregate(Profile.from_scores(R), "borda").ranks)
    # tiny blocks: the batching boundary does not change anything
    old = SocialChoiceRewardModel._BLOCK_FLOATS
    try:
        SocialChoiceRewardModel._BLOCK_FLOATS = 300 * 7
        small = pipe.relabel(P, [C[k] for k in range(40)])
    finally:
        SocialChoiceRewardModel._BLOCK_FLOATS = old
    for a, b in zip(small, orders):
        np.testing.assert_array_equal(a.ranks, b.ranks)
    # on the training data: the fitted social orders again, and another rule on request
    again = pipe.relabel(data=data)
    for a, b in zip(again, pipe.social_orders_):
        np.testing.assert_array_equal(a.ranks, b.ranks)
    cop = pipe.relabel([1], data=data, rule="copeland")
    np.testing.assert_array_equal(cop[0].ranks, aggregate(pipe.profiles_[1], "copeland").ranks)


def test_relabel_errors(pipe):
    with pytest.raises(TypeError, match="prompts, completions"):
        pipe.relabel(np.zeros((2, 16), np.float32))
    with pytest.raises(ValueError, match="prompts"):
        pipe.relabel(np.zeros(16, np.float32), np.zeros((1, 3, 16), np.float32))
    with pytest.raises(ValueError, match="completions"):
        pipe.relabel(np.zeros((2, 16), np.float32), np.zeros((3, 3, 16), np.float32))
    bad = np.zeros((2, 16), np.float32)
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pipe.relabel(bad, np.zeros((2, 3, 16), np.float32))
    with pytest.raises(ValueError, match="features"):
        pipe.relabel(np.zeros((2, 5), np.float32), np.zeros((2, 3, 16), np.float32))


def test_disagreement_report(pipe):
    rep = pipe.disagreement()
    assert [e["prompt"] for e in rep] == [0, 1]
    for k, e in enumerate(rep):
        P = pipe.profiles_[k]
        np.testing.assert_allclose(e["margins"], P.margins() / 300)
        top = int(pipe.social_orders_[k].tiers()[0][0])
        expected = float((np.argmax(pipe.voter_rewards_[k], axis=1) == top).mean())
        assert e["top_share"] == pytest.approx(expected)
        assert set(e["orders"]) == {"borda", "copeland", "kemeny", "schulze"}
        distinct = {tuple(np.asarray(o.ranks)) for o in e["orders"].values()}
        assert e["rules_disagree"] == (len(distinct) > 1) and e["n_distinct_orders"] == len(distinct)
    # four_types 'normal': Borda (Me third) and Copeland (Me last) disagree in the true population;
    # with the same rule twice nothing can disagree
    same = pipe.disagreement(rules=("borda", "borda"))
    assert not any(e["rules_disagree"] for e in same)
    # on explicit profiles: a Condorcet cycle splits the rules
    cyc = Profile.from_rankings([[0, 1, 2]] * 4 + [[1, 2, 0]] * 3 + [[2, 0, 1]] * 2)
    out = pipe.disagreement(rules=("borda", "plurality", "instant_runoff"), profiles=[cyc])
    assert out[0]["rules_disagree"] and "prompt" not in out[0]
    # the pipeline's rule (Borda) ties 0 and 1 on top (10 points each, 2 has 7): voters whose top is
    # either count, 4 + 3 of 9
    assert out[0]["top_share"] == pytest.approx(7 / 9)


def test_save_load_roundtrip(pipe, tmp_path, data):
    folder = tmp_path / "pipe"
    manifest = pipe.save(folder)
    assert manifest.name == "manifest.json"
    loaded = SocialChoiceRewardModel.load(folder)
    assert loaded.rule == "borda" and loaded.n_voters == 300
    np.testing.assert_array_equal(loaded.voter_latents_, pipe.voter_latents_)
    np.testing.assert_array_equal(loaded.latents_, pipe.latents_)
    np.testing.assert_array_equal(loaded.score([0, 1], [3, 6]), pipe.score([0, 1], [3, 6]))
    np.testing.assert_array_equal(loaded.density_.means_, pipe.density_.means_)
    s1, _ = loaded.density_.sample(5, random_state=1)
    s2, _ = pipe.density_.sample(5, random_state=1)
    np.testing.assert_array_equal(s1, s2)
    for a, b in zip(loaded.social_orders_, pipe.social_orders_):
        np.testing.assert_array_equal(a.ranks, b.ranks)
    for a, b in zip(loaded.relabel(data=data), pipe.relabel(data=data)):
        np.testing.assert_array_equal(a.ranks, b.ranks)
    # a damaged file is detected by the manifest
    with open(folder / "stages.safetensors", "r+b") as fh:
        fh.seek(-4, 2)
        fh.write(b"\x00\x01\x02\x03")
    with pytest.raises(ValueError):
        SocialChoiceRewardModel.load(folder)


def test_save_load_callable_rule(data, irm, tmp_path):
    def top_first(P, **_):
        return aggregate(P, "plurality")

    p = SocialChoiceRewardModel(rule=top_first, individual=irm, **SMALL).fit(data)
    p.save(tmp_path / "p")
    with pytest.raises(ValueError, match="callable"):
        SocialChoiceRewardModel.load(tmp_path / "p")
    q = SocialChoiceRewardModel.load(tmp_path / "p", rule=top_first)
    assert q.rule is top_first


def test_bad_input(data, irm):
    with pytest.raises(TypeError, match="data"):
        SocialChoiceRewardModel(**SMALL).fit([1, 2])
    with pytest.raises(TypeError, match="rule"):
        SocialChoiceRewardModel(rule=3, **SMALL).fit(data)
    with pytest.raises(ValueError, match="n_voters"):
        SocialChoiceRewardModel(**{**SMALL, "n_voters": 0}).fit(data)
    with pytest.raises(TypeError, match="n_components"):
        SocialChoiceRewardModel(n_components=2.5, **SMALL).fit(data)
    with pytest.raises(TypeError, match="social"):
        SocialChoiceRewardModel(**{**SMALL, "social": 3}).fit(data)
    with pytest.raises(TypeError, match="individual"):
        SocialChoiceRewardModel(individual="irm", **SMALL).fit(data)
    with pytest.raises(ValueError, match="latents"):
        SocialChoiceRewardModel(individual=irm, **SMALL).fit(data, latents=np.zeros((3, 8)))
    Z = irm.embed_raters(data)
    Z[0, 0] = np.inf
    with pytest.raises(ValueError, match="latents"):
        SocialChoiceRewardModel(individual=irm, **SMALL).fit(data, latents=Z)
    with pytest.raises(ValueError):
        SocialChoiceRewardModel(rule="no_such_rule", individual=irm, **SMALL).fit(data)
    with pytest.raises(NotFittedError):
        SocialChoiceRewardModel().score([0], [0])
    nosocial = SocialChoiceRewardModel(individual=irm, **{**SMALL, "social": False}).fit(data)
    assert nosocial.social_model_ is None and len(nosocial.social_orders_) == 2
    with pytest.raises(NotFittedError, match="social=False"):
        nosocial.score([0], [0])


def test_token_mode_pipeline():
    data = srm.examples.four_types(n_raters=120, seed=1)
    p = SocialChoiceRewardModel(rule="copeland", n_voters=50, n_components=3, verbose=False, n_threads=1,
                                individual={"max_steps": 100, "collapse": "ignore"},
                                social={"n_steps": 50, "width": 8, "n_encoder_layers": 1,
                                        "n_decoder_layers": 1}).fit(data)
    assert p.social_model_.mode_ == "tokens"
    assert p.score([0, 1], [0, 5]).shape == (2,)
    toks = p.score(data.prompt_tokens[[0, 1]], data.completion_tokens[[0, 5]])
    np.testing.assert_allclose(toks, p.score([0, 1], [0, 5]), rtol=1e-5, atol=1e-5)
    orders = p.relabel(data.prompt_tokens[[0]], data.completion_tokens[None, :4])
    np.testing.assert_array_equal(orders[0].ranks, p.social_orders_[0].ranks)
