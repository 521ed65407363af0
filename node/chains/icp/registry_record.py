"""The registry canister's record encoding (the certified leaf) and attestation ids, mirroring contracts/icp/src/Record.mo.

id = SHA-256("zkxai.icp.statement.v1" || model_hash (32) || input, prediction, class, explanation (32 bytes BE each)).
Leaf = version 1 | id | statement (160) | proof (256) | index (u64 BE) | time_ns (u64 BE) | revoked | reason
| attester length | attester (raw principal, at most 29 bytes). A reader trusts a record only through its leaf,
whose presence the certificate proves; :func:`decode_leaf` is strict (exact length, flags, field ranges, id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from circuits.field import R
from node.chains.icp.errors import RegistryRecordError
from node.chains.icp.principal import MAX_PRINCIPAL_BYTES, Principal

STATEMENT_TAG = b"zkxai.icp.statement.v1"
RECORD_VERSION = 1
PROOF_WORDS = 8
PROOF_BYTES = 32 * PROOF_WORDS
MAX_REASON = 4
_FIXED = 1 + 32 + 160 + PROOF_BYTES + 8 + 8 + 3


@dataclass(frozen=True)
class IcpStatement:
    model_hash: bytes
    input_digest: int
    prediction_digest: int
    predicted_class: int
    explanation_digest: int

    def __post_init__(self) -> None:
        if not isinstance(self.model_hash, bytes) or len(self.model_hash) != 32:
            raise RegistryRecordError("model_hash must be 32 bytes")
        for name in ("input_digest", "prediction_digest", "predicted_class", "explanation_digest"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < R:
                raise RegistryRecordError(f"{name} must be an integer in [0, r)")

    def encode(self) -> bytes:
        return self.model_hash + b"".join(
            v.to_bytes(32, "big")
            for v in (self.input_digest, self.prediction_digest, self.predicted_class, self.explanation_digest)
        )

    def attestation_id(self) -> bytes:
        return hashlib.sha256(STATEMENT_TAG + self.encode()).digest()

    def candid(self) -> dict:
        return {"model_hash": self.model_hash, "input_digest": self.input_digest,
                "prediction_digest": self.prediction_digest, "predicted_class": self.predicted_class,
                "explanation_digest": self.explanation_digest}


def proof_bytes(words: Sequence[int]) -> bytes:
    """The 8 proof words (EIP-197 order) as 256 bytes; each word below the BN254 base field is checked later."""
    if len(words) != PROOF_WORDS or any(isinstance(w, bool) or not isinstance(w, int) or not 0 <= w < 2**256
                                        for w in words):
        raise RegistryRecordError("a proof is 8 unsigned 256-bit words")
    return b"".join(w.to_bytes(32, "big") for w in words)


def proof_words(raw: bytes) -> tuple[int, ...]:
    if len(raw) != PROOF_BYTES:
        raise RegistryRecordError(f"a proof is {PROOF_BYTES} bytes, got {len(raw)}")
    return tuple(int.from_bytes(raw[i:i + 32], "big") for i in range(0, PROOF_BYTES, 32))


@dataclass(frozen=True)
class RegistryRecord:
    attestation_id: bytes
    statement: IcpStatement
    proof: bytes
    index: int
    time_ns: int
    revoked: bool
    reason: int
    attester: Principal

    def encode(self) -> bytes:
        raw = self.attester.raw
        return (bytes([RECORD_VERSION]) + self.attestation_id + self.statement.encode() + self.proof
                + self.index.to_bytes(8, "big") + self.time_ns.to_bytes(8, "big")
                + bytes([int(self.revoked), self.reason, len(raw)]) + raw)


def decode_leaf(leaf: bytes) -> RegistryRecord:
    """Parse a certified leaf; RegistryRecordError unless it is exactly one well-formed record."""
    if not isinstance(leaf, bytes) or len(leaf) < _FIXED:
        raise RegistryRecordError("record leaf too short")
    if leaf[0] != RECORD_VERSION:
        raise RegistryRecordError(f"unknown record version {leaf[0]}")
    pos = 1
    ident = leaf[pos:pos + 32]
    pos += 32
    words = [int.from_bytes(leaf[pos + 32 * k:pos + 32 * (k + 1)], "big") for k in range(5)]
    statement = IcpStatement(leaf[pos:pos + 32], *words[1:])
    pos += 160
    proof = leaf[pos:pos + PROOF_BYTES]
    pos += PROOF_BYTES
    index = int.from_bytes(leaf[pos:pos + 8], "big")
    time_ns = int.from_bytes(leaf[pos + 8:pos + 16], "big")
    revoked, reason, size = leaf[pos + 16], leaf[pos + 17], leaf[pos + 18]
    pos += 19
    if revoked > 1 or reason > MAX_REASON or (not revoked and reason):
        raise RegistryRecordError("record has an invalid revocation flag or reason")
    if size > MAX_PRINCIPAL_BYTES or len(leaf) != pos + size:
        raise RegistryRecordError("record attester length does not match the leaf")
    if statement.attestation_id() != ident:
        raise RegistryRecordError("record id is not the hash of its statement")
    return RegistryRecord(ident, statement, proof, index, time_ns, bool(revoked), reason, Principal(leaf[pos:]))
