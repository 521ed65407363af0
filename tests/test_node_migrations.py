"""Schema migrations (Alembic): an empty database is brought to head, re-running is a no-op, and the
migrations describe exactly the sqlmodel tables (a model change without a migration fails here)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from node import db


def test_fresh_database_reaches_head_and_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = db.make_engine(url)
    head = ScriptDirectory.from_config(db.alembic_config(None)).get_current_head()  # type: ignore[arg-type]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() == head
        assert compare_metadata(context, SQLModel.metadata) == []
    assert {"models", "attestations", "calibrations"} <= set(inspect(engine).get_table_names())
    engine.dispose()
    again = db.make_engine(url)  # idempotent
    with again.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    again.dispose()
