"""Proof levels end to end on anvil: a `zkxai node` registers the digits MLP at level ``explanation`` (quantized, its
own circuit, keys, verifier and registry), attests a prediction there, and `zkxai verify` (a separate process)
reports the level VALID when the user pinned it; a tampered attribution and a wrong level claim are INVALID; a model
that cannot be quantized is refused (422 naming the layer) and the node keeps serving."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.node_harness import ANVIL_KEY, http, post_json, running_node, zkxai

pytestmark = [pytest.mark.npm, pytest.mark.slow]

METHOD = "lrp_epsilon_0_1"


@pytest.fixture(scope="module")
def run(anvil_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import torch

    from explainers.digits import digits_samples, export_onnx, train_digits_mlp

    work = tmp_path_factory.mktemp("levels-node")
    model_file = work / "digits.onnx"
    module, _ = train_digits_mlp(seed=0)
    model_file.write_bytes(export_onnx(module, (64,)))
    sigmoid = export_onnx(torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.Sigmoid(), torch.nn.Linear(16, 10)),
                          (64,))
    X, _ = digits_samples(3, split="test")
    with running_node(work, "--rpc-url", anvil_url, env={"ZKXAI_PRIVATE_KEY": ANVIL_KEY}) as base:
        octet = "application/octet-stream"
        status, refused = http("POST", f"{base}/v1/models?level=explanation&method={METHOD}", sigmoid, octet)
        health = http("GET", f"{base}/healthz")[0]
        status_c, plain = http("POST", f"{base}/v1/models", model_file.read_bytes(), octet)
        assert status_c == 201, plain
        status_p, model = http("POST", f"{base}/v1/models?level=explanation&method={METHOD}", model_file.read_bytes(),
                               octet)
        assert status_p == 201, model
        status_a, result = post_json(f"{base}/v1/attestations?wait=true",
                                     {"model_hash": model["model_hash"], "input": X[1].tolist()})
        assert status_a == 201, result
        # the same model at level commitment, in the node's commitment registry
        status_b, commitment = post_json(f"{base}/v1/attestations?wait=true",
                                         {"model_hash": model["model_hash"], "input": X[2].tolist(),
                                          "method": METHOD, "level": "commitment"})
        assert status_b == 201, commitment
        info = http("GET", f"{base}/v1/info")[1]
    bundle = work / "bundle.json"
    bundle.write_text(json.dumps(result["disclosure"]))
    yield {"work": work, "model": model, "result": result, "bundle": bundle, "info": info, "refused": refused,
           "refused_status": status, "health": health, "commitment": commitment, "model_file": model_file}


def _verify(anvil: str, bundle: Path, *anchors: str) -> tuple[int, dict[str, Any]]:
    out = zkxai("verify", "--rpc-url", anvil, "--disclosure", str(bundle), "--json", *anchors)
    return out.returncode, json.loads(out.stdout or "{}")


def _trust(run: dict[str, Any], path: Path, registry: str, level: str, method: str | None = None) -> str:
    lines = ["[[node]]", 'name = "acme"', f'registry = "{registry}"', f'attesters = ["{run["info"]["attester"]}"]',
             f'level = "{level}"'] + ([f'method = "{method}"'] if method else [])
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_unquantizable_model_is_refused_naming_the_layer(run: dict[str, Any]) -> None:
    assert run["refused_status"] == 422, run["refused"]
    assert "Sigmoid" in run["refused"]["error"]["message"]
    assert run["health"] == 200


def test_explanation_level_attested_in_the_models_own_registry(run: dict[str, Any]) -> None:
    proven = run["model"]["proven"]
    d = run["result"]["disclosure"]
    assert run["model"]["level"] == "explanation" and proven["method"] == METHOD
    assert d["format"] == "zkxai.disclosure/3" and d["level"] == "explanation"
    assert d["chain"]["registry"] == proven["registry"] != run["info"]["registry"]
    assert d["model_commitment"] == proven["model_commitment"]
    assert "not what is proven" in run["result"]["assessment"]["prediction"]
    assert run["commitment"]["disclosure"]["level"] == "commitment"
    assert run["commitment"]["disclosure"]["chain"]["registry"] == run["info"]["registry"]
    assert any(p["registry"] == proven["registry"] for p in run["info"]["proven"])
    print(f"gas per attest: explanation {run['result']['gas_used']}, commitment {run['commitment']['gas_used']}")


def test_verify_reports_the_pinned_level_valid(anvil_url: str, run: dict[str, Any], tmp_path: Path) -> None:
    registry = run["model"]["proven"]["registry"]
    code, report = _verify(anvil_url, run["bundle"], "--registry", registry, "--attester", run["info"]["attester"],
                           "--level", f"explanation:{METHOD}")
    assert code == 0, report
    level = next(c for c in report["checks"] if c["name"] == "level")
    assert level["status"] == "pass" and level["detail"].startswith("explanation: the committed model computed")
    trust = _trust(run, tmp_path / "t.toml", registry, "explanation", METHOD)
    code, report = _verify(anvil_url, run["bundle"], "--trust", trust)
    assert code == 0 and report["verdict"] == "VALID", report
    # the bundle's claim alone is never believed
    code, report = _verify(anvil_url, run["bundle"], "--registry", registry, "--attester", run["info"]["attester"])
    assert code == 11 and "level" in report["unpinned"], report


def test_tampered_attribution_fails(anvil_url: str, run: dict[str, Any], tmp_path: Path) -> None:
    bad = copy.deepcopy(run["result"]["disclosure"])
    bad["explanation"]["values"][10] += 1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    code, report = _verify(anvil_url, path, "--registry", run["model"]["proven"]["registry"], "--attester",
                           run["info"]["attester"], "--level", "explanation")
    assert code == 4 and report["verdict"] == "INVALID", report


def test_explanation_claim_for_a_commitment_record_fails(anvil_url: str, run: dict[str, Any], tmp_path: Path) -> None:
    claim = copy.deepcopy(run["commitment"]["disclosure"])
    claim["level"], claim["digests"] = "explanation", "circuits.qnet/v1"
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(claim))
    trust = _trust(run, tmp_path / "t.toml", run["info"]["registry"], "commitment")
    code, report = _verify(anvil_url, path, "--trust", trust)
    assert report["verdict"] == "INVALID", report
    assert {c["name"] for c in report["checks"] if c["status"] == "fail"} >= {"level"}
