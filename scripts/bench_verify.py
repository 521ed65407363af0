#!/usr/bin/env python
"""Benchmark ``zkxai verify`` as a process against ``snarkjs groth16 verify`` on the same proof, in one run.

    .venv/bin/python scripts/bench_verify.py                      # builds a bundle: anvil + a node (needs the node extra)
    .venv/bin/python scripts/bench_verify.py --bundle B --vkey V  # takes a bundle and its published key (offline only)
    .venv/bin/python scripts/bench_verify.py --bundle B --vkey V --rpc-url URL   # ... and the chain that holds it

Measured, each ``--runs`` times after one warm-up run (commands interleaved so they share the machine's load):

* ``snarkjs groth16 verify vk public.json proof.json`` (node_modules/.bin/snarkjs; public and proof taken from the
  bundle, which holds the snarkjs-format proof) -- the named peer;
* ``zkxai verify --disclosure B --vkey V`` (offline: native pairing), and the same with ``ZKXAI_NO_NATIVE=1``
  (py_ecc pairing, the reference path);
* ``zkxai verify --rpc-url URL --disclosure B`` (record, revocation, finality and key read from the chain);
* in-process ``prover.verify.verify`` on the native path and on py_ecc.

Prints median / min wall time, the ratio to snarkjs and the peak RSS of each process (``os.wait4`` rusage of that
child; the bundle is built in a separate process so that this one stays small). Child Python processes run without ``PYTHONDONTWRITEBYTECODE`` (an installed package has its bytecode
cached); the warm-up run writes it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SNARKJS = ROOT / "node_modules" / ".bin" / "snarkjs"
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
#: anvil's first default account (well-known test mnemonic), pre-funded on every anvil chain.
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@dataclass(frozen=True)
class Runs:
    name: str
    walls: tuple[float, ...]
    peak_rss_kib: int

    @property
    def median(self) -> float:
        return statistics.median(self.walls)


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra or {})
    return env


def run_once(cmd: Sequence[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS KiB, output) of one process; raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{text}")
    return wall, int(usage.ru_maxrss), text


def measure(commands: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, Runs]:
    for cmd, env in commands.values():  # warm-up: bytecode caches, disk cache
        run_once(cmd, env)
    walls: dict[str, list[float]] = {k: [] for k in commands}
    peaks: dict[str, int] = {k: 0 for k in commands}
    for _ in range(runs):
        for name, (cmd, env) in commands.items():
            wall, rss, _ = run_once(cmd, env)
            walls[name].append(wall)
            peaks[name] = max(peaks[name], rss)
    return {k: Runs(k, tuple(walls[k]), peaks[k]) for k in commands}


def in_process(bundle: dict[str, Any], vkey: Path, runs: int) -> dict[str, float]:
    """Median seconds of prover.verify.verify on each pairing path (keys parsed once, outside the timing)."""
    from prover import native
    from prover.serialize import proof_from_snarkjs, vk_from_snarkjs
    from prover.verify import verify

    vk = vk_from_snarkjs(json.loads(vkey.read_text()))
    proof = proof_from_snarkjs(bundle["proof"])
    public = [int(x) for x in bundle["public_inputs"]]
    out: dict[str, float] = {}
    saved = native.NATIVE
    try:
        for name, flag in (("native", True), ("py_ecc", False)):
            if flag and not native.AVAILABLE:
                continue
            native.NATIVE = flag
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                assert verify(vk, public, proof) is True
                times.append(time.perf_counter() - t)
            out[name] = statistics.median(times)
    finally:
        native.NATIVE = saved
    return out


# ----------------------------------------------------------------------------- building a bundle
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, body: bytes | None, what: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_anvil(stack: ExitStack) -> str:
    port = _free_port()
    proc = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent"])
    stack.callback(_stop, proc)
    url = f"http://127.0.0.1:{port}"
    _wait(url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).encode(), "anvil", proc, 30)
    return url


def build_bundle(work: Path, rpc_url: str) -> tuple[Path, Path]:
    """Train the digits model, run a node on ``rpc_url``, attest one prediction; (bundle.json, vk.json)."""
    from explainers.digits import digits_samples, export_onnx, train_digits_mlp

    model = work / "digits.onnx"
    module, _ = train_digits_mlp(seed=0)
    model.write_bytes(export_onnx(module, (64,)))
    port = _free_port()
    log = open(work / "node.log", "ab")
    node = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "node", "--port", str(port), "--data-dir", str(work), "--rpc-url", rpc_url,
         "--prover-workers", "1"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=_child_env({"ZKXAI_PRIVATE_KEY": ANVIL_KEY}))
    log.close()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/healthz", None, "the node", node, 300)
        req = urllib.request.Request(f"{base}/v1/models", data=model.read_bytes(),
                                     headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            model_hash = json.loads(resp.read())["model_hash"]
        X, _ = digits_samples(2, split="test")
        body = json.dumps({"model_hash": model_hash, "input": X[1].tolist(), "method": "lrp_epsilon_0_1"}).encode()
        req = urllib.request.Request(f"{base}/v1/attestations?wait=true", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as resp:
            result = json.loads(resp.read())
    finally:
        _stop(node)
    bundle = work / "bundle.json"
    bundle.write_text(json.dumps(result["disclosure"]))
    return bundle, work / "keys" / "commitment-10.vk.json"


# ----------------------------------------------------------------------------- report
def _row(r: Runs, peer: Runs | None) -> str:
    ratio = f"{r.median / peer.median:.2f}x" if peer is not None else ""
    return (f"| {r.name} | {r.median:.3f} | {min(r.walls):.3f} | {ratio} | {r.peak_rss_kib / 1024:.0f} |")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, help="disclosure bundle (default: build one on a fresh anvil)")
    ap.add_argument("--vkey", type=Path, help="snarkjs verification key of the bundle's proof")
    ap.add_argument("--rpc-url", help="chain holding the bundle's attestation (with --bundle); none: offline only")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--build-into", type=Path, help=argparse.SUPPRESS)  # internal: build a bundle in this folder
    args = ap.parse_args(argv)
    if args.build_into is not None:
        build_bundle(args.build_into, args.rpc_url)
        return 0
    if (args.bundle is None) != (args.vkey is None):
        ap.error("--bundle and --vkey go together")
    if not SNARKJS.exists():
        ap.error(f"snarkjs missing at {SNARKJS}: run scripts/bootstrap")

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        work = Path(tmp)
        rpc_url = args.rpc_url
        if args.bundle is None:
            rpc_url = start_anvil(stack)
            print(f"building a bundle: digits model, node on anvil {rpc_url} ...", file=sys.stderr, flush=True)
            # in a child process: torch would otherwise sit in this process, and a child forked from a large
            # parent reports the parent's pages in its peak RSS
            subprocess.run([sys.executable, __file__, "--build-into", str(work), "--rpc-url", rpc_url], check=True,
                           env=_child_env())
            bundle_path, vkey = work / "bundle.json", work / "keys" / "commitment-10.vk.json"
        else:
            bundle_path, vkey = args.bundle.resolve(), args.vkey.resolve()
        bundle = json.loads(bundle_path.read_text())
        (work / "proof.json").write_text(json.dumps(bundle["proof"]))
        (work / "public.json").write_text(json.dumps(bundle["public_inputs"]))

        py = sys.executable
        zkxai_offline = [py, "-m", "node.cli", "verify", "--disclosure", str(bundle_path), "--vkey", str(vkey)]
        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "snarkjs groth16 verify": (
                [str(SNARKJS), "groth16", "verify", str(vkey), str(work / "public.json"), str(work / "proof.json")],
                _child_env()),
            "zkxai verify offline (native)": (zkxai_offline, _child_env()),
            "zkxai verify offline (py_ecc)": (zkxai_offline, _child_env({"ZKXAI_NO_NATIVE": "1"})),
        }
        if rpc_url:
            commands["zkxai verify --rpc-url (native)"] = (
                [py, "-m", "node.cli", "verify", "--rpc-url", rpc_url, "--disclosure", str(bundle_path)], _child_env())
        results = measure(commands, args.runs)
        inproc = in_process(bundle, vkey, max(3, args.runs))

    peer = results["snarkjs groth16 verify"]
    print(f"\nzkxai verify vs snarkjs groth16 verify, same proof, {args.runs} runs each after a warm-up, interleaved")
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f})\n")
    print("| process | median s | min s | vs snarkjs | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for r in results.values():
        print(_row(r, None if r is peer else peer))
    offline = results["zkxai verify offline (native)"]
    print(f"\noffline zkxai verify / snarkjs groth16 verify (median): {offline.median / peer.median:.2f} "
          f"({'faster' if offline.median < peer.median else 'SLOWER'})")
    if "zkxai verify --rpc-url (native)" in results:
        chain = results["zkxai verify --rpc-url (native)"]
        print(f"chain zkxai verify median {chain.median:.3f} s ({'under' if chain.median < 1 else 'OVER'} 1 s)")
    if inproc:
        line = ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in inproc.items())
        ratio = f" -> py_ecc / native = {inproc['py_ecc'] / inproc['native']:.0f}x" if len(inproc) == 2 else ""
        print(f"in-process prover.verify.verify (median): {line}{ratio}")
    print(f"(this process' own peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
