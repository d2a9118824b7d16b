"""Gaussian mixture EM: socialrm.GaussianMixture against scikit-learn's GaussianMixture.

Both start from the same weights/means/precisions and run the same number of EM iterations
(tol = 0), so the timings compare the EM implementations (their lower bounds are checked equal).
The large float32 case runs in a child process whose peak resident memory (ru_maxrss) is reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _harness import best_time, parse_args, record, report

import socialrm as srm


def make_data(n: int, d: int, k: int, seed: int = 0, dtype=np.float64) -> np.ndarray:
    """k Gaussian blobs, generated in slices so that float32 data never exists as float64 at once."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (k, d))
    out = np.empty((n, d), dtype=dtype)
    step = 1_000_000
    for start in range(0, n, step):
        m = min(step, n - start)
        out[start:start + m] = centers[rng.integers(0, k, m)] + rng.normal(0, 1, (m, d))
    return out


def common_init(X: np.ndarray, k: int, cov: str) -> dict:
    """Initial parameters both implementations start from (a rough fit on a subsample)."""
    sub = np.asarray(X[:: max(1, len(X) // 20000)], dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = srm.GaussianMixture(k, covariance_type=cov, max_iter=2, random_state=0).fit(sub)
    return {"weights_init": g.weights_, "means_init": g.means_, "precisions_init": g.precisions_}


def em_pair(n: int, d: int, k: int, cov: str, n_iter: int, repeat: int):
    from sklearn.mixture import GaussianMixture as SKGaussianMixture

    X = make_data(n, d, k)
    init = common_init(X, k, cov)
    models = {}

    def ours():
        models["ours"] = srm.GaussianMixture(k, covariance_type=cov, max_iter=n_iter, tol=0.0, **init)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models["ours"].fit(X)

    def peer():
        models["peer"] = SKGaussianMixture(k, covariance_type=cov, max_iter=n_iter, tol=0.0, **init)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models["peer"].fit(X)

    t_ours = best_time(ours, repeat=repeat)
    t_peer = best_time(peer, repeat=max(1, repeat - 1))
    a, b = models["ours"].lower_bound_, models["peer"].lower_bound_
    assert models["ours"].n_iter_ == models["peer"].n_iter_ == n_iter
    assert abs(a - b) <= 1e-6 * abs(b), f"lower bounds differ: {a} vs {b}"
    return t_ours, t_peer


CHILD = r"""
import json, resource, sys, time, warnings
sys.path[:0] = [{root!r}, {bench!r}]
import numpy as np
import socialrm as srm
from bench_density import make_data
X = make_data({n}, {d}, {k}, dtype=np.float32)
t = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    g = srm.GaussianMixture({k}, covariance_type="diag", max_iter={max_iter}, random_state=0).fit(X)
n_iter = g.n_iter_
elapsed = time.perf_counter() - t
# EM throughput alone: {em_iter} more iterations from the fitted parameters.
g.set_params(warm_start=True, max_iter={em_iter}, tol=0.0)
t = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    g.fit(X)
em_seconds = time.perf_counter() - t
print(json.dumps({{"seconds": elapsed, "n_iter": n_iter, "converged": bool(g.converged_), "em_seconds": em_seconds,
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}}))
"""


def big_fit(n: int, d: int, k: int, max_iter: int) -> dict:
    here = os.path.dirname(os.path.abspath(__file__))
    code = CHILD.format(root=os.path.dirname(here), bench=here, n=n, d=d, k=k, max_iter=max_iter, em_iter=10)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    quick = args.quick
    records = []
    n = 20_000 if quick else 200_000
    n_iter = 5 if quick else 20
    repeat = 2 if quick else 3
    for cov, target in (("full", ">= 3x"), ("diag", "report")):
        t_ours, t_peer = em_pair(n, 16, 10, cov, n_iter, repeat)
        records.append(record(f"EM {cov} N={n:,} d=16 K=10 x{n_iter} it", t_ours, "sklearn", t_peer, target))
    n_big = 1_000_000 if quick else 10_000_000
    res = big_fit(n_big, 8, 10, 30 if quick else 100)
    name = (f"fit diag f32 N={n_big:,} d=8 K=10 ({res['n_iter']} it, peak RSS {res['peak_rss_gb']:.2f} GB)")
    records.append(record(name, res["seconds"], "-", None, "peak RSS < 4 GB"))
    records.append(record(f"EM diag f32 N={n_big:,} d=8 K=10 x10 it", res["em_seconds"], "-", None, "report"))
    report(records, args.json)
    if res["peak_rss_gb"] >= 4.0:
        raise SystemExit(f"peak RSS {res['peak_rss_gb']:.2f} GB exceeds 4 GB")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t0:.1f} s")
