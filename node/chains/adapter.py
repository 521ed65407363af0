"""The chain adapter contract: what the pipeline, the deployments table and ``zkxai verify`` may ask of any chain.

Every chain (``ethereum``, ``aleo``, ``icp``) implements :class:`ChainAdapter` for writers (the node) and
:class:`RecordReader` for verifiers. The pipeline knows chains only through these two protocols and the frozen
values below; a chain subpackage keeps its wire formats, keys and typed errors to itself (errors derive from
:class:`ChainAdapterError`, whose subclasses here are the ones the pipeline acts on).

The proven statement is chain-independent (:class:`Statement`: the model hash and the three salted digests and the
class); what binds a proof to one place is its context public input (:mod:`node.chains.binding`): each adapter says
which context a proof submitted through it must carry (:meth:`ChainAdapter.context`), so a node proves once per
target chain. Chains that verify the Groth16 proof themselves (Ethereum) recompute the context on chain; the others
(Aleo, ICP) record the statement, the proof's keccak and the attester, and a verifier recomputes the context from
the record it reads back (certified, for ICP) and checks the proof off-chain against the key it pinned.

Optional capabilities, typed so the pipeline asks for them by name and a chain without one is refused with a clear
error (never a missing attribute at run time):

- :class:`BatchChain` (``supports_batches = True``): batch mode, one record per batch root (submit, find for
  idempotency, confirm at depth, revoke a leaf or a whole batch, read back). Ethereum implements it; Aleo and ICP
  declare ``supports_batches = False`` and :func:`batch_chain` raises :class:`BatchesUnsupported` naming the chain.
- :class:`DeployingChain`: a registry the node deploys itself and the store remembers (:mod:`node.store.deployments`
  records the :class:`RegistryDeployment` it returns). Ethereum implements it; Aleo and ICP attach to a configured
  program / canister through :meth:`ChainAdapter.attach_or_deploy`.
- :class:`ModelRevoking` / :class:`BatchModelRevoking`: revoke every record of a model in the single / batch registry
  (the registry owner). Ethereum implements both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast, runtime_checkable

from prover.keys import Proof
from prover.solidity import proof_calldata

from node.errors import NodeError

#: The chains zkxai speaks to (``[chains] targets`` in zkxai.toml).
CHAIN_KINDS: tuple[str, ...] = ("ethereum", "aleo", "icp")


class ChainAdapterError(NodeError):
    """Root of the errors a chain adapter raises to the pipeline."""

    status = 502
    code = "chain_error"


class ChainUnavailable(ChainAdapterError):
    """The chain's endpoint cannot be reached now: retry later (nothing was recorded by this attempt)."""

    code = "chain_unreachable"


class SignerUnfunded(ChainUnavailable):
    """The signing account cannot pay for a transaction at the current fees: nothing is sent until it is funded
    (a stop with a reason, reported by :class:`FundedSigner` to ``/readyz``; not counted as a failed attempt)."""

    status = 503
    code = "signer_unfunded"


class StatementRejected(ChainAdapterError):
    """The chain refused the statement for good (bad proof, revoked model, malformed input): do not retry."""

    code = "statement_rejected"


class ForeignRecord(ChainAdapterError):
    """The chain already holds this statement, recorded by another attester: reported, never adopted."""

    status = 409
    code = "foreign_attestation"


class Dropped(ChainAdapterError):
    """A submission seen earlier is no longer on the canonical chain (reorg): submit again."""

    code = "dropped"


class AlreadyRevoked(ChainAdapterError):
    """The record (or batch, slot, model) is revoked already."""

    status = 409
    code = "already_revoked"


class NotAuthorized(ChainAdapterError):
    """This attester may not do that (revoke another attester's record, an owner-only call)."""

    status = 403
    code = "not_authorized"


class RecordNotFound(ChainAdapterError):
    """No such record on the chain (unknown attestation id, batch root or slot)."""

    status = 404
    code = "attestation_not_found"


