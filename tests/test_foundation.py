"""The package imports, the core loads, and the shared validation helpers behave."""

from __future__ import annotations

import numpy as np
import pytest

import socialrm
from socialrm._validation import as_finite_array, check_n_threads, seed_from_random_state


def test_core_loads_and_reports_blas() -> None:
    assert socialrm._core.blas_info()["blas"] in {"scipy-openblas32", "system"}


def test_random_state_to_seed() -> None:
    assert seed_from_random_state(7) == 7
    assert seed_from_random_state(np.random.default_rng(0)) == seed_from_random_state(np.random.default_rng(0))
    with pytest.raises(ValueError, match="random_state"):
        seed_from_random_state(-1)
    with pytest.raises(TypeError, match="random_state"):
        seed_from_random_state("zero")


def test_n_threads() -> None:
    assert check_n_threads(None) == 0
    assert check_n_threads(2) == 2
    with pytest.raises(ValueError, match="n_threads"):
        check_n_threads(-1)
    with pytest.raises(TypeError, match="n_threads"):
        check_n_threads(1.5)


def test_finite_array() -> None:
    out = as_finite_array([[1, 2], [3, 4]], "x", ndim=2)
    assert out.dtype == np.float64 and out.flags.c_contiguous
    with pytest.raises(ValueError, match="x: contains NaN"):
        as_finite_array([1.0, np.nan], "x")
    with pytest.raises(ValueError, match="2-D"):
        as_finite_array([1.0, 2.0], "x", ndim=2)
