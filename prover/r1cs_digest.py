"""A canonical SHA-256 fingerprint of an R1CS, used to bind proving keys to their circuit.

The hashed text is fixed (node keys store the digest): a header line, then per constraint the
three linear combinations as ``wire:coef`` pairs (decimal, sorted by wire, zero terms left out)
joined by ``;``, separated by ``|`` and ended by a newline. With the native extension the text is
produced in C (``prover._native.r1cs_digest_update``, the same bytes); a constraint system it
cannot represent (a coefficient that is not a plain int in [0, 2^256), say) is hashed here.
"""

from __future__ import annotations

import hashlib
import weakref

from circuits.r1cs import R1CS, LinearCombination

from . import native


def _lc_bytes(lc: LinearCombination) -> bytes:
    return b";".join(f"{w}:{c}".encode() for w, c in sorted(lc.items()) if c != 0)


#: id -> (weak reference, digest): an R1CS is immutable, so each object is hashed once per
#: process (the prover checks the key binding on every proof).
_CACHE: dict[int, tuple[weakref.ref[R1CS], str]] = {}


def r1cs_digest(r1cs: R1CS) -> str:
    """Hex SHA-256 over wire counts and every constraint (order-sensitive, names excluded)."""
    hit = _CACHE.get(id(r1cs))
    if hit is not None and hit[0]() is r1cs:
        return hit[1]
    digest = _compute(r1cs)
    try:
        _CACHE[id(r1cs)] = (weakref.ref(r1cs), digest)
    except TypeError:  # pragma: no cover - objects without weakref support are just not cached
        pass
    return digest


def _compute(r1cs: R1CS) -> str:
    if native.NATIVE:
        h = _header(r1cs)
        if native.module().r1cs_digest_update(h, r1cs.constraints):
            return h.hexdigest()
    return compute_python(r1cs)


def _header(r1cs: R1CS) -> "hashlib._Hash":
    h = hashlib.sha256()
    h.update(f"zkxai-r1cs-v1|{r1cs.n_wires}|{r1cs.n_public}|{r1cs.n_constraints}|".encode())
    return h


def compute_python(r1cs: R1CS) -> str:
    """The digest computed in Python (uncached; the reference for the native path)."""
    h = _header(r1cs)
    for con in r1cs.constraints:
        h.update(_lc_bytes(con.a) + b"|" + _lc_bytes(con.b) + b"|" + _lc_bytes(con.c) + b"\n")
    return h.hexdigest()
