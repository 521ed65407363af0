"""More chains for the same statement: each extra target (``[chains] targets``, e.g. ``aleo``, ``icp``) records every
prepared prediction through the chain adapter contract only (:mod:`node.chains.adapter`), in its own persisted row
(:class:`node.store.db.SubmissionRow`): prove (bound to that chain's context) -> submit -> confirm.

Targets run side by side and independently of the primary (Ethereum) path: a chain that is down delays only its own
rows (retried with backoff, however long); a refusal or another attester's record fails only that row; a node
killed at any point resumes each row from its stored status, and ``find`` before every send adopts a record the
previous run made, so nothing is lost or recorded twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Protocol

from prover.serialize import proof_to_snarkjs

from node.chains.adapter import (
    ChainAdapter,
    Dropped,
    RegistryRef,
    Submitted,
)
from node.pipeline.confirmation import wait_final
from node.pipeline.prepared import Prepared
from node.pipeline.submission import MAX_REORG_RESUBMITS, RecordFailed, record, statement_and_proof
from node.store import db
from node.verify.disclosure import ChainRef, Disclosure

log = logging.getLogger("zkxai.targets")


class TargetHost(Protocol):
    """What a target stage uses of the engine hosting it: the database, metrics and the prover pool."""

    engine: Any
    metrics: Any
    pool: Any


class TargetStage:
    """One extra chain: its adapter, the registry it attached to, and a queue of request ids to advance."""

    def __init__(self, host: TargetHost, adapter: ChainAdapter, ref: RegistryRef, confirmations: int = 1) -> None:
        self.host, self.adapter, self.ref, self.confirmations = host, adapter, ref, max(1, confirmations)
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self._reorgs: dict[str, int] = {}

    @property
    def chain(self) -> str:
        return self.adapter.kind

    def new_row(self, request_id: str) -> db.SubmissionRow:
        """The row a prepared request gets for this target (stored with the request's ``prepared`` state)."""
        return db.SubmissionRow(request_id=request_id, chain=self.chain, registry_address=self.ref.registry,
                                network=self.ref.network, attester=self.adapter.attester)

    async def resume(self) -> int:
        rows = await asyncio.to_thread(db.unfinished_submissions, self.host.engine, self.chain)
        for row in rows:
            self.queue.put_nowait(row.request_id)
        if rows:
            log.info("%s: resuming %d unfinished submission(s)", self.chain, len(rows))
        return len(rows)

    async def run(self) -> None:
        while True:
            request_id = await self.queue.get()
            try:
                await self._advance(request_id)
            except asyncio.CancelledError:
                raise  # the row keeps its stored status: the next start resumes it
            except Exception as exc:  # never let one row stop the stage
                log.exception("%s: request %s failed", self.chain, request_id)
                await self._store_failure(request_id, f"internal error: {type(exc).__name__}: {exc}")

    async def _load(self, request_id: str) -> tuple[db.SubmissionRow, Prepared] | None:
        row = await asyncio.to_thread(db.get_submission, self.host.engine, request_id, self.chain)
        request = await asyncio.to_thread(db.get_attestation, self.host.engine, request_id)
        if row is None or request is None or not request.prepared:
            return None
        return row, Prepared.from_json(request.prepared)

    async def _store_failure(self, request_id: str, message: str) -> None:
        row = await asyncio.to_thread(db.get_submission, self.host.engine, request_id, self.chain)
        if row is not None:
            db.touch(row, status="failed", error=message)
            await asyncio.to_thread(db.put, self.host.engine, row)
        self.host.metrics.failure("submit", self.chain)

    async def _advance(self, request_id: str) -> None:
        loaded = await self._load(request_id)
        if loaded is None:
            return
        row, prepared = loaded
        if row.status == "pending":
            t0 = time.monotonic()
            proof = await self.host.pool.prove(prepared.opening(), self.adapter.context())
            self.host.metrics.proofs.inc()
            self.host.metrics.latency.labels("prove", self.chain).observe(time.monotonic() - t0)
            db.touch(row, status="proved", proof=json.dumps(proof_to_snarkjs(proof)))
            await asyncio.to_thread(db.put, self.host.engine, row)
        if row.status == "proved":
            sent = await self._submit(row, prepared)
            if sent is None:
                return
            db.touch(row, status="submitted", attestation_id=sent.attestation_id, tx_id=sent.tx_id,
                     height=sent.height, attester=sent.attester, cost=sent.cost, error=None)
            await asyncio.to_thread(db.put, self.host.engine, row)
        if row.status == "submitted":
            await self._confirm(row)

    async def _submit(self, row: db.SubmissionRow, prepared: Prepared) -> Submitted | None:
        statement, words = statement_and_proof(prepared, row.proof)
        try:
            recorded = await record(self.adapter, statement, words, self.host.metrics,
                                    f"{self.chain} request {row.request_id}", row.attempts)
        except RecordFailed as exc:
            row.attempts = exc.attempts
            await self._store_failure(row.request_id, str(exc))
            return None
        row.attempts = recorded.attempts
        return recorded.submitted

    async def _confirm(self, row: db.SubmissionRow) -> None:
        mined = Submitted(self.chain, row.attestation_id or "", row.tx_id or "", row.height or 0, row.attester or "",
                          row.cost or 0)
        try:
            final = await wait_final(lambda: self.adapter.confirm(mined, self.confirmations), self.host.metrics,
                                     f"{self.chain} request {row.request_id}", self.chain)
        except Dropped as exc:
            reorgs = self._reorgs[row.request_id] = self._reorgs.get(row.request_id, 0) + 1
            if reorgs > MAX_REORG_RESUBMITS:
                await self._store_failure(row.request_id, f"dropped by {reorgs} reorgs: {exc}")
                return
            db.touch(row, status="proved", tx_id=None, height=None, error=f"dropped, submitting again: {exc}")
            await asyncio.to_thread(db.put, self.host.engine, row)
            self.queue.put_nowait(row.request_id)
            return
        db.touch(row, status="attested", height=final.height, cost=final.cost, error=None)
        await asyncio.to_thread(db.put, self.host.engine, row)
        self.host.metrics.attested.labels(self.chain).inc()
        log.info("%s: request %s attested in %s", self.chain, row.request_id, row.tx_id)


def submission_json(row: db.SubmissionRow) -> dict[str, Any]:
    """The API's view of one extra-chain record."""
    return {"chain": row.chain, "status": row.status, "registry": row.registry_address, "network": row.network,
            "attester": row.attester, "attestation_id": row.attestation_id, "tx_id": row.tx_id, "height": row.height,
            **({"error": row.error} if row.error else {})}


def target_disclosure(request: db.AttestationRow, row: db.SubmissionRow) -> Disclosure:
    """The disclosure bundle of a prediction as recorded on an extra chain: its proof (made for that chain's context)
    and a chain section naming the chain, network, registry, attester and transaction."""
    if row.status != "attested" or not request.prepared:
        raise ValueError(f"request {request.request_id} is not attested on {row.chain} yet ({row.status})")
    chain = ChainRef(chain_id=0, registry=row.registry_address or "", tx_hash=row.tx_id or "", block_number=row.height or 0,
                     attester=row.attester, kind=row.chain, network=row.network)
    assessment = json.loads(request.assessment) if request.assessment else None
    return Prepared.from_json(request.prepared).disclosure(row.attestation_id or "", chain, json.loads(row.proof or "{}"),
                                                            assessment)
