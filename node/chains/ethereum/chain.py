"""Ethereum under the chain adapter contract (:mod:`node.chains.adapter`): :class:`EthereumChain` wraps the node's
:class:`~node.chains.ethereum.adapter.EthereumAdapter` (its account, nonce tracking, fee bumping, reorg checks) and
speaks the contract's values and errors, so the pipeline needs nothing Ethereum-specific to submit and confirm.

Errors are mapped once, here: an unreachable RPC node -> ``ChainUnavailable`` (retry, however long); a revert
of the registry (bad proof, revoked model, malformed statement) -> ``StatementRejected`` (final); the statement
recorded by another account -> ``ForeignRecord`` (reported, never adopted); a reorg that dropped the transaction ->
``Dropped``; anything else from the chain -> ``ChainAdapterError`` (the caller retries a bounded number of times).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from node.chains.adapter import (
    ChainAdapterError,
    ChainUnavailable,
    Dropped,
    ForeignRecord,
    RegistryRef,
    StatementRejected,
    Statement,
    Submitted,
)
from node.chains.binding import attestation_context
from node.chains.ethereum import calldata
from node.chains.ethereum.adapter import EthereumAdapter, SubmittedAttestation
from node.chains.ethereum.errors import (
    ChainConnectionError,
    ChainError,
    DuplicateAttestation,
    ForeignAttestation,
    TransactionReverted,
)
from node.chains.ethereum.txmanager import TransactionDropped

T = TypeVar("T")


def statement_id(statement: Statement) -> bytes:
    """The registry's attestation id of ``statement`` (keccak of its five fields)."""
    return calldata.attestation_id(statement.model_hash, statement.input_digest, statement.prediction_digest,
                                   statement.predicted_class, statement.explanation_digest)


async def _mapped(call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call`` with the Ethereum adapter's errors turned into the contract's."""
    try:
        return await call()
    except ForeignAttestation as exc:
        raise ForeignRecord(str(exc)) from exc
    except TransactionDropped as exc:
        raise Dropped(str(exc)) from exc
    except TransactionReverted as exc:
        raise StatementRejected(f"the registry rejected the attestation: {exc}") from exc
    except (ChainConnectionError, OSError, asyncio.TimeoutError) as exc:
        raise ChainUnavailable(f"{type(exc).__name__}: {exc}") from exc
    except ChainError as exc:
        raise ChainAdapterError(str(exc)) from exc


class EthereumChain:
    """:class:`~node.chains.adapter.ChainAdapter` for one registry on one EVM chain, through ``adapter``."""

    kind = "ethereum"

    def __init__(self, adapter: EthereumAdapter) -> None:
        self.adapter = adapter

    @property
    def attester(self) -> str:
        return self.adapter.address

    @property
    def ref(self) -> RegistryRef:
        return RegistryRef(self.kind, str(self.adapter.chain_id), self.adapter.deployment.registry)

    async def attach_or_deploy(self, configured: str | None) -> RegistryRef:
        """Attach to ``configured``; deploying (with the verifying key) and remembering deployments is
        :mod:`node.store.deployments`' job, done before the pipeline starts."""
        if configured is None:
            return self.ref
        await _mapped(lambda: self.adapter.attach_registry(configured))
        return RegistryRef(self.kind, str(self.adapter.chain_id), self.adapter.deployment.registry, "configured")

    def context(self) -> int:
        return attestation_context(self.adapter.chain_id, self.adapter.deployment.registry, self.adapter.address)

    def _submitted(self, found: SubmittedAttestation) -> Submitted:
        return Submitted(self.kind, "0x" + found.id.hex(), found.tx_hash, found.block_number, found.attester,
                         found.gas_used)

    async def find(self, statement: Statement) -> Submitted | None:
        found = await _mapped(lambda: self.adapter.find_own_attestation(statement_id(statement)))
        return None if found is None else self._submitted(found)

    async def submit(self, statement: Statement, proof: Sequence[int]) -> Submitted:
        a, b, c = calldata.unflatten_proof(proof)
        try:
            sent = await _mapped(lambda: self.adapter.attest(
                statement.model_hash, statement.input_digest, statement.prediction_digest, statement.predicted_class,
                statement.explanation_digest, a, b, c))
        except StatementRejected as exc:
            if not isinstance(exc.__cause__, DuplicateAttestation):
                raise
            found = await self.find(statement)  # mined meanwhile: ours (adopted) or another's (ForeignRecord)
            if found is None:
                raise ChainAdapterError("the registry says the statement is attested but has no record of it") from exc
            return found
        return self._submitted(sent)

    async def confirm(self, submitted: Submitted, depth: int) -> Submitted:
        receipt = await _mapped(lambda: self.adapter.confirm(submitted.tx_id, submitted.height, depth))
        return Submitted(self.kind, submitted.attestation_id, submitted.tx_id, int(receipt["blockNumber"]),
                         submitted.attester, int(receipt["gasUsed"]))

    async def revoke(self, attestation_id: str, reason: int) -> Submitted:
        ident = bytes.fromhex(attestation_id.removeprefix("0x"))
        done = await _mapped(lambda: self.adapter.revoke(ident, reason))
        return Submitted(self.kind, attestation_id, done.tx_hash, done.block_number, self.attester, done.gas_used)

    async def close(self) -> None:
        await self.adapter.close()
