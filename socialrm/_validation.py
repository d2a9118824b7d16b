"""Small input-checking helpers shared by the Python layer."""

from __future__ import annotations

import numbers

import numpy as np

from .exceptions import NotFittedError

SEED_MAX = 2**63 - 1


def seed_from_random_state(random_state: int | np.random.Generator | None) -> int:
    """Turn a ``random_state`` argument into a non-negative 63-bit integer seed for the C core.

    ``None`` draws a fresh seed from the OS; an int is used as is; a ``numpy.random.Generator`` or
    ``RandomState`` contributes one draw.
    """
    if random_state is None:
        return int(np.random.default_rng().integers(0, SEED_MAX))
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError("random_state: expected an int, a numpy Generator or None, got a bool")
    if isinstance(random_state, numbers.Integral):
        value = int(random_state)
        if value < 0:
            raise ValueError(f"random_state: must be non-negative, got {value}")
        return value & SEED_MAX
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, SEED_MAX))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise TypeError(f"random_state: expected an int, a numpy Generator or None, got {type(random_state).__name__}")


def check_n_threads(n_threads: int | None) -> int:
    """Validate an ``n_threads`` argument; ``None`` or 0 means all cores (returned as 0)."""
    if n_threads is None:
        return 0
    if isinstance(n_threads, (bool, np.bool_)) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads: expected an int or None, got {type(n_threads).__name__}")
    if n_threads < 0:
        raise ValueError(f"n_threads: must be >= 0 (0 = all cores), got {n_threads}")
    return int(n_threads)


def as_finite_array(x, name: str, dtype=np.float64, ndim: int | None = None) -> np.ndarray:
    """Convert ``x`` to a C-contiguous array of ``dtype``, checking rank and finiteness."""
    try:
        arr = np.ascontiguousarray(np.asarray(x), dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: cannot convert to a {np.dtype(dtype).name} array ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or infinity")
    return arr


def check_is_fitted(estimator, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has the fitted ``attribute``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet; call 'fit' before using it."
        )
