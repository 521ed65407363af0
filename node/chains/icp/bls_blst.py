"""BLS12-381 min-sig verification with ``pyblst`` (bindings of supranational/blst; a few milliseconds).

``BlstP1Element.uncompress`` / ``BlstP2Element.uncompress`` check the encoding, the curve and the subgroup;
the identity is refused before (:func:`check_compressed`). Raises ImportError when the wheel is missing.
"""

from __future__ import annotations

import pyblst

from node.chains.icp.bls import (
    DST,
    G2_GENERATOR,
    PUBLIC_KEY_LENGTH,
    SIGNATURE_LENGTH,
    check_compressed,
)
from node.chains.icp.errors import BlsError

_G2 = pyblst.BlstP2Element.uncompress(G2_GENERATOR)


class BlstBackend:
    name = "blst"

    def verify(self, public_key: bytes, signature: bytes, message: bytes) -> bool:
        key_bytes = check_compressed(public_key, PUBLIC_KEY_LENGTH, "G2 public key")
        sig_bytes = check_compressed(signature, SIGNATURE_LENGTH, "G1 signature")
        try:
            key = pyblst.BlstP2Element.uncompress(key_bytes)
        except ValueError as exc:
            raise BlsError(f"G2 public key: {exc}") from exc
        try:
            sig = pyblst.BlstP1Element.uncompress(sig_bytes)
        except ValueError as exc:
            raise BlsError(f"G1 signature: {exc}") from exc
        hashed = pyblst.BlstP1Element.hash_to_group(bytes(message), DST)
        return bool(pyblst.final_verify(pyblst.miller_loop(sig, _G2), pyblst.miller_loop(hashed, key)))