class BatchesUnsupported(ChainAdapterError):
    """Batch mode asked of a chain that has no batch registry (see :func:`batch_chain`)."""

    status = 400
    code = "batches_unsupported"


class RegistryMismatch(ChainAdapterError):
    """An address given as a registry does not answer like this chain's zkxai registry (or batch registry)."""

    code = "contract_mismatch"


def proof_words(proof: Proof) -> tuple[int, ...]:
    """The eight words every adapter takes a Groth16 proof as: a0, a1, b00, b01, b10, b11, c0, c1 (EIP-197 order,
    the Ethereum registry's ``Attested`` event order)."""
    a, b, c = proof_calldata(proof)
    return (a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1])


@dataclass(frozen=True)
class Statement:
    """One proven prediction, as every chain records it (the six statement values of the circuit, the model hash
    whole)."""

    model_hash: bytes
    input_digest: int
    prediction_digest: int
    predicted_class: int
    explanation_digest: int


@dataclass(frozen=True)
class RegistryRef:
    """Where a chain's registry lives: ``network`` is the chain id (Ethereum), the network name (Aleo:
    ``mainnet``/``testnet``), or the replica's root-key digest (ICP); ``registry`` the contract address, the
    program id or the canister id; ``origin`` ``configured`` | ``recorded`` | ``deployed``."""

    chain: str
    network: str
    registry: str
    origin: str = "deployed"


@dataclass(frozen=True)
class Submitted:
    """A statement recorded on a chain (mined / finalized / certified), by ``attester``."""

    chain: str
    attestation_id: str
    tx_id: str
    height: int
    attester: str
    cost: int = 0


@dataclass(frozen=True)
class OnchainRecord:
    """A record read back for a verifier: the statement, who recorded it, where, its proof words and revocation."""

    ref: RegistryRef
    attestation_id: str
    statement: Statement
    attester: str
    height: int
    tx_id: str
    proof: Sequence[int]
    revoked: bool
    revocation_reason: int
    confirmations: int


@dataclass(frozen=True)
class RegistryDeployment:
    """A registry a node deployed or attached to, as the deployments table records it: ``ref`` (chain, network,
    address, origin), the verifier contract holding the proving key's verifying key, the block it was deployed in
    (0 when unknown), the deploying transaction, the batch tree depth (0 for the single registry) and the gas each
    deployed contract used (empty when attached)."""

    ref: RegistryRef
    verifier: str
    block: int = 0
    tx_id: str | None = None
    depth: int = 0
    gas: Mapping[str, int] = field(default_factory=dict)

    @property
    def registry(self) -> str:
        return self.ref.registry


@dataclass(frozen=True)
class BatchRecord:
    """A batch root recorded on a chain (one record for ``count`` predictions), by ``attester``; ``batch_id`` is the
    chain's id of the batch (Ethereum: keccak(root, count))."""

    chain: str
    batch_id: str
    root: int
    count: int
    tx_id: str
    height: int
    attester: str
    cost: int = 0


