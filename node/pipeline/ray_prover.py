"""Proving on a Ray cluster (``[prover] backend = "ray"``, optional extra ``zkxai[cluster]``).

Each of the node's ``prover.workers`` is a Ray actor (:class:`ProverActor`) that parses the proving key once, in its
constructor, from bytes the node put in Ray's object store once (so a worker on another machine needs no key file):
measured by ``scripts/bench_cluster.py``, the key parse (~1.6 MB JSON, every point checked) costs more than a proof,
so passing the key to a plain task per proof would double the cost of each one. Calls go to whichever actor is free.

Failures: an actor is declared with unlimited restarts and task retries, so when its worker process (or the Ray node
it ran on) dies mid-proof, Ray restarts it (on any node with a free CPU) and runs the same call again; the stage that
persisted the request gets exactly one proof back. A prover error raised inside the actor is not retried (it would
fail again) and reaches the stage as :class:`~prover.errors.ProverError` like with local processes.

The node and the workers must run the same zkxai and Python version (Ray pickles the jobs).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from circuits.commitment import CommitmentOpening
from prover.keys import Proof, ProvingKey
from prover.serialize import proving_key_from_json

from node.errors import ConfigError
from node.pipeline.batching import BatchError, BatchOpening, BatchProof, prove_batch
from node.pipeline.proven import ProvenJob, prove_job
from node.pipeline.proving import ProverUnavailable, prove_opening

log = logging.getLogger("zkxai.node")


class ProverActorImpl:
    """The body of a Ray prover actor: both proving keys parsed once, then proofs on demand."""

    def __init__(self, pk: bytes, batch_pk: bytes | None) -> None:
        self.pk: ProvingKey = proving_key_from_json(json.loads(pk))
        self.batch_pk = proving_key_from_json(json.loads(batch_pk)) if batch_pk else None

    def pid(self) -> int:
        import os

        return os.getpid()

    def prove(self, opening: CommitmentOpening, context: int) -> Proof:
        return prove_opening(self.pk, opening, context)

    def prove_batch(self, batch: BatchOpening) -> BatchProof:
        if self.batch_pk is None:
            raise BatchError("this prover actor was started without the batch proving key")
        return prove_batch(self.batch_pk, batch)

    def prove_proven(self, job: ProvenJob) -> Proof:
        return prove_job(job)


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ConfigError('prover.backend = "ray" needs Ray: pip install "zkxai[cluster]"') from exc
    return ray


class RayProverPool:
    """``prover.workers`` Ray actors holding the proving keys; the same interface as the local pool."""

    def __init__(self, pk: bytes, workers: int, batch_pk: bytes | None = None, address: str | None = None,
                 cpus_per_worker: float = 1.0) -> None:
        ray = _ray()
        self.batching = batch_pk is not None
        if not ray.is_initialized():
            try:
                ray.init(address=address, namespace="zkxai", log_to_driver=False, include_dashboard=False,
                         configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ConfigError(f"cannot join the Ray cluster at {address or 'a new local Ray'}: {exc}") from exc
        actor = ray.remote(num_cpus=cpus_per_worker, max_restarts=-1, max_task_retries=-1)(ProverActorImpl)
        pk_ref = ray.put(pk)
        batch_ref = ray.put(batch_pk) if batch_pk else None
        #: Held for the pool's life: a restarted actor is constructed again from these.
        self._keys = (pk_ref, batch_ref)
        self.actors = [actor.remote(pk_ref, batch_ref) for _ in range(workers)]
        self._free: asyncio.Queue[Any] | None = None
        log.info("ray prover pool: %d actor(s) on %s", workers, address or "a local Ray")

    def _queue(self) -> asyncio.Queue[Any]:
        if self._free is None:  # created in the event loop that uses it
            self._free = asyncio.Queue()
            for a in self.actors:
                self._free.put_nowait(a)
        return self._free

    async def _call(self, method: str, *args: Any) -> Any:
        free = self._queue()
        actor = await free.get()
        try:
            return await getattr(actor, method).remote(*args)
        except BaseException as exc:
            raise _unwrapped(exc) from None
        finally:
            free.put_nowait(actor)

    async def prove(self, opening: CommitmentOpening, context: int) -> Proof:
        return await self._call("prove", opening, context)  # type: ignore[no-any-return]

    async def prove_batch(self, batch: BatchOpening) -> BatchProof:
        if not self.batching:
            raise BatchError("this prover pool was started without batch keys")
        return await self._call("prove_batch", batch)  # type: ignore[no-any-return]

    async def prove_proven(self, job: ProvenJob) -> Proof:
        return await self._call("prove_proven", job)  # type: ignore[no-any-return]

    async def pids(self) -> list[int]:
        """The worker process id of each actor (tests kill one)."""
        return [await a.pid.remote() for a in self.actors]

    def close(self) -> None:
        ray = _ray()
        for a in self.actors:
            ray.kill(a, no_restart=True)
        self.actors = []


def _unwrapped(exc: BaseException) -> BaseException:
    """A Ray task error carries the actor's own exception (a ProverError, a BatchError): raise that. Ray's own
    failures (the cluster gone, an actor that cannot be restarted) become :class:`ProverUnavailable` (retried)."""
    from ray.exceptions import RayError, RayTaskError

    if isinstance(exc, RayTaskError):
        cause = getattr(exc, "cause", None)
        return cause if isinstance(cause, Exception) else exc
    if isinstance(exc, (RayError, ConnectionError)):
        return ProverUnavailable(f"{type(exc).__name__}: {exc}")
    return exc
