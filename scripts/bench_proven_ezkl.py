"""EZKL's side of ``scripts/bench_proven.py``: ONNX (batch 1) -> Halo2 inference proof, and its EVM verifier's gas.

EZKL is optional (``pip install ezkl`` or the ``bench`` extra); :func:`available` says whether it imports. The
pipeline follows EZKL's documented flow: ``gen_settings`` (private input, public output, fixed parameters),
``calibrate_settings`` (resources), ``compile_circuit``, ``gen_srs`` (a local SRS: offline, for testing; not
timed as setup), ``gen_witness``, ``setup``, ``prove``, ``verify``. Some EZKL calls are coroutines; :func:`_run`
awaits those.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx

NOT_INSTALLED = "EZKL not installed: pip install ezkl"


def available() -> bool:
    """True when the ``ezkl`` module imports."""
    try:
        import ezkl  # noqa: F401
    except ImportError:
        return False
    return True


def _in_loop(fn: Any, *args: Any) -> Any:
    """Call ``fn`` inside a running event loop (some EZKL calls need one at call time) and await its result."""
    async def call() -> Any:
        value = fn(*args)
        return await value if inspect.isawaitable(value) else value
    return asyncio.run(call())


def _run(value: Any) -> Any:
    if inspect.isawaitable(value):
        async def wait() -> Any:
            return await value
        return asyncio.run(wait())
    return value


def _batch_one(onnx_bytes: bytes, path: Path) -> None:
    """EZKL needs fixed dimensions: the symbolic batch axis of our export becomes 1."""
    proto = onnx.load_model_from_string(onnx_bytes)
    for value in list(proto.graph.input) + list(proto.graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        dim.ClearField("dim_param")
        dim.dim_value = 1
    onnx.save(proto, str(path))


def ezkl_inference(onnx_bytes: bytes, x: np.ndarray, workdir: Path) -> dict[str, Any]:
    """Run EZKL's pipeline on one input; returns logrows, rows, times (s), proof size (bytes), verified."""
    import ezkl

    workdir.mkdir(parents=True, exist_ok=True)
    p = {k: str(workdir / v) for k, v in dict(model="model.onnx", data="input.json", settings="settings.json",
                                               compiled="model.compiled", srs="kzg.srs", witness="witness.json",
                                               vk="vk.key", pk="pk.key", proof="proof.json").items()}
    _batch_one(onnx_bytes, Path(p["model"]))
    Path(p["data"]).write_text(json.dumps({"input_data": [np.asarray(x, dtype=np.float64).reshape(-1).tolist()]}))
    args = ezkl.PyRunArgs()
    args.input_visibility, args.output_visibility, args.param_visibility = "private", "public", "fixed"
    row: dict[str, Any] = {"ezkl_version": getattr(ezkl, "__version__", "?")}
    t0 = time.perf_counter()
    _run(ezkl.gen_settings(p["model"], p["settings"], py_run_args=args))
    _run(ezkl.calibrate_settings(p["data"], p["model"], p["settings"], "resources"))
    _run(ezkl.compile_circuit(p["model"], p["compiled"], p["settings"]))
    row["compile_s"] = time.perf_counter() - t0
    settings = json.loads(Path(p["settings"]).read_text())
    row["logrows"] = int(settings["run_args"]["logrows"])
    row["rows"] = int(settings.get("num_rows", 0))
    t0 = time.perf_counter()
    _run(ezkl.gen_srs(p["srs"], row["logrows"]))
    row["srs_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _run(ezkl.gen_witness(p["data"], p["compiled"], p["witness"]))
    row["witness_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _run(ezkl.setup(p["compiled"], p["vk"], p["pk"], p["srs"]))
    row["setup_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _run(ezkl.prove(p["witness"], p["compiled"], p["pk"], p["proof"], p["srs"]))
    row["prove_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    row["verified"] = bool(_run(ezkl.verify(p["proof"], p["settings"], p["vk"], p["srs"])))
    row["verify_s"] = time.perf_counter() - t0
    proof = json.loads(Path(p["proof"]).read_text())
    row["proof_json_bytes"] = os.path.getsize(p["proof"])
    raw = proof["proof"]  # the proof bytes, as a list of ints (hex_proof: the same as hex)
    row["proof_bytes"] = len(raw) if isinstance(raw, list) else len(bytes.fromhex(str(raw).removeprefix("0x")))
    return row


def ezkl_gas(workdir: Path, root: Path) -> dict[str, Any]:
    """Deploy EZKL's Solidity verifier on an in-process chain and send it the proof; gas of both transactions.

    EZKL renders the verifier, then tries to download solc (offline: fails after writing the file); we compile it
    with the project's pinned solc-js (``node_modules/solc``). Returns ``{"note": why}`` when that is not possible.
    """
    import ezkl

    sol, abi = workdir / "Verifier.sol", workdir / "verifier_abi.json"
    try:
        _in_loop(ezkl.create_evm_verifier, str(workdir / "vk.key"), str(workdir / "settings.json"), str(sol), str(abi),
                 str(workdir / "kzg.srs"))
    except RuntimeError as exc:
        if not sol.exists():
            return {"note": f"create_evm_verifier failed: {exc}"}
    solc = root / "node_modules" / "solc"
    if not solc.exists():
        return {"note": "node_modules/solc missing (npm ci): EZKL gas not measured"}
    script = (
        "const solc=require(process.argv[1]);const fs=require('fs');"
        "const i={language:'Solidity',sources:{'V.sol':{content:fs.readFileSync(process.argv[2],'utf8')}},"
        "settings:{optimizer:{enabled:true,runs:1},evmVersion:'cancun',"
        "outputSelection:{'*':{'*':['abi','evm.bytecode.object']}}}};"
        "const o=JSON.parse(solc.compile(JSON.stringify(i)));"
        "if(o.errors&&o.errors.some(e=>e.severity==='error')){console.error(JSON.stringify(o.errors));process.exit(1);}"
        "const c=Object.values(o.contracts['V.sol'])[0];"
        "fs.writeFileSync(process.argv[3],JSON.stringify({abi:c.abi,bytecode:c.evm.bytecode.object}));"
    )
    built = workdir / "verifier_build.json"
    done = subprocess.run(["node", "-e", script, str(solc), str(sol), str(built)], capture_output=True, text=True)
    if done.returncode != 0:
        return {"note": f"solc-js could not compile EZKL's verifier: {done.stderr[-300:]}"}
    calldata = bytes(_run(ezkl.encode_evm_calldata(str(workdir / "proof.json"), str(workdir / "calldata.bin"))))
    art = json.loads(built.read_text())
    from evm_gas import deploy_and_call

    return deploy_and_call(art["abi"], art["bytecode"], (), calldata)
