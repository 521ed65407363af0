"""A canonical SHA-256 fingerprint of an R1CS, used to bind proving keys to their circuit."""

from __future__ import annotations

import hashlib

from circuits.r1cs import R1CS, LinearCombination


def _lc_bytes(lc: LinearCombination) -> bytes:
    return b";".join(f"{w}:{c}".encode() for w, c in sorted(lc.items()) if c != 0)


def r1cs_digest(r1cs: R1CS) -> str:
    """Hex SHA-256 over wire counts and every constraint (order-sensitive, names excluded)."""
    h = hashlib.sha256()
    h.update(f"zkxai-r1cs-v1|{r1cs.n_wires}|{r1cs.n_public}|{r1cs.n_constraints}|".encode())
    for con in r1cs.constraints:
        h.update(_lc_bytes(con.a) + b"|" + _lc_bytes(con.b) + b"|" + _lc_bytes(con.c) + b"\n")
    return h.hexdigest()
