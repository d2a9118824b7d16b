"""Benchmark of the social / vanilla reward model (issue 6): training steps per second of the token
model at the default size (width 32, 8 encoder + 8 decoder layers, batch of 128 pairs) against the
same architecture in PyTorch eager, and scoring throughput (completions per second) for 10,000
prompts × 8 completions in feature mode against the same MLP in PyTorch (no_grad).

Run from the repository root: ``python benchmarks/bench_reward.py [--quick] [--json PATH]``.
"""

from __future__ import annotations

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from _harness import best_time, parse_args, record, report

from socialrm._native import _core


def token_tables(n_prompts, n_completions, T, vocab, seed):
    """Prompts and completions of 1..T real tokens (pad 0 after them)."""
    rng = np.random.default_rng(seed)
    out = []
    for n in (n_prompts, n_completions):
        ids = rng.integers(1, vocab, size=(n, T)).astype(np.int32)
        lengths = rng.integers(1, T + 1, size=n)
        ids[np.arange(T)[None, :] >= lengths[:, None]] = 0
        out.append(ids)
    return out


def random_pairs(n, n_prompts, n_completions, seed):
    rng = np.random.default_rng(seed)
    pp = rng.integers(0, n_prompts, size=n).astype(np.int32)
    pw = rng.integers(0, n_completions, size=n).astype(np.int32)
    pl = (pw + rng.integers(1, n_completions, size=n)) % n_completions
    return pp, pw, pl.astype(np.int32)


def bench_training(quick, records):
    import socialrm as srm

    T, vocab = 8, 64
    pt, ct = token_tables(256, 1024, T, vocab, 0)
    pp, pw, pl = random_pairs(8192, 256, 1024, 1)
    threads = sorted({1, os.cpu_count() or 1})
    train_records(quick, records, "random pairs (256 prompts, 1024 compl.)", vocab, pt, ct, pp, pw, pl, threads)
    # realistic RLHF data: few prompts, a handful of completions each, many raters' pairs; the C model
    # encodes each distinct prompt and decodes each distinct (prompt, completion) once per chunk
    data = srm.examples.four_types(n_raters=2000, seed=0)
    pairs = data.pairs()
    train_records(quick, records, "four_types rater pairs", data.vocab_size, data.prompt_tokens,
                  data.completion_tokens, pairs.prompt, pairs.winner, pairs.loser, threads[:1])


def ours_train_fn(core, pt, ct, pp, pw, pl, k, B, threads):
    def run():
        core.train(pt, ct, None, None, pp, pw, pl, None, k, batch=B, lr=1e-3, max_grad_norm=1.0, n_threads=threads)

    return run


def torch_step_fn(ref, tables, pp, pw, pl, B):
    import torch

    opt = torch.optim.AdamW(ref.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    tp, tw, tl = (torch.from_numpy(np.asarray(a)).long() for a in (pp, pw, pl))

    def step():
        idx = torch.randint(0, len(tp), (B,), generator=gen)  # minibatch of pairs, as ours draws
        opt.zero_grad(set_to_none=True)
        loss, _, _ = ref.loss(tables, tp[idx], tw[idx], tl[idx])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ref.parameters(), 1.0)
        opt.step()

    return step


def train_records(quick, records, what, vocab, pt, ct, pp, pw, pl, thread_counts):
    import torch
    from reference.reward_torch import TorchRewardModel, tables_of

    B = 128
    core = _core.RewardCore(mode="tokens", vocab_size=vocab, width=32, n_heads=1, ff_hidden=128, n_encoder_layers=8,
                            n_decoder_layers=8, max_prompt_len=pt.shape[1], max_completion_len=ct.shape[1],
                            chunk=16, max_batch=B, seed=0)
    core.set_optimizer("adamw")
    k = 2 if quick else 10
    repeat = 2 if quick else 3
    tables = tables_of(pt, ct, None, None, dtype=torch.float32)
    for threads in thread_counts:
        torch.set_num_threads(threads)
        t_ours = best_time(ours_train_fn(core, pt, ct, pp, pw, pl, k, B, threads), repeat=repeat) / k
        step = torch_step_fn(TorchRewardModel(core, "tokens", heads=1, dtype=torch.float32), tables, pp, pw, pl, B)
        step()
        t_peer = best_time(lambda step=step: [step() for _ in range(k)], repeat=repeat) / k
        records.append(record(f"train step w32 L8+8 B128, {what}, {threads} thr ({1 / t_ours:.1f} steps/s)",
                              t_ours, "torch eager", t_peer, "report"))
    torch.set_num_threads(os.cpu_count() or 1)


def bench_scoring(quick, records):
    import torch
    from reference.reward_torch import TorchRewardModel, tables_of

    n_prompts = 1000 if quick else 10_000
    per, d = 8, 64
    rng = np.random.default_rng(2)
    pf = rng.normal(size=(n_prompts, d)).astype(np.float32)
    cf = rng.normal(size=(n_prompts * per, d)).astype(np.float32)
    pid = np.repeat(np.arange(n_prompts, dtype=np.int32), per)
    cid = np.arange(n_prompts * per, dtype=np.int32)
    core = _core.RewardCore(mode="features", prompt_dim=d, completion_dim=d, hidden_sizes=[64, 64], chunk=16,
                            max_batch=128, seed=0)
    n = len(cid)
    torch.set_num_threads(1)  # one thread each: two threads were erratic on this shared machine
    t_ours = best_time(lambda: core.score(None, None, pf, cf, pid, cid, n_threads=1), repeat=3)
    ref = TorchRewardModel(core, "features", dtype=torch.float32)
    tables = tables_of(None, None, pf, cf, dtype=torch.float32)
    tp, tc = torch.from_numpy(pid).long(), torch.from_numpy(cid).long()

    def peer():
        with torch.no_grad():
            return ref.rewards(tables, tp, tc)

    np.testing.assert_allclose(peer().numpy(), core.score(None, None, pf, cf, pid, cid), rtol=1e-3, atol=1e-4)
    t_peer = best_time(peer, repeat=3)
    records.append(record(f"score features {n_prompts}x{per} d64 MLP 64-64, 1 thr ({n / t_ours:,.0f} compl/s)",
                          t_ours, "torch eager", t_peer, "report"))
    torch.set_num_threads(os.cpu_count() or 1)


def main():
    args = parse_args(__doc__)
    records = []
    bench_training(args.quick, records)
    bench_scoring(args.quick, records)
    report(records, args.json)


if __name__ == "__main__":
    main()
