"""Build script for the optional native prover kernels (everything else is in pyproject.toml).

``prover._native`` (C sources in prover/csrc: BN254 field arithmetic, Pippenger MSM on G1/G2,
F_r NTT, R1CS row evaluation, .zkey / .r1cs loading, the optimal ate pairing) is ``optional``: without a C compiler the install still
succeeds and :mod:`prover.native` falls back to the pure-Python paths.
"""

import os

from setuptools import Extension, setup

CSRC = os.path.join("prover", "csrc")
posix = os.name == "posix"

native = Extension(
    "prover._native",
    sources=[os.path.join(CSRC, f) for f in ("module.c", "msm.c", "fr_ops.c", "io_ops.c", "pairing.c")],
    depends=[os.path.join(CSRC, f) for f in ("field.h", "tower.h", "msm.h", "msm_impl.h", "fr_ops.h", "io_ops.h", "pairing.h")],
    extra_compile_args=["-O3", "-std=c11", "-pthread"] if posix else [],
    extra_link_args=["-pthread"] if posix else [],
    optional=True,
)

setup(ext_modules=[native])
