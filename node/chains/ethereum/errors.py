"""Typed errors of the chain adapters; contract custom errors are decoded into these (see ``revert.py``)."""

from __future__ import annotations

from node.errors import NodeError


class ChainError(NodeError):
    """Root of every chain-side failure (connection, transaction, contract, malformed data)."""

    status = 502
    code = "chain_error"


class ChainConnectionError(ChainError):
    """The RPC endpoint cannot be reached or does not answer like an Ethereum node."""

    code = "chain_unreachable"


class CalldataError(ChainError, ValueError):
    """Data about to be sent (or read back) is malformed: wrong shape, value outside its field."""

    status = 400
    code = "bad_calldata"


class ContractMismatch(ChainError):
    """An address does not hold the expected contract, or the contract answered inconsistently."""

    code = "contract_mismatch"


class NoRegistry(ChainError):
    """The adapter has no registry deployed or attached yet."""

    status = 409
    code = "no_registry"


class TransactionReverted(ChainError):
    """A transaction or call reverted. ``error_name``/``error_args`` hold the decoded custom error, if any."""

    code = "transaction_reverted"

    def __init__(self, message: str, error_name: str | None = None, error_args: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.error_args = error_args


class ProofRejected(TransactionReverted):
    """The registry's verifier rejected the proof (contract error ``InvalidProof()``)."""

    status = 422
    code = "proof_rejected"


class DuplicateAttestation(TransactionReverted):
    """The same statement is already attested (contract error ``AlreadyAttested(bytes32)``)."""

    status = 409
    code = "already_attested"


class FieldOverflow(TransactionReverted):
    """A public input is not below the scalar field modulus r (contract error ``FieldOverflow()``)."""

    status = 400
    code = "field_overflow"


class InvalidVerifyingKey(TransactionReverted):
    """The verifier constructor rejected the verifying key (contract error ``InvalidVerifyingKey(string)``)."""

    status = 400
    code = "invalid_verifying_key"


class VerifierMismatch(TransactionReverted):
    """The registry constructor rejected the verifier (not a contract / not seven public inputs)."""

    code = "verifier_mismatch"


class ClassOutOfRange(TransactionReverted):
    """The predicted class does not fit the registry's 64-bit class field (contract error ``ClassOutOfRange``)."""

    status = 400
    code = "class_out_of_range"


class NotAuthorized(TransactionReverted):
    """The signing account may not do this: revoke an attestation it did not attest, revoke a model without
    being the owner (contract errors ``NotAuthorized`` / ``NotOwner`` / ``NotTheAttester``)."""

    status = 403
    code = "not_authorized"


class AlreadyRevoked(TransactionReverted):
    """The attestation or model is already revoked (contract error ``AlreadyRevoked(bytes32)``)."""

    status = 409
    code = "already_revoked"


class ModelRevoked(TransactionReverted):
    """The model is revoked: the registry accepts no new attestation for it (contract error ``RevokedModel``)."""

    status = 409
    code = "model_revoked"


class ForeignAttestation(ChainError):
    """The registry already holds this statement, attested by another account: never adopted as our own record
    (the node reports it; with proofs bound to their sender this means someone else knew the openings)."""

    status = 409
    code = "foreign_attestation"

    def __init__(self, ident: bytes, attester: str, tx_hash: str) -> None:
        super().__init__(f"attestation 0x{ident.hex()} is already recorded by another account, {attester} "
                         f"(tx {tx_hash}); not adopted")
        self.attester, self.tx_hash = attester, tx_hash


class AttestationNotFound(ChainError):
    """No attestation with the requested id exists on the registry (contract error ``UnknownAttestation``)."""

    status = 404
    code = "attestation_not_found"
