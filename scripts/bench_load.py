#!/usr/bin/env python3
"""Load benchmark: N concurrent clients against a real node on loopback, for a fixed time, on anvil.

Runs the node once per mode in the same run — one attestation per transaction (single mode) and batched
attestations (batch mode, once per batch size) — and prints, for each: attested predictions per second, p50/p99
latency from request to confirmed attestation, gas per attested prediction, and the ratios against single mode.

    .venv/bin/python scripts/bench_load.py --clients 16 --seconds 120 --batch-sizes 4,8,16

``--block-time S`` mines a block every S seconds instead of one per transaction (anvil's default automine), as a
public chain does; ``--confirmations N`` waits N blocks per attestation. Keys are cached under ``ZKXAI_BENCH_DIR``
(when set) so a second run does not repeat the batch circuits' setup.

Proving is CPU-bound: the figures depend on the cores given to the prover (--prover-workers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.node_harness import free_port  # noqa: E402

ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


async def wait_http(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            try:
                async with s.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"the node exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            await asyncio.sleep(0.3)
    raise RuntimeError(f"{url} not healthy")


async def run_mode(mode: str, batch_size: int, args: argparse.Namespace, anvil_url: str, work: Path, onnx: bytes,
                   inputs: list) -> dict:
    port = free_port()
    env = {**os.environ, "ZKXAI_PRIVATE_KEY": ANVIL_KEY, "ZKXAI_PIPELINE_ATTESTATION_MODE": mode,
           "ZKXAI_PIPELINE_BATCH_LATENCY_MS": str(args.batch_latency_ms),
           "ZKXAI_PIPELINE_QUEUE_SIZE": str(max(64, 4 * args.clients)),
           "ZKXAI_CHAIN_CONFIRMATIONS": str(args.confirmations)}
    if mode == "batch":
        env["ZKXAI_PIPELINE_BATCH_SIZE"] = str(batch_size)
    label = mode if mode == "single" else f"batch-{batch_size}"
    data = work / label
    data.mkdir(parents=True, exist_ok=True)
    (data / "zkxai.db").unlink(missing_ok=True)  # fresh requests and deployments; keys are kept
    log = open(data / "node.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "node.cli", "node", "--port", str(port), "--data-dir", str(data),
                             "--rpc-url", anvil_url, "--prover-workers", str(args.prover_workers)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        t0 = time.monotonic()
        await wait_http(f"{base}/healthz", proc, data / "node.log")
        print(f"  [{label}] node ready in {time.monotonic() - t0:.0f} s (includes key setup on first run)", flush=True)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3600)) as http:
            async with http.post(f"{base}/v1/models", data=onnx) as r:
                model = (await r.json())["model_hash"]
            latencies: list[float] = []
            gas: list[int] = []  # per prediction: its transaction's gas, or its share of a batch transaction
            txs: set[str] = set()
            deadline = time.monotonic() + args.seconds

            async def client(k: int) -> None:
                i = k
                while time.monotonic() < deadline:
                    t = time.monotonic()
                    async with http.post(f"{base}/v1/attestations?wait=true", json={
                            "model_hash": model, "input": inputs[i % len(inputs)], "method": "gradient"}) as r:
                        body = await r.json()
                    if r.status == 201:
                        latencies.append(time.monotonic() - t)
                        gas.append(int(body["gas_used"]))
                        txs.add(body["tx_hash"])
                    i += args.clients

            start = time.monotonic()
            await asyncio.gather(*(client(k) for k in range(args.clients)))
            elapsed = time.monotonic() - start
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
    n = len(latencies)
    return {
        "mode": label, "attested": n, "seconds": elapsed, "per_s": n / elapsed if elapsed else 0.0,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": sorted(latencies)[max(0, int(0.99 * n) - 1)] if latencies else float("nan"),
        "transactions": len(txs),
        "gas_per_prediction": statistics.mean(gas) if gas else float("nan"),
    }


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--batch-sizes", default="8", help="comma-separated batch sizes, one batch-mode run each")
    ap.add_argument("--block-time", type=float, default=0.0, help="anvil block time in s (0: automine)")
    ap.add_argument("--confirmations", type=int, default=1)
    ap.add_argument("--batch-latency-ms", type=int, default=5000)
    ap.add_argument("--prover-workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    ap.add_argument("--modes", default="single,batch")
    args = ap.parse_args()

    from explainers.digits import digits_samples, export_onnx, train_digits_mlp

    module, _ = train_digits_mlp(seed=0)
    onnx = export_onnx(module, (64,))
    X, _ = digits_samples(64, split="test")
    inputs = X.tolist()
    anvil = ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
    port = free_port()
    cmd = [str(anvil), "--host", "127.0.0.1", "--port", str(port), "--silent"]
    if args.block_time:
        cmd += ["--block-time", str(args.block_time)]
    proc = subprocess.Popen(cmd)
    results = []
    try:
        time.sleep(0.5)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(os.environ.get("ZKXAI_BENCH_DIR", tmp))
            runs = [(m, size) for m in args.modes.split(",")
                    for size in ([1] if m == "single" else [int(v) for v in args.batch_sizes.split(",")])]
            for mode, size in runs:
                print(f"running {mode} mode{'' if mode == 'single' else f' (batch size {size})'}: {args.clients} "
                      f"clients for {args.seconds:.0f} s", flush=True)
                results.append(await run_mode(mode, size, args, f"http://127.0.0.1:{port}", work, onnx, inputs))
    finally:
        proc.terminate()
    print()
    print(f"anvil: {'automine' if not args.block_time else f'block every {args.block_time:g} s'}, "
          f"confirmations {args.confirmations}, prover workers {args.prover_workers}, {os.cpu_count()} cores")
    print(f"{'mode':<9} {'attested':>8} {'per s':>7} {'p50 s':>7} {'p99 s':>7} {'txs':>5} {'gas/prediction':>15}"
          f" {'throughput':>11} {'gas':>9}")
    base = next((r for r in results if r["mode"] == "single" and r["attested"]), None)
    for r in results:
        ratio = f"x{r['per_s'] / base['per_s']:.2f}" if base and r["attested"] else "-"
        cheaper = f"{base['gas_per_prediction'] / r['gas_per_prediction']:.1f}x" if base and r["attested"] else "-"
        print(f"{r['mode']:<9} {r['attested']:>8} {r['per_s']:>7.3f} {r['p50']:>7.1f} {r['p99']:>7.1f} "
              f"{r['transactions']:>5} {r['gas_per_prediction']:>15,.0f} {ratio:>11} {cheaper:>9}")
    if base:
        print("(throughput and gas: against single mode, measured in this run)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
