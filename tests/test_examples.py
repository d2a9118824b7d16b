"""The DESIGN.md §6 populations: exact definitions, exact rule results on the truth, sampled data."""

from __future__ import annotations

import numpy as np
import pytest

from socialrm import examples
from socialrm.examples import population, true_ballots

ME, NA, CH, KN, MO = "Memphis", "Nashville", "Chattanooga", "Knoxville", "Morristown"
ORDERS_4 = {ME: (ME, NA, CH, KN), NA: (NA, CH, KN, ME), CH: (CH, KN, NA, ME), KN: (KN, CH, NA, ME)}
ORDERS_5 = {
    ME: (ME, NA, CH, KN, MO),
    NA: (NA, CH, KN, MO, ME),
    CH: (CH, KN, MO, NA, ME),
    KN: (KN, MO, CH, NA, ME),
}
SHARES = {
    "four_types": (0.42, 0.26, 0.15, 0.17),
    "morristown_full": (0.30, 0.25, 0.15, 0.30),
    "morristown_partial": (0.30, 0.25, 0.15, 0.30),
    "prompts_full": (0.40, 0.25, 0.20, 0.15),
    "prompts_partial": (0.40, 0.25, 0.20, 0.15),
    "prompts_missing": (0.40, 0.25, 0.20, 0.15),
}
GENERATORS = {
    "four_types": examples.four_types,
    "morristown_full": examples.morristown_full,
    "morristown_partial": examples.morristown_partial,
    "prompts_full": examples.prompts_full,
    "prompts_partial": examples.prompts_partial,
    "prompts_missing": examples.prompts_missing,
    "pairwise_twins_A": lambda *a, **k: examples.pairwise_twins("A", *a, **k),
    "pairwise_twins_B": lambda *a, **k: examples.pairwise_twins("B", *a, **k),
}


def borda(rankings: np.ndarray, weights: np.ndarray) -> np.ndarray:
    m = rankings.shape[1]
    scores = np.zeros(m)
    for ballot, w in zip(rankings, weights):
        scores[ballot] += w * np.arange(m - 1, -1, -1)
    return scores


def margins(rankings: np.ndarray, weights: np.ndarray) -> np.ndarray:
    m = rankings.shape[1]
    out = np.zeros((m, m))
    for ballot, w in zip(rankings, weights):
        pos = np.argsort(ballot)
        out += w * np.sign(pos[None, :] - pos[:, None])
    return out


def names(pop, indices) -> list[str]:
    return [pop.candidates[i] for i in indices]


def order_by(scores) -> np.ndarray:
    return np.argsort(-np.asarray(scores), kind="stable")


# ------------------------------------------------------------------------------------------ definitions


@pytest.mark.parametrize("name", sorted(SHARES))
def test_tennessee_definitions_are_exact(name) -> None:
    pop = population(name)
    assert pop.types == (ME, NA, CH, KN) and pop.shares == SHARES[name]
    assert abs(sum(pop.shares) - 1) < 1e-12
    table = ORDERS_5 if "morristown" in name else ORDERS_4
    assert pop.candidates == ((ME, NA, CH, KN, MO) if "morristown" in name else (ME, NA, CH, KN))
    assert pop.prompts == (("normal",) if "morristown" in name else ("normal", "inverted"))
    assert pop.prompt_texts["normal"] == "The capital of Tennessee should be"
    for t, typ in enumerate(pop.types):
        assert pop.orders["normal"][t] == table[typ]
        if "inverted" in pop.prompts:
            assert pop.prompt_texts["inverted"] == "The worst place for the capital would be"
            assert pop.orders["inverted"][t] == table[typ][::-1]
    assert pop.truth == {
        "morristown_partial": "morristown_full",
        "prompts_partial": "prompts_full",
        "prompts_missing": "prompts_full",
    }.get(name, name)


def test_partial_definitions() -> None:
    assert population("morristown_partial").complete == (0.9, 0.1, 0.1, 0.1)
    assert population("morristown_partial").omitted == MO
    assert population("prompts_partial").rated["inverted"] == (35 / 40, 5 / 25, 5 / 20, 5 / 15)
    assert population("prompts_missing").rated["inverted"] == (0.5, 0.0, 0.5, 0.5)
    for name in ("four_types", "prompts_full", "prompts_partial", "prompts_missing"):
        assert population(name).rated["normal"] == (1.0,) * 4


