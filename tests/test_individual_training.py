"""Acceptance checks of issue 5 on trained individual reward models (sampled example data, fixed
seeds). Each (population, seed) model is trained once per session (session fixtures).

Budget: four_types 3 seeds at the library's defaults (up to 20,000 steps: the stopping rule, then
the decay) and the no-collapse check on 4 more populations × 3 seeds × 5,000 steps; ~3-4 ms per
step on one thread (one thread: stable under a loaded CI machine, and the results are bitwise
those of any thread count), two models at a time (training releases the GIL) → about 5 minutes.

Why the default length for four_types: at 8,000 steps (``repeat`` ≈ 0.5) seed 1 put Knoxville's
ballot without Memphis nearer the Chattanooga centroid (7/8 omit-one-city ballots) and 15% of the
``normal``-alone embeddings nearer a neighbour's centroid; trained to the stopping rule, every seed
measured 8/8 and 1.00.

Measured numbers are also written to build/irm_acceptance.json (for the issue's closing note).
"""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import socialrm as srm
from socialrm.models import IndividualRewardModel

SEEDS = (0, 1, 2)
FOUR_TYPES_STEPS = 20000  # the library default: training ends by the stopping rule and its decay
OTHER_STEPS = 5000
RESULTS: dict = {}
OUT = Path(__file__).resolve().parents[1] / "build" / "irm_acceptance.json"


def _record(key: str, value) -> None:
    RESULTS[key] = value
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(RESULTS, indent=1, default=float))


def _fit(name: str, seed: int, steps: int, n_raters: int):
    data = srm.examples.generate(name, n_raters=n_raters, seed=seed)
    model = IndividualRewardModel(max_steps=steps, random_state=seed, n_threads=1, progress=False,
                                  callback_every=1000).fit(data)
    return data, model


_CACHE: dict = {}


def _train_key(key):
    name, seed = key
    steps = FOUR_TYPES_STEPS if name == "four_types" else OTHER_STEPS
    return _fit(name, seed, steps, 1000 if name == "four_types" else 600)


def train_all(keys) -> None:
    """Train the missing (population, seed) models, two at a time (one C thread each)."""
    todo = [k for k in keys if k not in _CACHE]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for key, result in zip(todo, pool.map(_train_key, todo)):
            _CACHE[key] = result


def trained(name: str, seed: int):
    train_all([(name, seed)])
    return _CACHE[name, seed]


def _orders(name: str, data):
    """True order of each type on each prompt as completion ids: {(type, prompt): ids best first}."""
    pop = srm.examples.population(name)
    m = len(pop.candidates)
    out = {}
    for p, prompt in enumerate(pop.prompts):
        ranks, _w = srm.examples.true_ballots(name, prompt)
        for t in range(len(ranks)):
            out[t, p] = [p * m + int(c) for c in ranks[t]]
    return out


def _pairwise(scores_by_id: dict, order) -> float:
    pairs = list(itertools.combinations(order, 2))
    return float(np.mean([scores_by_id[a] > scores_by_id[b] for a, b in pairs]))


def _decode_acc(model, data, z, types, orders) -> np.ndarray:
    """Pairwise accuracy of each latent's decoded order against its type's order on each prompt [n, P]."""
    n_prompts = data.n_prompts
    acc = np.zeros((len(z), n_prompts))
    for p in range(n_prompts):
        comps = data.completions_of(p)
        r = model.rewards(z, p, data=data)
        for k in range(len(z)):
            acc[k, p] = _pairwise(dict(zip(comps.tolist(), r[k])), orders[types[k], p])
    return acc


def _centroids(z, labels, n_types):
    return np.stack([z[labels == t].mean(0) for t in range(n_types)])


# ------------------------------------------------------------------------- four_types checks


@pytest.fixture(scope="session")
def four_types_models():
    train_all([("four_types", seed) for seed in SEEDS])
    return {seed: trained("four_types", seed) for seed in SEEDS}


