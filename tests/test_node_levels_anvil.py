"""Proof levels end to end on anvil: a `zkxai node` registers the digits MLP at levels ``explanation`` and
``inference`` (quantized, its own circuit, keys, verifier and registry each), attests predictions there, and
`zkxai verify` (a separate process) reports the level VALID when the user pinned it; a tampered attribution, tampered
scores and a wrong level claim are INVALID; a model that cannot be quantized is refused (422 naming the layer) and the
node keeps serving. Revoking a level record (and a whole model) reaches the model's level registry, where `zkxai
verify` sees it; `zkxai trust show` prints an entry per level registry; and a node restarted on the same data dir
re-attaches its level registries (no redeploy, keys from the cache) and keeps attesting at the levels."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.node_harness import ANVIL_KEY, http, post_json, running_node, zkxai

OCTET = "application/octet-stream"

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
    torch.manual_seed(3)
    small = export_onnx(torch.nn.Sequential(torch.nn.Linear(64, 8), torch.nn.ReLU(), torch.nn.Linear(8, 10)), (64,))
    X, _ = digits_samples(8, split="test")
    env = {"ZKXAI_PRIVATE_KEY": ANVIL_KEY}
    out: dict[str, Any] = {}
    with running_node(work, "--rpc-url", anvil_url, env=env) as base:
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
        # level inference: the same model, its own circuit, keys and registry
        status_i, out["inference_model"] = http("POST", f"{base}/v1/models?level=inference", model_file.read_bytes(),
                                                OCTET)
        assert status_i == 201, out["inference_model"]
        out["inference"] = _attest(base, model["model_hash"], X[0], "inference")
        # a level-explanation record, revoked by its attester
        out["revoked"] = _attest(base, model["model_hash"], X[3], "explanation")
        out["revoke_status"], out["revoke"] = post_json(
            f"{base}/v1/attestations/{out['revoked']['request_id']}/revoke", {"reason": 2})
        out["revoked_row"] = http("GET", f"{base}/v1/attestations/{out['revoked']['request_id']}")[1]
        # a whole model revoked: reaches its level registry too
        status_s, out["small_model"] = http("POST", f"{base}/v1/models?level=inference", small, OCTET)
        assert status_s == 201, out["small_model"]
        out["small"] = _attest(base, out["small_model"]["model_hash"], X[4], "inference")
        out["revoke_model_status"], out["revoke_model"] = post_json(
            f"{base}/v1/models/{out['small_model']['model_hash']}/revoke", {"reason": 1})
        out["revoke_model_again"] = post_json(f"{base}/v1/models/{out['small_model']['model_hash']}/revoke",
                                              {"reason": 1})[0]
        info = http("GET", f"{base}/v1/info")[1]
        out["trust_show"] = zkxai("trust", "show", "--url", base, "--name", "acme")
    keys = {p.name: p.stat().st_mtime_ns for p in work.rglob("proven-*.json")}
    # restart on the same data dir: the level registries are attached again, the keys come from the cache
    with running_node(work, "--rpc-url", anvil_url, env=env) as base:
        out["restarted_info"] = http("GET", f"{base}/v1/info")[1]
        out["after_restart"] = {level: _attest(base, model["model_hash"], X[5 + i], level)
                                for i, level in enumerate(("inference", "explanation"))}
    out["keys_before"], out["keys_after"] = keys, {p.name: p.stat().st_mtime_ns for p in work.rglob("proven-*.json")}
    bundle = work / "bundle.json"
    bundle.write_text(json.dumps(result["disclosure"]))
    yield {"work": work, "model": model, "result": result, "bundle": bundle, "info": info, "refused": refused,
           "refused_status": status, "health": health, "commitment": commitment, "model_file": model_file, **out}


def _attest(base: str, model_hash: str, x: Any, level: str) -> dict[str, Any]:
    status, result = post_json(f"{base}/v1/attestations?wait=true",
                               {"model_hash": model_hash, "input": x.tolist(), "level": level})
    assert status == 201, result
    return result


def _bundle(tmp_path: Path, disclosure: dict[str, Any], name: str = "b.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(disclosure))
    return path


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


def _pinned(run: dict[str, Any], registry: str, level: str) -> tuple[str, ...]:
    return ("--registry", registry, "--attester", run["info"]["attester"], "--level", level)


def test_inference_level_end_to_end(anvil_url: str, run: dict[str, Any], tmp_path: Path) -> None:
    proven = run["inference_model"]["proven"]
    d = run["inference"]["disclosure"]
    assert run["inference_model"]["level"] == "inference" and proven["method"] is None
    assert d["level"] == "inference" and d["chain"]["registry"] == proven["registry"]
    assert proven["registry"] not in (run["info"]["registry"], run["model"]["proven"]["registry"])
    assert proven["constraints"] < run["model"]["proven"]["constraints"]
    code, report = _verify(anvil_url, _bundle(tmp_path, d), *_pinned(run, proven["registry"], "inference"))
    assert code == 0 and report["verdict"] == "VALID", report
    level = next(c for c in report["checks"] if c["name"] == "level")
    assert level["status"] == "pass" and level["detail"].startswith("inference"), level
    bad = copy.deepcopy(d)
    bad["prediction"]["scores"][0] += 1
    code, report = _verify(anvil_url, _bundle(tmp_path, bad, "bad.json"), *_pinned(run, proven["registry"], "inference"))
    assert code != 0 and report["verdict"] == "INVALID", report
    # an inference-level key does not prove an explanation
    code, report = _verify(anvil_url, _bundle(tmp_path, d), *_pinned(run, proven["registry"], "explanation"))
    assert report["verdict"] == "INVALID", report


def test_revoking_a_level_record_reaches_its_registry(anvil_url: str, run: dict[str, Any], tmp_path: Path) -> None:
    assert run["revoke_status"] == 200, run["revoke"]
    assert run["revoke"]["status"] == "revoked" and run["revoke"]["tx_hash"]
    assert run["revoked_row"]["status"] == "revoked"
    d = run["revoked"]["disclosure"]
    registry = run["model"]["proven"]["registry"]
    assert d["chain"]["registry"] == registry
    code, report = _verify(anvil_url, _bundle(tmp_path, d), *_pinned(run, registry, f"explanation:{METHOD}"))
    assert code == 8 and report["verdict"] != "VALID", report
    assert report["record"]["revoked"] and report["record"]["revocation_reason"] == 2, report["record"]
    assert not report["record"]["model_revoked"]
    # the other records of that registry are untouched
    assert _verify(anvil_url, run["bundle"], *_pinned(run, registry, f"explanation:{METHOD}"))[0] == 0


def test_revoking_a_model_reaches_its_level_registries(anvil_url: str, run: dict[str, Any], tmp_path: Path) -> None:
    assert run["revoke_model_status"] == 200, run["revoke_model"]
    registry = run["small_model"]["proven"]["registry"]
    [entry] = run["revoke_model"]["proven"]
    assert entry["registry"] == registry and entry["level"] == "inference" and entry["tx_hash"]
    assert run["revoke_model"]["tx_hash"]  # the primary registry too
    assert run["revoke_model_again"] == 409  # revoked everywhere already
    code, report = _verify(anvil_url, _bundle(tmp_path, run["small"]["disclosure"]),
                           *_pinned(run, registry, "inference"))
    assert code == 8 and report["record"]["model_revoked"], report


def test_trust_show_prints_the_level_registries(anvil_url: str, run: dict[str, Any], tmp_path: Path) -> None:
    import tomllib

    shown = run["trust_show"]
    assert shown.returncode == 0, shown.stderr
    entries = tomllib.loads(shown.stdout)["node"]
    by_registry = {e["registry"].lower(): e for e in entries}
    assert run["info"]["registry"].lower() in by_registry
    assert len(run["info"]["proven"]) == 3 and len(entries) == 4
    for p in run["info"]["proven"]:
        e = by_registry[p["registry"].lower()]
        assert e["level"] == p["level"] and e.get("method") == p["method"] and e["vk_sha256"] == p["vk_sha256"]
        assert e["attesters"] == [run["info"]["attester"]] and e["name"].startswith(f"acme-{p['level']}")
    trust = tmp_path / "trust.toml"
    trust.write_text(shown.stdout)
    for bundle in (run["bundle"], _bundle(tmp_path, run["inference"]["disclosure"])):
        code, report = _verify(anvil_url, bundle, "--trust", str(trust))
        assert code == 0 and report["verdict"] == "VALID", report


def test_restart_reattaches_the_level_registries(anvil_url: str, run: dict[str, Any], tmp_path: Path) -> None:
    before = {(p["model_hash"], p["level"], p["method"]): p for p in run["info"]["proven"]}
    after = {(p["model_hash"], p["level"], p["method"]): p for p in run["restarted_info"]["proven"]}
    assert after.keys() == before.keys()
    for key, p in before.items():  # attached, not deployed again
        assert (after[key]["registry"], after[key]["verifier"], after[key]["vk_sha256"]) == (
            p["registry"], p["verifier"], p["vk_sha256"])
    assert run["keys_after"] == run["keys_before"] and len(run["keys_before"]) == 6  # 3 circuits: no new setup
    for level, result in run["after_restart"].items():
        d = result["disclosure"]
        registry = (run["inference_model"] if level == "inference" else run["model"])["proven"]["registry"]
        assert d["level"] == level and d["chain"]["registry"] == registry
        pin = "inference" if level == "inference" else f"explanation:{METHOD}"
        code, report = _verify(anvil_url, _bundle(tmp_path, d, f"{level}.json"), *_pinned(run, registry, pin))
        assert code == 0 and report["verdict"] == "VALID", report