def test_four_types_exact_rule_results() -> None:
    pop = population("four_types")
    rankings, weights = true_ballots("four_types", "normal")
    assert rankings.dtype == np.int64 and rankings.tolist() == [
        [0, 1, 2, 3],
        [1, 2, 3, 0],
        [2, 3, 1, 0],
        [3, 2, 1, 0],
    ]
    assert weights.tolist() == [0.42, 0.26, 0.15, 0.17]
    np.testing.assert_allclose(borda(rankings, weights), [1.26, 1.94, 1.73, 1.07])
    assert names(pop, order_by(borda(rankings, weights))) == [NA, CH, ME, KN]
    mg = margins(rankings, weights)
    assert names(pop, order_by((mg > 0).sum(axis=1))) == [NA, CH, KN, ME]  # Copeland
    worst_defeat = np.maximum(mg.T, 0).max(axis=1)
    np.testing.assert_allclose(worst_defeat, [0.16, 0.0, 0.36, 0.66])
    assert names(pop, order_by(-worst_defeat)) == [NA, ME, CH, KN]  # minimax by worst defeat
    inv_rankings, _ = true_ballots("four_types", "inverted")
    assert (inv_rankings == rankings[:, ::-1]).all()


def test_morristown_truth() -> None:
    rankings, weights = true_ballots("morristown_full", "normal")
    np.testing.assert_allclose(borda(rankings, weights) / 1.0, [1.20, 2.35, 2.55, 2.45, 1.45])
    pop = population("morristown_full")
    assert names(pop, order_by(borda(rankings, weights))) == [CH, KN, NA, MO, ME]
    partial = true_ballots("morristown_partial", "normal")
    assert (partial[0] == rankings).all() and (partial[1] == weights).all()


def test_prompts_inverted_truth() -> None:
    for name in ("prompts_full", "prompts_partial", "prompts_missing"):
        rankings, weights = true_ballots(name, "inverted")
        np.testing.assert_allclose(borda(rankings, weights), [1.8, 1.1, 1.2, 1.9])
        assert names(population(name), order_by(borda(rankings, weights))) == [KN, ME, CH, NA]


def test_pairwise_twins_share_margins_but_not_ballots() -> None:
    a, b = population("pairwise_twins_A"), population("pairwise_twins_B")
    assert a.orders["options"] == (tuple("ABCD"), tuple("BADC")) and b.orders["options"] == (
        tuple("BACD"),
        tuple("ABDC"),
    )
    ra, wa = true_ballots("pairwise_twins_A", "options")
    rb, wb = true_ballots("pairwise_twins_B", "options")
    np.testing.assert_array_equal(margins(ra, wa), margins(rb, wb))
    assert {tuple(r) for r in ra.tolist()} != {tuple(r) for r in rb.tolist()}
    with pytest.raises(ValueError, match="pairwise_twins_A"):
        population("pairwise_twins")


def test_distortion_population() -> None:
    utilities, shares = examples.distortion_utilities(eps=0.01)
    assert utilities.shape == (2, 5) and shares.tolist() == pytest.approx([0.21, 0.79])
    assert utilities[0].tolist() == [1.0, 0.9999, 0.9998, 0.9997, 0.9996]
    assert utilities[1].tolist() == [-0.9997, -0.9998, -0.9999, -1.0, 1.0]
    ballots = np.argsort(-utilities, axis=1)
    assert ballots.tolist() == [[0, 1, 2, 3, 4], [4, 0, 1, 2, 3]]
    scores = borda(ballots, shares)
    assert int(np.argmax(scores)) == 0  # Borda picks A
    welfare = shares @ utilities
    assert welfare[0] == pytest.approx(0.21 - 0.79 * 0.9997) and welfare[4] == pytest.approx(
        0.21 * 0.9996 + 0.79
    )
    assert welfare[0] < -0.57 and welfare[4] > 0.999  # the chosen A is far from the best E
    _, s0 = examples.distortion_utilities(eps=0.0)
    assert borda(ballots, s0)[0] == pytest.approx(borda(ballots, s0)[4])  # the tie eps breaks
    for bad in (-0.1, 0.9, float("nan"), "x"):
        with pytest.raises(ValueError, match="eps"):
            examples.distortion_utilities(eps=bad)


# ------------------------------------------------------------------------------------------ sampled data


