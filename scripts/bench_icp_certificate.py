#!/usr/bin/env python
"""Benchmark ICP certificate verification: time and peak memory per certificate, each BLS backend, vs agent-js.

    .venv/bin/python scripts/bench_icp_certificate.py [--runs 50] [--pyecc-runs 3]
                                                      [--agentjs-modules /path/to/node_modules]

Certificates: the real mainnet vectors in ``tests/data/icp`` (a delegated one: two BLS verifications, and a
root-signed one: one). Each backend runs in its own process (so its peak RSS is its own), verifies once to
warm up, then ``--runs`` times; the median is reported. Peer: ``@dfinity/agent``'s ``Certificate.create`` in
Node.js (noble-curves BLS), measured the same way in the same run, when ``--agentjs-modules`` (or
``ZKXAI_AGENTJS_MODULES``) names a ``node_modules`` holding ``@dfinity/agent`` and ``@dfinity/principal``
(``npm install @dfinity/agent@3 @dfinity/principal@3`` in any folder; no network needed to run). Ratios are
against that peer, and against py_ecc. Target: under 50 ms per certificate with a fast backend.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data" / "icp"
CERTS = {
    "delegated (agentjs_sample_cert)": ("agentjs_sample_cert", "jrlun-jiaaa-aaaab-aaaaa-cai"),
    "root-signed (golden_mainnetSystem)": ("golden_mainnetSystem", None),
}

PEER_JS = r"""
const { Certificate } = require('@dfinity/agent');
const { Principal } = require('@dfinity/principal');
const [certHex, keyHex, canister, runs] = process.argv.slice(1);
const hex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
(async () => {
  const opts = { certificate: hex(certHex), rootKey: hex(keyHex), canisterId: Principal.fromText(canister),
                 disableTimeVerification: true };
  await Certificate.create(opts);
  const times = [];
  for (let i = 0; i < Number(runs); i++) {
    const t = process.hrtime.bigint();
    await Certificate.create(opts);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ median_ms: times[times.length >> 1],
                               peak_rss_mib: process.resourceUsage().maxRSS / 1024 }));
})().catch((e) => { console.error(String(e)); process.exit(1); });
"""


def _hex(name: str) -> str:
    return (DATA / f"{name}.hex").read_text().strip()


def measure_one(backend_name: str, cert_name: str, canister_text: str | None, runs: int) -> dict:
    """In this process: median time of ``verify_certificate`` and peak memory (Python heap, process RSS)."""
    from node.chains.icp import (
        cbor,
        hashtree,
    )
    from node.chains.icp.bls_backends import backend_by_name
    from node.chains.icp.certificate import verify_certificate
    from node.chains.icp.leb128 import decode_uleb128
    from node.chains.icp.principal import Principal

    raw, root = bytes.fromhex(_hex(cert_name)), bytes.fromhex(_hex("ic_root_key_der"))
    now = decode_uleb128(hashtree.lookup_path(["time"], hashtree.from_cbor(cbor.decode(raw)["tree"])).value)
    canister = Principal.from_text(canister_text).raw if canister_text else None
    backend = backend_by_name(backend_name)

    def once() -> None:
        verify_certificate(raw, root, canister_id=canister, now_ns=now, backend=backend,
                           delegation_max_age_ns=10**18)

    once()  # warm-up (imports, constant tables)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        once()
        times.append((time.perf_counter() - start) * 1e3)
    tracemalloc.start()
    once()
    heap_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"median_ms": statistics.median(times), "heap_peak_kib": heap_peak / 1024,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure_in_subprocess(backend: str, cert: str, canister: str | None, runs: int) -> dict:
    args = [sys.executable, __file__, "--one", backend, cert, canister or "-", str(runs)]
    out = subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout)


def measure_peer(modules: Path, cert: str, canister: str, runs: int) -> dict | str:
    if not (modules / "@dfinity" / "agent").is_dir():
        return f"no @dfinity/agent under {modules}"
    env = {**os.environ, "NODE_PATH": str(modules)}
    args = ["node", "-e", PEER_JS, _hex(cert), _hex("ic_root_key_der"), canister, str(runs)]
    try:
        out = subprocess.run(args, check=True, capture_output=True, text=True, env=env, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"agent-js did not run: {exc}"
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per fast backend (and the peer)")
    parser.add_argument("--pyecc-runs", type=int, default=3, help="timed runs for the pure-Python backend")
    parser.add_argument("--agentjs-modules", type=Path, default=os.environ.get("ZKXAI_AGENTJS_MODULES"))
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        backend, cert, canister, runs = args.one
        print(json.dumps(measure_one(backend, cert, None if canister == "-" else canister, int(runs))))
        return

    from node.chains.icp.bls_backends import available_backends

    backends = [b.name for b in available_backends()]
    print(f"backends installed: {', '.join(backends)}; peer: @dfinity/agent "
          f"({args.agentjs_modules or 'not given: --agentjs-modules'})\n")
    print("| certificate | verifier | median ms | agent-js ms / this | py_ecc ms / this | peak RSS MiB | Python heap peak KiB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, (cert, canister) in CERTS.items():
        rows: dict[str, dict] = {}
        for backend in backends:
            runs = args.pyecc_runs if backend == "py_ecc" else args.runs
            rows[backend] = measure_in_subprocess(backend, cert, canister, runs)
        peer: dict | str = "not measured"
        if args.agentjs_modules:
            # agent-js needs a canister id even for a root-signed certificate; it checks ranges only when delegated
            peer = measure_peer(args.agentjs_modules, cert, canister or "ryjl3-tyaaa-aaaaa-aaaba-cai", args.runs)
        if isinstance(peer, dict):
            rows["agent-js (Node.js)"] = peer
        pyecc_ms = rows.get("py_ecc", {}).get("median_ms")
        peer_ms = peer["median_ms"] if isinstance(peer, dict) else None
        for name, row in rows.items():
            vs_peer = f"{peer_ms / row['median_ms']:.2f}" if peer_ms else "-"
            vs_pyecc = f"{pyecc_ms / row['median_ms']:.1f}" if pyecc_ms else "-"
            heap = f"{row['heap_peak_kib']:.0f}" if "heap_peak_kib" in row else "-"
            print(f"| {label} | {name} | {row['median_ms']:.2f} | {vs_peer} | {vs_pyecc} | "
                  f"{row['peak_rss_mib']:.0f} | {heap} |")
        if isinstance(peer, str):
            print(f"| {label} | agent-js | - | {peer} | | | |")
    fast = [b for b in backends if b != "py_ecc"]
    print(f"\ntarget: < 50 ms per certificate with a fast backend ({', '.join(fast) or 'none installed'})")


if __name__ == "__main__":
    main()
