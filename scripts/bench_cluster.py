#!/usr/bin/env python3
"""Cluster benchmark, in one run: provers on Ray (1, 2, ... workers; single and batch proofs) and node replicas on
one PostgreSQL + one anvil (1, 2, ... replicas, end to end), then the model for N machines.

    .venv/bin/python scripts/bench_cluster.py --workers 1,2 --replicas 1,2 --requests 24 --batch-size 8

1. **Provers** (a Ray started by this script with ``max(workers)`` CPUs; the same actors as ``prover.backend =
   "ray"``): for each worker count, proofs submitted at once -> proofs/s and p50/p99 per proof, single (one
   prediction per proof) and batch (``--batch-size`` predictions per proof). Also the key parse each actor does once
   vs a plain Ray task that parses the key from the object store for every proof (why the backend uses actors).
2. **Replicas** (``cluster.enabled``, local prover processes, one worker each): requests spread over the replicas
   -> attested predictions/s and p50/p99 from acknowledgement to attested, gas and submit time per transaction.
3. **Model**: predictions/s for W prover cores (N machines x cores) and batch size B = min(W x B / t_proof(B),
   k x B / t_tx): t_proof measured in 1., t_tx the time to get a transaction mined, measured in 2. (anvil mines at
   once) or a public chain's block time, k the transactions in flight (``chain.max_in_flight``), and gas per
   prediction (the batch transaction's gas measured on anvil in 1.).

On a machine with C cores the prover curve flattens at C workers (this project's CI machine: 2).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local Ray on loopback for the benchmark only

from circuits.commitment import CommitmentOpening, hash_to_field, vector_hash  # noqa: E402
from tests.node_harness import ANVIL_KEY, http, post_json, running_anvil, start_node, stop_process  # noqa: E402
from tests.pg_harness import running_postgres  # noqa: E402

CLASSES = 10


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def opening(k: int) -> CommitmentOpening:
    rng = random.Random(k)
    scores = tuple(rng.randrange(-(1 << 20), 1 << 20) for _ in range(CLASSES))
    return CommitmentOpening(model_hash=hashlib.sha256(b"bench cluster").digest(), input_hash=hash_to_field(b"%d" % k),
                             input_salt=rng.randrange(1 << 200), scores=scores,
                             predicted_class=scores.index(max(scores)), prediction_salt=rng.randrange(1 << 200),
                             explanation_hash=vector_hash([k]), explanation_salt=rng.randrange(1 << 200))


# ------------------------------------------------------------------------------------------------ 1. provers on Ray
async def _timed(calls: list[Any]) -> tuple[float, list[float]]:
    async def one(call: Any) -> float:
        t0 = time.perf_counter()
        await call()
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    lat = await asyncio.gather(*(one(c) for c in calls))
    return time.perf_counter() - t0, list(lat)


async def _batch_registry(anvil: str, batch_vk: Any, size: int) -> tuple[int, str]:
    from prover.solidity import vk_calldata

    from node.chains.binding import attestation_context
    from node.chains.ethereum.batch import BatchSubmitter

    submitter = await BatchSubmitter.connect(anvil, ANVIL_KEY)
    try:
        deployment = await submitter.deploy(vk_calldata(batch_vk), size)  # type: ignore[arg-type]
        return attestation_context(submitter.chain_id, deployment.registry, str(submitter.account.address)), \
            deployment.registry
    finally:
        await submitter.close()


async def _batch_gas(anvil: str, registry: str, proof: Any) -> int:
    from node.chains.ethereum.batch import BatchSubmitter

    submitter = await BatchSubmitter.connect(anvil, ANVIL_KEY)
    try:
        await submitter.attach(registry)
        return (await submitter.submit(proof)).gas_used
    finally:
        await submitter.close()


def bench_provers(keys_dir: Path, workers: list[int], batch_size: int, anvil: str) -> dict[str, Any]:
    import ray
    from prover.serialize import proving_key_from_json

    from node.pipeline.batching import BatchOpening
    from node.pipeline.proving import ensure_batch_keys, ensure_keys, prove_opening
    from node.pipeline.ray_prover import RayProverPool

    paths, _ = ensure_keys(keys_dir, CLASSES)
    t0 = time.perf_counter()
    batch_paths, batch_vk = ensure_batch_keys(keys_dir, batch_size, CLASSES)
    print(f"batch-{batch_size} keys ready in {time.perf_counter() - t0:.1f} s", flush=True)
    pk_bytes, batch_bytes = paths.proving_key.read_bytes(), batch_paths.proving_key.read_bytes()
    t0 = time.perf_counter()
    pk = proving_key_from_json(json.loads(pk_bytes))
    parse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    proving_key_from_json(json.loads(batch_bytes))
    batch_parse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    prove_opening(pk, opening(0), 1)
    local_proof_s = time.perf_counter() - t0
    context, registry = asyncio.run(_batch_registry(anvil, batch_vk, batch_size))

    ray.init(num_cpus=max(workers), include_dashboard=False, log_to_driver=False, configure_logging=False,
             namespace="zkxai-bench")
    out: dict[str, Any] = {"key_parse_s": parse_s, "batch_key_parse_s": batch_parse_s, "local_proof_s": local_proof_s,
                           "pk_bytes": len(pk_bytes), "batch_pk_bytes": len(batch_bytes), "runs": []}
    gas = None
    try:
        for w in workers:
            pool = RayProverPool(pk_bytes, w, batch_bytes)

            async def run(pool: RayProverPool = pool, w: int = w) -> dict[str, Any]:
                await asyncio.gather(*(pool.prove(opening(i), 1) for i in range(w)))  # actors up, keys parsed
                n = max(8, 4 * w)
                wall, lat = await _timed([lambda i=i: pool.prove(opening(i), 1) for i in range(n)])
                batches = [BatchOpening(tuple(opening(1000 * b + k) for k in range(batch_size)), batch_size, context)
                           for b in range(max(2, w))]
                bwall, blat = await _timed([lambda b=b: pool.prove_batch(b) for b in batches])
                proof = await pool.prove_batch(batches[0])
                return {"workers": w, "single_proofs": n, "single_per_s": n / wall, "single_p50_s": pct(lat, .5),
                        "single_p99_s": pct(lat, .99), "batches": len(batches),
                        "batch_predictions_per_s": len(batches) * batch_size / bwall, "batch_p50_s": pct(blat, .5),
                        "batch_p99_s": pct(blat, .99), "_proof": proof}

            got = asyncio.run(run())
            pool.close()
            proof = got.pop("_proof")
            if gas is None:
                gas = asyncio.run(_batch_gas(anvil, registry, proof))
            out["runs"].append(got)
            print("provers:", json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in got.items()}),
                  flush=True)

        @ray.remote(num_cpus=1)
        def prove_task(pk_ref_bytes: bytes, o: CommitmentOpening) -> Any:  # the alternative: the key per task
            from prover.serialize import proving_key_from_json as parse

            return prove_opening(parse(json.loads(pk_ref_bytes)), o, 1)

        ref = ray.put(pk_bytes)
        ray.get(prove_task.remote(ref, opening(0)))
        t0 = time.perf_counter()
        ray.get([prove_task.remote(ref, opening(i)) for i in range(4)])
        out["task_per_proof_s"] = (time.perf_counter() - t0) / 4 * min(4, max(workers))
    finally:
        ray.shutdown()
    out["batch_gas"] = gas
    return out


# ------------------------------------------------------------------------------------------ 2. replicas end to end
def _sql(url: str, query: str) -> list[Any]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            result = conn.execute(sqlalchemy.text(query))
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def bench_replicas(pg_server: str, anvil: str, keys_dir: Path, replicas: int, requests: int, work: Path,
                   module: Any, X: Any, in_flight: int) -> dict[str, Any]:
    import shutil

    from explainers.digits import export_onnx

    name = f"bench_r{replicas}_{int(time.time())}"
    _sql(pg_server, f"create database {name}")
    pg = pg_server.rsplit("/", 1)[0] + "/" + name
    procs, bases = [], []
    try:
        for r in range(replicas):
            d = work / f"{name}-{r}"
            shutil.copytree(keys_dir, d / "keys", ignore=shutil.ignore_patterns("batch-*"))
            env = {"ZKXAI_PRIVATE_KEY": ANVIL_KEY, "ZKXAI_DATABASE_URL": pg, "ZKXAI_CLUSTER_ENABLED": "1",
                   "ZKXAI_CLUSTER_REPLICA_ID": f"r{r}", "ZKXAI_CLUSTER_LEASE_S": "5",
                   "ZKXAI_PIPELINE_QUEUE_SIZE": str(requests), "ZKXAI_CHAIN_MAX_IN_FLIGHT": str(in_flight)}
            proc, base = start_node(d, "--rpc-url", anvil, env=env)
            procs.append(proc)
            bases.append(base)
        status, model = http("POST", f"{bases[0]}/v1/models", export_onnx(module, (64,)), "application/octet-stream")
        assert status == 201, model
        acked: dict[str, float] = {}

        def client(c: int) -> None:
            for i in range(c, requests, 4):
                status, body = post_json(f"{bases[i % replicas]}/v1/attestations",
                                         {"model_hash": model["model_hash"], "input": X[i % len(X)].tolist(),
                                          "method": "gradient"})
                if status == 202:
                    acked[body["request_id"]] = time.time()

        t0 = time.time()
        threads = [threading.Thread(target=client, args=(c,)) for c in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = time.time() + 900
        while True:
            rows = _sql(pg, "select request_id, status, extract(epoch from updated_at), gas_used, timings "
                            "from attestations")
            if all(s in ("attested", "failed") for _, s, *_ in rows) and len(rows) >= len(acked):
                break
            assert time.time() < deadline, "requests not finished in 15 min"
            time.sleep(0.5)
        done = {r: (s, float(t), g, json.loads(tm or "{}")) for r, s, t, g, tm in rows}
        lat = [done[r][1] - acked[r] for r in acked if done[r][0] == "attested"]
        last = max(done[r][1] for r in acked)
        return {"replicas": replicas, "requests": requests, "attested": len(lat),
                "per_s": len(lat) / (last - t0), "p50_s": pct(lat, .5), "p99_s": pct(lat, .99),
                "gas_per_tx": statistics.mean(v[2] for v in done.values() if v[2]),
                "submit_s": statistics.mean(v[3].get("submit_s", 0.0) for v in done.values()),
                "prove_s": statistics.mean(v[3].get("prove_s", 0.0) for v in done.values())}
    finally:
        for proc in procs:
            stop_process(proc)


# ------------------------------------------------------------------------------------------------------- 3. model
def model_table(provers: dict[str, Any], replicas: list[dict[str, Any]], batch_size: int,
                block_time_s: float, in_flight: int) -> str:
    """Predictions/s = min(provers, signer): provers W x B / t_proof(B) (t_proof: one worker's time per proof, from
    its throughput, queueing excluded); signer k x B / t_tx with k transactions in flight (chain.max_in_flight) and
    t_tx the time to get one mined (anvil: measured; a public chain: its block time)."""
    one = provers["runs"][0]
    t_single = 1 / one["single_per_s"]
    t_batch = batch_size / one["batch_predictions_per_s"]
    gas_single = replicas[0]["gas_per_tx"] if replicas else float("nan")
    t_tx = statistics.mean(r["submit_s"] for r in replicas) if replicas else float("nan")
    k = in_flight
    lines = [f"one worker: {t_single:.2f} s per single proof, {t_batch:.2f} s per batch proof of {batch_size}; one "
             f"transaction mined: {t_tx * 1000:.0f} ms on anvil (automine, measured), {block_time_s:.0f} s on a chain "
             f"with {block_time_s:.0f} s blocks; k = transactions in flight (chain.max_in_flight)", "",
             "| prover cores W | batch | provers cap | signer k=1, anvil | signer k=1, "
             f"{block_time_s:.0f} s blocks | signer k={k}, {block_time_s:.0f} s blocks | predictions/s anvil k=1 "
             f"| predictions/s {block_time_s:.0f} s blocks k={k} | gas / prediction |",
             "|---|---|---|---|---|---|---|---|---|"]
    for w in (1, 2, 8, 32, 128, 512):
        for b, t, gas in ((1, t_single, gas_single), (batch_size, t_batch, (provers["batch_gas"] or 0) / batch_size)):
            cap = w * b / t
            sign_anvil, sign_chain, sign_k = b / t_tx, b / block_time_s, k * b / block_time_s
            lines.append(f"| {w} | {b} | {cap:.1f} | {sign_anvil:.1f} | {sign_chain:.2f} | {sign_k:.2f} "
                         f"| {min(cap, sign_anvil):.1f} | {min(cap, sign_k):.2f} | {gas:,.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2", help="prover worker counts (Ray actors)")
    parser.add_argument("--replicas", default="1,2", help="node replica counts (0 = skip the end-to-end part)")
    parser.add_argument("--requests", type=int, default=24, help="requests per replica run")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--block-time", type=float, default=12.0, help="a public chain's block time for the model")
    parser.add_argument("--max-in-flight", type=int, default=4, help="chain.max_in_flight of the replicas")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    import tempfile

    from explainers.digits import digits_samples, train_digits_mlp

    work = Path(os.environ.get("ZKXAI_BENCH_DIR") or tempfile.mkdtemp(prefix="zkxai-bench-cluster-"))
    keys = work / "keys"
    with running_anvil() as anvil:
        provers = bench_provers(keys, [int(w) for w in args.workers.split(",")], args.batch_size, anvil)
        runs = []
        counts = [int(r) for r in args.replicas.split(",") if int(r) > 0]
        if counts:
            module, _ = train_digits_mlp(seed=0)
            X, _ = digits_samples(args.requests, split="test")
            with running_postgres() as pg:
                for r in counts:
                    runs.append(bench_replicas(pg, anvil, keys, r, args.requests, work, module, X,
                                               args.max_in_flight))
                    print("replicas:", json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                                   for k, v in runs[-1].items()}), flush=True)
    print(f"\nkey parse once per actor: {provers['key_parse_s']:.2f} s ({provers['pk_bytes'] / 1e6:.1f} MB), batch key "
          f"{provers['batch_key_parse_s']:.2f} s; one proof {provers['local_proof_s']:.2f} s; a Ray task parsing the "
          f"key from the object store per proof: {provers.get('task_per_proof_s', float('nan')):.2f} s per proof")
    print("\n| prover workers | single proofs/s | p50 s | p99 s | batch predictions/s | batch p50 s | batch p99 s |")
    print("|---|---|---|---|---|---|---|")
    for r in provers["runs"]:
        print(f"| {r['workers']} | {r['single_per_s']:.2f} | {r['single_p50_s']:.2f} | {r['single_p99_s']:.2f} "
              f"| {r['batch_predictions_per_s']:.2f} | {r['batch_p50_s']:.2f} | {r['batch_p99_s']:.2f} |")
    if runs:
        print("\n| replicas | attested/s | p50 s | p99 s | gas / tx | submit s / tx | prove s |")
        print("|---|---|---|---|---|---|---|")
        for r in runs:
            print(f"| {r['replicas']} | {r['per_s']:.2f} | {r['p50_s']:.2f} | {r['p99_s']:.2f} | {r['gas_per_tx']:,.0f} "
                  f"| {r['submit_s']:.3f} | {r['prove_s']:.2f} |")
    print(f"\nbatch of {args.batch_size}: attestBatch gas {provers['batch_gas']:,}")
    print("\nmodel for W prover cores (N machines x cores each; cores this run: "
          f"{os.cpu_count()}, so the measured curve flattens at {os.cpu_count()}):\n")
    print(model_table(provers, runs, args.batch_size, args.block_time, args.max_in_flight))
    if args.out:
        args.out.write_text(json.dumps({"provers": provers, "replicas": runs}, indent=1, default=str))


if __name__ == "__main__":
    main()
