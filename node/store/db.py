"""Persistence with sqlmodel: SQLite by default, any SQLAlchemy URL (PostgreSQL) by configuration.

Rows are written before the client is answered: a request is stored as ``received`` first and moved
through ``prepared`` / ``proved`` / ``submitted`` (single mode: mined, waiting for ``chain.confirmations``) or
``batched`` (batch mode, see :class:`BatchRow`) to ``attested`` or ``failed``, so nothing accepted is lost silently.
The contracts the node deployed are remembered per chain (:class:`DeploymentRow`), so a restart attaches to them;
models registered at a proven level keep their quantized form, keys and registry in :class:`ProvenModelRow`.
Database calls are short and run in a worker thread (``asyncio.to_thread``) so the event loop never blocks.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from sqlalchemy import BigInteger, LargeBinary, Text
from sqlalchemy.engine import Engine
from sqlmodel import Column, Field, Session, SQLModel, create_engine, select

log = logging.getLogger("zkxai.node")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class ModelRow(SQLModel, table=True):
    __tablename__ = "models"

    model_hash: str = Field(primary_key=True, description="0x + SHA-256 of the canonical model bytes")
    name: str = ""
    kind: str = "onnx"
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    input_shape: str = Field(description="JSON list, per-sample shape")
    num_classes: int
    created_at: datetime = Field(default_factory=_now)


class CalibrationRow(SQLModel, table=True):
    __tablename__ = "calibrations"

    model_hash: str = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False), description="npz of explainers.ood.OodCalibration")
    samples: int
    created_at: datetime = Field(default_factory=_now)


class AttestationRow(SQLModel, table=True):
    __tablename__ = "attestations"

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(index=True, unique=True)
    model_hash: str = Field(index=True)
    method: str
    status: str = Field(default="received", index=True)
    attestation_id: str | None = Field(default=None, index=True)
    predicted_class: int | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    gas_used: int | None = None
    #: JSON of the validated input (written at intake, before the request is acknowledged).
    input_json: str | None = Field(default=None, sa_column=Column(Text))
    #: JSON of the committed opening (salts, fixed-point data); written before proving so a restart reuses it.
    prepared: str | None = Field(default=None, sa_column=Column(Text))
    proof: str | None = Field(default=None, sa_column=Column(Text))
    attempts: int = 0
    #: Trust and quality figures (measured, not proven), JSON.
    assessment: str | None = Field(default=None, sa_column=Column(Text))
    disclosure: str | None = Field(default=None, sa_column=Column(Text))
    timings: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = None
    #: Batch mode: the batch this prediction was put in (status ``batched`` from then on) and its slot.
    batch_key: str | None = Field(default=None, index=True)
    batch_index: int | None = None
    #: The proof level (node.verify.levels): ``commitment`` (NULL in rows from before levels) or a proven level,
    #: attested in the registry of the model's :class:`ProvenModelRow` for (model, level, method).
    level: str | None = None
    #: Cluster mode (node.store.claims): the replica working on the row and until when its claim holds; NULL when
    #: nobody holds it (a ``proved`` row waiting for the chain's submitter, or a single node).
    owner: str | None = None
    #: Milliseconds since the epoch on the database's clock (replicas' clocks are never compared).
    lease_until: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


class LeaseRow(SQLModel, table=True):
    """A named lease (cluster mode: ``submitter:<chain>``, node.store.leases): who holds it, until when, and the
    fencing token, raised at every change of holder, that every send of the holder is checked against."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True)
    holder: str | None = None
    token: int = Field(default=0, sa_type=BigInteger)
    #: Milliseconds since the epoch, on the database's clock.
    expires_at: int | None = Field(default=None, sa_type=BigInteger)


