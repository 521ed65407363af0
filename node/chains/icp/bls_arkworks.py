"""BLS12-381 min-sig verification with ``py-arkworks-bls12381`` (arkworks; a few milliseconds).

``from_compressed_bytes`` checks the encoding and the curve; the subgroup is checked explicitly and the
identity refused before (:func:`check_compressed`). Raises ImportError when the wheel is missing.
"""

from __future__ import annotations

from py_arkworks_bls12381 import GT, G1Point, G2Point

from node.chains.icp.bls import (
    DST,
    G2_GENERATOR,
    PUBLIC_KEY_LENGTH,
    SIGNATURE_LENGTH,
    check_compressed,
)
from node.chains.icp.errors import BlsError

_NEG_G2 = -G2Point.from_compressed_bytes(G2_GENERATOR)


class ArkworksBackend:
    name = "arkworks"

    def verify(self, public_key: bytes, signature: bytes, message: bytes) -> bool:
        key_bytes = check_compressed(public_key, PUBLIC_KEY_LENGTH, "G2 public key")
        sig_bytes = check_compressed(signature, SIGNATURE_LENGTH, "G1 signature")
        try:
            key = G2Point.from_compressed_bytes(key_bytes)
        except ValueError as exc:
            raise BlsError(f"G2 public key: {exc}") from exc
        try:
            sig = G1Point.from_compressed_bytes(sig_bytes)
        except ValueError as exc:
            raise BlsError(f"G1 signature: {exc}") from exc
        if not key.is_in_subgroup():
            raise BlsError("G2 public key is not in the prime-order subgroup")
        if not sig.is_in_subgroup():
            raise BlsError("G1 signature is not in the prime-order subgroup")
        hashed = G1Point.hash_to_curve(bytes(message), DST)
        return bool(GT.pairing_check([sig, hashed], [_NEG_G2, key]))
