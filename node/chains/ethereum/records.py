"""What the readers return: an attestation as recorded on chain (shared by :mod:`node.chains.ethereum.reader`, on web3, and
:mod:`node.chains.ethereum.light_reader`, on the standard library)."""

from __future__ import annotations

from dataclasses import dataclass

from ..binding import attestation_context
from . import calldata


@dataclass(frozen=True)
class OnchainAttestation:
    """An attestation as recorded on chain, with the proof words from its ``Attested`` event."""

    id: bytes
    registry: str
    #: The chain the record was read from (its ``eth_chainId``): part of the proof's context.
    chain_id: int
    model_hash: bytes
    input_digest: int
    prediction_digest: int
    predicted_class: int
    explanation_digest: int
    attester: str
    timestamp: int
    block_number: int
    tx_hash: str
    confirmations: int
    #: (a, b, c) in calldata order, b in EIP-197 order.
    proof: calldata.ProofWords
    #: True if the attestation was revoked, itself or through a model-wide revocation: do not rely on it.
    revoked: bool = False
    #: Timestamp of the revocation (the attestation's own one if any, else the model's; 0 if not revoked).
    revoked_at: int = 0
    #: Reason code of that revocation (see ``node.chains.ethereum.adapter.RevocationReason``; 0 if not revoked).
    revocation_reason: int = 0
    #: True if the owner revoked the whole model.
    model_revoked: bool = False

    @property
    def statement(self) -> tuple[int, ...]:
        """The six statement values of the record (circuits.commitment.STATEMENT order)."""
        return calldata.public_inputs(
            self.model_hash, self.input_digest, self.prediction_digest, self.predicted_class, self.explanation_digest
        )

    @property
    def context(self) -> int:
        """The context the registry recomputed when it accepted the proof: this chain, registry and attester."""
        return attestation_context(self.chain_id, self.registry, self.attester)

    @property
    def public_inputs(self) -> tuple[int, ...]:
        """The seven public inputs the registry verified the proof against: the statement, then the context."""
        return (*self.statement, self.context)
