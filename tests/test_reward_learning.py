"""What the vanilla / social reward model learns on the example populations (DESIGN §6).

- Vanilla RLHF (trained on the raw rater pairs) recovers the order the raters' pairwise data
  implies on each prompt. For complete data the Bradley–Terry maximum-likelihood rewards are in
  Borda order (at the optimum each completion's expected wins equal its observed wins, and with
  every pair compared equally often the expected wins grow with the reward), so the expected order
  is computed from the *sampled* ballots with socialrm.aggregate(..., "borda").
- Trained on a given social order (the Copeland order, which differs from Borda on four_types) it
  reproduces exactly that order.
- morristown_partial: the vanilla model ranks Morristown last (the seed's claim about vanilla RLHF
  under missing completions; the full-information Borda order puts it above Memphis).
"""

from __future__ import annotations

import numpy as np
import pytest

import socialrm as srm
from socialrm.reward import RewardModel

STEPS, LR = 800, 3e-3


def _model(mode: str, seed: int = 0) -> RewardModel:
    if mode == "features":
        return RewardModel(mode, hidden_sizes=(32,), n_steps=STEPS, learning_rate=LR, random_state=seed)
    return RewardModel(mode, width=16, n_encoder_layers=2, n_decoder_layers=2, n_steps=STEPS, learning_rate=LR,
                       random_state=seed)


def _profile(data, prompt: int) -> srm.Profile:
    comp = data.completions_of(prompt)
    local = {int(c): i for i, c in enumerate(comp)}
    ballots = [[local[int(c)] for c in data.rankings[data.entry_ptr[e]:data.entry_ptr[e + 1]]]
               for e in np.flatnonzero(data.entry_prompt == prompt)]
    return srm.Profile.from_rankings(ballots, n_candidates=len(comp))


def _names(data, prompt, ranks):
    comp = data.completions_of(prompt)
    return [data.completion_names[comp[i]] for i in np.argsort(ranks, kind="stable")]


@pytest.fixture(scope="module", params=["features", "tokens"])
def four_types(request):
    data = srm.examples.four_types(n_raters=2000, seed=0, mode=request.param)
    return request.param, data


def test_vanilla_recovers_the_raters_pairwise_order(four_types):
    mode, data = four_types
    rm = _model(mode).fit(data)
    for p in range(data.n_prompts):
        expected = srm.aggregate(_profile(data, p), "borda")
        got = rm.rank(p, data.completions_of(p))
        assert _names(data, p, got.ranks) == _names(data, p, expected.ranks), (mode, p, got.scores)
    # on this sample the raters' order on `normal` is the population's Borda order Na ≻ Ch ≻ Me ≻ Kn
    assert _names(data, 0, rm.rank(0, data.completions_of(0)).ranks) == [
        "Nashville", "Chattanooga", "Memphis", "Knoxville"]
    # training reached the BT optimum's neighbourhood: the loss fell from log 2
    assert rm.history_["loss"][-1] < 0.68


def test_social_order_is_reproduced_exactly(four_types):
    mode, data = four_types
    prompts = list(range(data.n_prompts))
    comps = [data.completions_of(p) for p in prompts]
    orders = [srm.aggregate(_profile(data, p), "copeland") for p in prompts]
    assert _names(data, 0, orders[0].ranks) == ["Nashville", "Chattanooga", "Knoxville", "Memphis"]
    rm = _model(mode).fit_orders(prompts, comps, orders, data)
    for p in prompts:
        got = rm.rank(p, comps[p])
        np.testing.assert_array_equal(got.ranks, orders[p].ranks)
        # a clear margin, not a coin flip: consecutive rewards at least 0.5 apart
        assert np.min(np.diff(np.sort(got.scores))) > 0.5, got.scores


@pytest.mark.parametrize("mode", ["features", "tokens"])
def test_vanilla_ranks_morristown_last_on_morristown_partial(mode):
    data = srm.examples.morristown_partial(n_raters=2000, seed=0, mode=mode)
    comp = data.completions_of(0)
    rm = _model(mode).fit(data)
    names = _names(data, 0, rm.rank(0, comp).ranks)
    assert names[-1] == "Morristown", names
    # with full information Borda puts Morristown above Memphis (DESIGN §6): vanilla RLHF misses it
    full = srm.examples.morristown_full(n_raters=2000, seed=0, mode=mode)
    assert _names(full, 0, srm.aggregate(_profile(full, 0), "borda").ranks)[-1] == "Memphis"


def test_default_token_model_learns_the_raters_order():
    """The default architecture (width 32, 8 + 8 layers) and learning rate, with fewer steps."""
    data = srm.examples.four_types(n_raters=2000, seed=0)
    rm = RewardModel(n_steps=STEPS, random_state=0).fit(data)
    for p in range(data.n_prompts):
        expected = srm.aggregate(_profile(data, p), "borda")
        assert _names(data, p, rm.rank(p, data.completions_of(p)).ranks) == _names(data, p, expected.ranks)


def test_pair_weights_move_the_order_to_the_weighted_raters():
    """Weighting the Memphis raters' pairs 100:1 makes the vanilla model follow their order."""
    data = srm.examples.four_types(n_raters=2000, seed=0, mode="features")
    pairs = data.pairs()
    memphis = np.asarray(data.rater_labels)[pairs.rater] == 0
    weights = np.where(memphis, 1.0, 0.01)
    rm = _model("features").fit(data, sample_weight=weights)
    assert _names(data, 0, rm.rank(0, data.completions_of(0)).ranks) == [
        "Memphis", "Nashville", "Chattanooga", "Knoxville"]
    assert _names(data, 1, rm.rank(1, data.completions_of(1)).ranks) == [
        "Knoxville", "Chattanooga", "Nashville", "Memphis"]
