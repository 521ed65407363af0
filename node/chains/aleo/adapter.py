"""The Aleo adapter (:class:`AleoAdapter`, a :class:`ChainAdapter`) and reader (:class:`AleoReader`, a
:class:`RecordReader`).

Identities: the **attester** of a record is the node's Ethereum key (the same as on Ethereum): it signs each
statement (EIP-191) and the program's ``finalize`` checks that signature with ``ecdsa.verify.keccak256.eth``; the
proof's context is ``chain_context("aleo", network, program id, attester)``. The node's **Aleo account** only signs
the transition and pays the fee (recorded as ``caller``).

Submission: the SDK bridge evaluates ``attest`` and signs it with a ``fee_public`` authorization (the program's
outputs are checked against the same values computed in Python), a delegated prover turns the authorizations into a
transaction, the adapter broadcasts it to snarkOS and polls ``transaction/confirmed`` until it is in a block; an
``accepted`` transaction ran finalize, a ``rejected`` one did not (duplicate, bad signature, wrong network) and paid
its fee anyway. AleoBFT blocks are final once confirmed; :meth:`AleoAdapter.confirm` still waits for ``depth`` blocks
and re-reads the record.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account

import contracts

from node.chains.binding import chain_context
from node.chains.adapter import ForeignRecord, RegistryRef, Statement, Submitted

from .errors import AleoDropped, AleoProtocolError, AleoRejected, AleoUnavailable, PlaintextError
from .plaintext import parse
from .record import AleoRecord, StoredAttestation, parse_attestation, proof_from_transaction
from .rest import SnarkosRest
from .sdk import SdkBridge
from .statement import (
    PROGRAM_ID, AttestInputs, attest_digest, attest_inputs, digest_limbs, mapping_key, network_id, proof_keccak,
    revoke_digest, revoke_inputs, sign_digest, statement_id,
)

SOURCE = Path(contracts.__file__).resolve().parent / "aleo" / "zkxai_registry.aleo"
BN254_P = 21888242871839275222246405745257275088696311157297823662689037025902021618583


def program_source() -> str:
    return SOURCE.read_text()


@dataclass(frozen=True)
class AleoConfig:
    """``[aleo]`` settings: the snarkOS endpoint, the network name, the program id, the delegated prover, fees
    (in credits; None: the SDK's offline estimate for the function; the ``fee_public`` amount is paid whether
    finalize accepts or not), polling and timeouts."""

    endpoint: str
    network: str = "testnet"
    program_id: str = PROGRAM_ID
    prover_url: str | None = None
    prover_token: str | None = None
    base_fee_credits: float | None = None
    priority_fee_credits: float = 0.0
    poll_interval: float = 2.0
    confirm_timeout: float = 300.0
    timeout: float = 10.0
    retries: int = 4

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> AleoConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown [aleo] settings: {sorted(unknown)}")
        config = cls(**dict(values))
        network_id(config.network)
        if config.program_id != PROGRAM_ID:
            raise ValueError(f"the committed program is {PROGRAM_ID}; a renamed copy needs its own source")
        if (config.base_fee_credits is not None and config.base_fee_credits <= 0) or config.priority_fee_credits < 0:
            raise ValueError("fees must be positive")
        return config

    def rest(self) -> SnarkosRest:
        return SnarkosRest(self.endpoint, self.network, timeout=self.timeout, retries=self.retries,
                           prover_url=self.prover_url, prover_token=self.prover_token)


def check_proof_words(proof: Sequence[int]) -> tuple[int, ...]:
    """Eight BN254 base-field coordinates (a0, a1, b00, b01, b10, b11, c0, c1); ValueError otherwise."""
    words = tuple(proof)
    if len(words) != 8 or any(isinstance(w, bool) or not isinstance(w, int) or not 0 <= w < BN254_P for w in words):
        raise ValueError("a proof is eight integers in the BN254 base field")
    return words


class AleoAdapter:
    """The node's writer on Aleo. Sends are serialised; blocking work (SDK, HTTP) runs in worker threads."""

    kind = "aleo"
    #: No batch registry on this chain: batch mode needs ethereum as the primary chain (the contract's
    #: :func:`~node.chains.adapter.batch_chain` refuses this adapter with BatchesUnsupported).
    supports_batches = False

    def __init__(self, config: AleoConfig, aleo_private_key: str, eth_private_key: str,
                 bridge: SdkBridge | None = None, rest: SnarkosRest | None = None) -> None:
        self.config = config
        self._aleo_key = aleo_private_key
        self._eth_key = eth_private_key
        self._attester = str(Account.from_key(eth_private_key).address)
        self._owns_bridge = bridge is None
        self._bridge = bridge or SdkBridge(network=config.network)
        self._rest = rest or config.rest()
        self._send = asyncio.Lock()
        self._source = program_source()
        self.ref: RegistryRef | None = None

    @property
    def attester(self) -> str:
        return self._attester

    def context(self) -> int:
        return chain_context("aleo", self.config.network, self.config.program_id, self._attester)

    async def attach_or_deploy(self, configured: str | None) -> RegistryRef:
        """Attach to the deployed program (``configured`` or the default id), checked to be the committed source.
        Deploying is not done by the node: ``snarkos developer deploy`` / ``leo deploy`` the committed file."""
        program_id = configured or self.config.program_id
        if program_id != self.config.program_id:
            raise AleoProtocolError(f"configured program {program_id!r} is not {self.config.program_id!r}")
        deployed = await asyncio.to_thread(self._rest.program, program_id)
        if deployed is None:
            raise AleoProtocolError(
                f"{program_id} is not deployed on {self.config.network}: deploy contracts/aleo/zkxai_registry.aleo first"
            )
        ours = await asyncio.to_thread(self._bridge.check_program, self._source)
        theirs = await asyncio.to_thread(self._bridge.check_program, deployed)
        if ours.get("canonical") != theirs.get("canonical"):
            raise AleoProtocolError(f"the program deployed as {program_id} is not zkxai's registry source")
        self.ref = RegistryRef("aleo", self.config.network, program_id, "configured" if configured else "recorded")
        return self.ref

    # -- reads -----------------------------------------------------------------------------------------------------
    async def _stored(self, sid: bytes) -> StoredAttestation | None:
        text = await asyncio.to_thread(
            self._rest.mapping_value, self.config.program_id, "attestations", f"{mapping_key(sid)}field"
        )
        if text is None:
            return None
        try:
            return parse_attestation(text)
        except PlaintextError as exc:
            raise AleoProtocolError(f"the attestations mapping holds a malformed value: {exc}") from None

    def _submitted(self, sid: bytes, stored: StoredAttestation, tx_id: str = "", cost: int = 0) -> Submitted:
        return Submitted("aleo", "0x" + sid.hex(), tx_id, stored.height, stored.attester, cost)

    async def find(self, statement: Statement) -> Submitted | None:
        sid = statement_id(statement)
        stored = await self._stored(sid)
        if stored is None:
            return None
        if stored.attester != self._attester:
            raise ForeignRecord(f"statement 0x{sid.hex()} is recorded on Aleo by {stored.attester}")
        return self._submitted(sid, stored)

    # -- writes ----------------------------------------------------------------------------------------------------
    async def submit(self, statement: Statement, proof: Sequence[int]) -> Submitted:
        words = check_proof_words(proof)
        async with self._send:
            existing = await self.find(statement)
            if existing is not None:
                return existing
            sid = statement_id(statement)
            pk = proof_keccak(words)
            digest = attest_digest(self.config.program_id, self.config.network, sid, pk)
            signature = sign_digest(self._eth_key, digest)
            inputs = attest_inputs(AttestInputs(statement, words, self._attester, signature, self.config.network))
            try:
                tx_id, fee = await self._execute("attest", inputs, expected=(f"{mapping_key(sid)}field", digest))
            except AleoRejected:
                # finalize refuses a duplicate: another sender may have recorded the statement since find()
                raced = await self._stored(sid)
                if raced is not None and raced.attester != self._attester:
                    raise ForeignRecord(f"statement 0x{sid.hex()} is recorded on Aleo by {raced.attester}") from None
                if raced is not None:
                    return self._submitted(sid, raced)
                raise
            stored = await self._stored(sid)
            if stored is None:
                raise AleoProtocolError(f"{tx_id} was accepted but the attestation is not in the mapping")
            if stored.attester != self._attester:
                raise ForeignRecord(f"statement 0x{sid.hex()} is recorded on Aleo by {stored.attester}")
            return self._submitted(sid, stored, tx_id, fee)

    async def revoke(self, attestation_id: str, reason: int) -> Submitted:
        sid = _statement_id_bytes(attestation_id)
        async with self._send:
            stored = await self._stored(sid)
            if stored is None:
                raise AleoRejected(f"no attestation {attestation_id} on Aleo")
            if stored.attester != self._attester:
                raise ForeignRecord(f"attestation {attestation_id} was recorded by {stored.attester}")
            if stored.revoked:
                return self._submitted(sid, stored)
            digest = revoke_digest(self.config.program_id, self.config.network, sid, reason)
            signature = sign_digest(self._eth_key, digest)
            inputs = revoke_inputs(sid, reason, signature, self.config.network)
            tx_id, fee = await self._execute("revoke", inputs, expected=(f"{mapping_key(sid)}field", digest))
            stored = await self._stored(sid)
            if stored is None or not stored.revoked:
                raise AleoProtocolError(f"{tx_id} was accepted but the attestation is not revoked")
            height = await asyncio.to_thread(self._rest.latest_height)
            return Submitted("aleo", attestation_id, tx_id, height, self._attester, fee)

    async def _execute(self, function: str, inputs: list[str], expected: tuple[str, bytes]) -> tuple[str, int]:
        """Authorize (SDK), prove (delegated), broadcast (snarkOS), wait until confirmed; returns the tx id and the
        fee paid (microcredits)."""
        authorized = await asyncio.to_thread(
            self._bridge.proving_request, self._source, function, inputs, self._aleo_key,
            self.config.base_fee_credits, self.config.priority_fee_credits,
        )
        key, digest = expected
        outputs = authorized.outputs
        if len(outputs) < 3 or outputs[0].strip() != key or bytes(parse(outputs[-2])) != digest:
            raise AleoProtocolError(f"the SDK's {function} outputs differ from the statement packing computed here")
        assert authorized.proving_request is not None
        transaction = await asyncio.to_thread(self._rest.prove, authorized.proving_request)
        tx_id = await asyncio.to_thread(self._rest.broadcast, transaction)
        if tx_id != transaction.get("id"):
            raise AleoProtocolError(f"broadcast answered {tx_id}, the transaction is {transaction.get('id')}")
        confirmed = await self._wait_confirmed(tx_id)
        if confirmed.status != "accepted":
            raise AleoRejected(f"{function} transaction {tx_id} was rejected by finalize (its fee is paid)")
        return tx_id, authorized.fee_microcredits

    async def _wait_confirmed(self, tx_id: str):  # -> Confirmed
        deadline = time.monotonic() + self.config.confirm_timeout
        while True:
            confirmed = await asyncio.to_thread(self._rest.confirmed, tx_id)
            if confirmed is not None:
                return confirmed
            if time.monotonic() > deadline:
                raise AleoUnavailable(f"{tx_id} not confirmed within {self.config.confirm_timeout:.0f} s")
            await asyncio.sleep(self.config.poll_interval)

    async def confirm(self, submitted: Submitted, depth: int) -> Submitted:
        sid = _statement_id_bytes(submitted.attestation_id)
        deadline = time.monotonic() + self.config.confirm_timeout
        while True:
            stored = await self._stored(sid)
            if stored is None or stored.attester != submitted.attester:
                raise AleoDropped(f"attestation {submitted.attestation_id} is no longer in the mapping")
            latest = await asyncio.to_thread(self._rest.latest_height)
            if latest - stored.height + 1 >= depth:
                return Submitted("aleo", submitted.attestation_id, submitted.tx_id, stored.height,
                                 stored.attester, submitted.cost)
            if time.monotonic() > deadline:
                raise AleoUnavailable(f"{submitted.attestation_id} not {depth} blocks deep in time")
            await asyncio.sleep(self.config.poll_interval)

    async def close(self) -> None:
        if self._owns_bridge:
            await asyncio.to_thread(self._bridge.close)


