"""The seed's claims (issue 6, experiments 1-5) as tests, on the DESIGN §6 example populations.

Every model is trained once per session at the demo's measured sizes (socialrm.demo.SIZES) with
fixed seeds and one C thread each; the runs go two at a time through a thread pool (training
releases the GIL), so the suite uses both cores of a CI machine while each result stays the
bitwise-reproducible 1-thread result the pass rates in benchmarks/bench_pipeline.py were measured with.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from socialrm import demo

PROMPTS_SEEDS = (0, 1, 2, 3, 4)
TWINS_SEEDS = (0, 1, 2)
#: seed 1 is the one that missed at the former sizes (4,000 steps, 1,000 voters); see demo.SIZES
MORRISTOWN_SEEDS = (0, 1)


class _Runs:
    """Every experiment run of the session, submitted at once, awaited on first use."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=2)
        jobs = {("prompts_partial", s): (demo.experiment_prompts, {"population": "prompts_partial"}) for s in PROMPTS_SEEDS}
        jobs[("rules", 0)] = (demo.experiment_rules, {})
        jobs.update({("morristown", s): (demo.experiment_morristown, {}) for s in MORRISTOWN_SEEDS})
        jobs.update({("twins", s): (demo.experiment_twins, {}) for s in TWINS_SEEDS})
        self.futures = {key: self.pool.submit(fn, key[1], n_threads=1, **kw) for key, (fn, kw) in jobs.items()}

    def __getitem__(self, key):
        return self.futures[key].result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def runs():
    r = _Runs()
    yield r
    r.close()


@pytest.mark.parametrize("rule", demo.RULES)
def test_exp1_social_model_follows_the_chosen_rule(runs, rule):
    """four_types: the social model's order on each prompt = the exact rule on the true population."""
    res = runs[("rules", 0)]["rules"][rule]
    for e in res["prompts"]:
        assert e["model"] == e["exact"], (rule, e)
    assert res["passed"]


def test_exp1_the_rule_matters(runs):
    """Borda and Kemeny give different social models on four_types 'normal' (Memphis 3rd vs last)."""
    rules = runs[("rules", 0)]["rules"]
    borda = rules["borda"]["prompts"][0]["model"]
    kemeny = rules["kemeny"]["prompts"][0]["model"]
    assert borda == "Nashville ≻ Chattanooga ≻ Memphis ≻ Knoxville"
    assert kemeny == "Nashville ≻ Chattanooga ≻ Knoxville ≻ Memphis"


def test_exp2_random_ballot_matches_vanilla(runs):
    rb = runs[("rules", 0)]["random_ballot"]
    for e in rb["prompts"]:
        assert e["model"] == e["vanilla"], e
    # and vanilla RLHF on complete data is Borda here (DESIGN §1)
    assert rb["prompts"][0]["vanilla"] == "Nashville ≻ Chattanooga ≻ Memphis ≻ Knoxville"


@pytest.mark.parametrize("seed", MORRISTOWN_SEEDS)
def test_exp3_missing_completions_morristown(runs, seed):
    """morristown_partial: vanilla ranks Morristown last; the Borda pipeline recovers the
    full-information order, whose Ch-Kn margin is only 0.1 Borda points."""
    r = runs[("morristown", seed)]
    assert r["truth"] == "Chattanooga ≻ Knoxville ≻ Nashville ≻ Morristown ≻ Memphis"
    assert r["vanilla"].endswith("≻ Morristown"), r["vanilla"]
    assert r["pipeline"] == r["truth"], r
    assert r["voters"] == r["truth"], r  # the simulated voters' Borda order, before the social model


def test_exp4_missing_prompts(runs):
    """prompts_partial, 5,000 raters, 10,000 voters: pipeline Borda on 'inverted' = Kn ≻ Me ≻ Ch ≻ Na
    on >= 4 of 5 seeds; vanilla ranks Memphis last on every seed."""
    results = [runs[("prompts_partial", s)] for s in PROMPTS_SEEDS]
    assert results[0]["truth"] == "Knoxville ≻ Memphis ≻ Chattanooga ≻ Nashville"
    for r in results:
        assert r["vanilla"].endswith("≻ Memphis"), (r["seed"], r["vanilla"])
    exact = [r["seed"] for r in results if r["pipeline_exact"]]
    assert len(exact) >= 4, [(r["seed"], r["pipeline"]) for r in results]


def test_exp5_pairwise_twins(runs):
    """Population A vs B (identical pairwise margins): among simulated voters ranking A first
    (45-55 %), C ≻ D for >= 95 % in A and <= 5 % in B, on >= 2 of 3 seeds, collapse guard on."""
    results = [runs[("twins", s)] for s in TWINS_SEEDS]
    passed = [r["seed"] for r in results if r["passed"]]
    assert len(passed) >= 2, [r["populations"] for r in results]
    for r in results:
        for pop, pr in r["populations"].items():
            if not pr["collapsed"]:
                assert pr["decoded_diversity"] > 0  # the guard's measure: not collapsed
