#!/usr/bin/env python3
"""Single-mode submission benchmark: the same node workload with ``chain.max_in_flight`` 1 and 4, in the same run, on
anvil with 1 s blocks (``--block-time 1``), with the real prover.

For each window: ``--requests`` predictions are sent at once (``?wait=true``, one HTTP client each) to a fresh node
(own database, the first run's keys copied), and the script prints attested predictions per second, p50 / p99
latency (request to attested), the blocks their transactions landed in, and the prover's own rate from its timings
(``zkxai_stage_seconds{stage="prove"}``: seconds per proof, times ``--prover-workers``). With a window of 1 each
attestation waits for its block (~1 per second at most); pipelined, the prover is the limit.

    .venv/bin/python scripts/bench_submit.py --requests 24
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.node_harness import ANVIL_KEY, free_port, running_anvil  # noqa: E402


async def _healthy(base: str, proc: subprocess.Popen, log: Path, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            try:
                async with s.get(f"{base}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"the node exited: {log.read_text()[-2000:]}")
            await asyncio.sleep(0.3)
    raise RuntimeError("the node did not become healthy")


def _prove_seconds(metrics: str) -> tuple[float, int]:
    """(sum, count) of the prove stage's histogram."""
    total = count = 0.0
    for line in metrics.splitlines():
        if 'stage="prove"' in line and line.startswith("zkxai_stage_seconds_sum"):
            total += float(line.split()[-1])
        if 'stage="prove"' in line and line.startswith("zkxai_stage_seconds_count"):
            count += float(line.split()[-1])
    return total, int(count)


async def run_window(window: int, args: argparse.Namespace, anvil: str, data: Path, keys: Path | None,
                     onnx: bytes, inputs: list) -> dict:
    """One fresh node with ``chain.max_in_flight = window``; the workload; its figures."""
    data.mkdir(parents=True)
    if keys is not None:
        shutil.copytree(keys, data / "keys")
    port = free_port()
    env = {**os.environ, "ZKXAI_PRIVATE_KEY": ANVIL_KEY, "ZKXAI_CHAIN_MAX_IN_FLIGHT": str(window),
           "ZKXAI_PIPELINE_QUEUE_SIZE": str(max(64, 2 * args.requests))}
    log = data / "node.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "node.cli", "node", "--port", str(port), "--data-dir",
                                 str(data), "--rpc-url", anvil, "--prover-workers", str(args.prover_workers)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        await _healthy(base, proc, log)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3600)) as http:
            async with http.post(f"{base}/v1/models", data=onnx) as r:
                model = (await r.json())["model_hash"]

            async def one(i: int) -> tuple[float, dict]:
                t = time.monotonic()
                async with http.post(f"{base}/v1/attestations?wait=true", json={
                        "model_hash": model, "input": inputs[i % len(inputs)], "method": "gradient"}) as r:
                    body = await r.json()
                if r.status != 201:
                    raise RuntimeError(f"request {i}: HTTP {r.status}: {body}")
                return time.monotonic() - t, body

            start = time.monotonic()
            done = await asyncio.gather(*(one(i) for i in range(args.requests)))
            elapsed = time.monotonic() - start
            async with http.get(f"{base}/metrics") as r:
                prove_sum, prove_count = _prove_seconds(await r.text())
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    latencies = sorted(t for t, _ in done)
    per_proof = prove_sum / prove_count if prove_count else float("nan")
    return {"window": window, "attested": len(done), "per_s": len(done) / elapsed,
            "p50": statistics.median(latencies), "p99": latencies[max(0, int(0.99 * len(latencies)) - 1)],
            "blocks": len({b["block_number"] for _, b in done}), "txs": len({b["tx_hash"] for _, b in done}),
            "prove_s": per_proof, "prover_per_s": args.prover_workers / per_proof}


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=24)
    ap.add_argument("--windows", default="1,4", help="comma-separated chain.max_in_flight values, one node each")
    ap.add_argument("--block-time", default="1")
    ap.add_argument("--prover-workers", type=int, default=1)
    args = ap.parse_args()

    from explainers.digits import digits_samples, export_onnx, train_digits_mlp

    module, _ = train_digits_mlp(seed=0)
    onnx = export_onnx(module, (64,))
    inputs = digits_samples(64, split="test")[0].tolist()
    results = []
    with running_anvil(extra=("--block-time", args.block_time)) as anvil, tempfile.TemporaryDirectory() as tmp:
        keys = None
        for window in (int(w) for w in args.windows.split(",")):
            print(f"max_in_flight {window}: {args.requests} requests at once", flush=True)
            data = Path(tmp) / f"window-{window}"
            results.append(await run_window(window, args, anvil, data, keys, onnx, inputs))
            keys = keys or data / "keys"
    print()
    print(f"anvil block every {args.block_time} s, single mode, prover workers {args.prover_workers}, "
          f"{os.cpu_count()} cores")
    print(f"{'max_in_flight':>13} {'attested':>8} {'per s':>7} {'p50 s':>7} {'p99 s':>7} {'blocks':>6} "
          f"{'prover s/proof':>14} {'prover per s':>12} {'of prover':>9}")
    for r in results:
        print(f"{r['window']:>13} {r['attested']:>8} {r['per_s']:>7.2f} {r['p50']:>7.1f} {r['p99']:>7.1f} "
              f"{r['blocks']:>6} {r['prove_s']:>14.2f} {r['prover_per_s']:>12.2f} "
              f"{r['per_s'] / r['prover_per_s']:>8.0%}")
    print("(per s: attested predictions per second of the run; prover per s: its own rate from its timings)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
