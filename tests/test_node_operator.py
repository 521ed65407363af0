"""Operator features of a running node: API keys, idempotency keys, calibration + trust, quality, metrics,
OpenAPI, readiness, `zkxai node status`, back-pressure, graceful shutdown."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.node_harness import ROOT, running_node, zkxai

SUBMITTER = "submitter-key-0123456789"
ADMIN = "admin-key-0123456789abcdef"


def call(method: str, url: str, body: Any = None, key: str | None = None, raw: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    if key:
        hdrs["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=600) as resp:
            payload = resp.read()
            return resp.status, (json.loads(payload) if resp.headers.get_content_type() == "application/json"
                                 else payload.decode()), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), dict(err.headers)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"ZKXAI_API_KEYS": SUBMITTER, "ZKXAI_ADMIN_KEY": ADMIN, "ZKXAI_PIPELINE_QUEUE_SIZE": "2"}
    with running_node(tmp_path_factory.mktemp("op"), env=env) as base:
        yield base


@pytest.fixture(scope="module")
def model(node: str) -> dict[str, Any]:
    from explainers.digits import export_onnx, train_digits_mlp

    module, _ = train_digits_mlp(seed=0)
    status, body, _ = call("POST", f"{node}/v1/models", raw=export_onnx(module, (64,)), key=ADMIN,
                           headers={"Content-Type": "application/octet-stream"})
    assert status == 201, body
    return body


def test_api_keys(node: str) -> None:
    assert call("GET", f"{node}/v1/models")[0] == 401
    assert call("GET", f"{node}/v1/models", key="not-a-key-at-all-xxxx")[0] == 401
    assert call("GET", f"{node}/v1/models", key=SUBMITTER)[0] == 200
    status, body, _ = call("POST", f"{node}/v1/models", raw=b"onnx", key=SUBMITTER,
                           headers={"Content-Type": "application/octet-stream"})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert call("GET", f"{node}/healthz")[0] == 200 and call("GET", f"{node}/v1/info")[0] == 200


def test_calibrated_trust_quality_idempotency_and_metrics(node: str, model: dict[str, Any]) -> None:
    from explainers.digits import digits_samples

    mh = model["model_hash"]
    X, y = digits_samples(200, split="train")
    body = {"inputs": X.tolist(), "labels": [int(v) for v in y]}
    assert call("POST", f"{node}/v1/models/{mh}/calibration", body, key=SUBMITTER)[0] == 403
    status, cal, _ = call("POST", f"{node}/v1/models/{mh}/calibration", body, key=ADMIN)
    assert status == 201 and cal["samples"] == 200

    Xt, _ = digits_samples(1, split="test")
    request = {"model_hash": mh, "input": Xt[0].tolist(), "method": "gradient", "quality": True}
    status, first, headers = call("POST", f"{node}/v1/attestations?wait=true", request, key=SUBMITTER,
                                  headers={"Idempotency-Key": "order-42", "X-Request-Id": "trace-1"})
    assert status == 201, first
    assert headers["X-Request-Id"] == "trace-1" and first["request_id"] == "order-42"
    trust, quality = first["assessment"]["trust"], first["assessment"]["quality"]
    assert first["assessment"]["covered_by_proof"] is False
    assert 0 <= trust["ood_percentile"] <= 1 and 0 <= trust["trust_score"] <= 1 and trust["confidence"] > 0.5
    assert 0 <= quality["deletion_auc"] <= 1 and quality["insertion_auc"] > quality["deletion_auc"]

    # the same Idempotency-Key returns the existing request, no second attestation
    status, again, _ = call("POST", f"{node}/v1/attestations?wait=true", request, key=SUBMITTER,
                            headers={"Idempotency-Key": "order-42"})
    assert status == 200 and again["attestation_id"] == first["attestation_id"]

    # an out-of-distribution input is trusted less than the in-distribution one
    noise = {"model_hash": mh, "input": [1.0 if i % 3 else 0.0 for i in range(64)], "method": "gradient"}
    status, odd, _ = call("POST", f"{node}/v1/attestations?wait=true", noise, key=SUBMITTER)
    assert status == 201
    assert odd["assessment"]["trust"]["ood_percentile"] > trust["ood_percentile"]
    assert odd["assessment"]["trust"]["hallucination_risk"] >= trust["hallucination_risk"]

    status, metrics, _ = call("GET", f"{node}/metrics")
    assert status == 200
    assert 'zkxai_attestations_total{chain="ethereum"} 2.0' in metrics and "zkxai_proofs_total 2.0" in metrics
    assert 'zkxai_stage_seconds_count{chain="ethereum",stage="prove"} 2.0' in metrics
    gas = float(next(line.split()[-1] for line in metrics.splitlines() if line.startswith('zkxai_gas_used_total{chain="ethereum"}')))
    assert gas == first["gas_used"] + odd["gas_used"]


def test_batch_quality_evaluation(node: str, model: dict[str, Any]) -> None:
    from explainers.digits import digits_samples

    X, _ = digits_samples(8, split="test")
    status, report, _ = call("POST", f"{node}/v1/models/{model['model_hash']}/evaluation",
                             {"inputs": X.tolist(), "method": "gradient"}, key=SUBMITTER)
    assert status == 200 and report["samples"] == 8
    assert set(report["means"]) >= {"deletion_auc", "insertion_auc", "faithfulness", "sparseness",
                                    "randomisation_similarity"}


def test_back_pressure_answers_503_with_retry_after(node: str, model: dict[str, Any]) -> None:
    """queue_size=2: a burst of queued (non-waiting) requests beyond it is refused, the rest complete."""
    from explainers.digits import digits_samples

    X, _ = digits_samples(4, split="test")
    answers = [call("POST", f"{node}/v1/attestations", {"model_hash": model["model_hash"], "input": X[i].tolist(),
                                                         "method": "gradient"}, key=SUBMITTER) for i in range(4)]
    statuses = [a[0] for a in answers]
    assert statuses.count(202) == 2 and statuses.count(503) == 2, statuses
    refused = next(a for a in answers if a[0] == 503)
    assert refused[1]["error"]["code"] == "busy" and refused[2]["Retry-After"]


def test_openapi_readyz_and_status(node: str) -> None:
    status, spec, _ = call("GET", f"{node}/v1/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.") and "/v1/attestations" in spec["paths"]
    status, ready, _ = call("GET", f"{node}/readyz")
    assert status == 200 and ready["checks"] == {"database": "ok", "chain": "ok", "signer": "ok", "intake": "ok"}
    out = zkxai("node", "status", "--url", node)
    assert out.returncode == 0 and "READY" in out.stdout
    down = zkxai("node", "status", "--url", "http://127.0.0.1:9")
    assert down.returncode == 1 and "NOT READY" in down.stdout


def test_graceful_shutdown_persists_and_resumes(tmp_path: Path, model: dict[str, Any]) -> None:
    """SIGTERM while requests are queued: the node exits cleanly; nothing accepted is lost (the rows stay
    pending in the database and a restart on the same chain would resume them)."""
    import sqlite3

    from explainers.digits import digits_samples, export_onnx, train_digits_mlp

    module, _ = train_digits_mlp(seed=0)
    with running_node(tmp_path) as base:
        call("POST", f"{base}/v1/models", raw=export_onnx(module, (64,)), headers={"Content-Type": "application/octet-stream"})
        X, _ = digits_samples(3, split="test")
        ids = [call("POST", f"{base}/v1/attestations", {"model_hash": model["model_hash"], "input": X[i].tolist(),
                                                          "method": "gradient"})[1]["request_id"] for i in range(3)]
    log = (tmp_path / "node.log").read_text()
    assert "node stopped" in log
    rows = dict(sqlite3.connect(tmp_path / "zkxai.db").execute("select request_id, status from attestations"))
    assert set(rows) == set(ids)  # every acknowledged request is stored, whatever stage it reached
    assert all(s in ("received", "prepared", "proved", "attested") for s in rows.values())
    assert ROOT.exists()
