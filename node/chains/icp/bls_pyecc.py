"""Pure-Python BLS12-381 min-sig verification with ``py_ecc`` (always installed; about one second).

One final exponentiation for the product of two Miller loops: ``e(-sig, g2) · e(H(m), pk) == 1``.
"""

from __future__ import annotations

import hashlib

from py_ecc.bls.g2_primitives import subgroup_check
from py_ecc.bls.hash_to_curve import hash_to_G1
from py_ecc.bls.point_compression import decompress_G1, decompress_G2
from py_ecc.optimized_bls12_381 import FQ12, G2, final_exponentiate, neg, pairing

from node.chains.icp.bls import (
    DST,
    PUBLIC_KEY_LENGTH,
    SIGNATURE_LENGTH,
    check_compressed,
)
from node.chains.icp.errors import BlsError

_NEG_G2 = neg(G2)


def decode_g1(data: bytes):
    data = check_compressed(data, SIGNATURE_LENGTH, "G1 signature")
    try:
        point = decompress_G1(int.from_bytes(data, "big"))  # flags, x < p, on the curve
    except ValueError as exc:
        raise BlsError(f"G1 signature: {exc}") from exc
    if not subgroup_check(point):
        raise BlsError("G1 signature is not in the prime-order subgroup")
    return point


def decode_g2(data: bytes):
    data = check_compressed(data, PUBLIC_KEY_LENGTH, "G2 public key")
    try:
        point = decompress_G2((int.from_bytes(data[:48], "big"), int.from_bytes(data[48:], "big")))
    except ValueError as exc:
        raise BlsError(f"G2 public key: {exc}") from exc
    if not subgroup_check(point):
        raise BlsError("G2 public key is not in the prime-order subgroup")
    return point


class PyEccBackend:
    name = "py_ecc"

    def verify(self, public_key: bytes, signature: bytes, message: bytes) -> bool:
        key = decode_g2(public_key)
        sig = decode_g1(signature)
        hashed = hash_to_G1(bytes(message), DST, hashlib.sha256)
        product = pairing(_NEG_G2, sig, final_exponentiate=False) * pairing(key, hashed, final_exponentiate=False)
        return final_exponentiate(product) == FQ12.one()
