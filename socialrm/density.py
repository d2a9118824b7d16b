"""Density estimation over rater latents: Gaussian mixtures fitted by EM in the C core.

:class:`GaussianMixture` follows scikit-learn's ``sklearn.mixture.GaussianMixture`` (same parameters,
methods, fitted attributes and conventions), and adds per-sample weights, a progress callback,
interruptible fits and counter-based seeding. :func:`select_n_components` picks the number of
components by BIC (or AIC).

Numerical notes
---------------
* Parameters are always float64. float32 input is read block by block and converted to double, so
  the arithmetic is double precision for both input types (scikit-learn computes in float32 for
  float32 input; our results are the more precise ones).
* From identical initial parameters, EM follows scikit-learn's iteration: the lower bound of
  iteration t is the mean log-likelihood under the parameters before its M-step; 10*eps is added to
  each component's count; ``reg_covar`` is added to covariance diagonals; convergence is
  ``|lower_bound_t - lower_bound_{t-1}| < tol``.
* Degenerate data: a component whose covariance is not positive definite after adding
  ``reg_covar`` raises ``ValueError`` (as scikit-learn does); with the default ``reg_covar=1e-6``
  duplicate points, a constant feature or a collapsing component give a regularised covariance
  (``reg_covar`` on the diagonal) instead. ``n_samples < n_components`` is a ``ValueError``.
* The lower bound never decreases from one iteration to the next (EM's guarantee) as long as
  ``reg_covar`` is small against the component variances. When a component's variance is of the order
  of ``reg_covar`` (a component collapsed onto one or a few points), the regularised M-step is no longer
  the maximiser of the likelihood and the bound can decrease; scikit-learn follows the very same
  sequence from the same start (tested).
* Results are bitwise reproducible for a given ``random_state``, whatever ``n_threads``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from ._native import _core
from ._validation import as_finite_array, check_is_fitted, check_n_threads, seed_from_random_state

__all__ = ["ConvergenceWarning", "GaussianMixture", "select_n_components"]

_COV_CODES = {"full": 0, "tied": 1, "diag": 2, "spherical": 3}
_INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")
_KMEANS_MAX_ITER = 300
_KMEANS_TOL = 1e-4
_NK_EPS = 10 * np.finfo(np.float64).eps


class ConvergenceWarning(UserWarning):
    """The best initialisation of an EM fit stopped at ``max_iter`` without converging."""


def _check_data(X, name: str = "X") -> np.ndarray:
    """float32 stays float32 (read as double in C), anything else becomes float64."""
    if X is None:
        raise TypeError(f"{name}: expected an array, got None")
    arr = np.asarray(X)
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    arr = as_finite_array(arr, name, dtype=dtype, ndim=2)
    if arr.shape[1] < 1:
        raise ValueError(f"{name}: need at least one feature, got shape {arr.shape}")
    return arr


def _check_sample_weight(sample_weight, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = as_finite_array(sample_weight, "sample_weight", dtype=np.float64, ndim=1)
    if w.shape[0] != n:
        raise ValueError(f"sample_weight: expected {n} entries (one per row of X), got {w.shape[0]}")
    if np.any(w < 0):
        raise ValueError("sample_weight: entries must be >= 0")
    if not w.sum() > 0:
        raise ValueError("sample_weight: must have a positive sum")
    return w


def _int_param(value, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")
    return int(value)


def _float_param(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: must be finite and >= 0, got {value}")
    return float(value)


def _precisions_from_chol(prec_chol: np.ndarray, covariance_type: str) -> np.ndarray:
    if covariance_type == "full":
        return np.einsum("kij,klj->kil", prec_chol, prec_chol)
    if covariance_type == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol**2


class GaussianMixture:
    """Gaussian mixture model fitted by expectation-maximisation (C core, drop-in for scikit-learn's).

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        Covariance structure: one full matrix per component, one shared full matrix, one diagonal
        per component, or one variance per component.
    tol : float, default=1e-3
        EM stops when the lower bound (mean log-likelihood) changes by less than ``tol``.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance, keeping them positive definite.
    max_iter : int, default=100
        EM iterations per initialisation.
    n_init : int, default=1
        Initialisations; the one with the largest final lower bound is kept.
    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, default="kmeans"
        "kmeans": k-means++ seeding + Lloyd iterations, then one M-step on the hard labels;
        "k-means++": the seeds only; "random": random responsibilities; "random_from_data":
        random distinct samples as means.
    weights_init, means_init, precisions_init : array-like, optional
        User initial parameters (shapes as scikit-learn's); when all three are given no
        initialisation is computed.
    random_state : int, numpy Generator or None
        Seed of every random draw (initialisation and :meth:`sample`).
    warm_start : bool, default=False
        Continue from the previous fit's parameters (``n_init`` is then ignored).
    verbose : int, default=0
        ``>= 1`` shows a tqdm progress bar per initialisation.
    verbose_interval : int, default=10
        Iterations between progress bar refreshes.
    callback : callable, optional
        ``callback(n_iter, lower_bound)`` after every EM iteration; a true return value stops the
        current initialisation early (its parameters are kept, ``converged_`` is False).
    n_threads : int or None
        Threads (None or 0 = all cores). Results do not depend on it.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        (n_components, n_features, n_features) full; (n_features, n_features) tied;
        (n_components, n_features) diag; (n_components,) spherical.
    precisions_ : ndarray
        Inverses of ``covariances_``, same shapes.
    precisions_cholesky_ : ndarray
        Upper-triangular U with precision = U U^T (full, tied); ``1/sqrt(covariance)`` otherwise.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Lower bound (mean log-likelihood) of the best initialisation's last iteration.
    lower_bounds_ : ndarray
        Lower bound of every iteration of the best initialisation.
    n_features_in_ : int

    Notes
    -----
    KeyboardInterrupt during ``fit`` stops EM after the current iteration: the estimator keeps the
    parameters reached (``converged_ = False``) and the KeyboardInterrupt is re-raised.

    Examples
    --------
    >>> import numpy as np, socialrm as srm
    >>> X = np.concatenate([np.random.default_rng(0).normal(m, 1, (100, 2)) for m in (-5, 5)])
    >>> gm = srm.GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
    >>> np.round(np.sort(gm.means_[:, 0]))
    array([-5.,  5.])
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        callback: Callable[[int, float], object] | None = None,
        n_threads: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.callback = callback
        self.n_threads = n_threads

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep: bool = True) -> dict:
        """Hyperparameters as a dict (scikit-learn convention)."""
        names = ("n_components", "covariance_type", "tol", "reg_covar", "max_iter", "n_init", "init_params",
                 "weights_init", "means_init", "precisions_init", "random_state", "warm_start", "verbose",
                 "verbose_interval", "callback", "n_threads")
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params) -> GaussianMixture:
        """Set hyperparameters (scikit-learn convention); returns self."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"set_params: unknown parameter {key!r}")
            setattr(self, key, value)
        return self

    def _validate_params(self) -> None:
        self._k = _int_param(self.n_components, "n_components", 1)
        if self.covariance_type not in _COV_CODES:
            raise ValueError(f"covariance_type: expected one of {sorted(_COV_CODES)}, got {self.covariance_type!r}")
        self._tol = _float_param(self.tol, "tol")
        self._reg = _float_param(self.reg_covar, "reg_covar")
        self._max_iter = _int_param(self.max_iter, "max_iter", 0)
        self._n_init = _int_param(self.n_init, "n_init", 1)
        if self.init_params not in _INIT_PARAMS:
            raise ValueError(f"init_params: expected one of {list(_INIT_PARAMS)}, got {self.init_params!r}")
        _int_param(self.verbose, "verbose", 0)
        self._verbose_interval = _int_param(self.verbose_interval, "verbose_interval", 1)
        if self.callback is not None and not callable(self.callback):
            raise TypeError("callback: expected a callable or None")
        self._threads = check_n_threads(self.n_threads)

    def _check_user_init(self, d: int) -> None:
        k, cov = self._k, self.covariance_type
        self._w_init = self._m_init = self._p_init = None
        if self.weights_init is not None:
            w = as_finite_array(self.weights_init, "weights_init", ndim=1)
            if w.shape != (k,):
                raise ValueError(f"weights_init: expected shape ({k},), got {w.shape}")
            if np.any(w < 0) or np.any(w > 1):
                raise ValueError(f"weights_init: entries must be in [0, 1], got min {w.min():g}, max {w.max():g}")
            if not np.isclose(w.sum(), 1.0, rtol=0, atol=1e-8):
                raise ValueError(f"weights_init: must sum to 1, got {w.sum():.10g}")
            self._w_init = w.copy()
        if self.means_init is not None:
            m = as_finite_array(self.means_init, "means_init", ndim=2)
            if m.shape != (k, d):
                raise ValueError(f"means_init: expected shape ({k}, {d}), got {m.shape}")
            self._m_init = m.copy()
        if self.precisions_init is not None:
            shapes = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
            p = as_finite_array(self.precisions_init, "precisions_init")
            if p.shape != shapes[cov]:
                raise ValueError(f"precisions_init: expected shape {shapes[cov]} for {cov!r}, got {p.shape}")
            if cov in ("full", "tied"):
                mats = p.reshape(-1, d, d)
                if not np.allclose(mats, np.swapaxes(mats, 1, 2)):
                    raise ValueError("precisions_init: matrices must be symmetric")
            self._p_init = p.copy()

    # ------------------------------------------------------------------ initialisation
    def _initial_params(self, X: np.ndarray, w: np.ndarray | None, seed: int, trial: int) -> list[np.ndarray]:
        k, d, cov = self._k, X.shape[1], self.covariance_type
        code = _COV_CODES[cov]
        if self._w_init is None or self._m_init is None or self._p_init is None:
            if self.init_params == "kmeans":
                _, labels, _, _, _ = _core.kmeans(X, w, k, seed, 2 * trial, _KMEANS_MAX_ITER, _KMEANS_TOL,
                                                  self._threads)
                params = list(_core.gmm_init(X, w, code, k, labels, seed, 0, self._reg, self._threads))
            elif self.init_params == "random":
                params = list(_core.gmm_init(X, w, code, k, None, seed, 2 * trial + 1, self._reg, self._threads))
            else:
                if self.init_params == "k-means++":
                    _, _, idx, _, _ = _core.kmeans(X, w, k, seed, 2 * trial, 0, 0.0, self._threads)
                else:
                    idx = np.random.default_rng([seed, trial]).choice(X.shape[0], size=k, replace=False)
                params = self._params_from_points(X, w, idx)
        else:
            params = [None, None, None, None]
        if self._w_init is not None:
            params[0] = self._w_init.copy()
        if self._m_init is not None:
            params[1] = self._m_init.copy()
        if self._p_init is not None:
            params[3] = _core.gmm_prec_chol_from_precisions(code, self._p_init, k, d)
            if cov in ("full", "tied"):
                params[2] = np.linalg.inv(self._p_init)
            else:
                params[2] = 1.0 / self._p_init
        return [np.ascontiguousarray(p, dtype=np.float64) for p in params]

    def _params_from_points(self, X: np.ndarray, w: np.ndarray | None, idx: np.ndarray) -> list[np.ndarray]:
        """One M-step with responsibility 1 for sample idx[j] in component j and 0 elsewhere."""
        k, d, cov = self._k, X.shape[1], self.covariance_type
        sw = np.ones(X.shape[0]) if w is None else w
        means = X[idx].astype(np.float64)
        weights = (sw[idx] + _NK_EPS) / sw.sum()
        # The scatter of a single point around itself is 0: only reg_covar remains.
        if self._reg <= 0:
            raise ValueError(f"init_params={self.init_params!r} needs reg_covar > 0 (each initial component "
                             "holds a single sample)")
        covariances = {"full": np.tile(np.eye(d) * self._reg, (k, 1, 1)), "tied": np.eye(d) * self._reg,
                       "diag": np.full((k, d), self._reg), "spherical": np.full(k, self._reg)}[cov]
        prec_chol = {"full": np.tile(np.eye(d) / np.sqrt(self._reg), (k, 1, 1)),
                     "tied": np.eye(d) / np.sqrt(self._reg), "diag": np.full((k, d), 1 / np.sqrt(self._reg)),
                     "spherical": np.full(k, 1 / np.sqrt(self._reg))}[cov]
        return [weights, means, covariances, prec_chol]

    # ------------------------------------------------------------------ fitting
    def _progress(self, trial: int):
        """Callback for the C loop: tqdm bar (verbose) and the user's callback."""
        bar = None
        if self.verbose:
            from tqdm.auto import tqdm

            bar = tqdm(total=self._max_iter, desc=f"GMM init {trial + 1}/{self._n_init_used}", leave=False)
        interval = self._verbose_interval

        def step(n_iter: int, lower_bound: float):
            if bar is not None and (n_iter % interval == 0 or n_iter == self._max_iter):
                bar.update(n_iter - bar.n)
                bar.set_postfix(lower_bound=f"{lower_bound:.6g}")
            if self.callback is not None:
                return bool(self.callback(n_iter, lower_bound))
            return False

        return step, bar

    def fit(self, X, y=None, sample_weight=None) -> GaussianMixture:
        """Fit the mixture with EM (``n_init`` initialisations, the best lower bound is kept).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            float32 or float64 data (anything else is converted to float64). NaN/inf: ValueError.
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights: EM on weights equal to integer counts gives the same result as EM
            on the rows repeated that many times.

        Returns
        -------
        self : GaussianMixture
        """
        self._fit(X, sample_weight)
        return self

    def fit_predict(self, X, y=None, sample_weight=None) -> np.ndarray:
        """Fit, then return the most probable component of every row of X."""
        X = self._fit(X, sample_weight)
        return _core.gmm_score(X, _COV_CODES[self.covariance_type], self.weights_, self.means_,
                               self.precisions_cholesky_, False, self._threads)[2]

    def _fit(self, X, sample_weight) -> np.ndarray:
        self._validate_params()
        X = _check_data(X)
        n, d = X.shape
        if n < 2:
            raise ValueError(f"X: need at least 2 samples, got {n}")
        if n < self._k:
            raise ValueError(f"X: n_samples={n} is smaller than n_components={self._k}")
        w = _check_sample_weight(sample_weight, n)
        if hasattr(self, "n_features_in_") and self.warm_start and d != self.n_features_in_:
            raise ValueError(f"X: has {d} features, but the warm-started model has {self.n_features_in_}")
        self._check_user_init(d)
        code = _COV_CODES[self.covariance_type]
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        self._n_init_used = self._n_init if do_init else 1
        seed = seed_from_random_state(self.random_state)

        best = None
        interrupt = None
        for trial in range(self._n_init_used):
            if do_init:
                params = self._initial_params(X, w, seed, trial)
                prev_lb = -np.inf
            else:
                params = [np.array(a, dtype=np.float64, order="C") for a in
                          (self.weights_, self.means_, self.covariances_, self.precisions_cholesky_)]
                prev_lb = float(self.lower_bound_)
            step, bar = self._progress(trial)
            try:
                n_iter, converged, lbs, lb, stopped, exc = _core.gmm_em(
                    X, w, code, params[0], params[1], params[2], params[3], self._reg, self._tol, self._max_iter,
                    prev_lb, self._threads, step)
            finally:
                if bar is not None:
                    bar.close()
            if n_iter == 0 and self._max_iter > 0:  # interrupted before the first iteration ended
                lb = prev_lb
            candidate = (lb, params, int(n_iter), bool(converged), np.asarray(lbs), bool(stopped))
            if best is None or lb > best[0] or best[0] == -np.inf:
                best = candidate
            if exc is not None:
                interrupt = exc
                break
        lb, params, n_iter, converged, lbs, stopped = best
        self.weights_, self.means_, self.covariances_, self.precisions_cholesky_ = params
        self.precisions_ = _precisions_from_chol(self.precisions_cholesky_, self.covariance_type)
        self.converged_ = converged and interrupt is None
        self.n_iter_ = n_iter
        self.lower_bound_ = float(lb)
        self.lower_bounds_ = lbs
        self.n_features_in_ = d
        if interrupt is not None:
            raise interrupt
        if not self.converged_ and self._max_iter > 0 and not stopped:
            warnings.warn(f"EM reached max_iter={self._max_iter} before the lower bound changed by less than "
                          f"tol={self._tol:g} (best of {self._n_init_used} initialisations); raise max_iter or "
                          "tol, or look for degenerate data.", ConvergenceWarning, stacklevel=3)
        return X

    # ------------------------------------------------------------------ inference
    def _score(self, X, want_resp: bool):
        check_is_fitted(self, "means_")
        X = _check_data(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X: has {X.shape[1]} features, but the model was fitted with {self.n_features_in_}")
        threads = check_n_threads(self.n_threads)
        return _core.gmm_score(X, _COV_CODES[self.covariance_type], self.weights_, self.means_,
                               self.precisions_cholesky_, want_resp, threads)

    def score_samples(self, X) -> np.ndarray:
        """Log-likelihood ``log p(x)`` of every row of X, shape (n_samples,)."""
        return self._score(X, False)[0]

    def score(self, X, y=None, sample_weight=None) -> float:
        """Mean log-likelihood of X (weighted by ``sample_weight`` when given)."""
        log_prob = self.score_samples(X)
        w = _check_sample_weight(sample_weight, log_prob.shape[0])
        return float(np.average(log_prob, weights=w))

    def predict(self, X) -> np.ndarray:
        """Most probable component of every row of X, shape (n_samples,), int64."""
        return self._score(X, False)[2]

    def predict_proba(self, X) -> np.ndarray:
        """Posterior component probabilities, shape (n_samples, n_components)."""
        return self._score(X, True)[1]

    def sample(self, n_samples: int = 1, random_state=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw samples from the fitted mixture.

        Rows are grouped by component (as scikit-learn's). With an integer ``random_state`` every call
        returns the same draws, whatever ``n_threads``.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, numpy Generator or None, optional
            Seed for these draws; ``None`` uses the estimator's ``random_state``.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
            Component of every row.
        """
        check_is_fitted(self, "means_")
        n = _int_param(n_samples, "n_samples", 1)
        seed = seed_from_random_state(self.random_state if random_state is None else random_state)
        # A seed of its own, so the draws are unrelated to the initialisation's.
        seed = (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & (2**63 - 1)
        return _core.gmm_sample(_COV_CODES[self.covariance_type], self.weights_, self.means_,
                                self.precisions_cholesky_, n, seed, check_n_threads(self.n_threads))

    def _n_parameters(self) -> int:
        k, d = self.means_.shape
        cov = {"full": k * d * (d + 1) / 2, "diag": k * d, "tied": d * (d + 1) / 2, "spherical": k}
        return int(cov[self.covariance_type] + k * d + k - 1)

    def bic(self, X) -> float:
        """Bayesian information criterion on X (lower is better)."""
        X = _check_data(X)
        return -2 * self.score(X) * X.shape[0] + self._n_parameters() * np.log(X.shape[0])

    def aic(self, X) -> float:
        """Akaike information criterion on X (lower is better)."""
        return -2 * self.score(X) * np.asarray(X).shape[0] + 2 * self._n_parameters()


def select_n_components(
    X,
    n_components: Sequence[int] = range(1, 11),
    *,
    criterion: str = "bic",
    sample_weight=None,
    **kwargs,
) -> tuple[GaussianMixture, np.ndarray]:
    """Fit one :class:`GaussianMixture` per candidate ``n_components`` and keep the best by BIC/AIC.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_components : sequence of int, default=range(1, 11)
        Candidates (those larger than n_samples are skipped).
    criterion : {"bic", "aic"}
    sample_weight : array-like, optional
        Passed to ``fit``.
    **kwargs
        Other :class:`GaussianMixture` parameters (``covariance_type``, ``random_state``, ...).

    Returns
    -------
    best : GaussianMixture
        The fitted model with the lowest criterion.
    scores : ndarray of shape (len(candidates), 2)
        Rows ``(n_components, criterion value)`` for every candidate fitted.
    """
    if criterion not in ("bic", "aic"):
        raise ValueError(f"criterion: expected 'bic' or 'aic', got {criterion!r}")
    X = _check_data(X)
    candidates = [_int_param(k, "n_components", 1) for k in n_components]
    candidates = [k for k in candidates if k <= X.shape[0]]
    if not candidates:
        raise ValueError("n_components: no candidate is <= n_samples")
    best, best_score, rows = None, np.inf, []
    for k in candidates:
        model = GaussianMixture(k, **kwargs).fit(X, sample_weight=sample_weight)
        value = model.bic(X) if criterion == "bic" else model.aic(X)
        rows.append((k, value))
        if value < best_score:
            best, best_score = model, value
    return best, np.asarray(rows, dtype=np.float64)
