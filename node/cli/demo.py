"""``zkxai demo``: the whole product on embedded defaults, as a new user first sees it.

1. train a small MLP on scikit-learn's digits and export it to ONNX;
2. start the node (aiohttp) on loopback with an embedded EVM and SQLite; it deploys the verifier and registry;
3. register the model, attest several test-set predictions (predict -> explain -> prove -> submit);
4. verify each attestation with ``zkxai verify`` in a separate process, over the node's JSON-RPC,
   with the disclosed data and the model file, pinning the registry and attester the node reports;
   then once more with a tampered disclosure, which must fail;
5. print the verdicts.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from node.api.app import build_app
from node.config import NodeConfig


async def _verify(rpc: str, bundle: Path, model: Path, pins: tuple[str, ...]) -> tuple[int, dict]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node.cli", "verify", "--rpc-url", rpc, "--disclosure", str(bundle),
        "--model", str(model), *pins, "--json", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        report = {"verdict": "ERROR", "error": err.decode()[-500:]}
    return proc.returncode or 0, report


def _summary(report: dict) -> str:
    return " ".join(f"{c['name']}:{'ok' if c['ok'] else c.get('status', 'fail').upper()}"
                    for c in report.get("checks", []))


async def _run(count: int, data_dir: Path, serve: bool = False) -> int:
    from explainers.digits import digits_samples, export_onnx, train_digits_mlp

    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "zkxai.db").unlink(missing_ok=True)  # the embedded chain starts empty each run
    t0 = time.perf_counter()
    module, accuracy = train_digits_mlp(seed=0)
    model_path = data_dir / "digits_mlp.onnx"
    model_path.write_bytes(export_onnx(module, (64,)))
    print(f"[1/4] trained digits MLP (64-32-10): test accuracy {accuracy:.3f} ({time.perf_counter() - t0:.1f} s) -> {model_path}")

    config = NodeConfig(port=0, data_dir=data_dir, prover_workers=1)
    runner = web.AppRunner(build_app(config))
    t0 = time.perf_counter()
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    failures = 0
    try:
        async with aiohttp.ClientSession() as http:
            info = await (await http.get(f"{base}/v1/info")).json()
            print(f"[2/4] node on {base}: embedded EVM chain {info['chain_id']}, registry {info['registry']}, "
                  f"verifier {info['verifier']} ({time.perf_counter() - t0:.1f} s, includes the circuit key setup on first run)")
            resp = await http.post(f"{base}/v1/models?name=digits-mlp", data=model_path.read_bytes())
            model = await resp.json()
            if resp.status != 201:
                print(f"model registration failed: {model}")
                return 1
            print(f"      registered model {model['model_hash']}")
            print(f"      explorer (verify in your browser): {base}/explorer   console: {base}/console")
            X_train, y_train = digits_samples(400, split="train")
            resp = await http.post(f"{base}/v1/models/{model['model_hash']}/calibration",
                                   json={"inputs": X_train.tolist(), "labels": [int(v) for v in y_train]})
            if resp.status != 201:
                print(f"calibration failed: {await resp.json()}")
                return 1
            print(f"      fitted the out-of-distribution calibration on {len(X_train)} training digits")

            X, y = digits_samples(count, split="test")
            bundles = []
            print(f"[3/4] attesting {count} predictions concurrently (lrp_epsilon_0_1 explanations, Groth16 proofs, "
                  f"on-chain)")
            t_all = time.perf_counter()

            async def attest(i: int) -> tuple[int, dict]:
                resp = await http.post(f"{base}/v1/attestations?wait=true", json={
                    "model_hash": model["model_hash"], "input": X[i].tolist(), "method": "lrp_epsilon_0_1",
                    "quality": True})
                return resp.status, await resp.json()

            answers = await asyncio.gather(*(attest(i) for i in range(count)))
            for i, (status, result) in enumerate(answers):
                if status != 201:
                    print(f"      #{i}: attestation failed: {result}")
                    failures += 1
                    continue
                bundle = data_dir / f"attestation-{i}.json"
                bundle.write_text(json.dumps(result["disclosure"], indent=1) + "\n")
                bundles.append((i, bundle, int(y[i]), result))
                t = result["timings"]
                trust = (result.get("assessment") or {}).get("trust") or {}
                quality = (result.get("assessment") or {}).get("quality") or {}
                print(f"      #{i}: label {int(y[i])} predicted {result['predicted_class']}  "
                      f"confidence {trust.get('confidence', 0):.3f}  trust {trust.get('trust_score') or 0:.3f}  "
                      f"deletion AUC {quality.get('deletion_auc', 0):.3f}  id {result['attestation_id'][:14]}...  "
                      f"gas {result['gas_used']:,}  prove {t['prove_s']:.2f} s")
            print(f"      {len(bundles)} attested in {time.perf_counter() - t_all:.1f} s")

            if bundles:
                png = data_dir / "attestation-0-heatmap.png"
                show = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "node.cli", "show", str(bundles[0][1]), "--png", str(png), "--image-shape",
                    "8x8", stdout=asyncio.subprocess.PIPE)
                out, _ = await show.communicate()
                print("      `zkxai show` of #0:\n" + "\n".join("        " + line for line in out.decode().splitlines()))

            rpc = f"{base}/rpc"
            # A verifier trusts only what it pins. The demo's verifier pins what this node reports about itself
            # (a third party would check the registry and attester out of band, or use a --trust file).
            pins = ("--registry", info["registry"], "--attester", info["attester"])
            print(f"[4/4] verifying with `zkxai verify --rpc-url {rpc} --disclosure <bundle> --model {model_path} "
                  f"{' '.join(pins)}`")
            print(f"      pinned: registry {info['registry']} and attester {info['attester']} (from the node's "
                  f"/v1/info; vk_sha256 {info['vk_sha256']})")
            for i, bundle, label, result in bundles:
                code, report = await _verify(rpc, bundle, model_path, pins)
                checks = _summary(report)
                print(f"      #{i}: {report.get('verdict')} (exit {code})  {checks}")
                failures += report.get("verdict") != "VALID" or code != 0

            if bundles:
                i, bundle, _, _ = bundles[0]
                tampered = json.loads(bundle.read_text())
                tampered["prediction"]["predicted_class"] = (tampered["prediction"]["predicted_class"] + 1) % 10
                bad = data_dir / "attestation-tampered.json"
                bad.write_text(json.dumps(tampered))
                code, report = await _verify(rpc, bad, model_path, pins)
                checks = _summary(report)
                print(f"      tampered copy of #{i} (class changed): {report.get('verdict')} (exit {code})  {checks}")
                failures += report.get("verdict") != "INVALID" or code == 0
            if serve:
                vk = data_dir / "keys"
                print(f"serving until Ctrl-C: open {base}/explorer, paste an attestation id above, pin the RPC "
                      f"{rpc}, registry {info['registry']}, attester {info['attester']} and the key "
                      f"{next(iter(sorted(vk.glob('commitment-*.vk.json'))), vk)}; the console is {base}/console")
                await asyncio.Event().wait()
    finally:
        await runner.cleanup()
    print("demo: " + ("all verdicts as expected" if failures == 0 else f"{failures} unexpected result(s)"))
    return 0 if failures == 0 else 1


def run_demo(count: int, data_dir: Path, serve: bool = False) -> int:
    import logging

    logging.basicConfig(level=logging.ERROR)  # the demo prints its own story; node warnings go to the log level ERROR
    try:
        return asyncio.run(_run(count, data_dir, serve))
    except KeyboardInterrupt:
        return 0