@pytest.mark.slow
def test_decoded_type_centroids(four_types_models):
    accs = {}
    for seed, (data, model) in four_types_models.items():
        z = model.embed_raters(data)
        cent = _centroids(z, data.rater_labels, 4)
        acc = _decode_acc(model, data, cent, np.arange(4), _orders("four_types", data))
        accs[seed] = float(acc.mean())
    _record("centroid_pairwise_accuracy", accs)
    assert all(a >= 0.95 for a in accs.values()), accs
    assert sum(a >= 0.99 for a in accs.values()) >= 2, accs


@pytest.mark.slow
def test_kmeans_purity(four_types_models):
    from sklearn.cluster import KMeans

    purity = {}
    for seed, (data, model) in four_types_models.items():
        z = model.embed_raters(data)
        km = KMeans(n_clusters=4, n_init=10, random_state=0).fit(z)
        counts = np.zeros((4, 4), int)
        np.add.at(counts, (km.labels_, data.rater_labels), 1)
        purity[seed] = float(counts.max(1).sum() / len(z))
    _record("kmeans_purity", purity)
    assert all(p >= 0.95 for p in purity.values()), purity


@pytest.mark.slow
def test_context_invariance(four_types_models):
    results, nearest = {}, {}
    for seed, (data, model) in four_types_models.items():
        labels = data.rater_labels
        raters = np.arange(300)
        cent = _centroids(model.embed_raters(data), labels, 4)
        orders = _orders("four_types", data)
        for p, name in enumerate(("normal", "inverted")):
            z1 = model.embed_raters(data, raters=raters, prompts=[p])
            acc = _decode_acc(model, data, z1, labels[raters], orders)
            results[f"{seed}/{name}"] = [float(acc[:, 0].mean()), float(acc[:, 1].mean())]
            d = ((z1[:, None, :] - cent[None]) ** 2).sum(-1)
            nearest[f"{seed}/{name}"] = float((d.argmin(1) == labels[raters]).mean())
    _record("context_invariance_decoded_accuracy[normal, inverted]", results)
    _record("context_invariance_nearest_centroid_share", nearest)
    for key, (a_normal, a_inverted) in results.items():
        assert a_normal >= 0.95 and a_inverted >= 0.95, (key, a_normal, a_inverted)


def _nearest(model, cent, ballots):
    z = model.embed_raters(srm.examples.from_ballots("four_types", ballots))
    return ((z[:, None, :] - cent[None]) ** 2).sum(-1).argmin(1)