class ProvenModelRow(SQLModel, table=True):
    """A model registered at a proven level (``inference`` / ``explanation``): its quantized form, circuit keys and
    the verifier + AttestationRegistry deployed for them (the weights are circuit constants: one key and one registry
    per model, level and method)."""

    __tablename__ = "proven_models"

    model_hash: str = Field(primary_key=True)
    level: str = Field(primary_key=True)
    #: The explanation method the circuit computes (level explanation); "" at level inference.
    method: str = Field(default="", primary_key=True)
    #: explainers.quantize's QNet JSON (fixed-point weights, scales).
    qnet: str = Field(sa_column=Column(Text, nullable=False))
    #: Poseidon commitment of the quantized weights (decimal).
    model_commitment: str
    #: circuits' R1CS digest: names the keys in the keys dir (development setup, cached on disk).
    r1cs_digest: str
    constraints: int = 0
    chain_id: int = Field(default=0, sa_type=BigInteger)
    registry_address: str
    verifier: str
    vk_sha256: str
    #: Top-1 agreement of the quantized model with the float model on a probe (None when not measured).
    agreement: float | None = None
    deploy_gas: int | None = None
    created_at: datetime = Field(default_factory=_now)


class BatchRow(SQLModel, table=True):
    """One batch of predictions (batch mode): formed -> proved -> submitted (mined, waiting for
    ``chain.confirmations``) -> attested (or failed).

    The members and their order are fixed when the batch is formed (in the same database transaction that
    moves the member rows to ``batched``), so a re-proof after a restart gives the same root."""

    __tablename__ = "batches"

    batch_key: str = Field(primary_key=True)
    status: str = Field(default="formed", index=True)
    size: int
    num_classes: int
    #: JSON list of member request ids, in slot order.
    members: str = Field(sa_column=Column(Text, nullable=False))
    #: Decimal strings; root and leaves are written with the proof.
    root: str | None = None
    count: int | None = None
    leaves: str | None = Field(default=None, sa_column=Column(Text))
    proof: str | None = Field(default=None, sa_column=Column(Text))
    #: The BatchAttestationRegistry that recorded the batch.
    registry_address: str | None = None
    batch_id: str | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    gas_used: int | None = None
    attempts: int = 0
    timings: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = None
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


class DeploymentRow(SQLModel, table=True):
    """A registry this node deployed, one per (chain, kind, tree depth): what a restart attaches to instead of
    deploying again (see :mod:`node.store.deployments`)."""

    __tablename__ = "deployments"

    chain_id: int = Field(sa_type=BigInteger, primary_key=True)
    #: ``registry`` (AttestationRegistry) or ``batch_registry`` (BatchAttestationRegistry).
    kind: str = Field(primary_key=True)
    #: Merkle tree depth of a batch registry; 0 for the single registry.
    depth: int = Field(default=0, primary_key=True)
    batch_size: int | None = None
    address: str
    verifier: str
    #: 0x + SHA-256 of the verifier's key words (see node.store.deployments.vk_digest).
    vk_digest: str
    #: The block the deployment was seen mined in, and the chain's genesis hash (tells a reset chain apart).
    block: int = 0
    genesis_hash: str | None = None
    tx_hash: str | None = None
    deployer: str | None = None
    #: Deployed on the embedded in-process chain (its state is lost at exit: never attached to again).
    embedded: bool = False
    created_at: datetime = Field(default_factory=_now)


class SubmissionRow(SQLModel, table=True):
    """One prediction recorded on one more chain (``[chains] targets`` beyond the Ethereum registry): ``pending`` ->
    ``proved`` (a proof bound to that chain's context) -> ``submitted`` -> ``attested`` (or ``failed``). Each target
    is proven, retried and confirmed on its own; a node killed between two targets resumes from these rows, and the
    chain adapter's ``find`` before every send keeps it from recording a statement twice."""

    __tablename__ = "submissions"

    request_id: str = Field(primary_key=True)
    chain: str = Field(primary_key=True)
    status: str = Field(default="pending", index=True)
    #: snarkjs JSON of the proof made for this chain's context.
    proof: str | None = Field(default=None, sa_column=Column(Text))
    attestation_id: str | None = None
    tx_id: str | None = None
    height: int | None = Field(default=None, sa_type=BigInteger)
    attester: str | None = None
    registry_address: str | None = None
    network: str | None = None
    cost: int | None = Field(default=None, sa_type=BigInteger)
    attempts: int = 0
    error: str | None = None
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: object) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


#: The revision a database created before migrations existed (tables, no ``alembic_version``) is adopted at.
BASELINE = "0001"


