"""Batch mode of the staged engine: prepared predictions -> batch -> one proof -> one ``attestBatch``.

Stages, each persisted before the next starts (so a node killed at any point resumes, see :meth:`BatchStage.resume`):

``collect``  prepared rows wait until ``batch_size`` of them are there or ``batch_latency_ms`` after the first;
             then one database transaction stores a :class:`node.store.db.BatchRow` (``formed``, members in slot order)
             and moves the members to ``batched`` with their ``batch_key`` / ``batch_index``;
``prove``    the batch proof (public inputs [root, count]) is computed in the prover pool and stored once, in the
             batch row (``proved``: proof, root, count, leaves);
``submit``   before sending, the chain is asked whether the root is already recorded (``find_batch``: a crash
             between sending and storing) and the existing record is adopted; otherwise ``submit_batch`` sends it.
             With ``chain.confirmations`` > 1 the batch is stored ``submitted`` (tx hash, block) and goes on to
``confirm``  the transaction must be ``confirmations`` deep with its block still canonical; when a reorg dropped it
             the batch goes back to ``proved`` and is submitted again (``submitted`` batches are re-checked after a
             restart). Then one database transaction marks the batch and all its members ``attested``, each member
             with its own disclosure (batch section: root, index, leaf, Merkle path).

The members and their order are fixed when the batch is formed, so a re-proof after a restart yields the same
root and the idempotency check finds it. A batch formed for another batch size (configuration changed between
runs) and not yet attested is dissolved: its members go back to ``prepared`` and into a new batch.

The chain is reached only through the adapter contract's :class:`~node.chains.adapter.BatchChain` capability and its
typed errors (Ethereum's batch registry today; a chain without batches is refused at startup).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
import uuid
from typing import Any, Protocol

from prover.serialize import proof_from_snarkjs, proof_to_snarkjs

from node.store import db
from node.chains.adapter import (
    BatchChain,
    BatchRecord,
    ChainAdapterError,
    ChainUnavailable,
    Dropped,
    ForeignRecord,
    StatementRejected,
    proof_words,
)
from node.pipeline.confirmation import wait_final
from node.pipeline.batching import (
    BatchOpening,
    BatchProof,
    batch_inclusion,
)
from node.verify.disclosure import (
    BatchRef,
    ChainRef,
    leaf_id,
)
from node.pipeline.prepared import Prepared
from node.pipeline.submission import MAX_REORG_RESUBMITS, MAX_SUBMIT_ATTEMPTS
from node.pipeline.results import result_json

log = logging.getLogger("zkxai.batch")


class StageHost(Protocol):
    """What the batch stage uses of the engine that hosts it (:class:`node.pipeline.engine.Pipeline`): its database,
    configuration, metrics, chain, confirmation depth, prover pool, send lock, and how it finishes or fails a request."""

    engine: Any
    config: Any
    metrics: Any
    chain: Any
    pool: Any
    confirmations: int
    _submitting: list[asyncio.Lock]

    async def _finish(self, row: db.AttestationRow, result: dict[str, Any]) -> None: ...

    async def _fail(self, row: db.AttestationRow, stage: str, status: str, message: str) -> None: ...


class BatchStage:
    """Collects prepared rows into batches, proves and submits them; lives inside a :class:`node.pipeline.engine.Pipeline`."""

    def __init__(self, pipeline: StageHost, chain: BatchChain, size: int, latency_ms: int) -> None:
        self.pipeline, self.chain, self.size, self.latency_s = pipeline, chain, size, latency_ms / 1000
        self.waiting: asyncio.Queue[db.AttestationRow] = asyncio.Queue()
        self.prove_q: asyncio.Queue[str] = asyncio.Queue()
        self.submit_q: asyncio.Queue[str] = asyncio.Queue()
        self.confirm_q: asyncio.Queue[str] = asyncio.Queue()
        self._dispatched: set[str] = set()
        self._reorgs: dict[str, int] = {}

    @property
    def engine(self) -> Any:
        return self.pipeline.engine

    @property
    def context(self) -> int:
        """The context every batch proof of this node is bound to: chain, batch registry, signing account."""
        return self.chain.batch_context()

    def tasks(self, workers: int) -> list[asyncio.Task[None]]:
        out = [asyncio.create_task(self._collect_loop(), name="batch-collect")]
        out += [asyncio.create_task(self._prove_loop(), name=f"batch-prove-{i}") for i in range(workers)]
        out.append(asyncio.create_task(self._submit_loop(), name="batch-submit"))
        out.append(asyncio.create_task(self._confirm_loop(), name="batch-confirm"))
        return out

    def queue_sizes(self) -> dict[str, int]:
        return {"batch_collect": self.waiting.qsize(), "batch_prove": self.prove_q.qsize(),
                "batch_submit": self.submit_q.qsize(), "batch_confirm": self.confirm_q.qsize()}

    # -- resume -----------------------------------------------------------------------------------
    async def resume(self, batch_key: str) -> None:
        """Continue a stored batch (called once per member row at start; the first call dispatches it)."""
        if batch_key in self._dispatched:
            return
        self._dispatched.add(batch_key)
        batch = await asyncio.to_thread(db.get_batch, self.engine, batch_key)
        rows = await asyncio.to_thread(db.batch_members, self.engine, batch_key)
        if batch is None or batch.status == "failed":
            for row in rows:
                await self.pipeline._fail(row, "batch", "failed", f"batch {batch_key} is missing or failed")
            return
        if batch.status not in ("attested", "submitted") and batch.size != self.size:  # a mined one is kept
            await self._dissolve(batch, rows)
            return
        log.info("resuming batch %s (%s, %d prediction(s))", batch_key, batch.status, len(rows))
        {"formed": self.prove_q, "submitted": self.confirm_q}.get(batch.status, self.submit_q).put_nowait(batch_key)

    async def _dissolve(self, batch: db.BatchRow, rows: list[db.AttestationRow]) -> None:
        log.warning("batch %s was formed for size %d, this node proves size %d: re-batching its %d prediction(s)",
                    batch.batch_key, batch.size, self.size, len(rows))
        db.touch(batch, status="failed", error=f"dissolved: batch size changed to {self.size}")
        for row in rows:
            db.touch(row, status="prepared", batch_key=None, batch_index=None)
        await asyncio.to_thread(db.put_all, self.engine, [batch, *rows])
        for row in rows:
            self.waiting.put_nowait(row)

    # -- collect ----------------------------------------------------------------------------------
    async def _collect_loop(self) -> None:
        while True:
            members = [await self.waiting.get()]
            deadline = time.monotonic() + self.latency_s
            while len(members) < self.size:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    members.append(await asyncio.wait_for(self.waiting.get(), timeout))
                except asyncio.TimeoutError:
                    break
            await self._form(members)

    async def _form(self, members: list[db.AttestationRow]) -> None:
        key = uuid.uuid4().hex
        batch = db.BatchRow(batch_key=key, size=self.size, num_classes=self.pipeline.config.circuit_classes,
                            members=json.dumps([r.request_id for r in members]))
        for i, row in enumerate(members):
            db.touch(row, status="batched", batch_key=key, batch_index=i)
        await asyncio.to_thread(db.put_all, self.engine, [batch, *members])
        self._dispatched.add(key)
        log.info("formed batch %s with %d prediction(s)", key, len(members))
        self.prove_q.put_nowait(key)

    # -- prove ------------------------------------------------------------------------------------
    async def _prove_loop(self) -> None:
        while True:
            key = await self.prove_q.get()
            batch = await asyncio.to_thread(db.get_batch, self.engine, key)
            rows = await asyncio.to_thread(db.batch_members, self.engine, key)
            assert batch is not None
            t0 = time.monotonic()
            try:
                if [r.request_id for r in rows] != json.loads(batch.members):
                    raise ValueError("stored members differ from the batch's member list")
                opening = BatchOpening(tuple(Prepared.from_json(r.prepared or "").opening() for r in rows), batch.size,
                                       self.context)
                proof = await self.pipeline.pool.prove_batch(opening)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._fail(batch, rows, "prove", f"batch proving failed: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.monotonic() - t0
            self.pipeline.metrics.proofs.inc()
            self.pipeline.metrics.latency.labels("prove", self.chain.kind).observe(elapsed)
            db.touch(batch, status="proved", proof=json.dumps(proof_to_snarkjs(proof.proof)), root=str(proof.root),
                     count=proof.count, leaves=json.dumps([str(v) for v in proof.leaves]),
                     timings=json.dumps({"prove_s": elapsed}))
            await asyncio.to_thread(db.put, self.engine, batch)
            log.info("proved batch %s (%d prediction(s)) in %.1f s", key, proof.count, elapsed)
            self.submit_q.put_nowait(key)

    # -- submit -----------------------------------------------------------------------------------
    async def _submit_loop(self) -> None:
        while True:
            key = await self.submit_q.get()
            async with self.pipeline._submitting[0]:  # shutdown waits for a transaction in flight
                batch = await asyncio.to_thread(db.get_batch, self.engine, key)
                rows = await asyncio.to_thread(db.batch_members, self.engine, key)
                assert batch is not None
                try:
                    await self._submit(batch, rows)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # never let one batch stop the submit stage
                    log.exception("submit failed for batch %s", key)
                    await self._fail(batch, rows, "submit", f"internal error: {type(exc).__name__}: {exc}")

    async def _submit(self, batch: db.BatchRow, rows: list[db.AttestationRow]) -> None:
        proof = _stored_proof(batch, self.context)
        root = proof.root
        t0 = time.monotonic()
        delay = 0.5
        kind = self.chain.kind
        words = proof_words(proof.proof)
        while True:
            try:
                sent = await self.chain.find_batch(root)
                if sent is not None:
                    log.info("batch %s already recorded in tx %s (resumed)", batch.batch_key, sent.tx_id)
                else:
                    sent = await self.chain.submit_batch(root, proof.count, words)
                    self.pipeline.metrics.gas.labels(kind).inc(sent.cost)
                break
            except ForeignRecord as exc:
                self.pipeline.metrics.failure("foreign_record", kind)
                log.error("batch %s: %s", batch.batch_key, exc)
                await self._fail(batch, rows, "submit", str(exc))
                return
            except StatementRejected as exc:
                await self._fail(batch, rows, "submit", str(exc))
                return
            except ChainUnavailable as exc:
                self.pipeline.metrics.failure("submit_retry", kind)
                log.warning("chain unreachable (%s); retrying batch %s in %.1f s", exc, batch.batch_key, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            except ChainAdapterError as exc:
                batch.attempts += 1
                self.pipeline.metrics.failure("submit_retry", kind)
                if batch.attempts >= MAX_SUBMIT_ATTEMPTS:
                    await self._fail(batch, rows, "submit", f"giving up after {batch.attempts} attempts: {exc}")
                    return
                log.warning("batch submission failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        submit_s = time.monotonic() - t0
        self.pipeline.metrics.latency.labels("submit", kind).observe(submit_s)
        db.touch(batch, status="submitted", registry_address=self.chain.batch_ref.registry,
                 batch_id=sent.batch_id, tx_hash=sent.tx_id,
                 block_number=sent.height, gas_used=sent.cost, error=None,
                 timings=json.dumps(json.loads(batch.timings or "{}") | {"submit_s": submit_s}))
        confirmations = self.pipeline.confirmations
        if confirmations == 1:  # final in its block
            await self._attested(batch, rows, proof, sent)
            return
        await asyncio.to_thread(db.put, self.engine, batch)
        log.info("batch %s mined in tx %s (block %d); final at %d confirmations", batch.batch_key, sent.tx_id,
                 sent.height, confirmations)
        self.confirm_q.put_nowait(batch.batch_key)

    # -- confirm ----------------------------------------------------------------------------------
    async def _confirm_loop(self) -> None:
        while True:
            key = await self.confirm_q.get()
            batch = await asyncio.to_thread(db.get_batch, self.engine, key)
            rows = await asyncio.to_thread(db.batch_members, self.engine, key)
            assert batch is not None
            try:
                await self._confirm(batch, rows)
            except asyncio.CancelledError:
                raise  # the batch stays ``submitted``: the next start checks it again
            except Exception as exc:  # never let one batch stop the confirm stage
                log.exception("confirming failed for batch %s", key)
                await self._fail(batch, rows, "confirm", f"internal error: {type(exc).__name__}: {exc}")

    async def _confirm(self, batch: db.BatchRow, rows: list[db.AttestationRow]) -> None:
        assert batch.tx_hash is not None and batch.block_number is not None
        key = batch.batch_key
        t0 = time.monotonic()
        proof = _stored_proof(batch, self.context)
        kind = self.chain.kind
        mined = BatchRecord(kind, batch.batch_id or "", proof.root, proof.count, batch.tx_hash, batch.block_number,
                            self.chain.attester, batch.gas_used or 0)
        try:
            sent = await wait_final(lambda: self.chain.confirm_batch(mined, self.pipeline.confirmations),
                                    self.pipeline.metrics, f"batch {key}", kind)
        except Dropped as exc:  # the root is fixed: the submit stage re-checks the registry first
            reorgs = self._reorgs[key] = self._reorgs.get(key, 0) + 1
            self.pipeline.metrics.failure("submit_reorg", kind)
            if reorgs > MAX_REORG_RESUBMITS:
                await self._fail(batch, rows, "confirm", f"dropped by {reorgs} reorgs: {exc}")
                return
            if batch.size != self.size:  # formed before a batch size change: re-batch its predictions
                await self._dissolve(batch, rows)
                return
            log.warning("batch %s: %s; submitting again", key, exc)
            db.touch(batch, status="proved", tx_hash=None, block_number=None, gas_used=None,
                     error=f"transaction dropped by a reorg, submitting again: {exc}")
            await asyncio.to_thread(db.put, self.engine, batch)
            self.submit_q.put_nowait(key)
            return
        self.pipeline.metrics.latency.labels("confirm", kind).observe(time.monotonic() - t0)
        await self._attested(batch, rows, proof, sent)

    async def _attested(self, batch: db.BatchRow, rows: list[db.AttestationRow], proof: BatchProof,
                        sent: BatchRecord) -> None:
        """Store the batch and every member as attested (one transaction), then answer their waiters."""
        self._reorgs.pop(batch.batch_key, None)
        registry = batch.registry_address or self.chain.batch_ref.registry
        ident = sent.batch_id
        chain = ChainRef(self.pipeline.chain.chain_id, registry, sent.tx_id, sent.height, attester=sent.attester)
        proof_json = json.loads(batch.proof or "{}")
        batch_timings = json.loads(batch.timings or "{}")
        submit_s = float(batch_timings.get("submit_s", 0.0))
        db.touch(batch, status="attested", registry_address=registry, batch_id=ident, tx_hash=sent.tx_id,
                 block_number=sent.height, gas_used=sent.cost, error=None)
        for row in rows:
            assert row.batch_index is not None
            inclusion = batch_inclusion(proof.leaves, row.batch_index)
            prepared = Prepared.from_json(row.prepared or "")
            ref = BatchRef(registry=registry, batch_id=ident, root=proof.root, count=proof.count, size=batch.size,
                           index=inclusion.index, leaf=inclusion.leaf, path=inclusion.path, tx_hash=sent.tx_id,
                           block_number=sent.height)
            disclosure = dataclasses.replace(
                prepared.disclosure(leaf_id(inclusion.leaf), chain, proof_json,
                                    json.loads(row.assessment) if row.assessment else None, batched=True),
                batch=ref)
            timings = json.loads(row.timings or "{}") | batch_timings | {"submit_s": submit_s,
                                                                        "batch_count": proof.count}
            # gas_used of a batched prediction: its share of the attestBatch transaction
            db.touch(row, status="attested", attestation_id=disclosure.attestation_id, tx_hash=sent.tx_id,
                     block_number=sent.height, gas_used=-(-sent.cost // proof.count),
                     disclosure=json.dumps(disclosure.to_json()), timings=json.dumps(timings), error=None)
        await asyncio.to_thread(db.put_all, self.engine, [batch, *rows])
        for row in rows:
            self.pipeline.metrics.attested.labels(self.chain.kind).inc()
            await self.pipeline._finish(row, result_json(row))

    async def _fail(self, batch: db.BatchRow, rows: list[db.AttestationRow], stage: str, message: str) -> None:
        db.touch(batch, status="failed", error=message)
        await asyncio.to_thread(db.put, self.engine, batch)
        for row in rows:
            await self.pipeline._fail(row, stage, "failed", message)


def _stored_proof(batch: db.BatchRow, context: int) -> BatchProof:
    """The batch proof as stored with the batch (status ``proved`` and after), made for ``context``."""
    return BatchProof(proof=proof_from_snarkjs(json.loads(batch.proof or "{}")), root=int(batch.root or "0"),
                      count=int(batch.count or 0), leaves=tuple(int(v) for v in json.loads(batch.leaves or "[]")),
                      context=context)
