"""The cluster on real parts, killed mid-load: a Ray head and a Ray worker node (separate processes), two node
replicas (separate processes) on one PostgreSQL server and one anvil, all on 127.0.0.1.

Load goes to both replicas; a Ray prover worker process is killed with SIGKILL, then the replica holding the
chain's submitter lease. Every acknowledged request ends ``attested`` exactly once (one ``Attested`` event per
request on chain, no reverted transaction, nothing left pending), the signer's nonces are 0..n-1 with no gap and no
reuse, and the surviving replica took the submitter lease over. p50 / p99 (acknowledged -> attested) are printed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray", reason='the Ray backend needs the optional extra: pip install "zkxai[cluster]"')

from tests.node_harness import ANVIL_KEY, http, post_json, running_anvil, start_node, stop_process  # noqa: E402
from tests.pg_harness import PG_BIN, SKIP_REASON, running_postgres  # noqa: E402
from tests.ray_harness import RAY_ENV, RayCluster, running_ray  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.npm, pytest.mark.skipif(PG_BIN is None, reason=SKIP_REASON)]

LEASE_S = 2.0
REQUESTS = 36


def replica_env(name: str, pg: str, ray_address: str) -> dict[str, str]:
    return {"ZKXAI_PRIVATE_KEY": ANVIL_KEY, "ZKXAI_DATABASE_URL": pg, "ZKXAI_CLUSTER_ENABLED": "1",
            "ZKXAI_CLUSTER_REPLICA_ID": name, "ZKXAI_CLUSTER_LEASE_S": str(LEASE_S), "ZKXAI_PROVER_BACKEND": "ray",
            "ZKXAI_PROVER_RAY_ADDRESS": ray_address, "ZKXAI_CHAIN_MAX_IN_FLIGHT": "4", **RAY_ENV}


def prover_pids(cluster: RayCluster) -> list[int]:
    """Processes of the prover actors started under this test's Ray nodes (never another Ray on the machine)."""
    roots = {p.pid for p in cluster.procs}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes()
            if b"ProverActorImpl" not in cmd:
                continue
            pid = int(entry.name)
            while pid > 1 and pid not in roots:
                pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if pid in roots:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def sql(pg: str, query: str, **params: Any) -> list[Any]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(pg)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sqlalchemy.text(query), params))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_postgres() as pg, running_anvil() as anvil, running_ray(head_cpus=1, workers=1) as ray_cluster:
        yield {"pg": pg, "anvil": anvil, "ray": ray_cluster, "work": tmp_path_factory.mktemp("cluster")}


def test_two_replicas_survive_killed_prover_and_killed_submitter(parts: dict[str, Any]) -> None:
    from web3 import Web3

    from contracts import abi
    from explainers.digits import digits_samples, export_onnx, train_digits_mlp

    pg, anvil, cluster, work = parts["pg"], parts["anvil"], parts["ray"], parts["work"]
    (work / "a").mkdir(), (work / "b").mkdir()
    extra = ("--rpc-url", anvil)
    proc_a, base_a = start_node(work / "a", *extra, env=replica_env("a", pg, cluster.address))
    procs = {"a": proc_a}
    try:
        shutil.copytree(work / "a" / "keys", work / "b" / "keys")  # every replica proves with the same key
        procs["b"], base_b = start_node(work / "b", *extra, env=replica_env("b", pg, cluster.address))
        bases = {"a": base_a, "b": base_b}
        module, _ = train_digits_mlp(seed=0)
        status, model = http("POST", f"{base_a}/v1/models", export_onnx(module, (64,)), "application/octet-stream")
        assert status == 201
        info = http("GET", f"{base_b}/v1/info")[1]
        X, _ = digits_samples(REQUESTS, split="test")

        acked: dict[str, float] = {}
        alive = {"a", "b"}

        def load() -> None:
            for i in range(REQUESTS):
                name = sorted(alive)[i % len(alive)]
                try:
                    status, body = post_json(f"{bases[name]}/v1/attestations",
                                             {"model_hash": model["model_hash"], "input": X[i].tolist(),
                                              "method": "gradient"})
                except OSError:
                    continue  # the replica was just killed: not acknowledged, the client retries elsewhere
                if status == 202:
                    acked[body["request_id"]] = time.time()
                time.sleep(0.25)

        loader = threading.Thread(target=load)
        t_start = time.time()
        loader.start()
        while len(acked) < 6:
            time.sleep(0.1)
        victims = prover_pids(cluster)
        assert victims, "no prover actor process found under this test's Ray nodes"
        os.kill(victims[0], signal.SIGKILL)  # a prover worker, mid-load
        while len(acked) < REQUESTS // 2:
            time.sleep(0.1)
        holder = sql(pg, "select holder from leases where name = 'submitter:ethereum'")[0][0]
        assert holder in procs
        alive.discard(holder)
        stop_process(procs[holder], signal.SIGKILL, timeout=10)  # the submitting replica
        t_kill = time.time()
        loader.join(120)
        survivor = next(iter(alive))

        deadline = time.time() + 240
        while True:
            rows = sql(pg, "select request_id, status from attestations")
            states = {r: s for r, s in rows if r in acked}
            if len(states) == len(acked) and all(s in ("attested", "failed") for s in states.values()):
                break
            assert time.time() < deadline, f"unfinished: {sorted(set(states.values()))}"
            time.sleep(0.5)
        assert set(states.values()) == {"attested"}, states
        new_holder = sql(pg, "select holder from leases where name = 'submitter:ethereum'")[0][0]
        assert new_holder == survivor

        # on chain: one Attested event per acknowledged request, no reverted or pending transaction, nonces 0..n-1
        w3 = Web3(Web3.HTTPProvider(anvil))
        registry = w3.eth.contract(address=Web3.to_checksum_address(info["registry"]), abi=abi("AttestationRegistry"))
        events = registry.events.Attested().get_logs(from_block=0)
        ids = [Web3.to_hex(e["args"]["id"]) for e in events]
        mine = {r: i for r, i in sql(pg, "select request_id, attestation_id from attestations")
                if r in acked}
        assert len(ids) == len(set(ids)) == len(acked)
        assert set(ids) == {i.lower() for i in mine.values()}
        signer = w3.eth.account.from_key(ANVIL_KEY).address
        nonces, reverted = [], 0
        for n in range(w3.eth.block_number + 1):
            for tx in w3.eth.get_block(n, full_transactions=True)["transactions"]:
                if tx["from"] == signer:
                    nonces.append(tx["nonce"])
                    reverted += w3.eth.get_transaction_receipt(tx["hash"])["status"] != 1
        assert sorted(nonces) == list(range(len(nonces))), "nonce gap or reuse"
        assert w3.eth.get_transaction_count(signer, "pending") == len(nonces)  # nothing stuck in the pool
        assert reverted == 0

        done = {r: t for r, t in sql(pg, "select request_id, extract(epoch from updated_at) from attestations")}
        latencies = sorted(float(done[r]) - acked[r] for r in acked)
        p50, p99 = latencies[len(latencies) // 2], latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        took = max(float(done[r]) for r in acked) - t_start
        report = {"acknowledged": len(acked), "attested_events": len(ids), "transactions": len(nonces),
                  "p50_s": round(p50, 2), "p99_s": round(p99, 2), "wall_s": round(took, 1),
                  "killed_submitter": holder, "new_submitter": new_holder,
                  "takeover_s": round(min(float(done[r]) for r in acked if float(done[r]) > t_kill) - t_kill, 2)}
        print("cluster fault run:", json.dumps(report))
        (work / "report.json").write_text(json.dumps(report))
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                stop_process(proc, timeout=20)
