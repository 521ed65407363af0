"""Named leases with fencing tokens in the database: one submitter per chain among several replicas.

``submitter:<chain>`` is held by at most one replica at a time: :func:`acquire` takes it only when nobody holds it or
the holder's lease expired (database clock), and raises its ``token``; :func:`renew` extends it only while it is
still unexpired and the token unchanged. Before every transaction the holder calls :func:`check` with a margin: a
holder that was paused (GC, network) until its lease ran out, or whose lease was taken over, fails with
:class:`LeaseLost` before signing, so two replicas never use the account's nonces at once. The new holder starts
with a new token, re-reads the nonce from the chain's pending pool and resumes the persisted ``proved`` /
``submitted`` rows. Works on PostgreSQL (row lock on the lease's row) and SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from node.errors import NodeError
from node.store.clock import now_ms
from node.store.db import LeaseRow

_L = LeaseRow.__table__  # type: ignore[attr-defined]


class LeaseLost(NodeError):
    """This replica no longer holds the lease (expired, or taken over): it must not act for it."""

    status = 503
    code = "lease_lost"


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    #: Raised at every change of holder; an action of an older token is refused (:func:`check`).
    token: int


def submitter_lease(chain: str) -> str:
    return f"submitter:{chain}"


def _ensure(engine: Engine, name: str) -> None:
    try:
        with engine.begin() as conn:
            if conn.execute(select(_L.c.name).where(_L.c.name == name)).first() is None:
                conn.execute(insert(_L).values(name=name, holder=None, token=0, expires_at=0))
    except IntegrityError:
        pass  # another replica inserted it first


def acquire(engine: Engine, name: str, holder: str, ttl_ms: int) -> Lease | None:
    """Take ``name`` for ``ttl_ms`` when it is free or expired (a new token); None while another holds it."""
    _ensure(engine, name)
    now = now_ms(engine)
    with engine.begin() as conn:
        done = conn.execute(update(_L).where(_L.c.name == name,
                                             or_(_L.c.holder.is_(None), _L.c.expires_at < now))
                            .values(holder=holder, token=_L.c.token + 1, expires_at=now + ttl_ms))
        if not done.rowcount:
            return None
        token = conn.execute(select(_L.c.token).where(_L.c.name == name)).scalar_one()
    return Lease(name, holder, int(token))


def renew(engine: Engine, lease: Lease, ttl_ms: int) -> bool:
    """Extend ``lease`` while it is unexpired and unchanged; False when it was lost (acquire again)."""
    now = now_ms(engine)
    with engine.begin() as conn:
        done = conn.execute(update(_L).where(_L.c.name == lease.name, _L.c.holder == lease.holder,
                                             _L.c.token == lease.token, _L.c.expires_at >= now)
                            .values(expires_at=now + ttl_ms))
        return bool(done.rowcount)


def check(engine: Engine, lease: Lease, margin_ms: int) -> None:
    """Raise :class:`LeaseLost` unless ``lease`` is still held with this token for at least ``margin_ms`` more."""
    now = now_ms(engine)
    with engine.connect() as conn:
        ok = conn.execute(select(_L.c.token).where(_L.c.name == lease.name, _L.c.holder == lease.holder,
                                                   _L.c.token == lease.token, _L.c.expires_at - margin_ms >= now)
                          ).first()
    if ok is None:
        raise LeaseLost(f"{lease.holder} no longer holds {lease.name} (token {lease.token})")


def release(engine: Engine, lease: Lease) -> None:
    """Graceful stop: free the lease at once (the next holder need not wait for the expiry)."""
    with engine.begin() as conn:
        conn.execute(update(_L).where(_L.c.name == lease.name, _L.c.holder == lease.holder,
                                      _L.c.token == lease.token).values(holder=None, expires_at=0))


def current(engine: Engine, name: str) -> tuple[str | None, int, bool]:
    """(holder, token, unexpired) of ``name`` (holder None when never taken)."""
    now = now_ms(engine)
    with engine.connect() as conn:
        got = conn.execute(select(_L.c.holder, _L.c.token, _L.c.expires_at >= now).where(_L.c.name == name)).first()
    return (None, 0, False) if got is None else (got[0], int(got[1]), bool(got[2]))
