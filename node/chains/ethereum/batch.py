"""Batched attestations, on-chain side: deploy the batch registry and submit batches (async).

Same transaction pattern as :mod:`node.chains.ethereum.adapter`: transactions are built here, signed locally with
eth-account, sent raw with explicit gas limits (no estimation), and a revert is replayed with ``eth_call`` to
recover the registry's custom error, reported as :class:`BatchReverted` with the error's name.

A node shares its signing account between the single registry and the batch registry: build the submitter
with :meth:`BatchSubmitter.sharing` so both send through the adapter's lock and nonce counter.

Deployment = four contracts: a Groth16Verifier with the batch circuit's key (three public inputs: root, count,
context), the circomlibjs Poseidon hashers PoseidonT3 (nodes) and PoseidonT7 (leaves), and the
BatchAttestationRegistry bound to them.

Revocation (:meth:`BatchSubmitter.revoke_leaf`, :meth:`~BatchSubmitter.revoke_batch`,
:meth:`~BatchSubmitter.revoke_model`) raises the typed errors of :mod:`node.chains.ethereum.errors` like the single registry's
adapter: NotAuthorized (403), AlreadyRevoked (409), AttestationNotFound (404: unknown root or slot).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import AsyncWeb3
from web3.exceptions import ContractLogicError, Web3Exception

import contracts
from circuits.batch import BATCH_PUBLIC_INPUTS
from circuits.merkle import tree_depth
from prover.keys import Proof
from prover.solidity import proof_calldata

from node.chains.ethereum.calldata import model_hash_bytes
from node.chains.ethereum.errors import ChainConnectionError, ChainError
from node.chains.ethereum.fees import SignerCannotPay
from node.chains.ethereum.adapter import (
    revocation_reason,
    submitted_revocation,
)

#: Gas for one attestBatch (measured ~0.28 M on anvil: one 2-input Groth16 check, three storage slots).
ATTEST_BATCH_GAS = 450_000
#: Gas for deploying the registry (measured ~1.6 M with revocation).
BATCH_REGISTRY_DEPLOY_GAS = 2_500_000
#: Gas for one revokeLeaf / revokeBatch / revokeModel (measured ~0.05 M each on anvil).
BATCH_REVOKE_GAS = 100_000
#: Gas for deploying PoseidonT3 / PoseidonT7 (measured ~2.1 M / ~5.0 M; code is ~9.7 / ~23.6 kB).
POSEIDON_DEPLOY_GAS = {"PoseidonT3": 3_000_000, "PoseidonT7": 7_000_000}
#: Gas for deploying the 2-input verifier (3 IC points).
VERIFIER_DEPLOY_GAS = 1_500_000


class BatchClaim(Protocol):
    """What :meth:`BatchSubmitter.submit` needs of a batch proof (``node.pipeline.batching.BatchProof``)."""

    root: int
    count: int
    proof: Proof


class Inclusion(Protocol):
    """One prediction's place in a batch (``node.pipeline.batching.BatchInclusion``): leaf ``index`` of ``root``."""

    root: int
    index: int
    leaf: int
    path: tuple[int, ...]


class BatchChainError(ChainError):
    """The chain refused or could not be reached for a batch operation, or a batch registry call was malformed."""

    status = 502
    code = "batch_chain_error"


class BatchConnectionError(BatchChainError):
    """The RPC node could not be reached (retry later; nothing was recorded by this attempt)."""

    code = "chain_unreachable"


