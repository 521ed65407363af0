"""The node as a user runs it: a real `zkxai node` process on an embedded EVM, its HTTP API, and `zkxai verify`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.node_harness import http, post_json, running_node, zkxai


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from explainers.digits import export_onnx, train_digits_mlp

    module, _ = train_digits_mlp(seed=0)
    path = tmp_path_factory.mktemp("model") / "digits.onnx"
    path.write_bytes(export_onnx(module, (64,)))
    return path


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_node(tmp_path_factory.mktemp("node")) as base:
        yield base


@pytest.fixture(scope="module")
def pins(node: str) -> tuple[str, ...]:
    """What a verifier pins for this node (checked out of band in real life; here: its own /v1/info)."""
    status, info = http("GET", f"{node}/v1/info")
    assert status == 200 and info["attester"] and info["vk_sha256"].startswith("0x"), info
    return ("--registry", info["registry"], "--attester", info["attester"])


@pytest.fixture(scope="module")
def registered(node: str, model_file: Path) -> dict[str, Any]:
    status, body = http("POST", f"{node}/v1/models?name=digits", model_file.read_bytes(), "application/octet-stream")
    assert status == 201, body
    return body


@pytest.fixture(scope="module")
def attested(node: str, registered: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from explainers.digits import digits_samples

    X, _ = digits_samples(1, split="test")
    status, body = post_json(f"{node}/v1/attestations?wait=true",
                             {"model_hash": registered["model_hash"], "input": X[0].tolist(), "method": "gradient"})
    assert status == 201, body
    bundle = tmp_path_factory.mktemp("bundle") / "attestation.json"
    bundle.write_text(json.dumps(body["disclosure"]))
    body["bundle_path"] = bundle
    return body


def test_model_hash_is_sha256_of_the_registered_bytes(registered: dict[str, Any], model_file: Path) -> None:
    assert registered["model_hash"] == "0x" + hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert registered["input_shape"] == [64] and registered["num_classes"] == 10


def test_attestation_response_and_records(node: str, attested: dict[str, Any]) -> None:
    assert attested["status"] == "attested" and 0 <= attested["predicted_class"] < 10
    assert attested["gas_used"] > 100_000
    status, row = http("GET", f"{node}/v1/attestations/{attested['attestation_id']}")
    assert status == 200 and row["status"] == "attested" and row["tx_hash"] == attested["tx_hash"]
    status, disclosure = http("GET", f"{node}/v1/attestations/{attested['attestation_id']}/disclosure")
    assert status == 200 and disclosure == attested["disclosure"]


def test_cli_verifies_over_the_nodes_rpc(node: str, attested: dict[str, Any], model_file: Path,
                                        pins: tuple[str, ...]) -> None:
    out = zkxai("verify", "--rpc-url", f"{node}/rpc", "--disclosure", str(attested["bundle_path"]),
                "--model", str(model_file), "--json", *pins)
    report = json.loads(out.stdout)
    assert out.returncode == 0, out.stdout + out.stderr
    assert report["verdict"] == "VALID"
    assert [c["name"] for c in report["checks"]] == ["record", "attester", "revocation", "finality", "vk", "proof",
                                                     "model", "disclosure", "level"]
    assert {c["status"] for c in report["checks"]} == {"pass"}
    assert report["record"]["predicted_class"] == attested["predicted_class"]


def test_cli_without_anchor_is_unpinned(node: str, attested: dict[str, Any], model_file: Path) -> None:
    """The bundle alone names the registry: read and shown, never trusted (exit 11, naming what to pin)."""
    out = zkxai("verify", "--rpc-url", f"{node}/rpc", "--disclosure", str(attested["bundle_path"]),
                "--model", str(model_file))
    assert out.returncode == 11, out.stdout + out.stderr
    assert "[UNPINNED] record" in out.stdout and "[UNPINNED] attester" in out.stdout and "[UNPINNED] vk" in out.stdout
    assert "--registry" in out.stdout and "--trust" in out.stdout and "verdict: UNPINNED" in out.stdout


def test_trust_show_entry_pins_the_node(node: str, attested: dict[str, Any], tmp_path: Path) -> None:
    shown = zkxai("trust", "show", "--url", node, "--name", "test-node")
    assert shown.returncode == 0, shown.stderr
    assert "CLAIMS" in shown.stdout and "out of band" in shown.stdout
    trust = tmp_path / "trust.toml"
    trust.write_text(shown.stdout)
    out = zkxai("verify", "--rpc-url", f"{node}/rpc", "--disclosure", str(attested["bundle_path"]), "--trust",
                str(trust), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    vk = [c for c in json.loads(out.stdout)["checks"] if c["name"] == "vk"][0]
    assert "equals the one pinned by trust entry" in vk["detail"] and "#test-node" in vk["detail"]

def test_cli_failure_kinds_have_their_exit_codes(node: str, attested: dict[str, Any], model_file: Path,
                                                 tmp_path: Path, pins: tuple[str, ...]) -> None:
    rpc = f"{node}/rpc"
    registry = attested["registry"]
    missing = zkxai("verify", "--rpc-url", rpc, "--registry", registry, "--id", "0x" + "00" * 32, "--json")
    assert missing.returncode == 3 and json.loads(missing.stdout)["verdict"] == "INVALID"

    other_model = tmp_path / "other.onnx"
    other_model.write_bytes(model_file.read_bytes() + b"\0")
    wrong_model = zkxai("verify", "--rpc-url", rpc, "--disclosure", str(attested["bundle_path"]),
                        "--model", str(other_model), "--json", *pins)
    assert wrong_model.returncode == 5

    tampered = json.loads(Path(attested["bundle_path"]).read_text())
    tampered["explanation"]["values"][0] += 1
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    out = zkxai("verify", "--rpc-url", rpc, "--disclosure", str(bad), "--json", *pins)
    assert out.returncode == 4
    failed = [c for c in json.loads(out.stdout)["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["disclosure"] and "explanation_digest" in failed[0]["detail"]

    unreachable = zkxai("verify", "--rpc-url", "http://127.0.0.1:9/rpc", "--disclosure", str(attested["bundle_path"]))
    assert unreachable.returncode == 6 and "cannot read the chain" in unreachable.stderr


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"model_hash": "0x" + "ab" * 32, "input": [0.0] * 64}, 404, "unknown_model"),
        ({"model_hash": "MODEL", "input": [0.0] * 64}, 400, "bad_request"),
        ({"input": [0.0] * 64}, 400, "bad_request"),
        (["not", "an", "object"], 400, "bad_request"),
        ({"model_hash": None, "input": [0.0] * 64, "extra": 1}, 400, "bad_request"),
    ],
)
def test_bad_requests_get_json_errors(node: str, payload: Any, status: int, code: str) -> None:
    got, body = post_json(f"{node}/v1/attestations", payload)
    assert (got, body["error"]["code"]) == (status, code)


def test_bad_inputs_for_a_real_model(node: str, registered: dict[str, Any]) -> None:
    mh = registered["model_hash"]
    cases = [
        (json.dumps({"model_hash": mh, "input": [0.0] * 63}).encode(), 400, "bad_request"),
        (json.dumps({"model_hash": mh, "input": [[0.0] * 8] * 7}).encode(), 400, "bad_request"),
        (json.dumps({"model_hash": mh, "input": ["x"] * 64}).encode(), 400, "bad_request"),
        (json.dumps({"model_hash": mh, "input": [0.0] * 63 + [float("nan")]}).encode(), 400, "bad_request"),
        (("{\"model_hash\": \"%s\", \"input\": [Infinity%s]}" % (mh, ", 0" * 63)).encode(), 400, "bad_request"),
        (json.dumps({"model_hash": mh, "input": [0.0] * 64, "method": "lrp_no_such_rule"}).encode(), 400, "unknown_method"),
        (b"{not json", 400, "bad_request"),
        (b"x" * (5 * 1024 * 1024), 413, "payload_too_large"),
    ]
    for body, status, code in cases:
        got, answer = http("POST", f"{node}/v1/attestations", body)
        assert (got, answer["error"]["code"]) == (status, code), (body[:80], answer)
    status, _ = http("POST", f"{node}/v1/models", b"this is not onnx", "application/octet-stream")
    assert status in (400, 422)
    # the node keeps serving
    assert http("GET", f"{node}/healthz")[0] == 200
    assert http("GET", f"{node}/v1/models")[1]["models"][0]["model_hash"] == mh


def test_rpc_bridge_refuses_state_changes(node: str) -> None:
    status, body = post_json(f"{node}/rpc", {"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction", "params": [{}]})
    assert status == 200 and "error" in body


HEAVY = ("torch", "torchvision", "zennit", "onnx", "onnxruntime", "sklearn", "eth_tester", "sqlmodel")


def test_verify_runs_without_the_node_extra(node: str, attested: dict[str, Any], pins: tuple[str, ...]) -> None:
    """`zkxai verify` must work on the light install: every node-extra package is made unimportable
    (aiohttp stays: web3 itself depends on it)."""
    import subprocess
    import sys

    from tests.node_harness import ROOT

    block = "; ".join(f"sys.modules[{name!r}] = None" for name in HEAVY)
    code = (f"import sys; {block}; from node.cli.main import main; "
            f"sys.exit(main(['verify', '--rpc-url', '{node}/rpc', '--disclosure', r'{attested['bundle_path']}', '--json', "
            f"*{list(pins)!r}]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["verdict"] == "VALID"
    show = subprocess.run([sys.executable, "-c", f"import sys; {block}; from node.cli.main import main; "
                           f"sys.exit(main(['show', r'{attested['bundle_path']}', '--png', r'{attested['bundle_path']}.png', "
                           f"'--image-shape', '8x8']))"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert show.returncode == 0 and f"class {attested['predicted_class']}" in show.stdout, show.stderr
    assert Path(f"{attested['bundle_path']}.png").read_bytes().startswith(b"\x89PNG")


def test_cli_by_transaction_hash_finality_and_model_card(node: str, attested: dict[str, Any], tmp_path: Path,
                                                         pins: tuple[str, ...]) -> None:
    rpc = f"{node}/rpc"
    by_tx = zkxai("verify", "--rpc-url", rpc, "--tx", attested["tx_hash"], "--json", *pins)
    assert by_tx.returncode == 0, by_tx.stdout + by_tx.stderr
    assert json.loads(by_tx.stdout)["attestation_id"] == attested["attestation_id"]
    no_tx = zkxai("verify", "--rpc-url", rpc, "--tx", "0x" + "12" * 32, "--json")
    assert no_tx.returncode == 3

    not_final = zkxai("verify", "--rpc-url", rpc, "--disclosure", str(attested["bundle_path"]), "--confirmations",
                      "1000", "--json", *pins)
    assert not_final.returncode == 9
    assert [c["name"] for c in json.loads(not_final.stdout)["checks"] if not c["ok"]] == ["finality"]

    card = tmp_path / "card.json"
    card.write_text(json.dumps({"name": "digits-mlp", "model_hash": attested["model_hash"]}))
    ok = zkxai("verify", "--rpc-url", rpc, "--disclosure", str(attested["bundle_path"]), "--model-card", str(card), *pins)
    assert ok.returncode == 0 and "model card 'digits-mlp'" in ok.stdout
    card.write_text(json.dumps({"name": "other", "model_hash": "0x" + "00" * 32}))
    bad = zkxai("verify", "--rpc-url", rpc, "--disclosure", str(attested["bundle_path"]), "--model-card", str(card), *pins)
    assert bad.returncode == 5


def test_revocation_is_seen_by_verifiers(node: str, attested: dict[str, Any], pins: tuple[str, ...]) -> None:
    """Runs last in this module: it revokes the module's attestation."""
    ident = attested["attestation_id"]
    status, body = post_json(f"{node}/v1/attestations/{ident}/revoke", {"reason": 2})
    assert status == 200 and body["status"] == "revoked" and body["gas_used"] > 0
    out = zkxai("verify", "--rpc-url", f"{node}/rpc", "--disclosure", str(attested["bundle_path"]), "--json", *pins)
    report = json.loads(out.stdout)
    assert out.returncode == 8 and report["record"]["revoked"] and report["record"]["revocation_reason"] == 2
    assert [c["name"] for c in report["checks"] if not c["ok"]] == ["revocation"]
    status, again = post_json(f"{node}/v1/attestations/{ident}/revoke", {"reason": 2})
    assert status == 400  # the node's row is revoked: nothing attested left to revoke
    assert http("GET", f"{node}/v1/attestations/{ident}")[1]["status"] == "revoked"
