#!/usr/bin/env python3
"""Proven-level benchmark: our Groth16 proofs at levels ``inference`` and ``explanation`` vs EZKL's inference proof.

Same model (the digits MLP 64-32-10 of ``zkxai demo``, trained deterministically, exported to ONNX, batch 1), same
input (the first test digit), same machine, one run. Each pipeline runs in its own fresh process (``spawn``) so its
peak resident memory (``ru_maxrss`` of that process: model loading included) is reported beside its times:

* ours: quantize (:func:`explainers.quantize.quantize`), compile (``circuits.proven.proven_circuit``), development
  setup (:func:`prover.setup.setup`), witness (``proven_witness``), :func:`prover.prove.prove`,
  :func:`prover.verify.verify`; the proof is 256 bytes (2 G1 + 1 G2, EVM calldata words), 7 public inputs;
* EZKL (:mod:`bench_proven_ezkl`): settings, calibration, compile, local SRS (not counted as setup), witness,
  setup, prove, verify; skipped with "EZKL not installed: pip install ezkl" when absent.

Gas (``--gas``, in-process eth-tester): ours = the generic ``Groth16Verifier`` (contracts/) with this circuit's key,
one ``verifyProof`` transaction; EZKL = its generated Halo2 verifier compiled with the pinned solc-js.

Also printed: how the circuit scales to the small digits CNN (conv-relu-maxpool-dense on 1x8x8), constraint counts
per level (``--no-cnn`` skips). ``--quick`` (CI): a tiny random MLP 8-4-3, no CNN, no gas, EZKL only if installed.
The quantization report (top-1 agreement and max logit deviation vs float on the test split) is printed first.

    PYTHONPATH=. .venv/bin/python scripts/bench_proven.py [--quick] [--gas] [--no-cnn] [--no-ezkl] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench_proven_ezkl import NOT_INSTALLED, available, ezkl_gas, ezkl_inference  # noqa: E402
from circuits.proven import proven_circuit, proven_witness  # noqa: E402
from circuits.qnet import QNet  # noqa: E402
from explainers.digits import (  # noqa: E402
    DIGITS_CNN_INPUT_SHAPE,
    DIGITS_INPUT_SHAPE,
    digits_samples,
    export_onnx,
    train_digits_cnn,
    train_digits_mlp,
)
from explainers.model import LoadedModel, load_onnx  # noqa: E402
from explainers.quantize import quantize, quantize_input  # noqa: E402
from proven_report import quantization_report  # noqa: E402

METHOD = "lrp_epsilon_0_1"
_SEED = 11


def _model(kind: str) -> tuple[bytes, tuple[int, ...]]:
    """ONNX bytes and input shape of the benchmarked model (deterministic)."""
    if kind == "digits_mlp":
        return export_onnx(train_digits_mlp()[0], DIGITS_INPUT_SHAPE), DIGITS_INPUT_SHAPE
    if kind == "digits_cnn":
        return export_onnx(train_digits_cnn()[0], DIGITS_CNN_INPUT_SHAPE), DIGITS_CNN_INPUT_SHAPE
    torch.manual_seed(_SEED)
    tiny = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3)).eval()
    return export_onnx(tiny, (8,)), (8,)


def _sample(shape: tuple[int, ...]) -> np.ndarray:
    if shape == (8,):
        return np.random.default_rng(_SEED).uniform(0.0, 1.0, size=8)
    return digits_samples(1)[0][0].reshape(shape).astype(np.float64)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _ours(kind: str, level: str, gas: bool) -> dict[str, Any]:
    """One pipeline of ours, in this (fresh) process."""
    from prover.prove import prove
    from prover.setup import setup
    from prover.verify import verify

    onnx_bytes, shape = _model(kind)
    model = load_onnx(onnx_bytes)
    net = QNet.from_json(quantize(model))
    method = METHOD if level == "explanation" else None
    row: dict[str, Any] = {"side": f"ours/{level}", "method": method}
    t0 = time.perf_counter()
    pc = proven_circuit(net, level, method, model.model_hash)
    row["compile_s"] = time.perf_counter() - t0
    r1cs = pc.circuit.r1cs
    row["constraints"] = r1cs.n_constraints
    t0 = time.perf_counter()
    pk, vk = setup(r1cs, rng=random.Random(_SEED))
    row["setup_s"] = time.perf_counter() - t0
    rng = random.Random(_SEED)
    t0 = time.perf_counter()
    salts = {k: rng.getrandbits(250) for k in ("input_salt", "prediction_salt", "explanation_salt", "context")}
    extra = {"explanation_hash": rng.getrandbits(248)} if level == "inference" else {}
    witness, public, _ = proven_witness(pc, quantize_input(model, _sample(shape)), **salts, **extra)
    row["witness_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    proof = prove(pk, r1cs, witness)
    row["prove_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    row["verified"] = verify(vk, public, proof)
    row["verify_s"] = time.perf_counter() - t0
    row["proof_bytes"] = 256
    row["peak_mib"] = _peak_mib()
    if gas:
        row.update(_our_gas(vk, public, proof))
    return row


def _our_gas(vk: Any, public: list[int], proof: Any) -> dict[str, Any]:
    import contracts
    from evm_gas import deploy_and_call
    from prover.solidity import proof_calldata, vk_calldata
    from web3 import Web3

    art = contracts.artifact("Groth16Verifier")
    verifier = Web3().eth.contract(abi=art["abi"])
    data = verifier.encode_abi("verifyProof", args=[*proof_calldata(proof), list(public)])
    return deploy_and_call(art["abi"], art["bytecode"], vk_calldata(vk), bytes.fromhex(data[2:]))


def _ezkl(kind: str, gas: bool) -> dict[str, Any]:
    onnx_bytes, shape = _model(kind)
    with tempfile.TemporaryDirectory(prefix="zkxai-ezkl-") as tmp:
        row = {"side": "ezkl/inference", **ezkl_inference(onnx_bytes, _sample(shape), Path(tmp))}
        row["peak_mib"] = _peak_mib()
        if gas:
            row.update(ezkl_gas(Path(tmp), ROOT))
    return row


def _constraints(kind: str) -> dict[str, Any]:
    onnx_bytes, _ = _model(kind)
    model = load_onnx(onnx_bytes)
    net = QNet.from_json(quantize(model))
    out: dict[str, Any] = {"side": f"{kind} constraints", "params": sum(len(np.ravel(layer.get("weight", []))) + len(
        layer.get("bias", [])) for layer in quantize(model)["layers"])}
    for level, method in (("inference", None), ("explanation", "gradient"), ("explanation", METHOD)):
        t0 = time.perf_counter()
        out[f"{level}/{method or '-'}"] = proven_circuit(net, level, method, model.model_hash).circuit.r1cs.n_constraints
        out[f"{level}/{method or '-'} compile_s"] = round(time.perf_counter() - t0, 2)
    return out


def _in_child(fn: Any, *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def _quant_report(kind: str) -> str:
    onnx_bytes, shape = _model(kind)
    model: LoadedModel = load_onnx(onnx_bytes)
    if shape == (8,):
        xs, ys = np.random.default_rng(_SEED).uniform(0, 1, size=(64, 8)), None
    else:
        xs, ys = digits_samples(450)
    r = quantization_report(model, quantize(model), xs.reshape(-1, *shape), ys)
    acc = "" if r.float_accuracy is None else f", accuracy float {r.float_accuracy:.4f} / quantized {r.quant_accuracy:.4f}"
    return (f"quantized {kind} (2**16 fixed point, int32 values, weights |int| < 2**24) vs float64 on {r.samples} "
            f"inputs: top-1 agreement {r.top1_agreement:.4f}, max |logit diff| {r.max_abs_logit_diff:.2e}{acc}, "
            f"largest value {r.max_abs_value_bits} bits")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return "-" if v is None else str(v)


def _table(rows: list[dict[str, Any]]) -> str:
    cols = ["side", "constraints", "logrows", "rows", "setup_s", "witness_s", "prove_s", "verify_s", "proof_bytes",
            "peak_mib", "verify_gas", "deploy_gas", "verified"]
    lines = ["  ".join(f"{c:>14}" for c in cols)]
    lines += ["  ".join(f"{_fmt(r.get(c)):>14}" for c in cols) for r in rows]
    return "\n".join(lines)


def _ratios(rows: list[dict[str, Any]]) -> list[str]:
    ez = next((r for r in rows if r["side"] == "ezkl/inference"), None)
    if ez is None:
        return []
    out = []
    for r in rows:
        if r["side"].startswith("ours/"):
            parts = [f"{k.removesuffix('_s')} x{r[k] / ez[k]:.3f}" for k in ("setup_s", "prove_s", "verify_s") if ez.get(k)]
            parts.append(f"peak memory x{r['peak_mib'] / ez['peak_mib']:.2f}")
            parts.append(f"proof size x{r['proof_bytes'] / ez['proof_bytes']:.3f}")
            if r.get("verify_gas") and ez.get("verify_gas"):
                parts.append(f"verify gas x{r['verify_gas'] / ez['verify_gas']:.3f}")
            out.append(f"{r['side']} / EZKL inference: " + ", ".join(parts))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny MLP 8-4-3, no CNN, no gas (CI)")
    ap.add_argument("--gas", action="store_true", help="measure on-chain verification gas (in-process chain)")
    ap.add_argument("--no-cnn", action="store_true", help="skip the CNN constraint counts")
    ap.add_argument("--no-ezkl", action="store_true", help="skip EZKL even when installed")
    ap.add_argument("--json", help="write all rows here")
    args = ap.parse_args(argv)
    kind = "tiny_mlp" if args.quick else "digits_mlp"
    gas = args.gas and not args.quick
    print(f"zkxai proven-level benchmark, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, model {kind}, batch 1, "
          f"explanation method {METHOD}", flush=True)
    print(_quant_report(kind), flush=True)
    rows = [_in_child(_ours, kind, "inference", gas), _in_child(_ours, kind, "explanation", gas)]
    if args.no_ezkl:
        print("EZKL skipped (--no-ezkl)")
    elif not available():
        print(NOT_INSTALLED)
    else:
        rows.append(_in_child(_ezkl, kind, gas))
    print(_table(rows))
    notes = [r["note"] for r in rows if r.get("note")]
    for line in _ratios(rows) + notes:
        print(line)
    ez = next((r for r in rows if r["side"] == "ezkl/inference"), None)
    if ez is not None:
        goal = rows[1]["prove_s"] < ez["prove_s"]
        print(f"goal (our explanation proof faster than EZKL's inference proof): {'met' if goal else 'NOT met'} "
              f"({rows[1]['prove_s']:.2f} s vs {ez['prove_s']:.2f} s)")
    if not args.quick and not args.no_cnn:
        cnn = _in_child(_constraints, "digits_cnn")
        rows.append(cnn)
        print("scaling, digits CNN conv(1->4,3x3,pad 1)-relu-maxpool 2-dense(64->10): "
              + ", ".join(f"{k} {v}" for k, v in cnn.items() if k != "side"))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0 if all(r.get("verified", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
