"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SOCIALRM_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def preflib_dir() -> Path:
    """The real PrefLib elections in ../shared/data/preflib; tests using it skip when it is absent."""
    path = SHARED_DATA / "preflib"
    if not path.is_dir():
        pytest.skip(f"shared PrefLib data not found at {path} (only present beside the project's checkout)")
    return path
