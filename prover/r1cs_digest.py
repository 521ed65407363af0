"""A canonical SHA-256 fingerprint of an R1CS, used to bind proving keys to their circuit."""

from __future__ import annotations

import hashlib
import weakref

from circuits.r1cs import R1CS, LinearCombination


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
    h = hashlib.sha256()
    h.update(f"zkxai-r1cs-v1|{r1cs.n_wires}|{r1cs.n_public}|{r1cs.n_constraints}|".encode())
    for con in r1cs.constraints:
        h.update(_lc_bytes(con.a) + b"|" + _lc_bytes(con.b) + b"|" + _lc_bytes(con.c) + b"\n")
    return h.hexdigest()
