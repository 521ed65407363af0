"""Choosing a BLS12-381 backend: every one installed here, fastest first (blst, arkworks), py_ecc always last.

Apart from :mod:`node.chains.icp.bls` (the interface and the checks every backend shares) so that the backends
import the interface and this module imports the backends, one way.
"""

from __future__ import annotations

from node.chains.icp.bls import BlsBackend
from node.chains.icp.errors import BlsError


def available_backends() -> list[BlsBackend]:
    """Every backend that can run here, fastest first; the pure-Python one is always last."""
    from node.chains.icp.bls_pyecc import PyEccBackend

    found: list[BlsBackend] = []
    try:
        from node.chains.icp.bls_blst import BlstBackend

        found.append(BlstBackend())
    except ImportError:
        pass
    try:
        from node.chains.icp.bls_arkworks import ArkworksBackend

        found.append(ArkworksBackend())
    except ImportError:
        pass
    found.append(PyEccBackend())
    return found


def backend_by_name(name: str) -> BlsBackend:
    for backend in available_backends():
        if backend.name == name:
            return backend
    raise BlsError(f"BLS backend {name!r} is not installed (available: {[b.name for b in available_backends()]})")


_DEFAULT: BlsBackend | None = None


def default_backend() -> BlsBackend:
    """The fastest installed backend (measured by ``scripts/bench_icp_certificate.py``: blst, arkworks, py_ecc)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = available_backends()[0]
    return _DEFAULT
