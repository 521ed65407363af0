"""The ICP chain adapter: :class:`IcpAdapter` (the node's writer) and :class:`IcpReader` (a verifier's reader).

The registry canister (contracts/icp) records statements with their proof words and the caller principal; it
cannot check a Groth16 proof (no BN254 pairing on the IC), so the context a proof must carry is
``chain_context("icp", SHA-256(root key DER) hex, canister id text, caller principal text)`` and verifiers check
the proof off-chain against the record read back *certified*: every record this module returns was verified from
the certificate down to the configured root key (:mod:`.registry_view`). An IC update is final once certified:
``confirm`` re-reads the certified record (``depth`` has no meaning there).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence

from node.chains.binding import chain_context
from node.chains.adapter import (
    ChainAdapterError,
    ChainUnavailable,
    Dropped,
    ForeignRecord,
    OnchainRecord,
    RegistryRef,
    Statement,
    StatementRejected,
    Submitted,
)
from node.chains.icp import candid
from node.chains.icp.agent import IcAgent
from node.chains.icp.errors import CandidError, CertificateError, ReplicaError, ReplicaUnreachable
from node.chains.icp.hashtree import LookupStatus
from node.chains.icp.principal import Principal
from node.chains.icp.registry_candid import (
    ATTEST_ARGS, BATCH_ARGS, ID_ARGS, NAMES, REVOKE_ARGS,
)
from node.chains.icp.registry_record import IcpStatement, RegistryRecord, proof_bytes, proof_words
from node.chains.icp.registry_view import verify_view

KIND = "icp"


class RegistryMismatch(ChainAdapterError):
    """The configured canister is not a zkxai registry built from the committed wasm (certified module hash)."""

    code = "icp_not_a_registry"


def network_of(root_key_der: bytes) -> str:
    """The ``network`` of an ICP registry: the hex SHA-256 of the root key DER (mainnet, or a local replica's)."""
    return hashlib.sha256(root_key_der).hexdigest()


def _icp_statement(statement: Statement) -> IcpStatement:
    return IcpStatement(statement.model_hash, statement.input_digest, statement.prediction_digest,
                        statement.predicted_class, statement.explanation_digest)


def _id_bytes(attestation_id: str) -> bytes:
    try:
        raw = bytes.fromhex(attestation_id.removeprefix("0x"))
    except ValueError:
        raise StatementRejected(f"attestation id is not hex: {attestation_id!r}") from None
    if len(raw) != 32:
        raise StatementRejected("an ICP attestation id is 32 bytes")
    return raw


def read_certified(agent: IcAgent, canister_id: bytes, attestation_id: bytes) -> RegistryRecord | None:
    """The record with ``attestation_id``, verified from the certificate down; None when the canister has none."""
    reply = agent.query(canister_id, "get_attestation", candid.encode(list(ID_ARGS), [attestation_id]))
    try:
        (view,) = candid.decode(reply, NAMES)
    except (CandidError, ValueError) as exc:
        raise ReplicaError(f"get_attestation: undecodable reply: {exc}") from exc
    if view is None:
        return None
    return verify_view(view, agent, canister_id, attestation_id)


def _err_text(err: dict) -> str:
    (tag, value), = err.items()
    return f"{tag}: {value}" if value is not None else str(tag)


class IcpAdapter:
    """The node's writer for one registry canister, one Ed25519 identity (the attester principal)."""

    kind = KIND
    #: No batch registry on this chain: batch mode needs ethereum as the primary chain (the contract's
    #: :func:`~node.chains.adapter.batch_chain` refuses this adapter with BatchesUnsupported).
    supports_batches = False

    def __init__(self, agent: IcAgent, *, expected_module_hash: bytes | None = None) -> None:
        if agent.identity is None:
            raise ValueError("the ICP adapter needs an identity")
        self.agent = agent
        self.expected_module_hash = expected_module_hash
        self.network = network_of(agent.root_key_der)
        self.canister: Principal | None = None
        self._lock = asyncio.Lock()

    @property
    def attester(self) -> str:
        return self.agent.identity.principal.to_text()  # type: ignore[union-attr]

    def _cid(self) -> bytes:
        if self.canister is None:
            raise ChainAdapterError("attach_or_deploy first")
        return self.canister.raw

    async def _run(self, fn, *args):
        try:
            return await asyncio.to_thread(fn, *args)
        except ReplicaUnreachable as exc:
            raise ChainUnavailable(str(exc)) from exc
        except ReplicaError as exc:
            if exc.http_status is not None and exc.http_status >= 500:
                raise ChainUnavailable(str(exc)) from exc
            raise

    async def attach_or_deploy(self, configured: str | None) -> RegistryRef:
        """Attach to the configured canister after checking its certified module hash is the committed wasm's.

        Deploying needs cycles and a controller (``dfx deploy``, see the README), so it is not done here."""
        if configured is None:
            raise ChainAdapterError("ICP: configure the registry canister id ([icp] canister); deploy it with dfx")
        canister = Principal.from_text(configured)
        if self.expected_module_hash is not None:
            cert = await self._run(self.agent.read_state, canister.raw, [[b"canister", canister.raw, b"module_hash"]])
            found = cert.lookup([b"canister", canister.raw, b"module_hash"])
            if found.status is not LookupStatus.FOUND or found.value != self.expected_module_hash:
                raise RegistryMismatch(f"canister {configured} does not run the committed registry wasm")
        self.canister = canister
        return RegistryRef(KIND, self.network, configured, origin="configured")

    def context(self) -> int:
        return chain_context(KIND, self.network, self.canister.to_text() if self.canister else "", self.attester)

    def _submitted(self, record: RegistryRecord, tx_id: str = "") -> Submitted:
        return Submitted(KIND, "0x" + record.attestation_id.hex(), tx_id, record.index, record.attester.to_text())

    async def find(self, statement: Statement) -> Submitted | None:
        record = await self._run(read_certified, self.agent, self._cid(), _icp_statement(statement).attestation_id())
        if record is None:
            return None
        if record.attester.to_text() != self.attester:
            raise ForeignRecord(f"statement already attested on ICP by {record.attester.to_text()}")
        return self._submitted(record)

    async def submit(self, statement: Statement, proof: Sequence[int]) -> Submitted:
        s = _icp_statement(statement)
        arg = candid.encode(list(ATTEST_ARGS), [s.candid(), proof_bytes(proof)])
        async with self._lock:
            try:
                result = await self._run(self.agent.call, self._cid(), "attest", arg)
            except ReplicaError as exc:
                if exc.reject_code is None and exc.http_status is None:
                    raise
                raise StatementRejected(f"ICP call refused: {exc}") from exc
        (outcome,) = candid.decode(result.reply, NAMES)
        if "err" in outcome:
            err = outcome["err"]
            if "duplicate" in err:
                holder = err["duplicate"]["attester"].to_text()
                if holder != self.attester:
                    raise ForeignRecord(f"statement already attested on ICP by {holder}")
                found = await self.find(statement)  # ours: adopt it (idempotent resubmission)
                if found is None:
                    raise ChainAdapterError("registry reported a duplicate it does not certify")
                return found
            raise StatementRejected(f"registry refused the statement: {_err_text(err)}")
        record = await self._run(read_certified, self.agent, self._cid(), outcome["ok"])
        if record is None or record.statement != s or record.proof != proof_bytes(proof):
            raise ChainAdapterError("the certified record differs from the statement submitted")
        return self._submitted(record, result.request_id.hex())

    async def submit_batch(self, items: Sequence[tuple[Statement, Sequence[int]]]) -> list[Submitted | ChainAdapterError]:
        """Up to 64 statements in one ``attest_batch`` call; per item its Submitted (read back certified), or the
        error it met (StatementRejected, ForeignRecord; our own duplicate is adopted)."""
        if not 1 <= len(items) <= 64:
            raise StatementRejected("a batch holds 1 to 64 statements")
        arg = candid.encode(list(BATCH_ARGS), [[{"statement": _icp_statement(s).candid(), "proof": proof_bytes(p)}
                                               for s, p in items]])
        async with self._lock:
            result = await self._run(self.agent.call, self._cid(), "attest_batch", arg)
        (outcomes,) = candid.decode(result.reply, NAMES)
        if len(outcomes) != len(items):
            raise ChainAdapterError("attest_batch answered a different number of results")
        out: list[Submitted | ChainAdapterError] = []
        for (statement, _), outcome in zip(items, outcomes):
            if "ok" in outcome or "duplicate" in outcome["err"]:
                try:
                    found = await self.find(statement)
                except ForeignRecord as exc:
                    out.append(exc)
                    continue
                out.append(found if found is not None else ChainAdapterError("batch record is not certified"))
            else:
                out.append(StatementRejected(f"registry refused the statement: {_err_text(outcome['err'])}"))
        return out

    async def confirm(self, submitted: Submitted, depth: int) -> Submitted:
        record = await self._run(read_certified, self.agent, self._cid(), _id_bytes(submitted.attestation_id))
        if record is None or record.attester.to_text() != submitted.attester:
            raise Dropped(f"attestation {submitted.attestation_id} is not certified by the registry")
        return submitted

    async def revoke(self, attestation_id: str, reason: int) -> Submitted:
        ident = _id_bytes(attestation_id)
        async with self._lock:
            result = await self._run(self.agent.call, self._cid(), "revoke",
                                     candid.encode(list(REVOKE_ARGS), [ident, reason]))
        (outcome,) = candid.decode(result.reply, NAMES)
        if "err" in outcome:
            if "not_attester" in outcome["err"]:
                raise ForeignRecord(f"attestation {attestation_id} belongs to another attester")
            raise StatementRejected(f"registry refused the revocation: {_err_text(outcome['err'])}")
        record = await self._run(read_certified, self.agent, self._cid(), ident)
        if record is None or not record.revoked:
            raise ChainAdapterError("the revocation is not certified")
        return self._submitted(record, result.request_id.hex())

    async def close(self) -> None:
        return None


class IcpReader:
    """A verifier's reader: anonymous queries, every record verified down to the pinned root key."""

    kind = KIND

    def __init__(self, agent: IcAgent) -> None:
        self.agent = agent

    def read(self, ref: RegistryRef, attestation_id: str) -> OnchainRecord:
        if ref.chain != KIND:
            raise ValueError(f"not an ICP registry: {ref.chain}")
        if ref.network != network_of(self.agent.root_key_der):
            raise CertificateError("the registry's network is not the root key this reader pins")
        canister = Principal.from_text(ref.registry)
        try:
            record = read_certified(self.agent, canister.raw, _id_bytes(attestation_id))
        except ReplicaUnreachable as exc:
            raise ChainUnavailable(str(exc)) from exc
        if record is None:
            raise StatementRejected(f"attestation {attestation_id} is not recorded at {ref.registry}")
        s = record.statement
        return OnchainRecord(
            ref=ref, attestation_id="0x" + record.attestation_id.hex(),
            statement=Statement(s.model_hash, s.input_digest, s.prediction_digest, s.predicted_class,
                                s.explanation_digest),
            attester=record.attester.to_text(), height=record.index, tx_id="", proof=proof_words(record.proof),
            revoked=record.revoked, revocation_reason=record.reason, confirmations=1,
        )
