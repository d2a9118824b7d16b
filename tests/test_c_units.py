"""Builds the C test binaries (csrc/tests/test_*.c) with make and runs each one.

Every binary exits non-zero when a check fails, so a failing C check fails this test. The same
binaries run under ASan+UBSan via `make asan` in .ci/run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
C_TESTS = sorted(p.stem for p in (REPO_ROOT / "csrc" / "tests").glob("test_*.c"))
BUILD_DIR = "build/ctests"


@pytest.fixture(scope="session")
def c_test_binaries() -> Path:
    result = subprocess.run(
        ["make", "-s", "ctests", f"BUILD={BUILD_DIR}", f"PYTHON={sys.executable}"],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"building the C tests failed:\n{result.stdout}\n{result.stderr}")
    return REPO_ROOT / BUILD_DIR


@pytest.mark.parametrize("name", C_TESTS)
def test_c_binary(c_test_binaries: Path, name: str) -> None:
    result = subprocess.run([str(c_test_binaries / name)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    assert "0 failed" in result.stdout
