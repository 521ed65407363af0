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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class ChainAdapter(Protocol):
    """A node's writer for one chain; one signing identity, sends serialised by the adapter."""

    kind: str

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
class RecordReader(Protocol):
    """A verifier's reader for one chain (light install: no torch, no aiohttp server)."""

    kind: str

    def read(self, ref: RegistryRef, attestation_id: str) -> OnchainRecord:
        """The record, checked as far as the chain allows (ICP: certificate down to the pinned root key)."""
        ...
