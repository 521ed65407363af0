"""Cluster mode: several node replicas on one database (PostgreSQL) and one chain, each replica a
:class:`Cluster` member of the :class:`~node.pipeline.engine.Pipeline`.

* **Row claims** (:mod:`node.store.claims`): a replica works on a request only while it holds the row's claim; it
  renews its claims every ``lease/4``; every ``lease/2`` it claims rows nobody holds (a dead replica's) with
  ``SELECT ... FOR UPDATE SKIP LOCKED``. A row claimed twice is impossible; a replica paused past its lease loses
  the row and its write fails (:class:`~node.store.claims.ClaimLost`) instead of overwriting.
* **One submitter per chain** (:mod:`node.store.leases`): proved rows are released to the database; the replica
  holding ``submitter:<chain>`` claims them and alone signs. Its sends are fenced: before each transaction the
  chain adapter calls :meth:`Cluster.guard`, which checks the lease is still this replica's, with this token, for at
  least half a lease more (else :class:`~node.store.leases.LeaseLost`, nothing is signed); a new token makes the
  adapter re-read the account's nonce from the chain. When the submitter dies another replica acquires the lease
  within ``lease * 1.25`` and resumes the persisted ``proved`` / ``submitted`` rows (``find`` before every send
  adopts a transaction the dead one had sent).
* **Waiting clients**: a request answered with ``?wait=true`` may be finished by another replica (the submitter);
  every ``poll_s`` the replica reads the final rows of the requests its clients wait for.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from node.store import claims, db, leases

log = logging.getLogger("zkxai.cluster")


@dataclass(frozen=True)
class ClusterSettings:
    replica: str
    lease_ms: int
    chain: str = "ethereum"

    @classmethod
    def of(cls, replica_id: str | None, port: int, lease_s: float, chain: str = "ethereum") -> ClusterSettings:
        return cls(replica_id or f"{socket.gethostname()}:{port}", int(lease_s * 1000), chain)


class Cluster:
    """This replica's claims and, when it holds it, the chain's submitter lease."""

    def __init__(self, engine: Engine, settings: ClusterSettings) -> None:
        self.engine, self.settings = engine, settings
        self.replica = settings.replica
        self.lease: leases.Lease | None = None
        #: Set when this replica became the submitter, or when it released a proved row (claim at once).
        self.wake = asyncio.Event()

    @property
    def period_s(self) -> float:
        return self.settings.lease_ms / 4000

    @property
    def is_submitter(self) -> bool:
        return self.lease is not None

    async def heartbeat(self) -> None:
        """Renew this replica's row claims; keep, lose or take the chain's submitter lease."""
        name = leases.submitter_lease(self.settings.chain)
        while True:
            try:
                await asyncio.to_thread(claims.renew, self.engine, self.replica, self.settings.lease_ms)
                if self.lease is not None and not await asyncio.to_thread(leases.renew, self.engine, self.lease,
                                                                          self.settings.lease_ms):
                    log.warning("%s lost the submitter lease of %s (token %d)", self.replica, name, self.lease.token)
                    self.lease = None
                if self.lease is None:
                    self.lease = await asyncio.to_thread(leases.acquire, self.engine, name, self.replica,
                                                         self.settings.lease_ms)
                    if self.lease is not None:
                        log.info("%s is the submitter of %s (token %d)", self.replica, name, self.lease.token)
                        self.wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: claims lapse; other replicas take over
                log.warning("cluster heartbeat of %s failed: %s: %s", self.replica, type(exc).__name__, exc)
                self.lease = None
            await asyncio.sleep(self.period_s)

    async def guard(self) -> int:
        """Before each transaction: the fencing token of the lease this replica still holds for >= lease/2."""
        lease = self.lease
        if lease is None:
            raise leases.LeaseLost(f"{self.replica} is not the submitter of {self.settings.chain}")
        try:
            await asyncio.to_thread(leases.check, self.engine, lease, self.settings.lease_ms // 2)
        except leases.LeaseLost:
            self.lease = None
            raise
        return lease.token

    async def claim_own(self) -> list[db.AttestationRow]:
        return await asyncio.to_thread(claims.claim_own, self.engine, self.replica, self.settings.lease_ms)

    async def claim_expired(self) -> list[db.AttestationRow]:
        return await asyncio.to_thread(claims.claim_expired, self.engine, self.replica, self.settings.lease_ms)

    async def claim_for_submitter(self) -> list[db.AttestationRow]:
        if self.lease is None:
            return []
        return await asyncio.to_thread(claims.claim_for_submitter, self.engine, self.replica, self.settings.lease_ms)

    async def insert(self, row: db.AttestationRow) -> db.AttestationRow:
        return await asyncio.to_thread(claims.insert_owned, self.engine, self.replica, self.settings.lease_ms, row)

    async def write(self, rows: list[object]) -> None:
        await asyncio.to_thread(claims.write_owned, self.engine, self.replica, rows)  # type: ignore[arg-type]

    async def stop(self) -> None:
        """Graceful stop: give the claims and the lease back so another replica continues at once."""
        try:
            if self.lease is not None:
                await asyncio.to_thread(leases.release, self.engine, self.lease)
                self.lease = None
            await asyncio.to_thread(claims.release_all, self.engine, self.replica)
        except Exception as exc:  # noqa: BLE001 - they expire anyway
            log.warning("releasing %s's claims failed (they expire): %s", self.replica, exc)


@asynccontextmanager
async def exclusive(engine: Engine, name: str, holder: str, lease_ms: int, timeout_s: float = 300.0) -> AsyncIterator[None]:
    """Hold lease ``name`` for the block (e.g. deploying the registry once when replicas start together)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while (lease := await asyncio.to_thread(leases.acquire, engine, name, holder, lease_ms)) is None:
        if loop.time() > deadline:
            raise leases.LeaseLost(f"{name} stayed held by another replica for {timeout_s:.0f} s")
        await asyncio.sleep(0.2)
    try:
        yield
    finally:
        await asyncio.to_thread(leases.release, engine, lease)
