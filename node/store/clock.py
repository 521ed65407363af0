"""The database's clock, in milliseconds since the epoch, as a SQL expression.

Cluster leases (row claims, the submitter lease) compare expiries with the database's own clock, never a replica's:
replicas on machines whose clocks disagree still agree on who holds what.
"""

from __future__ import annotations

from sqlalchemy import literal_column
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

_NOW_MS = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    "sqlite": "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
}


def now_ms(engine: Engine) -> ColumnElement[int]:
    """``now`` of ``engine``'s database in ms (PostgreSQL: ``clock_timestamp()``, not the transaction's start)."""
    try:
        return literal_column(_NOW_MS[engine.dialect.name])
    except KeyError:
        raise NotImplementedError(f"cluster leases support PostgreSQL and SQLite, not {engine.dialect.name}") from None