@runtime_checkable
class ChainAdapter(Protocol):
    """A node's writer for one chain; one signing identity, sends serialised by the adapter."""

    kind: str
    #: Whether the chain implements :class:`BatchChain` (batch mode as the primary chain).
    supports_batches: bool

    @property
    def attester(self) -> str:
        """The identity records are made by (an address, an Aleo address or an ICP principal, as text)."""
        ...

    async def attach_or_deploy(self, configured: str | None) -> RegistryRef:
        """Attach to ``configured`` (checked: it is this chain's zkxai registry) or deploy one."""
        ...

    def context(self) -> int:
        """The context public input a proof submitted through this adapter must carry (:mod:`node.chains.binding`)."""
        ...

    async def find(self, statement: Statement) -> Submitted | None:
        """This attester's record of ``statement`` (idempotent resubmission), None if absent; raises
        :class:`ForeignRecord` if another attester holds it."""
        ...

    async def submit(self, statement: Statement, proof: Sequence[int]) -> Submitted:
        """Record ``statement`` with its proof words (a0, a1, b00, b01, b10, b11, c0, c1; EIP-197 order); returns
        once included. Raises ChainUnavailable (retry), StatementRejected (final), ForeignRecord."""
        ...

    async def confirm(self, submitted: Submitted, depth: int) -> Submitted:
        """Wait until ``submitted`` is ``depth`` deep / final; raises :class:`Dropped` if it was reorged out."""
        ...

    async def revoke(self, attestation_id: str, reason: int) -> Submitted:
        """Revoke this attester's record with a reason code."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class BatchChain(ChainAdapter, Protocol):
    """Batch mode on one chain: a batch registry recording Merkle roots of many predictions, each proved by one
    Groth16 proof with public inputs (root, count, context). Errors as for single records: ChainUnavailable (retry),
    StatementRejected (final), ForeignRecord (another attester's root), Dropped (reorged out), AlreadyRevoked,
    NotAuthorized, RecordNotFound (revocation)."""

    @property
    def batch_ref(self) -> RegistryRef:
        """The batch registry this adapter records batches in (deployed or attached first)."""
        ...

    def batch_context(self) -> int:
        """The context public input of a batch proof submitted through this adapter."""
        ...

    async def find_batch(self, root: int) -> BatchRecord | None:
        """This attester's record of the batch ``root`` (idempotent resubmission), None if absent; raises
        :class:`ForeignRecord` if another attester recorded it."""
        ...

    async def submit_batch(self, root: int, count: int, proof: Sequence[int]) -> BatchRecord:
        """Record batch ``root`` of ``count`` predictions with its proof words (EIP-197 order); returns once included.
        A record this attester made meanwhile is returned instead."""
        ...

    async def confirm_batch(self, record: BatchRecord, depth: int) -> BatchRecord:
        """Wait until ``record`` is ``depth`` deep / final; raises :class:`Dropped` if it was reorged out."""
        ...

    async def revoke_leaf(self, root: int, index: int, reason: int) -> Submitted:
        """Revoke prediction ``index`` of batch ``root`` (``attestation_id`` of the result: the slot's id)."""
        ...

    async def revoke_batch(self, root: int, reason: int) -> Submitted:
        """Revoke every prediction of batch ``root`` (``attestation_id`` of the result: the batch id)."""
        ...

    async def read_batch(self, root: int) -> BatchRecord | None:
        """The record of batch ``root`` by whichever attester made it, None if the chain holds none."""
        ...


def batch_chain(adapter: ChainAdapter) -> BatchChain:
    """``adapter`` as a :class:`BatchChain`; :class:`BatchesUnsupported` naming the chain when it has no batches."""
    # the flag, not isinstance: a runtime protocol check would evaluate batch_ref before a registry is attached
    if not getattr(adapter, "supports_batches", False):
        raise BatchesUnsupported(f"the {adapter.kind} chain does not support batch mode (attestation_mode = \"batch\" "
                                 "needs a chain with a batch registry: ethereum)")
    return cast(BatchChain, adapter)


#: A check run before every transaction (cluster mode): returns the current fencing token or raises (the send is
#: not made); a token other than the last one seen makes the adapter re-read the account's nonce from the chain.
SendGuard = Callable[[], Awaitable[int]]


@runtime_checkable
class Fenced(Protocol):
    """A chain whose sends can be fenced (several replicas, one signer at a time: node.pipeline.cluster)."""

    def fence(self, guard: SendGuard | None) -> None:
        """Run ``guard`` before every transaction of this account (None: no check)."""


@runtime_checkable
class ModelRevoking(Protocol):
    """Revoking every record of a model, past and future (the registry owner only)."""

    kind: str

    async def revoke_model(self, model_hash: bytes, reason: int) -> Submitted:
        """Revoke ``model_hash`` in the single registry (``attestation_id`` of the result: the model hash)."""
        ...


@runtime_checkable
class BatchModelRevoking(Protocol):
    """Revoking every record of a model in a chain's batch registry (the registry owner only)."""

    kind: str

    async def revoke_batched_model(self, model_hash: bytes, reason: int) -> Submitted:
        """Revoke ``model_hash`` in the batch registry (``attestation_id`` of the result: the model hash)."""
        ...


@runtime_checkable
class FundedSigner(Protocol):
    """A chain whose signer pays fees: :meth:`funding_problem` says why it cannot pay now (None when it can), for
    ``/readyz`` and the submit stage's stop. Ethereum implements it."""

    kind: str

    async def funding_problem(self) -> str | None:
        """None when the signer can pay for its next transaction at current fees, else the reason (balance, need)."""
        ...


@runtime_checkable
class DeployingChain(Protocol):
    """A chain whose registries the node deploys itself, and the deployments table remembers by ``network`` and
    ``genesis()`` (Ethereum: chain id and genesis block hash); :mod:`node.store.deployments` decides whether to attach
    (configured / recorded) or deploy, this protocol does it."""

    kind: str

    @property
    def network(self) -> str:
        """The network the records are kept under (Ethereum: the chain id, decimal)."""
        ...

    @property
    def embedded(self) -> bool:
        """An in-process development chain: its state is lost at exit, deployments are never reused."""
        ...

    @property
    def attester(self) -> str: ...

    async def height(self) -> int:
        """The chain's latest block height (readiness)."""
        ...

    async def genesis(self) -> str:
        """The chain's identity beyond ``network`` (its first block's hash): a reset chain has another."""
        ...

    async def registry_exists(self, address: str) -> bool:
        """Whether ``address`` holds code on this chain."""
        ...

    async def holds_key(self, verifier: str, vk_calldata: Sequence[object]) -> bool:
        """Whether the verifier at ``verifier`` holds the verifying key ``vk_calldata``."""
        ...

    async def deploy_registry(self, vk_calldata: Sequence[object], batch_size: int | None = None) -> RegistryDeployment:
        """Deploy the single registry (``batch_size`` None) or a batch registry for ``batch_size`` slots, with a
        verifier for ``vk_calldata``; the adapter uses it from then on."""
        ...

    async def attach_registry(self, address: str, *, batch: bool = False,
                              block: int | None = None) -> RegistryDeployment:
        """Use the (batch) registry at ``address``: checked to answer like one (:class:`RegistryMismatch`); ``block``:
        its deployment block when recorded, None when unknown (a chain that can find it does)."""
        ...


@runtime_checkable
class PrimaryChain(ChainAdapter, DeployingChain, Protocol):
    """The chain a node's single (and, with batches, batch) attestations go to: a :class:`ChainAdapter` whose registry
    the node deploys and remembers (:class:`DeployingChain`)."""


@runtime_checkable
class RegistryFamily(Protocol):
    """A chain on which one account attests in several registries (a model's proven level has its own verifier key,
    hence its own registry): :meth:`sibling` is a :class:`PrimaryChain` with no registry yet, sharing the account
    (one nonce counter), to deploy or attach one. Ethereum implements it."""

    kind: str

    def sibling(self) -> PrimaryChain:
        ...


def registry_family(chain: object) -> RegistryFamily:
    """``chain`` as a :class:`RegistryFamily`; :class:`ChainAdapterError` naming the chain when it has none."""
    if not isinstance(chain, RegistryFamily):
        err = ChainAdapterError(f"the {getattr(chain, 'kind', '?')} chain cannot hold a registry per model: proven "
                                "levels need an EVM chain (ethereum)")
        err.status, err.code = 400, "levels_unsupported"
        raise err
    return chain


@runtime_checkable
class RecordReader(Protocol):
    """A verifier's reader for one chain (light install: no torch, no aiohttp server)."""

    kind: str

    def read(self, ref: RegistryRef, attestation_id: str) -> OnchainRecord:
        """The record, checked as far as the chain allows (ICP: certificate down to the pinned root key)."""
        ...