def _adopt_unversioned(connection: object) -> None:
    """A database written by a node from before migrations: add what revision 0001 has and it lacks (nullable
    columns, missing tables), then mark it as 0001, so upgrading keeps every row."""
    from alembic import command
    from sqlalchemy import inspect, text

    from alembic.migration import MigrationContext

    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    versioned = MigrationContext.configure(connection).get_current_revision() is not None  # type: ignore[arg-type]
    if versioned or not present & set(SQLModel.metadata.tables):
        return
    for name, table in SQLModel.metadata.tables.items():
        if name not in present:
            table.create(connection)  # type: ignore[arg-type]
            continue
        have = {c["name"] for c in inspector.get_columns(name)}
        for column in table.columns:
            if column.name not in have:
                if not column.nullable:
                    raise RuntimeError(f"cannot adopt this database: {name}.{column.name} is missing and required")
                kind = column.type.compile(dialect=connection.dialect)  # type: ignore[attr-defined]
                connection.execute(text(f'ALTER TABLE {name} ADD COLUMN "{column.name}" {kind}'))  # type: ignore[attr-defined]
    command.stamp(alembic_config(connection), BASELINE)  # type: ignore[arg-type]


#: PostgreSQL advisory lock key held while migrating (held to the end of the migration's transaction).
MIGRATION_LOCK = 0x7A6B7861  # "zkxa"


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (creates it on an empty database; adopts a database
    from before migrations, keeping its rows)."""
    from alembic import command

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # replicas starting together migrate one after the other
            from sqlalchemy import text

            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        _adopt_unversioned(connection)
        command.upgrade(alembic_config(connection), "head")  # type: ignore[arg-type]


#: The data dir holds every salt and uploaded model: owner only.
DIR_MODE, FILE_MODE = 0o700, 0o600


def _restrict(path: Path, mode: int, what: str) -> None:
    current = path.stat().st_mode & 0o777
    if current & ~mode:
        log.warning("%s %s had mode %o; setting %o (owner only)", what, path, current, mode)
        path.chmod(mode)


def secure_data_dir(path: Path) -> None:
    """Create the data dir with mode 700, or tighten an existing one (with a warning)."""
    path = Path(path).expanduser()
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _restrict(path, DIR_MODE, "data dir")


def _secure_sqlite_file(db_file: Path) -> None:
    """The SQLite file (and its -wal / -shm / -journal, which SQLite creates with the file's mode) at mode 600; a
    missing parent dir is created at mode 700 (an existing one is the operator's: the data dir is secured at start)."""
    db_file.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.close(os.open(db_file, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for sibling in (db_file, *(db_file.with_name(db_file.name + s) for s in ("-wal", "-shm", "-journal"))):
        if sibling.exists():
            _restrict(sibling, FILE_MODE, "database file")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        _secure_sqlite_file(Path(url.removeprefix("sqlite:///")).expanduser())
    engine = create_engine(url)
    migrate(engine)
    return engine


def put(engine: Engine, row: SQLModel) -> SQLModel:
    with Session(engine, expire_on_commit=False) as session:
        merged = session.merge(row)
        session.commit()
        session.refresh(merged)
        return merged


def put_all(engine: Engine, rows: list[SQLModel]) -> None:
    """Write several rows in one database transaction (all or none)."""
    with Session(engine, expire_on_commit=False) as session:
        for row in rows:
            session.merge(row)
        session.commit()


def get_batch(engine: Engine, batch_key: str) -> BatchRow | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(BatchRow, batch_key)


def batch_members(engine: Engine, batch_key: str) -> list[AttestationRow]:
    """The batch's prediction rows, in slot order."""
    with Session(engine, expire_on_commit=False) as session:
        stmt = select(AttestationRow).where(AttestationRow.batch_key == batch_key).order_by(AttestationRow.batch_index)  # type: ignore[arg-type]
        return list(session.exec(stmt))


def get_deployment(engine: Engine, chain_id: int, kind: str, depth: int = 0) -> DeploymentRow | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(DeploymentRow, (chain_id, kind, depth))


def list_deployments(engine: Engine, chain_id: int | None = None, kind: str | None = None) -> list[DeploymentRow]:
    with Session(engine, expire_on_commit=False) as session:
        stmt = select(DeploymentRow)
        if chain_id is not None:
            stmt = stmt.where(DeploymentRow.chain_id == chain_id)
        if kind is not None:
            stmt = stmt.where(DeploymentRow.kind == kind)
        return list(session.exec(stmt.order_by(DeploymentRow.created_at)))  # type: ignore[arg-type]


def get_model(engine: Engine, model_hash: str) -> ModelRow | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(ModelRow, model_hash)


def get_proven(engine: Engine, model_hash: str, level: str, method: str = "") -> ProvenModelRow | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(ProvenModelRow, (model_hash, level, method))


def proven_of(engine: Engine, model_hash: str) -> list[ProvenModelRow]:
    """A model's proven registrations, newest first."""
    with Session(engine, expire_on_commit=False) as session:
        stmt = select(ProvenModelRow).where(ProvenModelRow.model_hash == model_hash)
        return list(session.exec(stmt.order_by(ProvenModelRow.created_at.desc())))  # type: ignore[attr-defined]


def list_proven(engine: Engine) -> list[ProvenModelRow]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(ProvenModelRow).order_by(ProvenModelRow.created_at)))  # type: ignore[arg-type]


def get_calibration(engine: Engine, model_hash: str) -> CalibrationRow | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(CalibrationRow, model_hash)


def list_models(engine: Engine) -> list[ModelRow]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(ModelRow).order_by(ModelRow.created_at)))


