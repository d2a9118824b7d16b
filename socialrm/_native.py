"""Loads the compiled core.

The extension links against the OpenBLAS of the ``scipy-openblas32`` wheel. Because the build may
happen in an isolated environment whose paths are gone at run time, the library is loaded here from
the installed wheel first (the dynamic loader then resolves the extension's dependency by soname).
"""

from __future__ import annotations

import ctypes
import os


def _preload_openblas() -> None:
    try:
        import scipy_openblas32
    except ImportError:  # a build against a system OpenBLAS does not need the wheel
        return
    path = os.path.join(scipy_openblas32.get_lib_dir(), "lib" + scipy_openblas32.get_library() + ".so")
    if os.path.exists(path):
        ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)


_preload_openblas()

from . import _core  # noqa: E402

__all__ = ["_core"]
