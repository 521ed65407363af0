"""PostgreSQL persistence: a real server from Debian's packages (initdb/pg_ctl), started for this module.

Skipped, with the reason, only where the PostgreSQL server binaries are not installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.node_harness import http, post_json, running_node
from tests.pg_harness import PG_BIN, SKIP_REASON, running_postgres

pytestmark = pytest.mark.skipif(PG_BIN is None, reason=SKIP_REASON)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with running_postgres() as url:
        yield url


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
