"""PostgreSQL persistence: a real server from Debian's packages (initdb/pg_ctl), started for this module.

Skipped, with the reason, only where the PostgreSQL server binaries are not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.node_harness import free_port, http, post_json, running_node

PG_BIN = next((p for p in (Path("/usr/lib/postgresql") / v / "bin" for v in ("17", "16", "15", "14", "13"))
               if (p / "initdb").exists()), None)
pytestmark = pytest.mark.skipif(PG_BIN is None, reason="PostgreSQL server binaries (Debian package postgresql) "
                                                       "are not installed on this machine")


def _as_postgres_user(*cmd: str) -> list[str]:
    """PostgreSQL refuses to run as root: drop to nobody when we are root."""
    if os.geteuid() == 0:
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]
    return list(cmd)


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert PG_BIN is not None
    # not under pytest's tmp dir: that is private to root, and the server runs as nobody when we are root
    base = Path(tempfile.mkdtemp(prefix="zkxai-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "nobody", "nogroup")
    data, port = base / "data", free_port()
    subprocess.run(_as_postgres_user(str(PG_BIN / "initdb"), "-D", str(data), "-U", "zkxai", "--auth=trust"),
                   check=True, capture_output=True, cwd=base, timeout=120)
    subprocess.run(_as_postgres_user(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o",
                                     f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"),
                   check=True, capture_output=True, cwd=base, timeout=60)
    try:
        yield f"postgresql+psycopg://zkxai@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres_user(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"),
                       capture_output=True, cwd=base, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def test_rows_round_trip_on_postgres(pg_url: str) -> None:
    from node.store import db

    engine = db.make_engine(pg_url)
    row = db.put(engine, db.AttestationRow(request_id="pg-1", model_hash="0x" + "ab" * 32, method="gradient",
                                           input_json='{"x": [1.0]}'))
    assert row.id is not None
    assert [r.request_id for r in db.pending_attestations(engine)] == ["pg-1"]
    db.put(engine, db.touch(row, status="attested", attestation_id="0x" + "cd" * 32))
    assert db.get_attestation(engine, "0x" + "cd" * 32).request_id == "pg-1"  # type: ignore[union-attr]
    assert db.count_by_status(engine) == {"attested": 1}
    engine.dispose()


def test_node_attests_with_postgres_state(pg_url: str, tmp_path: Path) -> None:
    from explainers.digits import digits_samples, export_onnx, train_digits_mlp

    module, _ = train_digits_mlp(seed=0)
    X, _ = digits_samples(1, split="test")
    with running_node(tmp_path, "--database-url", pg_url) as base:
        status, model = http("POST", f"{base}/v1/models", export_onnx(module, (64,)), "application/octet-stream")
        assert status == 201
        status, result = post_json(f"{base}/v1/attestations?wait=true",
                                   {"model_hash": model["model_hash"], "input": X[0].tolist(), "method": "gradient"})
        assert status == 201 and result["status"] == "attested"
    assert not (tmp_path / "zkxai.db").exists()  # nothing went to SQLite
    import sqlalchemy

    with sqlalchemy.create_engine(pg_url).connect() as conn:
        got = conn.execute(sqlalchemy.text("select status from attestations where request_id = :r"),
                           {"r": result["request_id"]}).scalar_one()
    assert got == "attested"
