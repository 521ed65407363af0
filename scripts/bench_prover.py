#!/usr/bin/env python3
"""Prover benchmark: our Groth16 prover vs snarkjs on the SAME circom R1CS, witness and key.

For each Poseidon(2)-chain size (default 4, 17, 68 hashes: about 2^10, 2^12, 2^14 constraints)
it compiles the circuit with circom2 (--O2), computes the witness with ``snarkjs wtns
calculate``, makes a ``.zkey`` with ``snarkjs groth16 setup`` + one contribution from a cached
prepared ptau, then times in the same run:

* snarkjs: ``snarkjs groth16 prove circuit.zkey witness.wtns`` as a whole process (and
  ``groth16 fullprove`` with ``--fullprove``), ``snarkjs groth16 verify`` as a whole process;
* ours: a whole process (python start, read .r1cs/.wtns/.zkey, prove, write proof.json), and
  in-process ``prove`` on the loaded key, sequential and with a 2-process pool, and ``verify``.

Ours runs the native C kernels (:mod:`prover.native`; MSMs on every core, so the pool column
matters only for the Python path) when the extension is built; ``--python`` forces the
pure-Python path (``ZKXAI_NO_NATIVE=1`` for the whole-process run too). The in-process figure is
the second of two proofs on the loaded key (the first packs the key's points once; that one-off
cost is printed as ``pack``).

Our proofs are checked with ``snarkjs groth16 verify``. Not a test; timings go to stdout (and
``--json`` writes them). Usage: ``scripts/bench_prover.py [--sizes 4,17,68] [--workdir DIR] [--python]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "circom"))

from toolchain import build_chain, make_ptau, make_zkey, snarkjs  # noqa: E402

from prover import native  # noqa: E402
from prover.circom_files import read_r1cs, read_wtns  # noqa: E402
from prover.prove import prove  # noqa: E402
from prover.serialize import proof_to_snarkjs, save_json, vk_from_snarkjs  # noqa: E402
from prover.verify import verify  # noqa: E402
from prover.zkey import read_zkey  # noqa: E402

WHOLE_PROCESS = """
import sys, time
sys.path.insert(0, {root!r})
from prover.circom_files import read_r1cs, read_wtns
from prover.prove import prove
from prover.serialize import proof_to_snarkjs, save_json
from prover.zkey import read_zkey
r1cs = read_r1cs({r1cs!r})
pk = read_zkey({zkey!r}, r1cs)
save_json(proof_to_snarkjs(prove(pk, r1cs, read_wtns({wtns!r}))), {out!r})
"""


def bench_size(n_hashes: int, workdir: Path, fullprove: bool, pool: ProcessPoolExecutor) -> dict[str, float]:
    folder = workdir / f"chain_{n_hashes}"
    built = build_chain(folder, n_hashes)
    r1cs = read_r1cs(built.r1cs)
    domain = 1
    while domain < r1cs.n_constraints + r1cs.n_public + 1:
        domain <<= 1
    power = max(8, domain.bit_length() - 1)
    ptau = make_ptau(workdir / "ptau", power)
    zkey = folder / "circuit_final.zkey"
    vk_path = folder / "verification_key.json"
    if not (zkey.exists() and vk_path.exists()):
        _, zkey, vk_path = make_zkey(built, ptau)
    row: dict[str, float] = {"hashes": n_hashes, "constraints": r1cs.n_constraints, "domain": domain, "native": native.NATIVE}

    row["snarkjs_prove_s"] = snarkjs(["groth16", "prove", str(zkey), str(built.wtns), "sj_proof.json", "sj_public.json"], folder)
    if fullprove:
        row["snarkjs_fullprove_s"] = snarkjs(
            ["groth16", "fullprove", str(built.input_json), str(built.wasm), str(zkey), "sj_fp.json", "sj_fp_pub.json"], folder
        )
    row["snarkjs_verify_s"] = snarkjs(["groth16", "verify", str(vk_path), "sj_public.json", "sj_proof.json"], folder)

    script = WHOLE_PROCESS.format(root=str(ROOT), r1cs=str(built.r1cs), zkey=str(zkey), wtns=str(built.wtns), out=str(folder / "our_proof.json"))
    t0 = time.perf_counter()
    env = {**os.environ, **({"ZKXAI_NO_NATIVE": "1"} if not native.NATIVE else {})}
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    row["ours_process_s"] = time.perf_counter() - t0
    snarkjs(["groth16", "verify", str(vk_path), "sj_public.json", "our_proof.json"], folder)

    t0 = time.perf_counter()
    witness = read_wtns(built.wtns)
    pk = read_zkey(zkey, r1cs)
    row["ours_load_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    prove(pk, r1cs, witness)  # first proof on this key object: includes packing its points
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    proof = prove(pk, r1cs, witness)
    row["ours_prove_s"] = time.perf_counter() - t0
    row["ours_pack_s"] = max(0.0, first - row["ours_prove_s"])
    t0 = time.perf_counter()
    proof_par = prove(pk, r1cs, witness, executor=pool)
    row["ours_prove_2proc_s"] = time.perf_counter() - t0
    vk = vk_from_snarkjs(json.loads(vk_path.read_text()))
    publics = r1cs.public_values(witness)
    t0 = time.perf_counter()
    ok = verify(vk, publics, proof)
    row["ours_verify_s"] = time.perf_counter() - t0
    if not (ok and verify(vk, publics, proof_par)):
        raise SystemExit("our proof did not verify")
    save_json(proof_to_snarkjs(proof_par), folder / "our_proof_par.json")
    snarkjs(["groth16", "verify", str(vk_path), "sj_public.json", "our_proof_par.json"], folder)
    row["ratio_process"] = row["ours_process_s"] / row["snarkjs_prove_s"]
    row["ratio_inprocess"] = row["ours_prove_s"] / row["snarkjs_prove_s"]
    row["ratio_2proc"] = row["ours_prove_2proc_s"] / row["snarkjs_prove_s"]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="4,17,68", help="comma-separated Poseidon-chain lengths")
    ap.add_argument("--workdir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "zkxai-bench"))
    ap.add_argument("--fullprove", action="store_true", help="also time snarkjs groth16 fullprove")
    ap.add_argument("--json", help="write the rows as JSON here")
    ap.add_argument("--python", action="store_true", help="force the pure-Python prover (no C extension)")
    args = ap.parse_args()
    if args.python:
        native.NATIVE = False
    print(f"prover path: {'native C extension' if native.NATIVE else 'pure Python'}, {os.cpu_count()} cores")
    workdir = Path(args.workdir)
    rows = []
    header = (
        f"{'hashes':>6} {'constr':>7} {'domain':>6} | {'snarkjs':>8} {'ours-proc':>9} {'ours-in':>8} {'ours-2p':>8}"
        f" | {'r-proc':>6} {'r-in':>6} {'r-2p':>6} | {'sj-ver':>6} {'our-ver':>7} {'load':>6} {'pack':>5}"
    )
    print(header)
    with ProcessPoolExecutor(max_workers=2) as pool:
        pool.submit(int, 0).result()  # start the workers before timing
        for n in (int(s) for s in args.sizes.split(",")):
            r = bench_size(n, workdir, args.fullprove, pool)
            rows.append(r)
            print(
                f"{r['hashes']:>6} {r['constraints']:>7} {r['domain']:>6} | {r['snarkjs_prove_s']:>8.2f} "
                f"{r['ours_process_s']:>9.2f} {r['ours_prove_s']:>8.2f} {r['ours_prove_2proc_s']:>8.2f} | "
                f"{r['ratio_process']:>6.2f} {r['ratio_inprocess']:>6.2f} {r['ratio_2proc']:>6.2f} | "
                f"{r['snarkjs_verify_s']:>6.2f} {r['ours_verify_s']:>7.2f} {r['ours_load_s']:>6.2f} {r['ours_pack_s']:>5.2f}"
                + (f" | fullprove {r['snarkjs_fullprove_s']:.2f}" if "snarkjs_fullprove_s" in r else ""),
                flush=True,
            )
    print("times in seconds; r-* = ours / snarkjs groth16 prove (whole process); all proofs checked by snarkjs")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
