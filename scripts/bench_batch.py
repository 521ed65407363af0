#!/usr/bin/env python
"""Benchmark batched attestations: constraints, setup/prove time and attestBatch gas per batch size.

    .venv/bin/python scripts/bench_batch.py --sizes 4 8 16 --classes 10

For each size: compile ``batch_circuit(size, classes)``, run the Groth16 setup, prove a full batch, verify it
in Python, then deploy the batch registry on a fresh anvil and submit it (real gas). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from circuits.batch import batch_circuit  # noqa: E402
from circuits.commitment import CommitmentOpening, commitment_circuit, hash_to_field, vector_hash  # noqa: E402
from node.chains.ethereum.batch import BatchSubmitter  # noqa: E402
from node.pipeline.batching import (
    BatchOpening,
    prove_batch,
)  # noqa: E402
from node.chains.binding import attestation_context  # noqa: E402
from prover.setup import setup  # noqa: E402
from prover.solidity import vk_calldata  # noqa: E402
from prover.verify import verify  # noqa: E402

ANVIL = ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#: The single AttestationRegistry.attest gas this compares against (measured by node/chain, ~0.457 M).
SINGLE_ATTEST_GAS = 457_000


def _opening(k: int, classes: int) -> CommitmentOpening:
    rng = random.Random(k)
    scores = tuple(rng.randrange(-(1 << 20), 1 << 20) for _ in range(classes))
    return CommitmentOpening(
        model_hash=hashlib.sha256(b"bench model").digest(),
        input_hash=hash_to_field(b"bench %d" % k),
        input_salt=rng.randrange(1 << 200),
        scores=scores,
        predicted_class=scores.index(max(scores)),
        prediction_salt=rng.randrange(1 << 200),
        explanation_hash=vector_hash([k]),
        explanation_salt=rng.randrange(1 << 200),
    )


def _start_anvil() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent"])
    time.sleep(1.5)
    return proc, f"http://127.0.0.1:{port}"


async def _deploy(url: str, vk: object, size: int) -> tuple[int, str]:
    """Deploy a batch registry for ``vk``: (the context its attester, anvil's first account, proves for, its address)."""
    submitter = await BatchSubmitter.connect(url, ANVIL_KEY)
    try:
        deployment = await submitter.deploy(vk, size)  # type: ignore[arg-type]
        context = attestation_context(submitter.chain_id, deployment.registry, str(submitter.account.address))
        return context, deployment.registry
    finally:
        await submitter.close()


async def _gas(url: str, registry: str, batch: object) -> int:
    submitter = await BatchSubmitter.connect(url, ANVIL_KEY)
    try:
        await submitter.attach(registry)
        return (await submitter.submit(batch)).gas_used  # type: ignore[arg-type]
    finally:
        await submitter.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--classes", type=int, default=10)
    args = parser.parse_args()
    print(f"single circuit ({args.classes} classes): {commitment_circuit(args.classes).n_constraints} constraints")
    rows = []
    proc, url = _start_anvil()
    try:
        for size in args.sizes:
            t0 = time.perf_counter()
            circuit = batch_circuit(size, args.classes)
            t_compile = time.perf_counter() - t0
            t0 = time.perf_counter()
            pk, vk = setup(circuit.r1cs, rng=random.Random(size))
            t_setup = time.perf_counter() - t0
            context, registry = asyncio.run(_deploy(url, vk_calldata(vk), size))
            batch = BatchOpening(tuple(_opening(k, args.classes) for k in range(size)), size, context)
            t0 = time.perf_counter()
            proof = prove_batch(pk, batch)
            t_prove = time.perf_counter() - t0
            assert verify(vk, proof.public_inputs, proof.proof)
            gas = asyncio.run(_gas(url, registry, proof))
            rows.append((size, circuit.n_constraints, t_compile, t_setup, t_prove, gas))
            print(f"size {size}: {rows[-1]}", flush=True)
    finally:
        proc.terminate()
        proc.wait()
    print("\n| size | constraints | compile s | setup s | prove s (witness+proof) | attestBatch gas | gas/prediction "
          f"| vs single ({SINGLE_ATTEST_GAS:,}) |")
    print("|---|---|---|---|---|---|---|---|")
    for size, n, tc, ts, tp, gas in rows:
        print(f"| {size} | {n:,} | {tc:.1f} | {ts:.1f} | {tp:.1f} | {gas:,} | {gas // size:,} "
              f"| {SINGLE_ATTEST_GAS / (gas / size):.1f}x |")


if __name__ == "__main__":
    main()
