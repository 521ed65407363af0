"""Ethereum under the chain adapter contract (:mod:`node.chains.adapter`): :class:`EthereumChain` wraps the node's
:class:`~node.chains.ethereum.adapter.EthereumAdapter` (its account, nonce tracking, fee bumping, reorg checks) and
speaks the contract's values and errors, so the pipeline needs nothing Ethereum-specific to submit and confirm.

Errors are mapped once, here: an unreachable RPC node -> ``ChainUnavailable`` (retry, however long); a revert
of the registry (bad proof, revoked model, malformed statement) -> ``StatementRejected`` (final); the statement
recorded by another account -> ``ForeignRecord`` (reported, never adopted); a reorg that dropped the transaction ->
``Dropped``; anything else from the chain -> ``ChainAdapterError`` (the caller retries a bounded number of times).
Revocations map the registry's NotAuthorized / AlreadyRevoked / unknown record to the contract's
``NotAuthorized`` / ``AlreadyRevoked`` / ``RecordNotFound`` (same HTTP status and code as before).

Optional capabilities of the contract, all implemented here: :class:`~node.chains.adapter.BatchChain` (batch mode,
wrapping :class:`~node.chains.ethereum.batch.BatchSubmitter`, which shares the adapter's account, nonce counter and
send lock), :class:`~node.chains.adapter.DeployingChain` (deploy / attach the AttestationRegistry and the
BatchAttestationRegistry, for :mod:`node.store.deployments`) and :class:`~node.chains.adapter.ModelRevoking`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from hexbytes import HexBytes

import contracts

from node.chains.adapter import (
    AlreadyRevoked,
    BatchRecord,
    ChainAdapterError,
    ChainUnavailable,
    Dropped,
    ForeignRecord,
    NotAuthorized,
    RecordNotFound,
    RegistryDeployment,
    RegistryMismatch,
    RegistryRef,
    SignerUnfunded,
    StatementRejected,
    Statement,
    Submitted,
)
from node.chains.binding import attestation_context
from node.chains.ethereum import calldata
from node.chains.ethereum.adapter import EthereumAdapter, SubmittedAttestation, SubmittedRevocation
from node.chains.ethereum.batch import (
    BatchChainError,
    BatchConnectionError,
    BatchReverted,
    BatchSubmitter,
    ForeignBatch,
    SubmittedBatch,
)
from node.chains.ethereum.errors import (
    AlreadyRevoked as EthAlreadyRevoked,
    AttestationNotFound,
    ChainConnectionError,
    ChainError,
    ContractMismatch,
    DuplicateAttestation,
    ForeignAttestation,
    NotAuthorized as EthNotAuthorized,
    TransactionReverted,
)
from node.chains.ethereum.fees import SignerCannotPay, check_funds
from node.chains.ethereum.txmanager import TransactionDropped

T = TypeVar("T")


def statement_id(statement: Statement) -> bytes:
    """The registry's attestation id of ``statement`` (keccak of its five fields)."""
    return calldata.attestation_id(statement.model_hash, statement.input_digest, statement.prediction_digest,
                                   statement.predicted_class, statement.explanation_digest)


async def _mapped(call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call`` with the Ethereum adapter's (and the batch submitter's) errors turned into the contract's."""
    try:
        return await call()
    except SignerCannotPay as exc:
        raise SignerUnfunded(str(exc)) from exc
    except (ForeignAttestation, ForeignBatch) as exc:
        raise ForeignRecord(str(exc)) from exc
    except BatchReverted as exc:
        if exc.error_name == "AlreadyAttested":
            raise StatementRejected(f"the batch registry already holds the batch: {exc}") from exc
        raise StatementRejected(f"the batch registry rejected the batch: {exc}") from exc
    except BatchConnectionError as exc:
        raise ChainUnavailable(str(exc)) from exc
    except BatchChainError as exc:
        raise ChainAdapterError(str(exc)) from exc
    except ContractMismatch as exc:
        raise RegistryMismatch(str(exc)) from exc
    except TransactionDropped as exc:
        raise Dropped(str(exc)) from exc
    except TransactionReverted as exc:
        raise StatementRejected(f"the registry rejected the attestation: {exc}") from exc
    except (ChainConnectionError, OSError, asyncio.TimeoutError) as exc:
        raise ChainUnavailable(f"{type(exc).__name__}: {exc}") from exc
    except ChainError as exc:
        raise ChainAdapterError(str(exc)) from exc


