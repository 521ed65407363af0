"""BLS12-381 min-sig verification: every backend validates points at the boundary and agrees on real signatures."""

from __future__ import annotations

from pathlib import Path

import pytest
from py_ecc.bls.point_compression import compress_G2
from py_ecc.optimized_bls12_381 import G2

from node.chains.icp import (
    cbor,
    hashtree,
)
from node.chains.icp.bls import G2_GENERATOR
from node.chains.icp.bls_backends import available_backends, backend_by_name, default_backend
from node.chains.icp.der import extract_bls_key
from node.chains.icp.errors import BlsError

DATA = Path(__file__).parent / "data" / "icp"
ROOT_KEY = extract_bls_key(bytes.fromhex((DATA / "ic_root_key_der.hex").read_text().strip()))
_GOLDEN = cbor.decode(bytes.fromhex((DATA / "golden_mainnetSystem.hex").read_text().strip()))
GOLDEN_SIGNATURE = _GOLDEN["signature"]
GOLDEN_MESSAGE = b"\x0dic-state-root" + hashtree.reconstruct(hashtree.from_cbor(_GOLDEN["tree"]))

BACKENDS = [b.name for b in available_backends()]

G1_IDENTITY = bytes([0xC0]) + bytes(47)
G2_IDENTITY = bytes([0xC0]) + bytes(95)
# on the curve y^2 = x^3 + 4 (x = 4) but outside the prime-order subgroup
G1_NOT_IN_SUBGROUP = bytes([0x80]) + bytes(46) + b"\x04"
# on the twist y^2 = x^3 + 4(u + 1) (x = 2) but outside the prime-order subgroup
G2_NOT_IN_SUBGROUP = bytes([0xA0]) + bytes(94) + b"\x02"
# x = 1: 1 + 4 = 5 is not a square mod p, so no point has this x
G1_OFF_CURVE = bytes([0x80]) + bytes(46) + b"\x01"
G1_X_TOO_LARGE = bytes([0x9F]) + b"\xff" * 47


@pytest.fixture(params=BACKENDS)
def backend(request):
    return backend_by_name(request.param)


def test_g2_generator_constant_is_the_generator() -> None:
    z1, z2 = compress_G2(G2)
    assert G2_GENERATOR == z1.to_bytes(48, "big") + z2.to_bytes(48, "big")


def test_real_signature_verifies_and_a_wrong_message_does_not(backend) -> None:
    assert backend.verify(ROOT_KEY, GOLDEN_SIGNATURE, GOLDEN_MESSAGE) is True
    assert backend.verify(ROOT_KEY, GOLDEN_SIGNATURE, GOLDEN_MESSAGE[:-1] + b"\x00") is False


def test_identity_key_with_identity_signature_is_refused(backend) -> None:
    # e(O, g2) == e(H(m), O) == 1 for every message: without the check this pair verifies anything
    with pytest.raises(BlsError, match="infinity"):
        backend.verify(G2_IDENTITY, G1_IDENTITY, b"any message")


@pytest.mark.parametrize(
    ("key", "signature", "reason"),
    [
        (ROOT_KEY, G1_NOT_IN_SUBGROUP, "G1 signature"),
        (G2_NOT_IN_SUBGROUP, GOLDEN_SIGNATURE, "G2 public key"),
        (ROOT_KEY, G1_OFF_CURVE, "G1 signature"),
        (ROOT_KEY, G1_X_TOO_LARGE, "G1 signature"),
        (ROOT_KEY, GOLDEN_SIGNATURE[:-1], "48"),
        (ROOT_KEY[:-1], GOLDEN_SIGNATURE, "96"),
        (ROOT_KEY, bytes([GOLDEN_SIGNATURE[0] & 0x7F]) + GOLDEN_SIGNATURE[1:], "compressed"),
    ],
    ids=["g1-not-in-subgroup", "g2-not-in-subgroup", "g1-off-curve", "g1-x-too-large", "short-signature",
         "short-key", "uncompressed-flag"],
)
def test_malformed_points_are_refused_before_pairing(backend, key: bytes, signature: bytes, reason: str) -> None:
    with pytest.raises(BlsError, match=reason):
        backend.verify(key, signature, GOLDEN_MESSAGE)


def test_default_backend_is_a_fast_one_when_installed() -> None:
    assert default_backend().name == BACKENDS[0]
    if len(BACKENDS) > 1:
        assert default_backend().name != "py_ecc"
