"""Build of the socialrm._core extension from csrc/.

Environment variables:
  SOCIALRM_BLAS=system     link a system OpenBLAS (-lopenblas, unprefixed symbols) instead of the
                           scipy-openblas32 wheel.
  SOCIALRM_WERROR=1        treat compiler warnings as errors (CI).
  SOCIALRM_PORTABLE=1      do not tune for the build machine's CPU (-march=native is the default,
                           since the package is compiled where it runs).
  SOCIALRM_SANITIZE=1      build with AddressSanitizer + UndefinedBehaviorSanitizer.
"""

import glob
import os

import numpy as np
from setuptools import Extension, setup

AREAS = ["core", "choice", "nn", "density", "models", "python"]


def blas_settings():
    if os.environ.get("SOCIALRM_BLAS", "").lower() == "system":
        return {"include_dirs": [], "library_dirs": [], "libraries": ["openblas"], "macros": [("SRM_SYSTEM_BLAS", "1")]}
    import scipy_openblas32

    return {
        "include_dirs": [scipy_openblas32.get_include_dir()],
        "library_dirs": [scipy_openblas32.get_lib_dir()],
        "libraries": [scipy_openblas32.get_library()],
        "macros": [],
    }


def compile_flags():
    flags = ["-std=c11", "-O3", "-fopenmp", "-fno-math-errno", "-Wall", "-Wextra", "-Wshadow",
             "-Wstrict-prototypes", "-Wno-unused-parameter"]
    if os.environ.get("SOCIALRM_PORTABLE") != "1":
        flags.append("-march=native")
    if os.environ.get("SOCIALRM_WERROR") == "1":
        flags.append("-Werror")
    if os.environ.get("SOCIALRM_SANITIZE") == "1":
        flags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"]
    return flags


def link_flags():
    flags = ["-fopenmp"]
    if os.environ.get("SOCIALRM_SANITIZE") == "1":
        flags += ["-fsanitize=address,undefined"]
    return flags


blas = blas_settings()
sources = sorted(src for area in AREAS for src in glob.glob(os.path.join("csrc", area, "*.c")))

core = Extension(
    "socialrm._core",
    sources=sources,
    include_dirs=["csrc/include", "csrc", "csrc/python", np.get_include()] + blas["include_dirs"],
    library_dirs=blas["library_dirs"],
    libraries=blas["libraries"] + ["m"],
    define_macros=blas["macros"],
    extra_compile_args=compile_flags(),
    extra_link_args=link_flags(),
)

setup(ext_modules=[core])
