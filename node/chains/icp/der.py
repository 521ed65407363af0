"""The DER envelope (RFC 5480 SubjectPublicKeyInfo) of the IC's BLS12-381 G2 public keys.

The IC uses one fixed encoding: algorithm OID 1.3.6.1.4.1.44668.5.3.1.2.1, curve OID
1.3.6.1.4.1.44668.5.3.2.1, and a 96-byte compressed G2 point as the BIT STRING. Parsing is strict: the 37
bytes before the key must be exactly that prefix and the whole envelope exactly 133 bytes.
"""

from __future__ import annotations

from node.chains.icp.errors import RootKeyError

BLS_KEY_LENGTH = 96
BLS_DER_PREFIX = bytes.fromhex(
    "308182"  # SEQUENCE, 130 bytes
    "301d"  # SEQUENCE, 29 bytes (AlgorithmIdentifier)
    "060d2b0601040182dc7c05030102 01".replace(" ", "")  # OID 1.3.6.1.4.1.44668.5.3.1.2.1
    + "060c2b0601040182dc7c050302 01".replace(" ", "")  # OID 1.3.6.1.4.1.44668.5.3.2.1
    + "036100"  # BIT STRING, 97 bytes, no unused bits
)


def extract_bls_key(der: bytes) -> bytes:
    """The 96-byte compressed G2 key inside a DER envelope, or :class:`RootKeyError`."""
    if not isinstance(der, (bytes, bytearray)):
        raise RootKeyError(f"DER key must be bytes, not {type(der).__name__}")
    der = bytes(der)
    if len(der) != len(BLS_DER_PREFIX) + BLS_KEY_LENGTH:
        raise RootKeyError(f"DER BLS key of {len(der)} bytes, expected {len(BLS_DER_PREFIX) + BLS_KEY_LENGTH}")
    if not der.startswith(BLS_DER_PREFIX):
        raise RootKeyError("DER key is not an IC BLS12-381 G2 key (unexpected algorithm, curve or length)")
    return der[len(BLS_DER_PREFIX) :]


def wrap_bls_key(key: bytes) -> bytes:
    """The DER envelope of a 96-byte compressed G2 key."""
    if len(key) != BLS_KEY_LENGTH:
        raise RootKeyError(f"BLS key of {len(key)} bytes, expected {BLS_KEY_LENGTH}")
    return BLS_DER_PREFIX + bytes(key)
