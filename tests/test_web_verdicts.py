"""The in-browser verifier (node/web/static/js/verify) against ``zkxai verify --json`` on the same inputs: valid and
tampered bundles, wrong pins, a revoked record, an unknown id, offline bundles. Both must give the same verdict, exit
code and check statuses, in the same order. Chromium (Playwright) against a `zkxai node` on loopback (embedded chain)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.node_harness import http, running_node
from tests.web_harness import browser

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
ADMIN = "admin-key-verdicts-0123456789"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from explainers.digits import digits_samples, export_onnx, train_digits_mlp

    from node.pipeline.proving import key_paths

    data = tmp_path_factory.mktemp("verdicts")
    with running_node(data, env={"ZKXAI_ADMIN_KEY": ADMIN, "ZKXAI_RPC_RATE_PER_S": "1000",
                                             "ZKXAI_RPC_BURST": "5000"}) as base:
        module, _ = train_digits_mlp(seed=0)
        status, model = http("POST", f"{base}/v1/models", export_onnx(module, (64,)), "application/octet-stream", key=ADMIN)
        assert status == 201, model
        X, _ = digits_samples(2, split="test")
        made = []
        for x in X:
            status, out = http("POST", f"{base}/v1/attestations?wait=true", json.dumps(
                {"model_hash": model["model_hash"], "input": x.tolist(), "method": "gradient"}).encode(), key=ADMIN)
            assert status == 201 and out["status"] == "attested", out
            made.append(out)
        status, out = http("POST", f"{base}/v1/attestations/{made[1]['attestation_id']}/revoke",
                           json.dumps({"reason": 3}).encode(), key=ADMIN)
        assert status == 200, out
        status, info = http("GET", f"{base}/v1/info", key=ADMIN)
        with browser() as b:
            page = b.new_page()
            page.goto(f"{base}/explorer")
            page.wait_for_selector("body[data-ready=true]")
            yield {"base": base, "info": info, "valid": made[0], "revoked": made[1], "page": page,
                   "vk_path": key_paths(data / "keys", info["circuit_classes"]).verifying_key,
                   "dir": tmp_path_factory.mktemp("verdict-inputs")}


def _wrong_key(vk: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(vk)
    bad["vk_alpha_1"] = vk["IC"][1]
    return bad


def _tamper(bundle: dict[str, Any], how: str) -> dict[str, Any]:
    b = copy.deepcopy(bundle)
    if how == "input":
        b["input"]["values"][3] += 1
    elif how == "salt":
        b["prediction"]["salt"] = str(int(b["prediction"]["salt"]) + 1)
    elif how == "argmax":
        b["prediction"]["scores"][b["prediction"]["predicted_class"]] = -(2**31)
    elif how == "attester":
        b["chain"]["attester"] = "0x" + "11" * 20
    elif how == "proof":
        b["proof"]["pi_a"] = b["proof"]["pi_c"]
    elif how == "format":
        b["format"] = "zkxai.disclosure/9"
    elif how == "explanation":
        b["explanation"]["method"] = "saliency"
    return b


#: (name, the verdict both must give, inputs): bundle = "valid" | "revoked" | a tampering of the valid one | None; pins as the CLI's flags.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("valid, all pinned", "VALID", {"bundle": "valid", "pins": "all"}),
    ("valid, nothing pinned", "UNPINNED", {"bundle": "valid", "pins": "none"}),
    ("id only, all pinned", "VALID", {"id": "valid", "pins": "all"}),
    ("tx only, all pinned", "VALID", {"tx": "valid", "pins": "all"}),
    ("tampered input", "INVALID", {"bundle": "input", "pins": "all"}),
    ("tampered salt", "INVALID", {"bundle": "salt", "pins": "all"}),
    ("class not an argmax", "INVALID", {"bundle": "argmax", "pins": "all"}),
    ("bundle names another attester", "INVALID", {"bundle": "attester", "pins": "all"}),
    ("another explanation method", "INVALID", {"bundle": "explanation", "pins": "all"}),
    ("wrong pinned key", "INVALID", {"bundle": "valid", "pins": "all", "vkey": "wrong"}),
    ("wrong pinned attester", "INVALID", {"bundle": "valid", "pins": "all", "attester": "0x" + "22" * 20}),
    ("wrong pinned chain id", "INVALID", {"id": "valid", "pins": "all", "chain_id": 5}),
    ("pinned level commitment", "VALID", {"bundle": "valid", "pins": "all", "level": "commitment"}),
    ("pinned level explanation", "INVALID", {"bundle": "valid", "pins": "all", "level": "explanation"}),
    ("revoked", "INVALID", {"bundle": "revoked", "pins": "all"}),
    ("unknown id", "INVALID", {"id": "0x" + "ab" * 32, "pins": "all"}),
    ("unreadable bundle format", "ERROR", {"bundle": "format", "pins": "all"}),
    ("offline valid", "VALID", {"bundle": "valid", "pins": "key", "offline": True}),
    ("offline tampered proof", "INVALID", {"bundle": "proof", "pins": "key", "offline": True}),
    ("offline wrong key", "INVALID", {"bundle": "valid", "pins": "key", "offline": True, "vkey": "wrong"}),
    ("offline tampered input", "INVALID", {"bundle": "input", "pins": "key", "offline": True}),
]


def _inputs(s: dict[str, Any], name: str, case: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """(the CLI's argv, the browser verifier's options) for one case."""
    vk = json.loads(s["vk_path"].read_text())
    argv: list[str] = []
    opts: dict[str, Any] = {"attesters": []}
    if not case.get("offline"):
        argv += ["--rpc-url", f"{s['base']}/rpc"]
        opts["rpcUrl"] = f"{s['base']}/rpc"
    bundle = case.get("bundle")
    if bundle is not None:
        source = s["revoked"] if bundle == "revoked" else s["valid"]
        data = source["disclosure"] if bundle in ("valid", "revoked") else _tamper(s["valid"]["disclosure"], bundle)
        path = s["dir"] / f"{name.replace(' ', '_')}.json"
        path.write_text(json.dumps(data))
        argv += ["--disclosure", str(path)]
        opts["bundle"] = data
    if "id" in case:
        ident = s["valid"]["attestation_id"] if case["id"] == "valid" else case["id"]
        argv += ["--id", ident]
        opts["id"] = ident
    if "tx" in case:
        argv += ["--tx", s["valid"]["tx_hash"]]
        opts["tx"] = s["valid"]["tx_hash"]
    if case["pins"] in ("all", "key"):
        key = _wrong_key(vk) if case.get("vkey") == "wrong" else vk
        key_path = s["dir"] / f"{name.replace(' ', '_')}.vk.json"
        key_path.write_text(json.dumps(key))
        argv += ["--vkey", str(key_path)]
        opts["vkey"] = key
    if case["pins"] == "all":
        attester = case.get("attester", s["info"]["attester"])
        argv += ["--registry", s["info"]["registry"], "--attester", attester]
        opts |= {"registry": s["info"]["registry"], "attesters": [attester]}
    if "chain_id" in case:
        argv += ["--chain-id", str(case["chain_id"])]
        opts["chainId"] = case["chain_id"]
    if "level" in case:
        argv += ["--level", case["level"]]
        opts["level"] = case["level"]
    return argv, opts


def _summary(report: dict[str, Any]) -> tuple[Any, ...]:
    return (report["verdict"], report["exit_code"], [(c["name"], c["status"]) for c in report.get("checks", [])])


@pytest.mark.parametrize("name,verdict,case", CASES, ids=[c[0] for c in CASES])
def test_browser_verdict_equals_zkxai_verify(setup: dict[str, Any], name: str, verdict: str, case: dict[str, Any]) -> None:
    from node.verify.command import verify_json

    argv, opts = _inputs(setup, name, case)
    code, cli = verify_json(argv)
    web = setup["page"].evaluate("options => window.zkxaiVerify(options)", opts)
    assert _summary(web) == _summary(cli), f"{name}:\nbrowser {json.dumps(web, indent=1)}\ncli {json.dumps(cli, indent=1)}"
    assert cli["exit_code"] == code and cli["verdict"] == verdict, cli


def test_the_set_covers_each_verdict() -> None:
    """The comparison is not vacuous: the cases reach VALID, INVALID, UNPINNED and ERROR (each case asserts its own)."""
    assert {v for _, v, _ in CASES} == {"VALID", "INVALID", "UNPINNED", "ERROR"}
