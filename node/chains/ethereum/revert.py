"""Decode revert data of zkxai's contracts into the typed errors of ``errors.py``.

Selectors come from the committed ABIs, so a contract change that renames an error shows up here as an
undecoded (generic) :class:`TransactionReverted` rather than a wrong mapping.
"""

from __future__ import annotations

from functools import lru_cache

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector

import contracts

from node.chains.ethereum.errors import (
    AlreadyRevoked,
    AttestationNotFound,
    ChainError,
    ClassOutOfRange,
    DuplicateAttestation,
    FieldOverflow,
    InvalidVerifyingKey,
    ModelRevoked,
    NotAuthorized,
    ProofRejected,
    TransactionReverted,
    VerifierMismatch,
)

_TYPED: dict[str, type[TransactionReverted]] = {
    "InvalidProof": ProofRejected,
    "AlreadyAttested": DuplicateAttestation,
    "FieldOverflow": FieldOverflow,
    "InvalidVerifyingKey": InvalidVerifyingKey,
    "VerifierMismatch": VerifierMismatch,
    "ClassOutOfRange": ClassOutOfRange,
    "NotAuthorized": NotAuthorized,
    "NotOwner": NotAuthorized,
    "NotTheAttester": NotAuthorized,
    "AlreadyRevoked": AlreadyRevoked,
    "RevokedModel": ModelRevoked,
}

#: Contracts whose custom errors are decoded (an error name shared by several must have the same arguments).
DECODED_CONTRACTS = (
    "AttestationRegistry", "BatchAttestationRegistry", "Groth16Verifier", "ZkxaiEASResolver", "AttestedLending",
)


@lru_cache(maxsize=1)
def _selectors() -> dict[bytes, tuple[str, tuple[str, ...]]]:
    table: dict[bytes, tuple[str, tuple[str, ...]]] = {
        function_signature_to_4byte_selector("Error(string)"): ("Error", ("string",)),
        function_signature_to_4byte_selector("Panic(uint256)"): ("Panic", ("uint256",)),
    }
    for name in DECODED_CONTRACTS:
        for item in contracts.abi(name):
            if item["type"] == "error":
                types = tuple(i["type"] for i in item["inputs"])
                signature = f"{item['name']}({','.join(types)})"
                table[function_signature_to_4byte_selector(signature)] = (item["name"], types)
    return table


def revert_bytes(data: object) -> bytes:
    """Revert data given as hex string or bytes (as web3 exceptions carry it) -> bytes."""
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str):
        text = data[2:] if data.startswith(("0x", "0X")) else data
        try:
            return bytes.fromhex(text)
        except ValueError:
            return b""
    return b""


def decode_revert(data: object, context: str) -> ChainError:
    """The typed error for revert ``data`` (``context`` says what was attempted, for the message)."""
    raw = revert_bytes(data)
    entry = _selectors().get(raw[:4]) if len(raw) >= 4 else None
    if entry is None:
        return TransactionReverted(f"{context} reverted without a known error (data 0x{raw.hex()})")
    name, types = entry
    try:
        args = tuple(decode(list(types), raw[4:]))
    except Exception:  # malformed arguments: keep the name, drop the args
        args = ()
    if name == "UnknownAttestation":
        ident = args[0].hex() if args and isinstance(args[0], bytes) else "?"
        return AttestationNotFound(f"no attestation 0x{ident} on the registry")
    shown = ", ".join(f"0x{a.hex()}" if isinstance(a, bytes) else repr(a) for a in args)
    cls = _TYPED.get(name, TransactionReverted)
    return cls(f"{context} reverted: {name}({shown})", error_name=name, error_args=args)