@pytest.mark.slow
def test_partial_information(four_types_models):
    """The single comparison Memphis > Knoxville on ``normal`` embeds nearest the Memphis centroid;
    ballots omitting one city (on both prompts), where the shortened ballot still fits one type
    only, embed nearest their type's centroid (8 such ballots: 3 Memphis, 2 Nashville, 1
    Chattanooga, 2 Knoxville), and decode their type's full orders.

    Asserted for all 8 ballots on every seed. The geometric measure is fragile before the end of
    training (DESIGN §4): at 8,000 or 12,000 steps, seed 1 put Knoxville's ballot without Memphis
    (Kn > Ch > Na) nearer the Chattanooga centroid while decoding Knoxville's exact orders; trained
    to the stopping rule it lands nearest Knoxville. The test records every miss and the smallest
    relative gap between the nearest and the second-nearest centroid."""
    pop = srm.examples.population("four_types")
    normal = pop.orders["normal"]
    ballots, types = [], []
    for t, order in enumerate(normal):
        for city in order:
            short = [c for c in order if c != city]
            fits = [u for u, o in enumerate(normal) if [c for c in o if c in short] == short]
            if fits == [t]:
                ballots.append({"normal": short, "inverted": short[::-1]})
                types.append(t)
    types = np.array(types)
    out, ok = {}, True
    for seed, (data, model) in four_types_models.items():
        cent = _centroids(model.embed_raters(data), data.rater_labels, 4)
        memphis = int(_nearest(model, cent, [{"normal": ["Memphis", "Knoxville"]}])[0])
        got = _nearest(model, cent, ballots)
        z = model.embed_raters(srm.examples.from_ballots("four_types", ballots))
        dist = np.sort(np.sqrt(((z[:, None, :] - cent[None]) ** 2).sum(-1)), axis=1)
        gap = float(((dist[:, 1] - dist[:, 0]) / dist[:, 1]).min())
        dec = _decode_acc(model, data, z, types, _orders("four_types", data))
        out[seed] = {"memphis_vs_knoxville_nearest": pop.types[memphis],
                     "omit_one_city_nearest_correct": f"{int((got == types).sum())}/{len(types)}",
                     "omit_one_city_wrong": [f"{'>'.join(c[:2] for c in ballots[k]['normal'])} -> {pop.types[got[k]]}"
                                             for k in np.flatnonzero(got != types)],
                     "omit_one_city_decoded_accuracy": float(dec.mean()),
                     "omit_one_city_min_relative_gap_to_second_nearest": gap}
        ok &= memphis == 0 and bool((got == types).all()) and float(dec.min()) >= 0.95
    _record("partial_information", out)
    assert ok, out


@pytest.mark.slow
def test_smooth_traversal(four_types_models):
    out = {}
    for seed, (data, model) in four_types_models.items():
        cent = _centroids(model.embed_raters(data), data.rater_labels, 4)
        kn, ch = cent[3], cent[2]
        line = np.stack([kn + a * (ch - kn) for a in np.linspace(0.0, 1.0, 21)])
        r = model.rewards(line, 0, data=data)  # normal: Me Na Ch Kn = completions 0..3
        changes = {}
        for a, b in itertools.combinations(range(4), 2):
            s = np.sign(r[:, a] - r[:, b])
            changes[f"{pop_name(a)}-{pop_name(b)}"] = int((s[1:] != s[:-1]).sum())
        out[seed] = changes
        assert changes["Ch-Kn"] == 1, changes
        assert all(v <= 1 for v in changes.values()), changes
    _record("traversal_sign_changes", out)


def pop_name(i: int) -> str:
    return ("Me", "Na", "Ch", "Kn")[i]


# ------------------------------------------------------------------------- no collapse


@pytest.mark.slow
@pytest.mark.parametrize("name", ["four_types", "morristown_partial", "prompts_partial", "pairwise_twins_A",
                                  "pairwise_twins_B"])
def test_no_collapse(name):
    """Active units, decoded diversity, and type centroids apart by at least half the sampler's σ.

    Threshold: in the reference's collapsed run (β = 0.1 from step 0, NOTES.md run B) the type
    centroids ended 0.07-0.30 σ apart; healthy runs of this model end 1-7 σ apart (measured on
    four_types and the populations here). Half a σ separates the two regimes."""
    out = {}
    train_all([(name, seed) for seed in SEEDS])
    for seed in SEEDS:
        data, model = trained(name, seed)
        diag = model.diagnostics_
        z = model.embed_raters(data)
        n_types = int(data.rater_labels.max()) + 1
        cent = _centroids(z, data.rater_labels, n_types)
        dist = np.sqrt(((cent[:, None] - cent[None]) ** 2).sum(-1))[np.triu_indices(n_types, 1)]
        sep = float(dist.min() / diag["sigma"])
        out[seed] = {"active_units": int(diag["active_units"]), "min_centroid_distance_over_sigma": sep,
                     "decoded_diversity": float(diag["decoded_diversity"]), "sigma": float(diag["sigma"])}
        assert not diag["collapsed"] and diag["active_units"] >= 1, out[seed]
        assert sep >= 0.5, out[seed]
    _record(f"no_collapse/{name}", out)
