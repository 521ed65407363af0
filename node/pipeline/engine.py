"""The staged attestation engine: intake -> inference (dynamic batching) -> prove (process pool) -> submit.

Every stage persists its result in the request's row before handing it on, so a node killed at any point
resumes on restart from the last stored stage (:meth:`Pipeline.resume`):

``received``  input stored (before the client was answered)      -> inference
``prepared``  fixed-point data and salts stored                  -> prove
``proved``    proof stored                                       -> submit
``submitted`` mined (tx hash and block stored); only with ``chain.confirmations`` > 1 -> confirm
``attested``  ``confirmations`` deep in the canonical chain, disclosure stored (final); ``failed`` / ``rejected``
              are final too.

Confirmation: a ``submitted`` row is final only once its transaction is ``confirmations`` blocks deep and its block
is still canonical (the chain adapter's ``confirm``). When a reorg drops it, the row goes back to
``proved`` and is submitted again (at most ``MAX_REORG_RESUBMITS`` times); a node restarted meanwhile re-checks
every ``submitted`` row the same way, so a crash between mining and confirmation loses nothing.

Submission is idempotent: the attestation id is a hash of the statement, fixed once ``prepared`` is stored;
before sending, the engine asks the registry whether that id is already recorded (a crash between sending
and storing the receipt) and adopts the existing record instead of sending again. The registry itself
refuses duplicates, so one request can never produce two attestations.

Batch mode (``pipeline.attestation_mode = "batch"``): prepared rows go to :class:`node.pipeline.batch_stage.BatchStage`
instead (``prepared`` -> ``batched`` -> ``attested``, the batch's proof stored once in its own row).

Proven levels (:mod:`node.pipeline.levels`): a request for a model registered at level ``inference`` /
``explanation`` is predicted (and at ``explanation`` explained) by the quantized oracle, proven with the model's own
circuit and key, and recorded in the model's own registry (a sibling of the primary chain: same account); it is
recorded on the primary chain only (not on the extra targets) and only in single mode.

Back-pressure: at most ``queue_size`` unfinished requests; beyond that intake raises :class:`Busy` (HTTP 503).

Cluster mode (``cluster.enabled``, :mod:`node.pipeline.cluster`): several replicas share the database. A replica
claims the rows it accepts (and a dead replica's), runs inference and proving on them, and releases each ``proved``
row to the database; the replica holding the chain's submitter lease claims ``proved`` / ``submitted`` rows and
alone signs. Every write of a row checks the claim; a lost claim drops the row from this replica, not the request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from explainers.attribution import explain
from explainers.errors import ExplainerError
from explainers.model import LoadedModel
from explainers.quantize import quantize_input
from prover.serialize import proof_to_snarkjs

from node.chains.adapter import (
    BatchChain,
    ChainAdapter,
    Dropped,
    PrimaryChain,
    RegistryRef,
    Submitted,
)
from node.config import NodeConfig
from node.pipeline.batch_stage import BatchStage
from node.pipeline.cluster import Cluster
from node.store.claims import ClaimLost, finished
from node.store.leases import LeaseLost
from node.pipeline.targets import TargetStage
from node.store import db
from node.pipeline.confirmation import wait_final
from node.verify.disclosure import ChainRef
from node.errors import NodeError
from node.metrics import Metrics
from node.pipeline.prepared import (
    Prepared,
    argmax_first,
    fixed_scores,
)
from node.pipeline.levels import LevelNotRegistered, ProvenModel, ProvenModels
from node.pipeline.proven import oracle
from node.pipeline.proving import ProverPool, ProverUnavailable
from node.verify.levels import COMMITMENT, EXPLANATION, PROVEN_LEVELS
from node.pipeline.results import result_json
from node.pipeline.submission import MAX_REORG_RESUBMITS, RecordFailed, record, statement_and_proof

log = logging.getLogger("zkxai.jobs")

#: Stages whose failures are the primary chain's (labelled with its kind in ``zkxai_failures``).
CHAIN_STAGES = frozenset({"batch", "prove", "submit", "confirm"})


class Busy(NodeError):
    status = 503
    code = "busy"


@dataclass(frozen=True)
class ChainInfo:
    chain_id: int
    registry: str
    verifier: str
    embedded: bool
    #: Batch mode: the BatchAttestationRegistry and its verifier.
    batch_registry: str | None = None
    batch_verifier: str | None = None
    #: Where the registries came from: "configured", "recorded" (this node's earlier deployment) or "deployed".
    registry_origin: str = "deployed"
    batch_registry_origin: str | None = None
    #: What a verifier pins (``zkxai trust show``): the signing address and the keys' vk_sha256 digests.
    attester: str | None = None
    vk_sha256: str | None = None
    batch_vk_sha256: str | None = None


@dataclass
class Waiters:
    by_request: dict[str, list[asyncio.Future[dict[str, Any]]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, request_id: str) -> asyncio.Future[dict[str, Any]]:
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.by_request[request_id].append(fut)
        return fut

    def resolve(self, request_id: str, result: dict[str, Any]) -> None:
        for fut in self.by_request.pop(request_id, []):
            if not fut.done():
                fut.set_result(result)


class Pipeline:
    def __init__(self, *, config: NodeConfig, engine: Engine, models: Any, pool: ProverPool,
                 primary: PrimaryChain, chain: ChainInfo, metrics: Metrics,
                 batches: BatchChain | None = None, confirmations: int | None = None,
                 targets: Sequence[tuple[ChainAdapter, RegistryRef]] = (), proven: ProvenModels | None = None,
                 cluster: Cluster | None = None) -> None:
        self.config, self.engine, self.models = config, engine, models
        #: Blocks a single attestation must be deep (1 = its including block; 0 in the config reads as 1) before
        #: the request is ``attested``; a reorg that drops it before then re-submits it. The embedded chain mines
        #: only on demand and never reorgs, so there it is always 1.
        wanted = config.confirmations if confirmations is None else confirmations
        self.confirmations = 1 if primary.embedded else max(1, int(wanted))
        if primary.embedded and wanted > 1:
            log.info("embedded chain: attestations are final in their block (confirmations=%d not awaited)", wanted)
        self.pool, self.chain, self.metrics = pool, chain, metrics
        #: The chain single attestations are recorded on, through the adapter contract only.
        self.target: PrimaryChain = primary
        #: Models registered at proven levels, each attesting in its own registry.
        self.proven = proven
        #: More chains every prepared prediction is recorded on (``[chains] targets`` beyond ethereum), each in its
        #: own persisted rows.
        self.targets = [TargetStage(self, extra, ref, wanted) for extra, ref in targets]
        self.inference_q: asyncio.Queue[db.AttestationRow] = asyncio.Queue()
        self.prove_q: asyncio.Queue[db.AttestationRow] = asyncio.Queue()
        self.submit_q: asyncio.Queue[db.AttestationRow] = asyncio.Queue()
        self.confirm_q: asyncio.Queue[db.AttestationRow] = asyncio.Queue()
        #: Reorgs that dropped a request's transaction in this run (bounded by MAX_REORG_RESUBMITS).
        self._reorgs: dict[str, int] = {}
        self.waiters = Waiters()
        self.inflight = 0
        self.accepting = True
        self._tasks: list[asyncio.Task[None]] = []
        self._started: dict[str, float] = {}
        #: One lock per submit worker (``chain.max_in_flight`` of them: that many transactions in flight at once,
        #: their nonces allocated in order by the adapter); shutdown takes them all.
        self._submitting = [asyncio.Lock() for _ in range(max(1, config.max_in_flight))]
        self.batches: BatchStage | None = None
        #: Cluster mode: this replica's claims and submitter lease; the chain's sends are fenced by the lease.
        self.cluster = cluster
        if cluster is not None:
            fence = getattr(primary, "fence", None)
            if fence is None:
                raise NodeError(f"cluster mode needs a chain whose sends can be fenced; {primary.kind} cannot")
            fence(cluster.guard)
        if config.attestation_mode == "batch":
            if batches is None:
                raise NodeError("batch mode needs a chain with a batch registry")
            self.batches = BatchStage(self, batches, config.batch_size, config.batch_latency_ms)

    @property
    def context(self) -> int:
        """The context every single-attestation proof of this node is bound to: this chain, this registry, this
        node's signing account (:mod:`node.chains.binding`); the registry accepts the proof from nobody else."""
        return self.target.context()

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._inference_loop(), name="inference")]
        if self.batches is None:
            self._tasks += [asyncio.create_task(self._prove_loop(), name=f"prove-{i}")
                            for i in range(self.config.prover_workers)]
        else:
            self._tasks += self.batches.tasks(self.config.prover_workers)
        # also in batch mode: rows proved singly before a switch to batch mode are still submitted
        self._tasks += [asyncio.create_task(self._submit_loop(lock), name=f"submit-{i}")
                        for i, lock in enumerate(self._submitting)]
        self._tasks.append(asyncio.create_task(self._confirm_loop(), name="confirm"))
        self._tasks += [asyncio.create_task(t.run(), name=f"target-{t.chain}") for t in self.targets]
        for target in self.targets:
            await target.resume()
        if self.cluster is not None:
            self._tasks += [asyncio.create_task(self.cluster.heartbeat(), name="cluster-heartbeat"),
                            asyncio.create_task(self._sweep_loop(), name="cluster-sweep"),
                            asyncio.create_task(self._submitter_loop(), name="cluster-submitter"),
                            asyncio.create_task(self._watch_loop(), name="cluster-watch")]
            for row in await self.cluster.claim_own():
                self._enqueue(row)
            return
        await self.resume()

    async def resume(self) -> int:
        rows = await asyncio.to_thread(db.pending_attestations, self.engine)
        for row in rows:
            if row.status == "batched" and self.batches is None:
                # batched by an earlier run in batch mode: finish the batch only in batch mode
                log.warning("request %s is in batch %s: restart in batch mode to finish it", row.request_id,
                            row.batch_key)
                continue
            self._enqueue(row)
            if row.status == "batched" and self.batches is not None and row.batch_key is not None:
                await self.batches.resume(row.batch_key)
        if rows:
            log.info("resuming %d unfinished request(s) from the database", len(rows))
        return len(rows)

    async def stop(self) -> None:
        """Stop intake, let the transactions in flight finish, cancel the rest: its state is already persisted."""
        self.accepting = False
        for lock in self._submitting:
            await lock.acquire()
        try:
            for task in self._tasks:
                task.cancel()
        finally:
            for lock in self._submitting:
                lock.release()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.cluster is not None:
            await self.cluster.stop()

    # -- intake ---------------------------------------------------------------------------------
    async def accept(self, row: db.AttestationRow) -> db.AttestationRow:
        """Store the request (status ``received``) and queue it; raises Busy when the node is full."""
        if not self.accepting:
            self.metrics.rejected.labels("shutting_down").inc()
            raise Busy("the node is shutting down; retry on another node or later")
        if self.inflight >= self.config.queue_size:
            self.metrics.rejected.labels("busy").inc()
            raise Busy(f"{self.inflight} requests in progress (limit {self.config.queue_size}); retry later")
        if self.cluster is not None:
            row = await self.cluster.insert(row)
        else:
            row = await asyncio.to_thread(db.put, self.engine, row)
        self.metrics.requests.inc()
        self._enqueue(row)
        return row

    def _enqueue(self, row: db.AttestationRow) -> None:
        self.inflight += 1
        self._started.setdefault(row.request_id, time.monotonic())
        if row.status == "batched":  # its batch is dispatched by resume()
            self._gauges()
            return
        if row.status == "prepared":
            self._to_prove(row)
        else:
            {"received": self.inference_q, "proved": self.submit_q,
             "submitted": self.confirm_q}[row.status].put_nowait(row)
        self._gauges()

    def _to_prove(self, row: db.AttestationRow) -> None:
        (self.prove_q if self.batches is None else self.batches.waiting).put_nowait(row)

    def _gauges(self) -> None:
        for stage, q in (("inference", self.inference_q), ("prove", self.prove_q), ("submit", self.submit_q),
                         ("confirm", self.confirm_q)):
            self.metrics.queue.labels(stage).set(q.qsize())
        if self.batches is not None:
            for stage, size in self.batches.queue_sizes().items():
                self.metrics.queue.labels(stage).set(size)

    async def _store(self, row: db.AttestationRow, *more: Any) -> bool:
        """Write ``row`` (and ``more`` rows) in one transaction; in cluster mode only while this replica holds the
        row's claim: False (the row dropped from this replica, the request left to the claim's new holder) if not."""
        if self.cluster is None:
            await asyncio.to_thread(db.put_all, self.engine, [row, *more])
            return True
        try:
            await self.cluster.write([row, *more])
            return True
        except ClaimLost as exc:
            log.warning("dropping request %s here: %s", row.request_id, exc)
            self._drop(row.request_id)
            return False

    def _drop(self, request_id: str) -> None:
        """The row left this replica's pipeline (lost claim, or handed to the submitter)."""
        if self._started.pop(request_id, None) is not None:
            self.inflight -= 1
        self._gauges()

    async def _finish(self, row: db.AttestationRow, result: dict[str, Any]) -> None:
        if self.cluster is not None:
            db.touch(row, owner=None, lease_until=None)
        if not await self._store(row):
            return
        started = self._started.pop(row.request_id, None)
        if started is not None:
            self.inflight -= 1
        self._reorgs.pop(row.request_id, None)
        if started is not None and row.status == "attested":
            self.metrics.latency.labels("total", "").observe(time.monotonic() - started)
        self.waiters.resolve(row.request_id, result)
        self._gauges()

    async def _fail(self, row: db.AttestationRow, stage: str, status: str, message: str) -> None:
        self.metrics.failure(stage, self.target.kind if stage in CHAIN_STAGES else "")
        log.warning("request %s %s at %s: %s", row.request_id, status, stage, message)
        db.touch(row, status=status, error=message)
        await self._finish(row, {"request_id": row.request_id, "status": status, "error": message})

    # -- inference ------------------------------------------------------------------------------
    async def _take_batch(self) -> list[db.AttestationRow]:
        batch = [await self.inference_q.get()]
        deadline = time.monotonic() + self.config.inference_batch_latency_ms / 1000
        while len(batch) < self.config.inference_batch_size:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self.inference_q.get(), timeout))
            except asyncio.TimeoutError:
                break
        return batch

    async def _inference_loop(self) -> None:
        while True:
            batch = await self._take_batch()
            self._gauges()
            self.metrics.batch.observe(len(batch))
            groups: dict[tuple[str, str, str], list[db.AttestationRow]] = defaultdict(list)
            for row in batch:
                groups[(row.model_hash, row.method, row.level or COMMITMENT)].append(row)
            for (model_hash, method, level), rows in groups.items():
                if level in PROVEN_LEVELS:
                    await self._infer_proven(model_hash, method, level, rows)
                else:
                    await self._infer_group(model_hash, method, rows)

    async def _infer_group(self, model_hash: str, method: str, rows: list[db.AttestationRow]) -> None:
        t0 = time.monotonic()
        try:
            model: LoadedModel = await self.models.get(model_hash)
            requests = [json.loads(r.input_json or "{}") for r in rows]
            x = np.stack([np.asarray(req["x"], dtype=np.float32) for req in requests])
            logits = await asyncio.to_thread(model.reference_logits, x)
            # explain the committed class: the argmax of the fixed-point scores that go into the proof
            targets = [argmax_first(fixed_scores(logits[i], self.config.circuit_classes)) for i in range(len(rows))]
            attributions = await asyncio.to_thread(explain, model, x, method, targets)
        except (ExplainerError, NodeError, ValueError) as exc:
            for row in rows:
                await self._fail(row, "inference", "rejected", f"{type(exc).__name__}: {exc}")
            return
        except Exception as exc:  # a bug: keep the rows, they resume after a fix and a restart
            log.exception("inference failed for %d request(s)", len(rows))
            self.metrics.failure("inference")
            for row in rows:
                await self._fail(row, "inference", "failed", f"internal error: {type(exc).__name__}")
            return
        assessments = await self._assess(model, model_hash, x, attributions, targets,
                                         [bool(req.get("quality")) for req in requests])
        elapsed = time.monotonic() - t0
        self.metrics.latency.labels("inference", "").observe(elapsed)
        for i, row in enumerate(rows):
            prepared = Prepared.encode(model.model_hash, model.num_classes, x[i], logits[i], method,
                                       attributions[i], self.config.circuit_classes)
            db.touch(row, status="prepared", prepared=prepared.to_json(), predicted_class=prepared.predicted_class,
                     assessment=json.dumps(assessments[i]),
                     timings=json.dumps({"inference_s": elapsed, "inference_batch": len(rows)}))
            # the extra chains' rows are stored with the prepared state, in one transaction: none is ever lost
            if not await self._store(row, *(t.new_row(row.request_id) for t in self.targets)):
                continue
            self._to_prove(row)
            for target in self.targets:
                target.queue.put_nowait(row.request_id)
        self._gauges()

    async def _infer_proven(self, model_hash: str, method: str, level: str, rows: list[db.AttestationRow]) -> None:
        """Proven level: the quantized oracle predicts (and at ``explanation`` explains); the float model only
        measures the (unproven) assessment and, at ``inference``, gives the committed (unproven) attribution."""
        t0 = time.monotonic()
        try:
            proven = self._proven_model(model_hash, level, method)
            model: LoadedModel = await self.models.get(model_hash)
            requests = [json.loads(r.input_json or "{}") for r in rows]
            x = np.stack([np.asarray(req["x"], dtype=np.float32) for req in requests])
            results = [await asyncio.to_thread(oracle, proven.row.qnet, level, method,
                                               tuple(quantize_input(model, x[i]))) for i in range(len(rows))]
            targets = [r.predicted_class for r in results]
            float_attr = (await asyncio.to_thread(explain, model, x, method, targets) if level != EXPLANATION
                          else None)
        except (ExplainerError, NodeError, ValueError) as exc:
            for row in rows:
                await self._fail(row, "inference", "rejected", f"{type(exc).__name__}: {exc}")
            return
        attributions = (np.stack([np.asarray(r.attribution, dtype=np.float64).reshape(x.shape[1:]) / 65536
                                  for r in results]) if float_attr is None else float_attr)
        assessments = await self._assess(model, model_hash, x, attributions, targets,
                                         [bool(req.get("quality")) for req in requests])
        elapsed = time.monotonic() - t0
        self.metrics.latency.labels("inference", "").observe(elapsed)
        for i, row in enumerate(rows):
            prepared = Prepared.encode_proven(model.model_hash, level, method, proven.row.model_commitment,
                                              tuple(int(d) for d in x.shape[1:]), results[i],
                                              None if float_attr is None else float_attr[i])
            assessments[i]["prediction"] = ("the scores are the quantized model's, computed exactly by the proven "
                                            "circuit; the float model's prediction is not what is proven")
            db.touch(row, status="prepared", prepared=prepared.to_json(), predicted_class=prepared.predicted_class,
                     assessment=json.dumps(assessments[i]),
                     timings=json.dumps({"inference_s": elapsed, "inference_batch": len(rows)}))
            if not await self._store(row):  # proven levels: the primary chain only
                continue
            self._to_prove(row)
        self._gauges()

    def _proven_model(self, model_hash: str, level: str, method: str) -> ProvenModel:
        found = self.proven.get(model_hash, level, method) if self.proven is not None else None
        if found is None:
            raise LevelNotRegistered(f"model {model_hash} is not registered at level {level} ({method})")
        return found

    def record_chain(self, row: db.AttestationRow) -> tuple[PrimaryChain, str]:
        """The chain adapter and registry address a stored single attestation is recorded in: at a proven level its
        model's level registry (LevelNotRegistered when that registration is gone), else the primary registry."""
        if (row.level or COMMITMENT) in PROVEN_LEVELS:
            prepared = Prepared.from_json(row.prepared or "")
            proven = self._proven_model(prepared.model_hash, prepared.level, prepared.method)
            return proven.chain, proven.row.registry_address
        return self.target, self.chain.registry

    def _chain_of(self, prepared: Prepared) -> PrimaryChain:
        """The chain (registry) a prepared prediction is recorded in: its model's level registry, or the primary."""
        if prepared.level in PROVEN_LEVELS:
            return self._proven_model(prepared.model_hash, prepared.level, prepared.method).chain
        return self.target

    async def _assess(self, model: LoadedModel, model_hash: str, x: np.ndarray, attributions: np.ndarray,
                      targets: list[int], want_quality: list[bool]) -> list[dict[str, Any]]:
        """Trust for every row, explanation quality where asked. Measured, not proven; never fails a request."""
        from node.pipeline import assessment

        out: list[dict[str, Any]] = [{"covered_by_proof": False} for _ in targets]
        try:
            calibration = await self.models.calibration(model_hash)
            for entry, t in zip(out, await asyncio.to_thread(assessment.trust, model, x, calibration), strict=True):
                entry["trust"] = t
            idx = [i for i, want in enumerate(want_quality) if want]
            if idx:
                qual = await asyncio.to_thread(assessment.quality, model, x[idx], attributions[idx],
                                               [targets[i] for i in idx])
                for i, q in zip(idx, qual, strict=True):
                    out[i]["quality"] = q
        except (ExplainerError, ValueError) as exc:
            log.warning("assessment failed: %s", exc)
            for entry in out:
                entry["error"] = f"{type(exc).__name__}: {exc}"
        return out

    # -- prove ----------------------------------------------------------------------------------
    async def _prove_loop(self) -> None:
        while True:
            row = await self.prove_q.get()
            self._gauges()
            prepared = Prepared.from_json(row.prepared or "")
            t0 = time.monotonic()
            try:
                if prepared.level in PROVEN_LEVELS:
                    proven = self._proven_model(prepared.model_hash, prepared.level, prepared.method)
                    proof = await self.pool.prove_proven(prepared.proven_job(
                        str(proven.keys.paths.proving_key), proven.row.qnet, proven.chain.context()))
                else:
                    proof = await self.pool.prove(prepared.opening(), self.context)
            except asyncio.CancelledError:
                raise
            except ProverUnavailable as exc:  # the provers, not the request: keep it and try again shortly
                log.warning("request %s not proven (%s); retrying in 2 s", row.request_id, exc)
                self.metrics.failure("prove_retry", self.target.kind)
                await asyncio.sleep(2.0)
                self._to_prove(row)
                continue
            except Exception as exc:
                await self._fail(row, "prove", "failed", f"proving failed: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.monotonic() - t0
            self.metrics.proofs.inc()
            self.metrics.latency.labels("prove", self.target.kind).observe(elapsed)
            timings = json.loads(row.timings or "{}") | {"prove_s": elapsed}
            db.touch(row, status="proved", proof=json.dumps(proof_to_snarkjs(proof)), timings=json.dumps(timings))
            if self.cluster is not None:  # released to the database: the chain's submitter claims it
                db.touch(row, owner=None, lease_until=None)
                if await self._store(row):
                    self._drop(row.request_id)
                    self.cluster.wake.set()
                continue
            await asyncio.to_thread(db.put, self.engine, row)
            self.submit_q.put_nowait(row)
            self._gauges()

    # -- submit ---------------------------------------------------------------------------------
    async def _submit_loop(self, lock: asyncio.Lock) -> None:
        while True:
            row = await self.submit_q.get()
            self._gauges()
            async with lock:  # shutdown waits for a transaction in flight
                try:
                    await self._submit(row)
                except asyncio.CancelledError:
                    raise
                except LeaseLost as exc:  # cluster: another replica signs now; it claims the row once released
                    log.warning("request %s not sent: %s", row.request_id, exc)
                    db.touch(row, owner=None, lease_until=None)
                    await self._store(row)
                except Exception as exc:  # never let one request stop the submit stage
                    log.exception("submit failed for request %s", row.request_id)
                    await self._fail(row, "submit", "failed", f"internal error: {type(exc).__name__}: {exc}")

    async def _submit(self, row: db.AttestationRow) -> None:
        prepared = Prepared.from_json(row.prepared or "")
        statement, words = statement_and_proof(prepared, row.proof)
        t0 = time.monotonic()
        try:
            recorded = await record(self._chain_of(prepared), statement, words, self.metrics, f"request {row.request_id}",
                                    row.attempts)
        except RecordFailed as exc:
            row.attempts = exc.attempts
            await self._fail(row, "submit", "failed", str(exc))
            return
        row.attempts, sent = recorded.attempts, recorded.submitted
        if not recorded.resumed:
            self.metrics.gas.labels(self.target.kind).inc(sent.cost)
        tx_hash, block, gas, ident = sent.tx_id, sent.height, sent.cost, sent.attestation_id
        elapsed = time.monotonic() - t0
        self.metrics.latency.labels("submit", self.target.kind).observe(elapsed)
        timings = json.loads(row.timings or "{}") | {"submit_s": elapsed}
        db.touch(row, status="submitted", attestation_id=ident, tx_hash=tx_hash, block_number=block,
                 gas_used=gas, timings=json.dumps(timings), error=None)
        if self.confirmations == 1:  # final in its block: no intermediate state to store
            await self._attested(row)
            return
        if not await self._store(row):
            return
        log.info("request %s mined in tx %s (block %d); final at %d confirmations", row.request_id, tx_hash, block,
                 self.confirmations)
        self.confirm_q.put_nowait(row)
        self._gauges()

    # -- cluster ---------------------------------------------------------------------------------
    async def _sweep_loop(self) -> None:
        """Take over ``received`` / ``prepared`` rows nobody holds (a dead replica's) every half lease."""
        assert self.cluster is not None
        while True:
            await asyncio.sleep(self.cluster.period_s * 2)
            if not self.accepting:
                continue
            try:
                rows = await self.cluster.claim_expired()
            except Exception as exc:  # noqa: BLE001 - the database is away: try again next round
                log.warning("claiming unheld rows failed: %s: %s", type(exc).__name__, exc)
                continue
            if rows:
                log.info("%s took over %d unheld request(s)", self.cluster.replica, len(rows))
            for row in rows:
                self._enqueue(row)

    async def _submitter_loop(self) -> None:
        """While this replica is the chain's submitter: claim released ``proved`` / ``submitted`` rows and send."""
        assert self.cluster is not None
        while True:
            try:
                await asyncio.wait_for(self.cluster.wake.wait(), self.cluster.period_s)
            except asyncio.TimeoutError:
                pass
            self.cluster.wake.clear()
            try:
                rows = await self.cluster.claim_for_submitter()
            except Exception as exc:  # noqa: BLE001 - the database is away: try again next round
                log.warning("claiming proved rows failed: %s: %s", type(exc).__name__, exc)
                continue
            for row in rows:
                (self.confirm_q if row.status == "submitted" else self.submit_q).put_nowait(row)
            if rows:
                self._gauges()

    async def _watch_loop(self) -> None:
        """Answer this replica's waiting clients whose requests another replica finished."""
        while True:
            await asyncio.sleep(0.25)
            waiting = list(self.waiters.by_request)
            if not waiting:
                continue
            try:
                done = await asyncio.to_thread(finished, self.engine, waiting)
            except Exception as exc:  # noqa: BLE001
                log.warning("reading finished requests failed: %s", exc)
                continue
            for row in done:
                self.waiters.resolve(row.request_id, result_json(row))

    # -- confirm --------------------------------------------------------------------------------
    async def _confirm_loop(self) -> None:
        """One row at a time, in mining order: the ones behind are about as deep when the first is final."""
        while True:
            row = await self.confirm_q.get()
            self._gauges()
            try:
                await self._confirm(row)
            except asyncio.CancelledError:
                raise  # the row stays ``submitted``: the next start checks it again
            except Exception as exc:  # never let one request stop the confirm stage
                log.exception("confirming failed for request %s", row.request_id)
                await self._fail(row, "confirm", "failed", f"internal error: {type(exc).__name__}: {exc}")

    async def _confirm(self, row: db.AttestationRow) -> None:
        assert row.tx_hash is not None and row.block_number is not None
        t0 = time.monotonic()
        try:
            chain = self._chain_of(Prepared.from_json(row.prepared or ""))
            mined = Submitted(self.target.kind, row.attestation_id or "", row.tx_hash, row.block_number,
                              self.target.attester)
            final = await wait_final(lambda: chain.confirm(mined, self.confirmations), self.metrics,
                                     f"request {row.request_id}", self.target.kind)
        except Dropped as exc:  # the id is fixed: the submit stage re-checks the registry first
            reorgs = self._reorgs[row.request_id] = self._reorgs.get(row.request_id, 0) + 1
            self.metrics.failure("submit_reorg", self.target.kind)
            if reorgs > MAX_REORG_RESUBMITS:
                await self._fail(row, "confirm", "failed", f"dropped by {reorgs} reorgs: {exc}")
                return
            log.warning("request %s: %s; submitting again", row.request_id, exc)
            db.touch(row, status="proved", tx_hash=None, block_number=None, gas_used=None,
                     error=f"transaction dropped by a reorg, submitting again: {exc}")
            if not await self._store(row):
                return
            self.submit_q.put_nowait(row)
            self._gauges()
            return
        elapsed = time.monotonic() - t0
        self.metrics.latency.labels("confirm", self.target.kind).observe(elapsed)
        timings = json.loads(row.timings or "{}") | {"confirm_s": elapsed}
        db.touch(row, block_number=final.height, gas_used=final.cost, timings=json.dumps(timings))
        await self._attested(row)

    async def _attested(self, row: db.AttestationRow) -> None:
        """Final: store the disclosure (tx hash and block of the confirmed transaction) and answer the waiters."""
        assert row.attestation_id is not None and row.tx_hash is not None and row.block_number is not None
        prepared = Prepared.from_json(row.prepared or "")
        registry = (self._proven_model(prepared.model_hash, prepared.level, prepared.method).row.registry_address
                    if prepared.level in PROVEN_LEVELS else self.chain.registry)
        chain = ChainRef(self.chain.chain_id, registry, row.tx_hash, row.block_number, attester=self.target.attester)
        disclosure = prepared.disclosure(row.attestation_id, chain, json.loads(row.proof or "{}"),
                                         json.loads(row.assessment) if row.assessment else None)
        self.metrics.attested.labels(self.target.kind).inc()
        db.touch(row, status="attested", disclosure=json.dumps(disclosure.to_json()), error=None)
        await self._finish(row, result_json(row))
