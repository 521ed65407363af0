"""Two node replicas on one PostgreSQL server and one anvil, with local prover processes (no Ray needed):

* started at the same moment, one deploys the registry and the other attaches to it (a deploy lease);
* a client waiting (``?wait=true``) on the replica that does not sign gets the result the other one recorded;
* a graceful stop of the submitter hands its lease over at once: the other replica signs the next request without
  waiting for the lease to expire.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.node_harness import ANVIL_KEY, http, post_json, running_anvil, start_node, stop_process
from tests.pg_harness import PG_BIN, SKIP_REASON, running_postgres

pytestmark = [pytest.mark.slow, pytest.mark.npm, pytest.mark.skipif(PG_BIN is None, reason=SKIP_REASON)]

LEASE_S = 10.0  # long: the handover below must not come from an expiry


def _env(name: str, pg: str) -> dict[str, str]:
    return {"ZKXAI_PRIVATE_KEY": ANVIL_KEY, "ZKXAI_DATABASE_URL": pg, "ZKXAI_CLUSTER_ENABLED": "1",
            "ZKXAI_CLUSTER_REPLICA_ID": name, "ZKXAI_CLUSTER_LEASE_S": str(LEASE_S)}


def _holder(pg: str) -> str:
    import sqlalchemy

    engine = sqlalchemy.create_engine(pg)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sqlalchemy.text(
                "select holder from leases where name = 'submitter:ethereum'")).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_postgres() as pg, running_anvil() as anvil:
        yield {"pg": pg, "anvil": anvil, "work": tmp_path_factory.mktemp("replicas")}


def test_replicas_deploy_once_answer_waiters_and_hand_over_the_submitter(parts: dict[str, Any]) -> None:
    from explainers.digits import digits_samples, export_onnx, train_digits_mlp
    from node.pipeline.proving import ensure_keys

    pg, anvil, work = parts["pg"], parts["anvil"], parts["work"]
    ensure_keys(work / "keys", 10)
    for name in ("a", "b"):
        shutil.copytree(work / "keys", work / name / "keys")
    started: dict[str, tuple[Any, str]] = {}

    def start(name: str) -> None:
        started[name] = start_node(work / name, "--rpc-url", anvil, env=_env(name, pg))

    threads = [threading.Thread(target=start, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    procs = {n: p for n, (p, _) in started.items()}
    bases = {n: b for n, (_, b) in started.items()}
    try:
        assert set(bases) == {"a", "b"}
        infos = {n: http("GET", f"{b}/v1/info")[1] for n, b in bases.items()}
        assert infos["a"]["registry"] == infos["b"]["registry"]  # deployed once
        module, _ = train_digits_mlp(seed=0)
        status, model = http("POST", f"{bases['a']}/v1/models", export_onnx(module, (64,)), "application/octet-stream")
        assert status == 201
        X, _ = digits_samples(3, split="test")
        submitter = _holder(pg)
        other = "b" if submitter == "a" else "a"
        cluster_info = {n: http("GET", f"{b}/v1/info")[1]["cluster"] for n, b in bases.items()}
        assert cluster_info[submitter] == {"replica": submitter, "submitter": True, "lease_s": LEASE_S}
        assert cluster_info[other]["submitter"] is False
        status, done = post_json(f"{bases[other]}/v1/attestations?wait=true",
                                 {"model_hash": model["model_hash"], "input": X[0].tolist(), "method": "gradient"})
        assert status == 201 and done["status"] == "attested", done  # signed by the other replica

        stop_process(procs[submitter])  # graceful: the lease and the claims are handed back
        t0 = time.monotonic()
        status, done = post_json(f"{bases[other]}/v1/attestations?wait=true",
                                 {"model_hash": model["model_hash"], "input": X[1].tolist(), "method": "gradient"})
        took = time.monotonic() - t0
        assert status == 201 and done["status"] == "attested", done
        assert _holder(pg) == other
        assert took < LEASE_S, f"handover waited for the lease to expire ({took:.1f} s)"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                stop_process(proc)
