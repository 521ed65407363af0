"""Schema migrations (Alembic): an empty database is brought to head, re-running is a no-op, and the
migrations describe exactly the sqlmodel tables (a model change without a migration fails here)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

from node.store import db


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


def test_database_from_before_migrations_is_adopted_keeping_its_rows(tmp_path: Path) -> None:
    """A node that wrote its schema with create_all (no alembic_version), one column short: the upgrade adds it,
    stamps the baseline and keeps the rows."""
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    legacy = create_engine(url)
    SQLModel.metadata.create_all(legacy)
    with legacy.begin() as conn:
        conn.execute(text("ALTER TABLE attestations DROP COLUMN batch_index"))
        # an earlier failed upgrade can leave an empty version table behind (SQLite commits DDL eagerly)
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        conn.execute(text("INSERT INTO attestations (request_id, model_hash, method, status, attempts, created_at, "
                          "updated_at) VALUES ('old-1', '0xab', 'gradient', 'received', 0, '2026-01-01', '2026-01-01')"))
    legacy.dispose()
    engine = db.make_engine(url)
    assert [r.request_id for r in db.pending_attestations(engine)] == ["old-1"]
    assert "batch_index" in {c["name"] for c in inspect(engine).get_columns("attestations")}
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() is not None
        assert compare_metadata(context, SQLModel.metadata) == []
    engine.dispose()


def test_revision_0001_database_gets_the_deployments_table_keeping_its_rows(tmp_path: Path) -> None:
    """A node's database at 0001 (before deployments were remembered): the upgrade adds the table, rows stay."""
    from alembic import command
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'r1.db'}"
    old = create_engine(url)
    with old.begin() as conn:
        command.upgrade(db.alembic_config(conn), "0001")  # type: ignore[arg-type]
        conn.execute(text("INSERT INTO attestations (request_id, model_hash, method, status, attempts, created_at, "
                          "updated_at) VALUES ('r1', '0xab', 'gradient', 'proved', 0, '2026-01-01', '2026-01-01')"))
    assert "deployments" not in inspect(old).get_table_names()
    old.dispose()
    engine = db.make_engine(url)
    assert [r.request_id for r in db.pending_attestations(engine)] == ["r1"]
    db.put(engine, db.DeploymentRow(chain_id=131277322940537, kind="registry", address="0x" + "aa" * 20,
                                    verifier="0x" + "bb" * 20, vk_digest="0x" + "cc" * 32))
    assert db.get_deployment(engine, 131277322940537, "registry").address == "0x" + "aa" * 20  # type: ignore[union-attr]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() == "0005"
        assert compare_metadata(context, SQLModel.metadata) == []
    engine.dispose()
