"""BLS12-381 min-sig verification as the IC uses it: signatures in G1 (48 bytes), public keys in G2 (96 bytes).

Ciphersuite ``BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_``: ``verify(pk, sig, msg)`` holds iff
``e(sig, g2) == e(hash_to_G1(msg), pk)``. Every backend validates both points at the boundary, before any
pairing: length, compression flags, the coordinate below the field modulus, on the curve, in the prime-order
subgroup, and not the identity (an identity key with an identity signature would verify every message).
A malformed point raises :class:`BlsError`; a well-formed signature that does not verify returns ``False``.

Backends: :class:`~node.chains.icp.bls_pyecc.PyEccBackend` (pure Python, always present, about a second),
:class:`~node.chains.icp.bls_blst.BlstBackend` (``pyblst``) and
:class:`~node.chains.icp.bls_arkworks.ArkworksBackend` (``py-arkworks-bls12381``), milliseconds.
:func:`node.chains.icp.bls_backends.default_backend` picks the fastest one installed.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from node.chains.icp.errors import BlsError

DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
SIGNATURE_LENGTH = 48
PUBLIC_KEY_LENGTH = 96
# compressed encoding of the G2 generator (ZCash serialization), the same in every backend
G2_GENERATOR = bytes.fromhex(
    "93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"
    "024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8"
)


@runtime_checkable
class BlsBackend(Protocol):
    name: str

    def verify(self, public_key: bytes, signature: bytes, message: bytes) -> bool:
        """``True`` iff the signature verifies; :class:`BlsError` when either point is malformed."""


def check_compressed(data: bytes, length: int, what: str) -> bytes:
    """Encoding checks common to all backends: type, length, compressed flag set, not the identity."""
    if not isinstance(data, (bytes, bytearray)):
        raise BlsError(f"{what} must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) != length:
        raise BlsError(f"{what} of {len(data)} bytes, expected {length} (compressed)")
    if not data[0] & 0x80:
        raise BlsError(f"{what} is not in compressed form")
    if data[0] & 0x40:
        raise BlsError(f"{what} is the point at infinity")
    return data
