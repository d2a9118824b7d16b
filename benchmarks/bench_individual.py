"""Benchmark of the individual reward model (issue 5): one training step at batch 128 with the
default configuration (curriculum draw + forward + backward + clip + Adafactor) in C versus the
PyTorch eager reference (tests/reference/individual_torch.py, same architecture, NumPy curriculum)
on the same four_types data; torch.compile when it works; and the wall time and steps for
four_types to reach the stopping rule.

Run from the repository root: ``python benchmarks/bench_individual.py [--quick] [--json PATH]``.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from _harness import parse_args, record, report

import socialrm as srm
from socialrm import _core
from socialrm.models import IndividualRewardModel


def c_step_time(data, steps: int, n_threads: int) -> float:
    """Seconds per training step of the C loop (median over chunks of the run)."""
    from _irm_helpers import data_tuple

    cfg = {"vocab": int(max(data.prompt_tokens.max(), data.completion_tokens.max()) + 1),
           "max_prompt_len": data.prompt_tokens.shape[1], "max_completion_len": data.completion_tokens.shape[1],
           "max_prompts": 2, "max_completions": 4, "seed": 0}
    core = _core.IRM(cfg)
    core.trainer_new(data_tuple(data), {"seed": 0, "max_steps": 100000})
    core.train(20, n_threads)  # warm-up (allocations)
    chunk = max(10, steps // 5)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        core.train(chunk, n_threads)
        times.append((time.perf_counter() - t) / chunk)
    return float(np.median(times))


def torch_step_time(data, steps: int, compile_model: bool = False) -> float | None:
    import torch
    from reference import curriculum as cu
    from reference import individual_torch as it

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    model = it.IndividualRewardModel(it.IndividualConfig(vocab_size=len(data.vocab) + 1))
    opt = it.make_optimizer(model)
    cfg = cu.CurriculumConfig()
    rng = np.random.default_rng(0)
    fwd_model = model
    if compile_model:
        try:
            fwd_model = torch.compile(model, dynamic=True)
        except Exception as exc:  # noqa: BLE001 (report and go on)
            print(f"torch.compile unavailable: {exc}")
            return None

    def step(i):
        batch = cu.draw_batch(data, rng, 0, cfg)
        eps = rng.standard_normal((cfg.batch_size, 8)).astype(np.float32)
        out = fwd_model(data, batch, eps)
        losses = it.loss_fn(out, batch, 0.0)
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    try:
        for i in range(3):
            step(i)
        times = []
        for i in range(steps):
            t = time.perf_counter()
            step(i)
            times.append(time.perf_counter() - t)
    except Exception as exc:  # noqa: BLE001
        print(f"torch{' compile' if compile_model else ''} failed: {type(exc).__name__}: {exc}")
        return None
    return float(np.median(times))


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    from reference import toy_data

    data = toy_data.four_types(1000, seed=0)
    records = []
    c_steps = 100 if args.quick else 1000
    t_steps = 10 if args.quick else 60
    ours1 = c_step_time(data, c_steps, 1)
    ours_all = c_step_time(data, c_steps, 0)
    peer = torch_step_time(data, t_steps)
    records.append(record("training step, batch 128, 1 thread", ours1, "torch eager 1 thr", peer, ">= 5x"))
    records.append(record("training step, batch 128, all threads", ours_all, "torch eager 1 thr", peer, "-"))
    if not args.quick:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            comp = torch_step_time(data, t_steps, compile_model=True)
        records.append(record("training step, batch 128, 1 thread", ours1, "torch.compile 1 thr", comp, "report"))
        # four_types to the stopping rule (default configuration, max_steps 20000)
        pdata = srm.examples.four_types(n_raters=1000, seed=0)
        t = time.perf_counter()
        model = IndividualRewardModel(random_state=0, progress=False, collapse="warn").fit(pdata)
        wall = time.perf_counter() - t
        print(f"four_types to the stopping rule: {wall:.1f} s wall, {model.n_steps_} steps, stop rule met at "
              f"step {model.stop_step_} ({model.stop_reason_}); repeat raised at {model.raise_steps_}")
        records.append(record(f"four_types fit to stop ({model.n_steps_} steps)", wall, "-", None, "report"))
    report(records, args.json)


if __name__ == "__main__":
    main()