def _type_rankings(data, pop):
    """For every rater, {prompt name: ranking as candidate names}."""
    m = len(pop.candidates)
    out = []
    for r in range(data.n_raters):
        out.append({pop.prompts[p]: tuple(pop.candidates[c - p * m] for c in x) for p, x in data.rater(r)})
    return out


@pytest.mark.parametrize("name", list(GENERATORS))
def test_sampled_rankings_follow_the_types_exactly(name) -> None:
    pop = population(name)
    data = GENERATORS[name](n_raters=400, seed=11)
    assert data.n_raters == 400 and data.mode == "tokens"
    assert data.label_names == pop.types and data.prompt_names == pop.prompts
    assert data.completion_names == pop.candidates * len(pop.prompts)
    assert (
        data.completion_prompt.tolist()
        == np.repeat(np.arange(len(pop.prompts)), len(pop.candidates)).tolist()
    )
    assert tuple(data.vocab) == pop.vocab and data.vocab[0] == "<pad>"
    words = [[data.vocab[i] for i in row if i] for row in data.prompt_tokens]
    assert [" ".join(w) for w in words] == [pop.prompt_texts[p] for p in pop.prompts]
    assert [data.vocab[i] for i in data.completion_tokens[:, 0]] == list(data.completion_names)
    assert data.completion_tokens.shape[1] == 1
    for r, ballots in enumerate(_type_rankings(data, pop)):
        t = data.rater_labels[r]
        assert "normal" in ballots or "options" in ballots
        for prompt, ranking in ballots.items():
            full = pop.orders[prompt][t]
            assert ranking == full or ranking == tuple(c for c in full if c != pop.omitted), (r, prompt)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_type_shares_at_large_n(name) -> None:
    n = 40_000
    data = GENERATORS[name](n_raters=n, seed=2)
    shares = np.array(population(name).shares)
    observed = np.bincount(data.rater_labels, minlength=len(shares)) / n
    se = np.sqrt(shares * (1 - shares) / n)
    assert (np.abs(observed - shares) < 4.5 * se).all(), (observed, shares)


def _rate_counts(data, prompt_id):
    rated = np.zeros(data.n_raters, bool)
    rated[data.entry_rater[data.entry_prompt == prompt_id]] = True
    return rated


def test_partial_fractions_are_exact_within_types() -> None:
    data = examples.morristown_partial(n_raters=3000, seed=4)
    complete = data.entry_length == 5  # one entry per rater
    for t, frac in enumerate((0.9, 0.1, 0.1, 0.1)):
        members = data.rater_labels == t
        assert complete[members].sum() == np.floor(frac * members.sum() + 0.5)
    assert set(data.entry_length.tolist()) == {4, 5}

    data = examples.prompts_partial(n_raters=3000, seed=4)
    rated = _rate_counts(data, 1)
    assert _rate_counts(data, 0).all()
    for t, frac in enumerate((35 / 40, 5 / 25, 5 / 20, 5 / 15)):
        members = data.rater_labels == t
        assert rated[members].sum() == np.floor(frac * members.sum() + 0.5)
    # share of the whole population that rated `inverted`: 0.35 + 0.05 * 3 = 0.5
    assert abs(rated.mean() - 0.5) < 0.03

    data = examples.prompts_missing(n_raters=3000, seed=4)
    rated = _rate_counts(data, 1)
    assert _rate_counts(data, 0).all()
    assert not rated[data.rater_labels == 1].any()  # no Nashville rater rated `inverted`
    for t in (0, 2, 3):
        members = data.rater_labels == t
        assert rated[members].sum() == np.floor(0.5 * members.sum() + 0.5)
    # entries keep prompt order: normal first
    assert (data.entry_prompt[data.rater_ptr[:-1]] == 0).all()


