"""Read attestations and verifying keys back from chain (synchronous web3; used by the verifier CLI).

Light on purpose: imports web3 and the committed ABIs only (no torch, no eth-tester). Everything read is
validated (shapes, field ranges) and cross-checked: the attestation id is recomputed from the stored record, and
the proof is taken from the registry's own ``Attested`` event, located by the block number stored in the record.
"""

from __future__ import annotations

from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3Exception

import contracts

from node.chains.ethereum import calldata
from node.chains.ethereum.errors import (
    AttestationNotFound,
    ChainConnectionError,
    ChainError,
    ContractMismatch,
)
from node.chains.ethereum.records import OnchainAttestation
from node.chains.ethereum.revert import decode_revert


def _contract(w3: Web3, address: str, name: str) -> Any:
    try:
        checksum = Web3.to_checksum_address(address)
    except ValueError as exc:
        raise calldata.CalldataError(f"not an Ethereum address: {address!r}") from exc
    try:
        code = w3.eth.get_code(checksum)
    except (OSError, Web3Exception) as exc:
        raise ChainConnectionError(f"cannot read from the chain: {exc}") from exc
    if len(code) == 0:
        raise ContractMismatch(f"no contract at {checksum} (expected {name})")
    return w3.eth.contract(address=checksum, abi=contracts.abi(name))


def _call(fn: Any, what: str) -> Any:
    try:
        return fn.call()
    except ContractCustomError as exc:
        raise decode_revert(exc.data, what) from exc
    except ContractLogicError as exc:
        raise ContractMismatch(f"{what} reverted: {exc}") from exc
    except (OSError, Web3Exception) as exc:
        raise ChainConnectionError(f"{what}: {exc}") from exc


def registry_verifier(w3: Web3, registry: str) -> str:
    """Address of the verifier the registry checks proofs with."""
    return str(_call(_contract(w3, registry, "AttestationRegistry").functions.verifier(), "verifier()"))


def read_verifying_key(w3: Web3, verifier: str) -> calldata.VerifyingKeyWords:
    """The verifying key stored in a Groth16Verifier, as (alpha, beta, gamma, delta, ic) words (EIP-197 order)."""
    raw = _call(_contract(w3, verifier, "Groth16Verifier").functions.verifyingKey(), "verifyingKey()")
    return calldata.verifying_key_words(raw)


def read_attestation(w3: Web3, registry: str, attestation_id: bytes) -> OnchainAttestation:
    """Read attestation ``attestation_id`` from ``registry``; :class:`AttestationNotFound` if absent.

    The record gives model, class, attester, times and revocation; the digests and the proof come from the
    ``Attested`` event in the record's block, and the id recomputed from both must equal ``attestation_id``.
    """
    if not isinstance(attestation_id, (bytes, bytearray)) or len(attestation_id) != 32:
        raise calldata.CalldataError("an attestation id is 32 bytes")
    ident = bytes(attestation_id)
    contract = _contract(w3, registry, "AttestationRegistry")
    record = _call(contract.functions.getAttestation(ident), "getAttestation()")
    model_hash, attester, timestamp, block_number, predicted_class = (
        bytes(record[0]),
        str(record[1]),
        int(record[2]),
        int(record[3]),
        int(record[4]),
    )
    record_revoked, revoked_at, reason = bool(record[5]), int(record[6]), int(record[7])
    model_revoked, model_revoked_at, model_reason = _call(
        contract.functions.modelRevocation(model_hash), "modelRevocation()"
    )

    event = contract.events.Attested()
    try:
        logs = w3.eth.get_logs(
            {
                "address": contract.address,
                "fromBlock": block_number,
                "toBlock": block_number,
                "topics": [event.topic, "0x" + ident.hex()],
            }
        )
        head = w3.eth.block_number
        chain_id = int(w3.eth.chain_id)
    except (OSError, Web3Exception) as exc:
        raise ChainConnectionError(f"cannot read Attested logs: {exc}") from exc
    if len(logs) != 1:
        raise ContractMismatch(f"expected one Attested event for the id in block {block_number}, found {len(logs)}")
    decoded = event.process_log(logs[0])
    args = decoded["args"]
    if bytes(args["modelHash"]) != model_hash or int(args["predictedClass"]) != predicted_class:
        raise ContractMismatch("the Attested event disagrees with the stored record")
    if str(args["attester"]) != attester:
        raise ContractMismatch("the Attested event names another attester than the stored record")
    input_digest, prediction_digest, explanation_digest = (
        int(args["inputDigest"]),
        int(args["predictionDigest"]),
        int(args["explanationDigest"]),
    )
    if calldata.attestation_id(model_hash, input_digest, prediction_digest, predicted_class, explanation_digest) != ident:
        raise ContractMismatch("the registry's record and event do not hash to the requested id")
    if record_revoked:
        revocation = (True, revoked_at, reason)
    elif model_revoked:
        revocation = (True, int(model_revoked_at), int(model_reason))
    else:
        revocation = (False, 0, 0)
    return OnchainAttestation(
        id=ident,
        registry=contract.address,
        chain_id=chain_id,
        model_hash=model_hash,
        input_digest=input_digest,
        prediction_digest=prediction_digest,
        predicted_class=predicted_class,
        explanation_digest=explanation_digest,
        attester=attester,
        timestamp=timestamp,
        block_number=block_number,
        tx_hash=HexBytes(decoded["transactionHash"]).to_0x_hex(),
        confirmations=max(0, head - block_number + 1),
        proof=calldata.unflatten_proof([int(w) for w in args["proof"]]),
        revoked=revocation[0],
        revoked_at=revocation[1],
        revocation_reason=revocation[2],
        model_revoked=bool(model_revoked),
    )


__all__ = [
    "AttestationNotFound",
    "ChainError",
    "OnchainAttestation",
    "read_attestation",
    "read_verifying_key",
    "registry_verifier",
]
