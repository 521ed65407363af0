"""Row claims and the submitter lease on a real PostgreSQL server (and the same code on SQLite).

Many threads, each its own replica, race to claim the same rows with ``SELECT ... FOR UPDATE SKIP LOCKED``: every
row is claimed exactly once. The submitter lease has one holder at a time, passes to another replica only after
it expired, and raises the fencing token at each change; a stale holder's check and writes fail with typed errors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg_harness import PG_BIN, SKIP_REASON, running_postgres


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    if PG_BIN is None:
        pytest.skip(SKIP_REASON)
    with running_postgres() as url:
        yield url


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    from sqlalchemy import text

    from node.store import db

    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        eng = db.make_engine(url)
        with eng.begin() as conn:
            conn.execute(text("TRUNCATE attestations, leases"))
    else:
        eng = db.make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    yield eng
    eng.dispose()


def _rows(engine: object, n: int, status: str = "received") -> None:
    from node.store import db

    db.put_all(engine, [db.AttestationRow(request_id=f"r{i}", model_hash="0x00", method="gradient", status=status)
                        for i in range(n)])  # type: ignore[arg-type]


def test_racing_replicas_claim_each_row_once(engine: object) -> None:
    from node.store import claims

    if engine.dialect.name == "sqlite":  # type: ignore[attr-defined]
        pytest.skip("one writer at a time: the race is PostgreSQL's (SQLite is the single-node default)")
    _rows(engine, 300)
    got: dict[str, list[str]] = {f"replica-{i}": [] for i in range(6)}
    start = threading.Barrier(len(got))

    def replica(name: str) -> None:
        start.wait()
        while rows := claims.claim_expired(engine, name, 10_000, limit=7):  # type: ignore[arg-type]
            got[name] += [r.request_id for r in rows]

    threads = [threading.Thread(target=replica, args=(name,)) for name in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    claimed = [rid for rids in got.values() for rid in rids]
    assert sorted(claimed) == sorted(f"r{i}" for i in range(300))  # each once, none lost
    assert sum(1 for rids in got.values() if rids) >= 2  # really concurrent
    assert claims.holders(engine) == {name: len(rids) for name, rids in got.items() if rids}  # type: ignore[arg-type]


def test_expired_claims_pass_to_another_replica_and_the_old_owner_cannot_write(engine: object) -> None:
    from node.store import claims

    _rows(engine, 3)
    mine = claims.claim_expired(engine, "a", 300)  # type: ignore[arg-type]
    assert len(mine) == 3 and claims.claim_expired(engine, "b", 300) == []  # type: ignore[arg-type]
    assert claims.renew(engine, "a", 300) == 3  # type: ignore[arg-type]
    time.sleep(0.45)
    taken = claims.claim_expired(engine, "b", 10_000)  # type: ignore[arg-type]
    assert [r.request_id for r in taken] == ["r0", "r1", "r2"]
    assert claims.renew(engine, "a", 300) == 0  # an expired claim is never renewed  # type: ignore[arg-type]
    stale = mine[0]
    stale.status = "prepared"
    with pytest.raises(claims.ClaimLost):
        claims.write_owned(engine, "a", [stale])  # type: ignore[arg-type]
    taken[0].status = "prepared"
    claims.write_owned(engine, "b", [taken[0]])  # type: ignore[arg-type]
    # a proved row released by b is the submitter's to claim, not an intake replica's
    taken[1].status, taken[1].owner, taken[1].lease_until = "proved", None, None
    claims.write_owned(engine, "b", [taken[1]])  # type: ignore[arg-type]
    assert claims.claim_expired(engine, "c", 10_000) == []  # type: ignore[arg-type]
    assert [r.request_id for r in claims.claim_for_submitter(engine, "s", 10_000)] == ["r1"]  # type: ignore[arg-type]


def test_submitter_lease_one_holder_new_token_on_takeover(engine: object) -> None:
    from node.store import leases

    name = leases.submitter_lease("ethereum")
    a = leases.acquire(engine, name, "a", 400)  # type: ignore[arg-type]
    assert a is not None and leases.acquire(engine, name, "b", 400) is None  # type: ignore[arg-type]
    leases.check(engine, a, 100)  # type: ignore[arg-type]
    assert leases.renew(engine, a, 400)  # type: ignore[arg-type]
    time.sleep(0.3)
    with pytest.raises(leases.LeaseLost):  # under the margin: no send, although not expired yet
        leases.check(engine, a, 200)  # type: ignore[arg-type]
    time.sleep(0.2)
    b = leases.acquire(engine, name, "b", 400)  # type: ignore[arg-type]
    assert b is not None and b.token == a.token + 1
    assert not leases.renew(engine, a, 400)  # type: ignore[arg-type]
    with pytest.raises(leases.LeaseLost):
        leases.check(engine, a, 0)  # type: ignore[arg-type]
    leases.release(engine, b)  # type: ignore[arg-type]
    c = leases.acquire(engine, name, "a", 400)  # released: taken at once  # type: ignore[arg-type]
    assert c is not None and c.token == b.token + 1
    assert leases.current(engine, name)[:2] == ("a", c.token)  # type: ignore[arg-type]


def test_racing_acquirers_one_winner(engine: object) -> None:
    from node.store import leases

    if engine.dialect.name == "sqlite":  # type: ignore[attr-defined]
        pytest.skip("the race is PostgreSQL's")
    won: list[str] = []
    start = threading.Barrier(8)

    def replica(name: str) -> None:
        start.wait()
        if leases.acquire(engine, "submitter:race", name, 5_000) is not None:  # type: ignore[arg-type]
            won.append(name)

    threads = [threading.Thread(target=replica, args=(f"r{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(won) == 1


def test_replicas_starting_together_migrate_one_after_the_other(pg_url: str) -> None:
    """Several replicas create the schema of a fresh database at the same moment (an advisory lock serialises them;
    without it PostgreSQL refuses the second CREATE TABLE of the same name)."""
    import sqlalchemy

    from node.store import db

    admin = sqlalchemy.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text("CREATE DATABASE fresh_migrate"))
    admin.dispose()
    url = pg_url.rsplit("/", 1)[0] + "/fresh_migrate"
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def replica() -> None:
        start.wait()
        try:
            db.make_engine(url).dispose()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("select version_num from alembic_version")).scalar_one() == "0005"
    engine.dispose()