async def _revocation(call: Callable[[], Awaitable[SubmittedRevocation]]) -> SubmittedRevocation:
    """Run a revocation with the registry's refusals turned into the contract's revocation errors."""
    try:
        return await call()
    except EthNotAuthorized as exc:
        raise NotAuthorized(str(exc)) from exc
    except EthAlreadyRevoked as exc:
        raise AlreadyRevoked(str(exc)) from exc
    except AttestationNotFound as exc:
        raise RecordNotFound(str(exc)) from exc
    except (ChainConnectionError, OSError, asyncio.TimeoutError) as exc:
        raise ChainUnavailable(f"{type(exc).__name__}: {exc}") from exc
    except ChainError as exc:  # keep the registry's status and code (e.g. 400 bad_calldata)
        err = ChainAdapterError(str(exc))
        err.status, err.code = exc.status, exc.code
        raise err from exc


def _batch_record(sent: SubmittedBatch) -> BatchRecord:
    return BatchRecord("ethereum", "0x" + sent.batch_id.hex(), sent.root, sent.count, sent.tx_hash,
                       sent.block_number, sent.attester, sent.gas_used)


class EthereumChain:
    """:class:`~node.chains.adapter.ChainAdapter` for one registry on one EVM chain, through ``adapter``; with a batch
    registry deployed or attached (:meth:`deploy_registry` / :meth:`attach_registry` with a batch size) also a
    :class:`~node.chains.adapter.BatchChain`."""

    kind = "ethereum"
    supports_batches = True

    def __init__(self, adapter: EthereumAdapter) -> None:
        self.adapter = adapter
        #: The batch registry's writer, sharing the adapter's account (set when a batch registry is attached).
        self.batches: BatchSubmitter | None = None

    @property
    def attester(self) -> str:
        return self.adapter.address

    def sibling(self) -> EthereumChain:
        """A chain adapter for another registry on this chain with this account (one nonce counter, one send lock):
        the registry of a model's proven level (:class:`~node.chains.adapter.RegistryFamily`)."""
        return EthereumChain(self.adapter.sibling())

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

    def fence(self, guard: Callable[[], Awaitable[int]] | None) -> None:
        """Cluster mode: ``guard`` runs before every transaction of this account (all its registries)."""
        self.adapter._owner.guard = guard

    def _revoked(self, done: SubmittedRevocation) -> Submitted:
        return Submitted(self.kind, _hex(done.target), _hex(done.tx_hash), done.block_number, self.attester,
                         done.gas_used)

    async def revoke(self, attestation_id: str, reason: int) -> Submitted:
        ident = bytes.fromhex(attestation_id.removeprefix("0x"))
        return self._revoked(await _revocation(lambda: self.adapter.revoke(ident, reason)))

    async def revoke_model(self, model_hash: bytes, reason: int) -> Submitted:
        """Revoke ``model_hash`` in the single registry (owner only)."""
        return self._revoked(await _revocation(lambda: self.adapter.revoke_model(model_hash, reason)))

    async def close(self) -> None:
        if self.batches is not None:
            await self.batches.close()
        await self.adapter.close()

    # -- DeployingChain ---------------------------------------------------------------------------
    @property
    def network(self) -> str:
        return str(self.adapter.chain_id)

    @property
    def embedded(self) -> bool:
        return bool(self.adapter.in_process)

    async def height(self) -> int:
        return int(await _mapped(lambda: self.adapter.w3.eth.block_number))

    async def genesis(self) -> str:
        # "earliest", not block 0: a chain may start above 0 (anvil --init with a numbered genesis, some forks)
        block = await _mapped(lambda: self.adapter.w3.eth.get_block("earliest"))
        return HexBytes(block["hash"]).to_0x_hex()

    async def funding_problem(self) -> str | None:
        """:class:`~node.chains.adapter.FundedSigner`: None when the signer covers one attestation at current fees."""
        adapter = self.adapter

        async def check() -> None:
            fees = await adapter.oracle.suggest(adapter.w3)
            await check_funds(adapter.w3, adapter.address, adapter.attest_gas, fees.max_fee)

        try:
            await _mapped(check)
        except SignerUnfunded as exc:
            return str(exc)
        return None

    async def registry_exists(self, address: str) -> bool:
        w3 = self.adapter.w3
        return len(await _mapped(lambda: w3.eth.get_code(w3.to_checksum_address(address)))) > 0

    async def holds_key(self, verifier: str, vk_calldata: Sequence[object]) -> bool:
        contract = self.adapter.w3.eth.contract(address=verifier, abi=contracts.abi("Groth16Verifier"))
        onchain = await _mapped(lambda: contract.functions.verifyingKey().call())
        return bool(calldata.verifying_key_words(onchain) == calldata.verifying_key_words(vk_calldata))

    def _deployment(self, origin: str, *, batch: bool = False) -> RegistryDeployment:
        if batch:
            assert self.batches is not None
            dep = self.batches.deployment
            return RegistryDeployment(RegistryRef(self.kind, self.network, dep.registry, origin), dep.verifier,
                                      dep.block, dep.tx or None, dep.depth, dict(dep.gas))
        single = self.adapter.deployment
        gas = {"Groth16Verifier": single.verifier_gas, "AttestationRegistry": single.registry_gas}
        return RegistryDeployment(RegistryRef(self.kind, self.network, single.registry, origin), single.verifier,
                                  single.block, single.registry_tx or None, 0,
                                  {k: v for k, v in gas.items() if v})

    async def deploy_registry(self, vk_calldata: Sequence[object], batch_size: int | None = None) -> RegistryDeployment:
        if batch_size is None:
            await _mapped(lambda: self.adapter.deploy_registry(vk_calldata))
            return self._deployment("deployed")
        batches = self.batches = self.batches or BatchSubmitter.sharing(self.adapter)
        await _mapped(lambda: batches.deploy(vk_calldata, batch_size))
        return self._deployment("deployed", batch=True)

    async def attach_registry(self, address: str, *, batch: bool = False,
                              block: int | None = None) -> RegistryDeployment:
        if not batch:
            await _mapped(lambda: self.adapter.attach_registry(address, block=block))
            return self._deployment("configured")
        batches = self.batches = self.batches or BatchSubmitter.sharing(self.adapter)
        await _mapped(lambda: batches.attach(address, block=block))
        return self._deployment("configured", batch=True)

    # -- BatchChain -------------------------------------------------------------------------------
    @property
    def _batches(self) -> BatchSubmitter:
        if self.batches is None:
            raise ChainAdapterError("no batch registry deployed or attached")
        return self.batches

    @property
    def batch_ref(self) -> RegistryRef:
        return RegistryRef(self.kind, self.network, self._batches.deployment.registry)

    def batch_context(self) -> int:
        return attestation_context(self.adapter.chain_id, self._batches.deployment.registry, self.adapter.address)

    async def find_batch(self, root: int) -> BatchRecord | None:
        found = await _mapped(lambda: self._batches.find_own_batch(root))
        return None if found is None else _batch_record(found)

    async def read_batch(self, root: int) -> BatchRecord | None:
        found = await _mapped(lambda: self._batches.find_batch(root))
        return None if found is None else _batch_record(found)

    async def submit_batch(self, root: int, count: int, proof: Sequence[int]) -> BatchRecord:
        a, b, c = calldata.unflatten_proof(proof)
        try:
            sent = await _mapped(lambda: self._batches.submit_calldata(root, count, a, b, c))
        except StatementRejected as exc:
            cause = exc.__cause__
            if not (isinstance(cause, BatchReverted) and cause.error_name == "AlreadyAttested"):
                raise
            found = await self.find_batch(root)  # mined meanwhile: ours (adopted) or another's (ForeignRecord)
            if found is None:
                raise ChainAdapterError("the batch registry says the root is attested but has no record of it") from exc
            return found
        return _batch_record(sent)

    async def confirm_batch(self, record: BatchRecord, depth: int) -> BatchRecord:
        receipt = await _mapped(lambda: self.adapter.confirm(record.tx_id, record.height, depth))
        return dataclasses.replace(record, height=int(receipt["blockNumber"]), cost=int(receipt["gasUsed"]))

    async def revoke_leaf(self, root: int, index: int, reason: int) -> Submitted:
        return self._revoked(await _revocation(lambda: self._batches.revoke_leaf(root, index, reason)))

    async def revoke_batch(self, root: int, reason: int) -> Submitted:
        return self._revoked(await _revocation(lambda: self._batches.revoke_batch(root, reason)))

    async def revoke_batched_model(self, model_hash: bytes, reason: int) -> Submitted:
        """Revoke ``model_hash`` in the batch registry (owner only)."""
        return self._revoked(await _revocation(lambda: self._batches.revoke_model(model_hash, reason)))


def _hex(value: str | bytes) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()
