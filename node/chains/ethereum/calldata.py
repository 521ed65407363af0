"""Boundary checks and pure helpers shared by the writer and the reader.

Proof and key words are validated here before any transaction or call is made: shapes, canonical base-field
coordinates (< q) and scalar-field public inputs (< r). Curve membership is left to the EVM precompiles (and to
the prover's own validation), which reject off-curve points inside ``verifyProof``.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.field import R

from node.chains.ethereum.errors import CalldataError

#: BN254 base field modulus q (point coordinates).
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
#: Number of public inputs of the attestation circuit: the six statement values and the context.
PUBLIC_INPUT_COUNT = 7
#: The registry stores the predicted class in 64 bits (the circuit bounds it by its class count anyway).
MAX_PREDICTED_CLASS = 2**64 - 1

G1Words = tuple[int, int]
G2Words = tuple[tuple[int, int], tuple[int, int]]
#: (a, b, c) in calldata order; b in EIP-197 order [[x_imag, x_real], [y_imag, y_real]].
ProofWords = tuple[G1Words, G2Words, G1Words]
#: (alpha, beta, gamma, delta, ic) in the verifier constructor's order.
VerifyingKeyWords = tuple[G1Words, G2Words, G2Words, G2Words, tuple[G1Words, ...]]


def _coordinate(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CalldataError(f"{what} must be an int, got {type(value).__name__}")
    if not 0 <= value < Q:
        raise CalldataError(f"{what} is not a canonical base-field element (0 <= x < q)")
    return value


def _pair(value: object, what: str) -> Sequence[object]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise CalldataError(f"{what} must be a sequence of two items")
    return value


def g1_words(value: object, what: str) -> G1Words:
    x, y = _pair(value, what)
    return (_coordinate(x, f"{what}.x"), _coordinate(y, f"{what}.y"))


def g2_words(value: object, what: str) -> G2Words:
    x, y = _pair(value, what)
    xi, xr = _pair(x, f"{what}.x")
    yi, yr = _pair(y, f"{what}.y")
    return (
        (_coordinate(xi, f"{what}.x_imag"), _coordinate(xr, f"{what}.x_real")),
        (_coordinate(yi, f"{what}.y_imag"), _coordinate(yr, f"{what}.y_real")),
    )


def proof_words(a: object, b: object, c: object) -> ProofWords:
    """Validate and normalise a proof given as calldata-shaped (a[2], b[2][2], c[2])."""
    return (g1_words(a, "proof.a"), g2_words(b, "proof.b"), g1_words(c, "proof.c"))


def flat_proof(proof: ProofWords) -> tuple[int, ...]:
    """The eight words a0, a1, b00, b01, b10, b11, c0, c1 (the ``Attested`` event's order)."""
    a, b, c = proof
    return (a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1])


def unflatten_proof(words: Sequence[int]) -> ProofWords:
    """Inverse of :func:`flat_proof`, with validation."""
    if len(words) != 8:
        raise CalldataError(f"a flat proof has 8 words, got {len(words)}")
    w = list(words)
    return proof_words([w[0], w[1]], [[w[2], w[3]], [w[4], w[5]]], [w[6], w[7]])


def verifying_key_words(vk: Sequence[object]) -> VerifyingKeyWords:
    """Validate and normalise a verifying key given as (alpha, beta, gamma, delta, ic)."""
    if isinstance(vk, (str, bytes)) or len(vk) != 5:
        raise CalldataError("a verifying key is (alpha, beta, gamma, delta, ic)")
    alpha, beta, gamma, delta, ic = vk
    if isinstance(ic, (str, bytes)) or not isinstance(ic, Sequence) or len(ic) == 0:
        raise CalldataError("vk.ic must be a non-empty sequence of G1 points")
    return (
        g1_words(alpha, "vk.alpha"),
        g2_words(beta, "vk.beta"),
        g2_words(gamma, "vk.gamma"),
        g2_words(delta, "vk.delta"),
        tuple(g1_words(p, f"vk.ic[{i}]") for i, p in enumerate(ic)),
    )


def scalar(value: object, what: str) -> int:
    """``value`` if it is an int in the scalar field [0, r), else :class:`CalldataError`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise CalldataError(f"{what} must be an int, got {type(value).__name__}")
    if not 0 <= value < R:
        raise CalldataError(f"{what} is outside the BN254 scalar field [0, r)")
    return value


def predicted_class_value(value: object) -> int:
    """``value`` if it is an int in [0, 2**64), the range the registry records, else :class:`CalldataError`."""
    cls = scalar(value, "predicted class")
    if cls > MAX_PREDICTED_CLASS:
        raise CalldataError(f"predicted class {cls} does not fit the registry's 64-bit class field")
    return cls


def model_hash_bytes(value: object) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        raise CalldataError("model hash must be exactly 32 bytes")
    return bytes(value)


def public_inputs(
    model_hash: bytes, input_digest: int, prediction_digest: int, predicted_class: int, explanation_digest: int
) -> tuple[int, ...]:
    """The six statement values the registry hands to the verifier (the context follows them), in circuit order."""
    h = int.from_bytes(model_hash_bytes(model_hash), "big")
    return (
        h >> 128,
        h & ((1 << 128) - 1),
        scalar(input_digest, "input digest"),
        scalar(prediction_digest, "prediction digest"),
        predicted_class_value(predicted_class),
        scalar(explanation_digest, "explanation digest"),
    )


def statement_words(
    model_hash: bytes, input_digest: int, prediction_digest: int, predicted_class: int, explanation_digest: int
) -> tuple[bytes, int, int, int, int]:
    """The five statement fields, validated (32-byte hash, digests in [0, r), class in [0, 2**64))."""
    public = public_inputs(model_hash, input_digest, prediction_digest, predicted_class, explanation_digest)
    return (bytes(model_hash), public[2], public[3], public[4], public[5])


def eas_attestation_data(
    model_hash: bytes,
    input_digest: int,
    prediction_digest: int,
    predicted_class: int,
    explanation_digest: int,
    proof: ProofWords,
) -> bytes:
    """Data of an EAS attestation of the zkxai schema (``ZkxaiEASResolver.SCHEMA``):
    abi.encode(modelHash, inputDigest, predictionDigest, predictedClass, explanationDigest, uint256[8] proof)."""
    from eth_abi import encode  # here, not at the top: the light verifier imports this module without eth-abi's cost

    fields = statement_words(model_hash, input_digest, prediction_digest, predicted_class, explanation_digest)
    return encode(
        ["bytes32", "uint256", "uint256", "uint256", "uint256", "uint256[8]"],
        [*fields, list(flat_proof(proof_words(*proof)))],
    )


def attestation_id(
    model_hash: bytes, input_digest: int, prediction_digest: int, predicted_class: int, explanation_digest: int
) -> bytes:
    """keccak256(abi.encode(modelHash, inputDigest, predictionDigest, predictedClass, explanationDigest)),
    identical to the registry's ``attestationId``."""
    from eth_abi import encode
    from eth_utils import keccak

    return keccak(
        encode(
            ["bytes32", "uint256", "uint256", "uint256", "uint256"],
            [model_hash_bytes(model_hash), input_digest, prediction_digest, predicted_class, explanation_digest],
        )
    )
