"""Short training runs of the PyTorch reference on four_types: speed, collapse, steps to accuracy.

Usage: python tests/reference/measure.py --steps 6000 --seconds 300 --out run.json [--state run.pt]
Prints one line per evaluation; writes the whole history as JSON.  Numbers go to NOTES.md.
With ``--state`` the run stops after ``--seconds`` with its full state saved (model, optimiser, RNGs,
curriculum) and the same command resumes it, so a long run is split into short pieces (the machine
is shared); a resumed run continues exactly as an uninterrupted one would.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference import curriculum as cu
from reference import individual_torch as it
from reference import toy_data


def evaluate(model, data) -> dict:
    """Type-centroid decoding accuracy, single-prompt decoding, collapse statistics."""
    model.eval()
    raters = np.arange(data.n_raters)
    mu = it.embed(model, data, cu.full_batch(data, raters))
    orders = toy_data.type_orders()
    labels = data.rater_labels
    cent = np.stack([mu[labels == t].mean(0) for t in range(4)])
    accs = []
    for prompt in range(2):
        comps = np.arange(4 * prompt, 4 * prompt + 4)
        r = it.rewards_for(model, data, cent, comps)
        for t in range(4):
            pos = orders[t, prompt] - 4 * prompt
            accs.append(it.pairwise_accuracy(r[t][pos], np.arange(4)))
    sigma2 = float(model.scale.detach() ** 4)
    kl_dim = 0.5 * (mu ** 2 + sigma2 - 1 - np.log(sigma2)).mean(0)
    var_dim = mu.var(0)
    d = np.sqrt(((cent[:, None] - cent[None]) ** 2).sum(-1))
    min_dist = float(d[np.triu_indices(4, 1)].min())
    # single-prompt embeddings, decoded on both prompts
    single = []
    for prompt in range(2):
        sub = raters[:200]
        mu1 = it.embed(model, data, cu.full_batch(data, sub, prompts={prompt}))
        acc = []
        for q in range(2):
            comps = np.arange(4 * q, 4 * q + 4)
            r = it.rewards_for(model, data, mu1, comps)
            for k, rr in enumerate(sub):
                pos = orders[labels[rr], q] - 4 * q
                acc.append(it.pairwise_accuracy(r[k][pos], np.arange(4)))
        single.append(float(np.mean(acc)))
    model.train()
    return {
        "type_pairwise_acc": float(np.mean(accs)),
        "type_min_acc": float(np.min(accs)),
        "sigma": float(np.sqrt(sigma2)),
        "kl_per_dim": kl_dim.round(4).tolist(),
        "active_kl": int((kl_dim > 0.01).sum()),
        "active_var": int((var_dim > 0.01).sum()),
        "centroid_min_dist": min_dist,
        "centroid_min_dist_over_sigma": min_dist / np.sqrt(sigma2),
        "single_prompt_acc": single,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-raters", type=int, default=1000)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--kl-zero-steps", type=int, default=2000)
    ap.add_argument("--kl-warmup-steps", type=int, default=2000)
    ap.add_argument("--optimizer", default="adafactor")
    ap.add_argument("--out", required=True)
    ap.add_argument("--state", default=None, help="checkpoint file: resume from it if present, save to it")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    torch.manual_seed(a.seed)
    data = toy_data.four_types(a.n_raters, a.seed)
    cfg = it.IndividualConfig(vocab_size=len(data.vocab) + 1)
    model = it.IndividualRewardModel(cfg)
    cc = cu.CurriculumConfig(beta=a.beta, kl_zero_steps=a.kl_zero_steps, kl_warmup_steps=a.kl_warmup_steps,
                             max_steps=a.steps)
    opt = it.make_optimizer(model, a.optimizer, cc.lr)
    rng = np.random.default_rng(a.seed + 1000)
    sched, lrs = cu.RepeatSchedule(cc), cu.LRSchedule(cc)
    hist, evals = [], []
    step_times, draw_times = [], []
    t_start = time.perf_counter()
    first_95 = None
    start = 0
    if a.state and Path(a.state).exists():
        st = torch.load(a.state, weights_only=False)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        rng.bit_generator.state = st["rng"]
        sched.raises, sched.window, sched.raise_steps = st["raises"], st["window"], st["raise_steps"]
        lrs.start, lrs.end = st["lr_start"], st["lr_end"]
        hist, evals, step_times, draw_times = st["hist"], st["evals"], st["step_times"], st["draw_times"]
        first_95, start = st["first_95"], st["step"]
    step = start - 1
    for step in range(start, a.steps):
        t0 = time.perf_counter()
        batch = cu.draw_batch(data, rng, sched.raises, cc)
        eps = rng.standard_normal((cc.batch_size, cfg.d_latent))
        t1 = time.perf_counter()
        res = it.train_step(model, opt, data, batch, eps, cu.beta_at(step, cc), lrs(step), cc.clip_norm,
                            cc.free_bits)
        t2 = time.perf_counter()
        draw_times.append(t1 - t0)
        step_times.append(t2 - t1)
        hist.append(res["listmle"])
        sched.record(step, res["listmle"])
        if cu.should_stop(sched, hist, cc):
            lrs.stop_rule_met(step)
        if (step + 1) % a.eval_every == 0 or step + 1 == a.steps:
            ev = evaluate(model, data)
            ev.update(step=step + 1, listmle=float(np.mean(hist[-100:])), kl=res["kl"], repeat=sched.repeat,
                      beta=cu.beta_at(step, cc), lr=lrs(step),
                      ms_step=1000 * float(np.median(step_times[-a.eval_every:])),
                      ms_draw=1000 * float(np.median(draw_times[-a.eval_every:])))
            if first_95 is None and ev["type_pairwise_acc"] >= 0.95:
                first_95 = step + 1
            evals.append(ev)
            print(json.dumps({k: v for k, v in ev.items() if k != "kl_per_dim"}), flush=True)
        if time.perf_counter() - t_start > a.seconds or lrs.finished(step):
            break
    done = step + 1 >= a.steps or lrs.finished(step)
    if a.state and not done:
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "rng": rng.bit_generator.state,
                    "raises": sched.raises, "window": sched.window, "raise_steps": sched.raise_steps,
                    "lr_start": lrs.start, "lr_end": lrs.end, "hist": hist, "evals": evals,
                    "step_times": step_times, "draw_times": draw_times, "first_95": first_95,
                    "step": step + 1}, a.state)
    summary = {"args": vars(a), "finished": done, "n_params": sum(p.numel() for p in model.parameters()),
               "steps_run": len(hist), "first_step_acc_ge_0.95": first_95,
               "ms_step_median": 1000 * float(np.median(step_times)),
               "ms_draw_median": 1000 * float(np.median(draw_times)),
               "raise_steps": sched.raise_steps, "evals": evals}
    Path(a.out).write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "evals"}))


if __name__ == "__main__":
    main()
