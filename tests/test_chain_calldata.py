"""Boundary validation of proof / key words and decoding of contract reverts (pure Python, no chain)."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import keccak

from circuits.field import R
from node.chains.ethereum import calldata
from node.chains.ethereum.errors import (
    AlreadyRevoked,
    AttestationNotFound,
    ClassOutOfRange,
    ModelRevoked,
    NotAuthorized,
    CalldataError,
    DuplicateAttestation,
    FieldOverflow,
    ProofRejected,
    TransactionReverted,
)
from node.chains.ethereum.revert import decode_revert

Q = calldata.Q
A = [1, 2]
B = [[3, 4], [5, 6]]
C = [7, 8]


def test_flat_proof_round_trip() -> None:
    proof = calldata.proof_words(A, B, C)
    assert calldata.flat_proof(proof) == (1, 2, 3, 4, 5, 6, 7, 8)
    assert calldata.unflatten_proof(calldata.flat_proof(proof)) == proof


@pytest.mark.parametrize(
    "a, b, c",
    [
        ([1], B, C),
        ([1, Q], B, C),
        ([1, -1], B, C),
        (A, [[3, 4], [5]], C),
        (A, [[3, Q], [5, 6]], C),
        (A, B, "78"),
        (A, B, [7, True]),
        (A, B, [7, 8.0]),
    ],
)
def test_malformed_proofs_are_refused(a: object, b: object, c: object) -> None:
    with pytest.raises(CalldataError):
        calldata.proof_words(a, b, c)


def test_public_inputs_split_the_model_hash() -> None:
    model = bytes(range(32))
    h = int.from_bytes(model, "big")
    assert calldata.public_inputs(model, 1, 2, 3, 4) == (h >> 128, h % 2**128, 1, 2, 3, 4)
    for bad in ((model, R, 2, 3, 4), (model, 1, 2, -1, 4), (model[:31], 1, 2, 3, 4), ("x" * 32, 1, 2, 3, 4)):
        with pytest.raises(CalldataError):
            calldata.public_inputs(*bad)  # type: ignore[arg-type]


def test_verifying_key_shape() -> None:
    vk = (A, B, B, B, [A, C])
    assert calldata.verifying_key_words(vk)[4] == ((1, 2), (7, 8))
    with pytest.raises(CalldataError):
        calldata.verifying_key_words((A, B, B, B, []))
    with pytest.raises(CalldataError):
        calldata.verifying_key_words((A, B, B, B))


def test_revert_decoding() -> None:
    ident = bytes(range(32))
    assert isinstance(decode_revert(selector("InvalidProof()"), "attest"), ProofRejected)
    assert isinstance(decode_revert("0x" + selector("FieldOverflow()").hex(), "attest"), FieldOverflow)
    dup = decode_revert(selector("AlreadyAttested(bytes32)") + encode(["bytes32"], [ident]), "attest")
    assert isinstance(dup, DuplicateAttestation) and dup.error_args == (ident,)
    missing = decode_revert(selector("UnknownAttestation(bytes32)") + encode(["bytes32"], [ident]), "read")
    assert isinstance(missing, AttestationNotFound) and ident.hex() in str(missing)
    text = decode_revert(selector("Error(string)") + encode(["string"], ["boom"]), "x")
    assert type(text) is TransactionReverted and text.error_name == "Error" and text.error_args == ("boom",)
    for unknown in (b"", b"\x01\x02", "0xdeadbeef", "not hex", None):
        err = decode_revert(unknown, "x")
        assert type(err) is TransactionReverted and err.error_name is None


def test_reader_stays_light() -> None:
    """The verifier CLI imports the reader; it must not pull in torch or eth-tester."""
    import subprocess
    import sys

    code = (
        "import sys, node.chains.ethereum.reader, node.chains.ethereum.calldata, contracts; "
        "heavy = [m for m in ('torch', 'eth_tester', 'eth', 'zennit') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_predicted_class_fits_the_registry_field() -> None:
    model = keccak(b"m")
    assert calldata.public_inputs(model, 1, 2, 2**64 - 1, 4)[4] == 2**64 - 1
    for bad in (2**64, -1, R):
        with pytest.raises(CalldataError):
            calldata.public_inputs(model, 1, 2, bad, 4)


def test_eas_data_layout_matches_the_statement_id() -> None:
    model = keccak(b"m")
    proof = ((1, 2), ((3, 4), (5, 6)), (7, 8))
    data = calldata.eas_attestation_data(model, 11, 12, 3, 14, proof)
    assert len(data) == 13 * 32
    assert keccak(data[:160]) == calldata.attestation_id(model, 11, 12, 3, 14)
    assert [int.from_bytes(data[160 + 32 * i : 192 + 32 * i], "big") for i in range(8)] == list(range(1, 9))
    with pytest.raises(CalldataError):
        calldata.eas_attestation_data(model, R, 12, 3, 14, proof)


def test_revocation_errors_decode_to_typed_errors() -> None:
    who = "0x" + "ab" * 20
    ident = b"\x07" * 32
    cases = [
        (selector("NotAuthorized(address)") + encode(["address"], [who]), NotAuthorized),
        (selector("NotTheAttester(address)") + encode(["address"], [who]), NotAuthorized),
        (selector("AlreadyRevoked(bytes32)") + encode(["bytes32"], [ident]), AlreadyRevoked),
        (selector("RevokedModel(bytes32)") + encode(["bytes32"], [ident]), ModelRevoked),
        (selector("ClassOutOfRange(uint256)") + encode(["uint256"], [2**64]), ClassOutOfRange),
    ]
    for data, cls in cases:
        err = decode_revert(data, "tx")
        assert type(err) is cls, (cls, err)
    resolver_error = decode_revert(selector("MalformedData(uint256)") + encode(["uint256"], [3]), "EAS attest")
    assert isinstance(resolver_error, TransactionReverted) and resolver_error.error_args == (3,)