def get_attestation(engine: Engine, key: str) -> AttestationRow | None:
    """Look up by on-chain attestation id (0x...) or by request id."""
    with Session(engine, expire_on_commit=False) as session:
        stmt = select(AttestationRow).where(
            (AttestationRow.attestation_id == key) | (AttestationRow.request_id == key)
        )
        return session.exec(stmt).first()


def list_attestations(engine: Engine, limit: int = 100) -> list[AttestationRow]:
    with Session(engine, expire_on_commit=False) as session:
        stmt = select(AttestationRow).order_by(AttestationRow.id.desc()).limit(limit)  # type: ignore[union-attr]
        return list(session.exec(stmt))


#: Statuses from which the pipeline continues after a restart, and the final ones.
PENDING = ("received", "prepared", "proved", "submitted", "batched")
FINAL = ("attested", "failed", "rejected", "revoked")


def pending_attestations(engine: Engine) -> list[AttestationRow]:
    with Session(engine, expire_on_commit=False) as session:
        stmt = select(AttestationRow).where(AttestationRow.status.in_(PENDING)).order_by(AttestationRow.id)  # type: ignore[attr-defined]
        return list(session.exec(stmt))


def count_by_status(engine: Engine) -> dict[str, int]:
    from sqlalchemy import func

    with Session(engine) as session:
        rows = session.exec(select(AttestationRow.status, func.count()).group_by(AttestationRow.status))  # type: ignore[call-overload]
        return {status: int(n) for status, n in rows}


_Row = TypeVar("_Row", AttestationRow, BatchRow)


def submissions_of(engine: Engine, request_id: str) -> list[SubmissionRow]:
    """A request's rows on the extra chain targets."""
    with Session(engine) as session:
        return list(session.exec(select(SubmissionRow).where(SubmissionRow.request_id == request_id)
                                 .order_by(SubmissionRow.chain)))


def get_submission(engine: Engine, request_id: str, chain: str) -> SubmissionRow | None:
    with Session(engine) as session:
        return session.get(SubmissionRow, (request_id, chain))


def unfinished_submissions(engine: Engine, chain: str) -> list[SubmissionRow]:
    """Rows of ``chain`` not attested or failed yet, oldest first (what a restart resumes)."""
    with Session(engine) as session:
        return list(session.exec(
            select(SubmissionRow).where(SubmissionRow.chain == chain,
                                        SubmissionRow.status.in_(("pending", "proved", "submitted")))  # type: ignore[attr-defined]
            .order_by(SubmissionRow.created_at)))


def touch(row: _Row, **changes: object) -> _Row:
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = _now()
    return row