def _statement_id_bytes(attestation_id: str) -> bytes:
    try:
        raw = bytes.fromhex(attestation_id.removeprefix("0x"))
    except (ValueError, AttributeError):
        raise ValueError(f"attestation id must be 0x + 64 hex digits, got {attestation_id!r}") from None
    if len(raw) != 32:
        raise ValueError("attestation id must be 32 bytes")
    return raw


class AleoReader:
    """A verifier's reader: the mapping value by statement id; with ``tx_id``, the proof words from the ``attest``
    transition, checked against the recorded keccak. Light: urllib and eth-account, no SDK, no Node.js."""

    kind = "aleo"

    def __init__(self, endpoint: str | SnarkosRest, network: str = "testnet", timeout: float = 10.0,
                 retries: int = 2) -> None:
        self._rest = endpoint if isinstance(endpoint, SnarkosRest) else SnarkosRest(
            endpoint, network, timeout=timeout, retries=retries)

    def read(self, ref: RegistryRef, attestation_id: str, tx_id: str | None = None) -> AleoRecord:
        if ref.chain != "aleo" or ref.network != self._rest.network:
            raise ValueError(f"{ref} is not on Aleo {self._rest.network}")
        sid = _statement_id_bytes(attestation_id)
        text = self._rest.mapping_value(ref.registry, "attestations", f"{mapping_key(sid)}field")
        if text is None:
            raise AleoRejected(f"no attestation {attestation_id} in {ref.registry} on {ref.network}")
        try:
            stored = parse_attestation(text)
        except PlaintextError as exc:
            raise AleoProtocolError(f"the attestations mapping holds a malformed value: {exc}") from None
        if statement_id(stored.statement) != sid:
            raise AleoProtocolError("the record's statement does not hash to the attestation id")
        proof = self.proof(ref, tx_id, stored.proof_keccak) if tx_id else ()
        latest = self._rest.latest_height()
        return AleoRecord(
            ref=ref, attestation_id="0x" + sid.hex(), statement=stored.statement, attester=stored.attester,
            height=stored.height, tx_id=tx_id or "", proof=proof, revoked=stored.revoked,
            revocation_reason=stored.reason, confirmations=max(0, latest - stored.height + 1),
            proof_keccak=stored.proof_keccak, caller=stored.caller,
        )

    def proof(self, ref: RegistryRef, tx_id: str, proof_hash: bytes) -> tuple[int, ...]:
        """The proof words of the ``attest`` transition of ``tx_id`` at ``ref`` whose keccak is ``proof_hash`` (the
        stored ``proof_keccak``): AleoRejected if the transaction is unknown, AleoProtocolError if none carries it."""
        tx = self._rest.transaction(tx_id)
        if tx is None:
            raise AleoRejected(f"transaction {tx_id} not found")
        try:
            return proof_from_transaction(tx, ref.registry, proof_hash)
        except PlaintextError as exc:
            raise AleoProtocolError(f"transaction {tx_id}: {exc}") from None


__all__ = ["AleoAdapter", "AleoConfig", "AleoReader", "check_proof_words", "digest_limbs", "program_source"]
