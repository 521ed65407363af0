"""The ``attestations`` mapping's value (struct ``Attestation`` of the program) read back from Aleo text, and the
proof carried by an ``attest`` transition's public inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from node.chains.adapter import OnchainRecord, Statement

from .errors import PlaintextError
from .plaintext import parse, u8_bytes, u128_pair
from .statement import proof_keccak

FIELDS = ("model_hash", "input_digest", "prediction_digest", "predicted_class", "explanation_digest",
          "proof_keccak", "attester", "caller", "height", "revoked", "reason")


@dataclass(frozen=True)
class StoredAttestation:
    """One value of the ``attestations`` mapping."""

    statement: Statement
    proof_keccak: bytes
    attester: str
    caller: str
    height: int
    revoked: bool
    reason: int


@dataclass(frozen=True)
class AleoRecord(OnchainRecord):
    """An :class:`OnchainRecord` with what Aleo adds: the stored proof keccak and the Aleo account that paid."""

    proof_keccak: bytes = b""
    caller: str = ""


def _u256(value: Any, what: str) -> int:
    hi, lo = u128_pair(value, what)
    return (hi << 128) | lo


def _int(value: Any, bits: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise PlaintextError(f"{what} is not a u{bits}")
    return value


def parse_attestation(text: str) -> StoredAttestation:
    doc = parse(text)
    if not isinstance(doc, dict) or tuple(doc) != FIELDS:
        raise PlaintextError("mapping value is not an Attestation struct")
    caller = doc["caller"]
    if not isinstance(caller, str) or not caller.startswith("aleo1"):
        raise PlaintextError("caller is not an Aleo address")
    if not isinstance(doc["revoked"], bool):
        raise PlaintextError("revoked is not a boolean")
    statement = Statement(
        model_hash=_u256(doc["model_hash"], "model_hash").to_bytes(32, "big"),
        input_digest=_u256(doc["input_digest"], "input_digest"),
        prediction_digest=_u256(doc["prediction_digest"], "prediction_digest"),
        predicted_class=_int(doc["predicted_class"], 32, "predicted_class"),
        explanation_digest=_u256(doc["explanation_digest"], "explanation_digest"),
    )
    return StoredAttestation(
        statement=statement,
        proof_keccak=u8_bytes(doc["proof_keccak"], 32, "proof_keccak"),
        attester=to_checksum_address(u8_bytes(doc["attester"], 20, "attester")),
        caller=caller,
        height=_int(doc["height"], 32, "height"),
        revoked=doc["revoked"],
        reason=_int(doc["reason"], 8, "reason"),
    )


def proof_from_transaction(tx: dict[str, Any], program_id: str, expected_keccak: bytes) -> tuple[int, ...]:
    """The eight proof words from the ``attest`` transition of ``tx`` whose keccak is ``expected_keccak``."""
    transitions = (tx.get("execution") or {}).get("transitions") if isinstance(tx, dict) else None
    if not isinstance(transitions, list):
        raise PlaintextError("transaction has no execution transitions")
    for t in transitions:
        if not isinstance(t, dict) or t.get("program") != program_id or t.get("function") != "attest":
            continue
        inputs = t.get("inputs")
        if not isinstance(inputs, list) or len(inputs) != 9 or not isinstance(inputs[5], dict):
            raise PlaintextError("attest transition without its nine inputs")
        raw = u8_bytes(parse(str(inputs[5].get("value", ""))), 256, "proof")
        words = tuple(int.from_bytes(raw[i:i + 32], "big") for i in range(0, 256, 32))
        if proof_keccak(words) == expected_keccak:
            return words
    raise PlaintextError("no attest transition in the transaction carries the recorded proof")
