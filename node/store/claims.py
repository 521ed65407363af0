"""Row claims for several node replicas on one database (cluster mode).

A replica works on an ``attestations`` row only while it holds the row's claim: ``owner`` = its replica id and
``lease_until`` (ms, database clock) in the future. Claims are taken with ``SELECT ... FOR UPDATE SKIP LOCKED`` and
an ``UPDATE`` that re-checks the condition, so two replicas never take the same row; the holder renews all its claims
(:func:`renew`) well before they expire; a replica that dies stops renewing, and its rows are claimed by another
replica once expired (:func:`claim_expired`). Every write of a claimed row checks, under a row lock, that the claim
is still the writer's (:func:`write_owned`): a replica that lost a row (paused past its lease) fails with
:class:`ClaimLost` instead of overwriting the new owner's work.

Stages: ``received`` / ``prepared`` rows are claimed by the replica that accepted them (intake, inference, proving);
a ``proved`` row is released (owner NULL) and claimed by the chain's submitter (:func:`claim_for_submitter`), which
alone signs (node.store.leases). SQLite has no row locks and one writer at a time: the same statements work there
(single node, the default).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from sqlmodel import select as select_rows

from node.errors import NodeError
from node.store.clock import now_ms
from node.store.db import AttestationRow

#: What the intake replica works on, and what the chain's submitter works on.
WORKING = ("received", "prepared")
SUBMITTING = ("proved", "submitted")


class ClaimLost(NodeError):
    """The row is no longer this replica's (its claim expired and another replica took it)."""

    code = "claim_lost"


_T = AttestationRow.__table__  # type: ignore[attr-defined]


def _claim(engine: Engine, owner: str, lease_ms: int, where: object, limit: int) -> list[AttestationRow]:
    now = now_ms(engine)
    with Session(engine, expire_on_commit=False) as session:
        ids = list(session.execute(
            select(_T.c.id).where(where).order_by(_T.c.id).limit(limit).with_for_update(skip_locked=True)).scalars())
        if not ids:
            return []
        session.execute(update(_T).where(and_(_T.c.id.in_(ids), where))
                        .values(owner=owner, lease_until=now + lease_ms)
                        .execution_options(synchronize_session=False))
        session.commit()
        rows = session.exec(select_rows(AttestationRow).where(AttestationRow.id.in_(ids),  # type: ignore[union-attr]
                                                         AttestationRow.owner == owner)
                            .order_by(AttestationRow.id))  # type: ignore[arg-type]
        return list(rows)


def _claimable(engine: Engine, statuses: Sequence[str]) -> object:
    return and_(_T.c.status.in_(statuses),
                or_(_T.c.owner.is_(None), _T.c.lease_until.is_(None), _T.c.lease_until < now_ms(engine)))


def claim_own(engine: Engine, owner: str, lease_ms: int, limit: int = 1000) -> list[AttestationRow]:
    """At start: the rows this replica id held before a restart (intake stages), re-leased."""
    where = and_(_T.c.status.in_(WORKING), _T.c.owner == owner)
    return _claim(engine, owner, lease_ms, where, limit)


def claim_expired(engine: Engine, owner: str, lease_ms: int, limit: int = 64) -> list[AttestationRow]:
    """``received`` / ``prepared`` rows nobody holds (a dead replica's, or a single node's from before) -> ours."""
    return _claim(engine, owner, lease_ms, _claimable(engine, WORKING), limit)


def claim_for_submitter(engine: Engine, owner: str, lease_ms: int, limit: int = 64) -> list[AttestationRow]:
    """``proved`` / ``submitted`` rows nobody holds -> the chain's submitter (call only while holding its lease)."""
    return _claim(engine, owner, lease_ms, _claimable(engine, SUBMITTING), limit)


def renew(engine: Engine, owner: str, lease_ms: int) -> int:
    """Extend every unexpired claim of ``owner``; returns how many rows it holds. An expired claim is not renewed
    (another replica may have it already): :func:`write_owned` of that row then fails."""
    now = now_ms(engine)
    with engine.begin() as conn:
        done = conn.execute(update(_T).where(_T.c.owner == owner, _T.c.lease_until >= now,
                                             _T.c.status.in_((*WORKING, *SUBMITTING)))
                            .values(lease_until=now + lease_ms))
        return int(done.rowcount or 0)


def release_all(engine: Engine, owner: str) -> int:
    """Graceful stop: hand every claim of ``owner`` back at once (no waiting for expiry)."""
    with engine.begin() as conn:
        done = conn.execute(update(_T).where(_T.c.owner == owner).values(owner=None, lease_until=None))
        return int(done.rowcount or 0)


def insert_owned(engine: Engine, owner: str, lease_ms: int, row: AttestationRow) -> AttestationRow:
    """Store a new request claimed by ``owner`` (intake), in one transaction."""
    with Session(engine, expire_on_commit=False) as session:
        row.owner = owner
        session.add(row)
        session.flush()
        session.execute(update(_T).where(_T.c.id == row.id).values(lease_until=now_ms(engine) + lease_ms)
                        .execution_options(synchronize_session=False))
        session.commit()
        session.refresh(row)
        return row


def write_owned(engine: Engine, owner: str, rows: Sequence[SQLModel]) -> None:
    """Write ``rows`` in one transaction; each stored ``attestations`` row must still be ``owner``'s (checked under
    a row lock), else nothing is written and :class:`ClaimLost` is raised. New rows and other tables are written
    as they are."""
    with Session(engine, expire_on_commit=False) as session:
        for row in rows:
            if isinstance(row, AttestationRow) and row.id is not None:
                held = session.execute(select(_T.c.owner).where(_T.c.id == row.id).with_for_update()).scalar_one_or_none()
                if held != owner:
                    session.rollback()
                    raise ClaimLost(f"request {row.request_id} is held by {held or 'nobody'}, not {owner}")
        for row in rows:
            session.merge(row)
        session.commit()


def finished(engine: Engine, request_ids: Sequence[str]) -> list[AttestationRow]:
    """Those of ``request_ids`` whose rows are final (whichever replica finished them)."""
    from node.store.db import FINAL

    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select_rows(AttestationRow).where(
            AttestationRow.request_id.in_(list(request_ids)), AttestationRow.status.in_(FINAL))))  # type: ignore[attr-defined]


def holders(engine: Engine) -> dict[str | None, int]:
    """Unfinished rows per owner (NULL: waiting for a claim), for status pages and tests."""
    from sqlalchemy import func

    with engine.connect() as conn:
        got = conn.execute(select(_T.c.owner, func.count()).where(_T.c.status.in_((*WORKING, *SUBMITTING)))
                           .group_by(_T.c.owner))
        return {owner: int(n) for owner, n in got}