def test_determinism_and_modes() -> None:
    a = examples.prompts_partial(n_raters=500, seed=3)
    b = examples.prompts_partial(n_raters=500, seed=3)
    for name, arr in a.arrays().items():
        np.testing.assert_array_equal(arr, b.arrays()[name], err_msg=name)
    c = examples.prompts_partial(n_raters=500, seed=4)
    assert not np.array_equal(a.rater_labels, c.rater_labels)
    g = examples.prompts_partial(n_raters=500, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(g.rankings, a.rankings)

    f = examples.prompts_partial(n_raters=500, seed=3, mode="features", feature_dim=8)
    assert (
        f.mode == "features" and f.prompt_features.shape == (2, 8) and f.completion_features.shape == (8, 8)
    )
    for name in ("rater_ptr", "entry_prompt", "entry_ptr", "rankings", "rater_labels"):
        np.testing.assert_array_equal(getattr(f, name), getattr(a, name), err_msg=name)
    # features are fixed per item: independent of the rater seed and shared across populations
    f2 = examples.four_types(n_raters=10, seed=99, mode="features", feature_dim=8)
    np.testing.assert_array_equal(f2.prompt_features, f.prompt_features)
    np.testing.assert_array_equal(f2.completion_features, f.completion_features)
    mf = examples.morristown_full(n_raters=10, mode="features", feature_dim=8)
    np.testing.assert_array_equal(mf.completion_features[:4], f.completion_features[:4])
    assert len({tuple(v) for v in f.completion_features.tolist()}) == 8  # every completion distinct
    other = examples.four_types(n_raters=10, mode="features", feature_dim=8, feature_seed=1)
    assert not np.array_equal(other.prompt_features, f.prompt_features)


def test_exact_sampling_and_generate() -> None:
    data = examples.four_types(n_raters=1000, seed=0, sampling="exact")
    assert np.bincount(data.rater_labels).tolist() == [420, 260, 150, 170]
    data = examples.generate("morristown_full", n_raters=7, seed=1, sampling="exact")
    assert sorted(np.bincount(data.rater_labels, minlength=4).tolist()) == [1, 2, 2, 2]
    assert examples.generate("pairwise_twins_B", 10).label_names == ("BACD", "ABDC")
    assert set(examples.POPULATIONS) == set(GENERATORS)


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        ({"n_raters": 0}, ValueError, "n_raters"),
        ({"n_raters": 2.5}, ValueError, "n_raters"),
        ({"mode": "text"}, ValueError, "mode"),
        ({"feature_dim": 0, "mode": "features"}, ValueError, "feature_dim"),
        ({"sampling": "stratified"}, ValueError, "sampling"),
        ({"seed": "zero"}, TypeError, "seed"),
    ],
)
def test_generator_arguments(kwargs, exc, message) -> None:
    with pytest.raises(exc, match=message):
        examples.four_types(**kwargs)


def test_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown population 'five_types'"):
        population("five_types")
    with pytest.raises(ValueError, match="prompt: four_types has prompts"):
        true_ballots("four_types", "other")
    with pytest.raises(ValueError, match="population: expected 'A' or 'B'"):
        examples.pairwise_twins("C")


def test_docstring_examples_run() -> None:
    import doctest

    import socialrm.data
    import socialrm.io

    for module in (examples, socialrm.data, socialrm.io):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_from_ballots_shares_the_population_items() -> None:
    data = examples.from_ballots(
        "four_types",
        [{"normal": [ME, KN]}, {"normal": [KN, NA, ME], "inverted": [ME, KN]}],
        labels=[ME, 3],
    )
    assert data.rankings.tolist() == [0, 3, 3, 1, 0, 4, 7]
    assert data.entry_prompt.tolist() == [0, 0, 1] and data.rater_ptr.tolist() == [0, 1, 3]
    assert data.rater_labels.tolist() == [0, 3] and data.label_names == population("four_types").types
    sample = examples.four_types(n_raters=5, seed=0)
    both = sample.concat(data, renumber=True)  # same prompts and completions
    assert both.n_raters == 7
    f = examples.from_ballots("four_types", [{"inverted": [KN, CH]}], mode="features", feature_dim=4)
    np.testing.assert_array_equal(
        f.completion_features, examples.four_types(3, mode="features", feature_dim=4).completion_features
    )
    assert f.rater_labels is None
    with pytest.raises(ValueError, match="unknown candidate 'Morristown'"):
        examples.from_ballots("four_types", [{"normal": [MO, ME]}])
    with pytest.raises(ValueError, match="unknown prompt 'inverted'"):
        examples.from_ballots("morristown_full", [{"inverted": [MO, ME]}])
    with pytest.raises(ValueError, match="a ranking of a single completion"):
        examples.from_ballots("four_types", [{"normal": [ME]}])
    with pytest.raises(ValueError, match="lists completion 'Memphis' \\(id 0\\) twice"):
        examples.from_ballots("four_types", [{"normal": [ME, ME]}])
    with pytest.raises(ValueError, match="labels: expected 1 labels"):
        examples.from_ballots("four_types", [{"normal": [ME, NA]}], labels=[0, 1])