class BatchReverted(BatchChainError):
    """A batch transaction reverted; ``error_name`` is the registry's custom error (e.g. ``InvalidProof``)."""

    def __init__(self, message: str, error_name: str | None = None, error_args: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.error_args = error_args


class ForeignBatch(BatchChainError):
    """The registry already holds this batch root, attested by another account: never adopted as our own."""

    status = 409
    code = "foreign_attestation"


@dataclass(frozen=True)
class BatchDeployment:
    """Addresses of the four contracts and the gas each deployment used (0 when attached)."""

    verifier: str
    poseidon2: str
    poseidon6: str
    registry: str
    depth: int
    gas: Mapping[str, int]
    #: The registry's deployment block and transaction (0 / "" when attached without a known block).
    block: int = 0
    tx: str = ""


@dataclass(frozen=True)
class SubmittedBatch:
    """A mined, successful ``attestBatch``, sent by ``attester``."""

    batch_id: bytes
    root: int
    count: int
    tx_hash: str
    block_number: int
    gas_used: int
    attester: str


@dataclass(frozen=True)
class RevocationState:
    """One revocation record of the batch registry (slot, batch or model): (False, 0, 0) unless revoked."""

    revoked: bool
    revoked_at: int
    reason: int


@dataclass(frozen=True)
class LeafRevocationStatus:
    """Everything revoking one batched prediction: its slot, its batch and (when known) its model."""

    leaf: RevocationState
    batch: RevocationState
    model: RevocationState | None

    @property
    def revoked(self) -> bool:
        return self.leaf.revoked or self.batch.revoked or (self.model is not None and self.model.revoked)

    @property
    def scope(self) -> str | None:
        """"leaf", "batch" or "model": the narrowest revocation that applies, None when valid."""
        if self.leaf.revoked:
            return "leaf"
        if self.batch.revoked:
            return "batch"
        if self.model is not None and self.model.revoked:
            return "model"
        return None

    @property
    def deciding(self) -> RevocationState | None:
        return {"leaf": self.leaf, "batch": self.batch, "model": self.model}.get(self.scope or "")


def slot_id(root: int, index: int) -> bytes:
    """keccak256(abi.encode(root, index)): the registry's key of a slot's revocation (``slotId``)."""
    return keccak(root.to_bytes(32, "big") + index.to_bytes(32, "big"))


def batch_id(root: int, count: int) -> bytes:
    """keccak256(abi.encode(root, count)), as the registry computes it."""
    return keccak(root.to_bytes(32, "big") + count.to_bytes(32, "big"))


def _uint(value: object, what: str) -> int:
    from node.chains.ethereum.errors import CalldataError

    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
        raise CalldataError(f"{what} must be a uint256")
    return value


def _record_block(record: Any) -> int:
    """The block number stored in a ``getBatch`` record (a tuple or a dict, by web3's decoding)."""
    if isinstance(record, dict):
        return int(record["blockNumber"])
    return int(record[-1])


def _as_lists(value: object) -> Any:
    if isinstance(value, (tuple, list)):
        return [_as_lists(v) for v in value]
    return value


class BatchSubmitter:
    """Async writer for a BatchAttestationRegistry; one signing account, sends serialised by a lock."""

    def __init__(self, w3: AsyncWeb3, account: LocalAccount, chain_id: int, *, attest_gas: int = ATTEST_BATCH_GAS):
        self.w3 = w3
        self.account = account
        self.chain_id = chain_id
        self.attest_gas = attest_gas
        self._deployment: BatchDeployment | None = None
        self._abi = contracts.abi("BatchAttestationRegistry")
        self._adapter: Any = None
        self._owns_adapter = False

    @classmethod
    def sharing(cls, adapter: Any, *, attest_gas: int = ATTEST_BATCH_GAS) -> BatchSubmitter:
        """A submitter that sends through ``adapter`` (a :class:`node.chains.ethereum.adapter.EthereumAdapter`): same account,
        one nonce counter and one send lock for both registries. Closing it leaves the adapter open."""
        submitter = cls(adapter.w3, adapter.account, adapter.chain_id, attest_gas=attest_gas)
        submitter._adapter = adapter
        return submitter

    @classmethod
    async def connect(cls, rpc_url: str, private_key: str, *, attest_gas: int = ATTEST_BATCH_GAS) -> BatchSubmitter:
        """Connect to a JSON-RPC node over HTTP, signing with ``private_key`` (through an EthereumAdapter it owns)."""
        from node.chains.ethereum.errors import ChainError
        from node.chains.ethereum.adapter import EthereumAdapter

        try:
            adapter = await EthereumAdapter.connect(rpc_url, private_key)
        except ChainError as exc:
            raise BatchChainError(str(exc)) from exc
        submitter = cls.sharing(adapter, attest_gas=attest_gas)
        submitter._owns_adapter = True
        return submitter

    async def close(self) -> None:
        """Close the adapter if this submitter opened it (``connect``); a shared one stays open."""
        if self._owns_adapter:
            await self._adapter.close()

    @property
    def deployment(self) -> BatchDeployment:
        if self._deployment is None:
            raise BatchChainError("no batch registry deployed or attached")
        return self._deployment

    @property
    def registry(self) -> Any:
        """The web3 contract object of the deployed registry (for calls)."""
        return self.w3.eth.contract(address=self.deployment.registry, abi=self._abi)

    # ------------------------------------------------------------------ deployment

    async def _deploy(self, name: str, args: Sequence[object], gas: int) -> tuple[str, int]:
        address, gas_used, _ = await self._deploy_receipt(name, args, gas)
        return address, gas_used

    async def _deploy_receipt(self, name: str, args: Sequence[object], gas: int) -> tuple[str, int, Mapping[str, Any]]:
        art = contracts.artifact(name)
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        data = factory.constructor(*_as_lists(args)).data_in_transaction if args else art["bytecode"]
        receipt = await self._transact(None, data, gas, f"{name} deployment")
        return str(receipt["contractAddress"]), int(receipt["gasUsed"]), receipt

    async def deploy(
        self, vk_calldata: Sequence[object], size: int, *, hashers: tuple[str, str] | None = None
    ) -> BatchDeployment:
        """Deploy a verifier for ``vk_calldata`` (alpha, beta, gamma, delta, ic; three public inputs), the Poseidon
        hashers (unless ``hashers`` = (PoseidonT3, PoseidonT7) addresses are given) and a registry for ``size`` slots.

        Returns once the registry is the adapter's ``deploy_confirmations`` deep with its block canonical and every
        contract's code present; a deployment reorged out meanwhile is redone."""
        try:
            return await self._adapter.deploy_confirmed(  # type: ignore[no-any-return]
                lambda: self._deploy_all(vk_calldata, size, hashers),
                lambda d: (d.tx, d.block, (d.verifier, d.poseidon2, d.poseidon6, d.registry)), "batch registry")
        except BatchChainError:
            raise
        except ChainConnectionError as exc:
            raise BatchConnectionError(str(exc)) from exc
        except ChainError as exc:
            raise BatchChainError(str(exc)) from exc

    async def _deploy_all(self, vk_calldata: Sequence[object], size: int,
                          hashers: tuple[str, str] | None) -> BatchDeployment:
        depth = tree_depth(size)
        if len(vk_calldata) != 5 or len(vk_calldata[4]) != len(BATCH_PUBLIC_INPUTS) + 1:  # type: ignore[arg-type]
            raise BatchChainError("the batch registry needs a verifying key for exactly three public inputs "
                             "(root, count, context)")
        gas: dict[str, int] = {}
        verifier, gas["Groth16Verifier"] = await self._deploy("Groth16Verifier", vk_calldata, VERIFIER_DEPLOY_GAS)
        if hashers is None:
            poseidon2, gas["PoseidonT3"] = await self._deploy("PoseidonT3", (), POSEIDON_DEPLOY_GAS["PoseidonT3"])
            poseidon6, gas["PoseidonT7"] = await self._deploy("PoseidonT7", (), POSEIDON_DEPLOY_GAS["PoseidonT7"])
        else:
            poseidon2, poseidon6 = (AsyncWeb3.to_checksum_address(h) for h in hashers)
        registry, gas["BatchAttestationRegistry"], receipt = await self._deploy_receipt(
            "BatchAttestationRegistry", (verifier, poseidon2, poseidon6, depth), BATCH_REGISTRY_DEPLOY_GAS
        )
        self._deployment = BatchDeployment(verifier, poseidon2, poseidon6, registry, depth, gas,
                                           int(receipt["blockNumber"]), HexBytes(receipt["transactionHash"]).to_0x_hex())
        return self._deployment

    async def attach(self, registry: str, *, block: int | None = None) -> BatchDeployment:
        """Use an already deployed registry (reads its verifier, hashers and depth); ``block``: where it was deployed,
        if known (event queries start there); None: found from the chain (``EthereumAdapter.deployment_block``)."""
        address = AsyncWeb3.to_checksum_address(registry)
        contract = self.w3.eth.contract(address=address, abi=self._abi)
        try:
            verifier = await contract.functions.verifier().call()
            poseidon2, poseidon6 = await contract.functions.hashers().call()
            depth = await contract.functions.treeDepth().call()
        except (ContractLogicError, Web3Exception) as exc:
            raise BatchChainError(f"{address} does not answer like a BatchAttestationRegistry") from exc
        start = block if block is not None else (
            await self._adapter.deployment_block(address) if self._adapter is not None else 0)
        self._deployment = BatchDeployment(str(verifier), str(poseidon2), str(poseidon6), address, int(depth), {}, start)
        return self._deployment

    # ------------------------------------------------------------------ batches

    async def submit(self, batch: BatchClaim, *, root: int | None = None, count: int | None = None) -> SubmittedBatch:
        """Send ``attestBatch`` for the proof; returns once mined. ``root`` / ``count`` override the claimed public
        inputs (a tampered claim is rejected by the registry: BatchReverted with error_name ``InvalidProof``)."""
        a, b, c = proof_calldata(batch.proof)
        return await self.submit_calldata(batch.root if root is None else root, batch.count if count is None else count,
                                          a, b, c)

    async def submit_calldata(self, claim_root: int, claim_count: int, a: Sequence[int], b: Sequence[Sequence[int]],
                              c: Sequence[int]) -> SubmittedBatch:
        """:meth:`submit` with the proof as calldata (a[2], b[2][2], c[2]; EIP-197 order)."""
        data = self.registry.encode_abi("attestBatch", args=[claim_root, claim_count, _as_lists(a), _as_lists(b),
                                                             _as_lists(c)])
        receipt = await self._transact(self.deployment.registry, data, self.attest_gas, "attestBatch")
        expected = batch_id(claim_root, claim_count)
        events = self.registry.events.BatchAttested().process_receipt(receipt)
        if len(events) != 1 or bytes(events[0]["args"]["batchId"]) != expected:
            raise BatchChainError("the registry did not emit the expected BatchAttested event")
        return SubmittedBatch(
            batch_id=expected,
            root=claim_root,
            count=claim_count,
            tx_hash=HexBytes(receipt["transactionHash"]).to_0x_hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            attester=str(self.account.address),
        )

    async def is_batch_root(self, root: int) -> bool:
        """The registry's ``isBatchRoot`` view."""
        return bool(await self.registry.functions.isBatchRoot(root).call())

    async def find_batch(self, root: int) -> SubmittedBatch | None:
        """The recorded batch with ``root`` (from its BatchAttested event and receipt), or None if not recorded:
        what a node adopts instead of sending again after a crash between sending and storing the receipt, when
        it is its own (compare ``attester``: :meth:`find_own_batch`)."""
        if not await self.is_batch_root(root):
            return None
        ident = bytes(await self.registry.functions.batchIdOf(root).call())
        _, record = await self.registry.functions.getBatch(ident).call()
        event = self.registry.events.BatchAttested()
        topic = event.topic if isinstance(event.topic, str) else HexBytes(event.topic).to_0x_hex()
        head = int(await self.w3.eth.block_number)
        entry = await self._adapter.logs.find_first(self.deployment.registry, [topic, "0x" + ident.hex()],
                                                    self.deployment.block, head, hint_block=_record_block(record))
        if entry is None:
            return None
        found = event.process_log(entry)
        receipt = await self.w3.eth.get_transaction_receipt(found["transactionHash"])
        return SubmittedBatch(
            batch_id=ident,
            root=int(found["args"]["root"]),
            count=int(found["args"]["count"]),
            tx_hash=HexBytes(found["transactionHash"]).to_0x_hex(),
            block_number=int(found["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            attester=str(found["args"]["attester"]),
        )

    async def find_own_batch(self, root: int) -> SubmittedBatch | None:
        """:meth:`find_batch`, only when this submitter's account attested it; another account's batch with the same
        root raises :class:`ForeignBatch` (reported, never adopted)."""
        found = await self.find_batch(root)
        if found is not None and found.attester.lower() != str(self.account.address).lower():
            raise ForeignBatch(f"batch root {root} is already recorded by another account, {found.attester} "
                               f"(tx {found.tx_hash}); not adopted")
        return found

    async def verify_inclusion(self, inclusion: Inclusion) -> bool:
        """The registry's ``verifyInclusion`` view for one prediction's leaf and path."""
        fn = self.registry.functions.verifyInclusion(
            inclusion.root, inclusion.leaf, inclusion.index, list(inclusion.path)
        )
        return bool(await fn.call())

    async def is_attested_leaf(self, attester: str, statement: Sequence[int], inclusion: Inclusion) -> bool:
        """The registry's ``isAttestedLeafBy`` view: ``statement`` is a prediction's six statement values
        (model_hash_hi, model_hash_lo, input_digest, prediction_digest, predicted_class, explanation_digest),
        attested in a batch of ``attester``."""
        hi, lo, in_digest, pred_digest, cls, expl_digest = statement
        model_hash = (hi << 128 | lo).to_bytes(32, "big")
        fn = self.registry.functions.isAttestedLeafBy(
            AsyncWeb3.to_checksum_address(attester), inclusion.root, model_hash, in_digest, pred_digest, cls,
            expl_digest, inclusion.index, list(inclusion.path)
        )
        return bool(await fn.call())

    # ------------------------------------------------------------------ revocation

    async def revoke_leaf(self, root: int, index: int, reason: int = 0) -> Any:
        """Revoke prediction ``index`` of batch ``root`` (the signer must be the batch's attester or the owner).
        Returns a :class:`node.chains.ethereum.adapter.SubmittedRevocation` whose target is the slot id."""
        from node.chains.ethereum.errors import ContractMismatch

        code = revocation_reason(reason)
        receipt = await self._revoke("revokeLeaf", [_uint(root, "root"), _uint(index, "index"), code])
        events = self.registry.events.LeafRevoked().process_receipt(receipt)
        if len(events) != 1 or int(events[0]["args"]["root"]) != root or int(events[0]["args"]["index"]) != index:
            raise ContractMismatch("the batch registry did not emit the expected LeafRevoked event")
        return submitted_revocation(slot_id(root, index), reason, receipt)

    async def revoke_batch(self, root: int, reason: int = 0) -> Any:
        """Revoke every prediction of batch ``root`` (its attester or the owner); the target is the batch id."""
        from node.chains.ethereum.errors import ContractMismatch

        receipt = await self._revoke("revokeBatch", [_uint(root, "root"), revocation_reason(reason)])
        events = self.registry.events.BatchRevoked().process_receipt(receipt)
        if len(events) != 1 or int(events[0]["args"]["root"]) != root:
            raise ContractMismatch("the batch registry did not emit the expected BatchRevoked event")
        return submitted_revocation(bytes(events[0]["args"]["batchId"]), reason, receipt)

    async def revoke_model(self, model_hash: bytes, reason: int = 1) -> Any:
        """Revoke every prediction of ``model_hash``, past and future, in the batch registry (owner only)."""
        from node.chains.ethereum.errors import ContractMismatch

        model_hash = model_hash_bytes(model_hash)
        receipt = await self._revoke("revokeModel", [model_hash, revocation_reason(reason)])
        events = self.registry.events.ModelRevoked().process_receipt(receipt)
        if len(events) != 1 or bytes(events[0]["args"]["modelHash"]) != model_hash:
            raise ContractMismatch("the batch registry did not emit the expected ModelRevoked event")
        return submitted_revocation(model_hash, reason, receipt)

    async def owner(self) -> str:
        """The registry owner (may revoke anything)."""
        return str(await self.registry.functions.owner().call())

    async def leaf_revocation(self, root: int, index: int) -> RevocationState:
        return RevocationState(*await self.registry.functions.leafRevocation(root, index).call())

    async def batch_revocation(self, root: int) -> RevocationState:
        return RevocationState(*await self.registry.functions.batchRevocation(root).call())

    async def model_revocation(self, model_hash: bytes) -> RevocationState:
        return RevocationState(*await self.registry.functions.modelRevocation(bytes(model_hash)).call())

    async def revocation_status(self, root: int, index: int, model_hash: bytes | None = None) -> LeafRevocationStatus:
        """The slot's, its batch's and (given ``model_hash``) its model's revocation."""
        model = None if model_hash is None else await self.model_revocation(model_hash)
        return LeafRevocationStatus(await self.leaf_revocation(root, index), await self.batch_revocation(root), model)

    async def is_valid_leaf(self, attester: str, inclusion: Inclusion) -> bool:
        """The registry's ``isValidLeafBy`` view: a batch of ``attester``, included, neither the slot nor its batch
        revoked."""
        fn = self.registry.functions.isValidLeafBy(AsyncWeb3.to_checksum_address(attester), inclusion.root,
                                                   inclusion.leaf, inclusion.index, list(inclusion.path))
        return bool(await fn.call())

    async def _revoke(self, fn: str, args: list[object]) -> Mapping[str, Any]:
        """Send a revocation; typed chain errors (NotAuthorized, AlreadyRevoked, ...) pass through, and an unknown
        root or slot becomes AttestationNotFound."""
        from node.chains.ethereum.errors import (
            AttestationNotFound,
            TransactionReverted,
        )

        data = self.registry.encode_abi(fn, args=args)
        try:
            sent = await self._adapter.send(self.deployment.registry, data, BATCH_REVOKE_GAS, fn)
        except TransactionReverted as exc:
            if exc.error_name == "UnknownRoot":
                raise AttestationNotFound(f"no batch with root {args[0]} on the batch registry") from exc
            if exc.error_name == "IndexOutOfRange":
                raise AttestationNotFound(f"batch {args[0]} has no prediction {args[1]}") from exc
            raise
        return sent.receipt  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ transactions

    async def _transact(self, to: str | None, data: str, gas: int, what: str) -> Mapping[str, Any]:
        """Send through the adapter (one signing path for both registries); its typed chain errors become batch errors (the custom-error names are
        the same: InvalidProof, AlreadyAttested, FieldOverflow; unknown selectors are decoded here)."""
        from node.chains.ethereum.errors import (
            ChainConnectionError,
            ChainError,
            TransactionReverted,
        )

        try:
            sent = await self._adapter.send(to, data, gas, what)
        except ChainConnectionError as exc:
            raise BatchConnectionError(str(exc)) from exc
        except TransactionReverted as exc:
            raise BatchReverted(str(exc), exc.error_name, exc.error_args) from exc
        except SignerCannotPay:
            raise  # the chain adapter reports it as SignerUnfunded
        except ChainError as exc:
            raise BatchChainError(str(exc)) from exc
        return sent.receipt  # type: ignore[no-any-return]
