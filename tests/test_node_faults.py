"""Fault tests on anvil: kill -9 during proving, a crash after a transaction was mined but before its receipt
was stored, and the RPC node going down and coming back. Nothing is lost, nothing is attested twice."""

from __future__ import annotations

import re
import signal
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from web3 import Web3

from contracts import abi
from tests.node_harness import (
    ANVIL_KEY,
    free_port,
    http,
    post_json,
    running_node,
    start_anvil,
    start_node,
    stop_process,
    wait_status,
)

ENV = {"ZKXAI_PRIVATE_KEY": ANVIL_KEY}
pytestmark = pytest.mark.npm


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    port = free_port()
    state = tmp_path_factory.mktemp("anvil") / "state.json"
    proc, url = start_anvil(port, state)
    box = {"proc": proc, "url": url, "port": port, "state": state}
    yield box
    stop_process(box["proc"], timeout=10)


@pytest.fixture(scope="module")
def setup(chain: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A node deployed a registry and registered the digits model; it is stopped again."""
    from explainers.digits import export_onnx, train_digits_mlp

    work = tmp_path_factory.mktemp("faults")
    module, _ = train_digits_mlp(seed=0)
    with running_node(work, "--rpc-url", chain["url"], env=ENV) as base:
        status, model = http("POST", f"{base}/v1/models", export_onnx(module, (64,)), "application/octet-stream")
        assert status == 201
        info = http("GET", f"{base}/v1/info")[1]
    return {"work": work, "model": model, "registry": info["registry"]}


def attested_events(url: str, registry: str, ident: str) -> int:
    w3 = Web3(Web3.HTTPProvider(url))
    contract = w3.eth.contract(address=Web3.to_checksum_address(registry), abi=abi("AttestationRegistry"))
    return len(contract.events.Attested().get_logs(from_block=0, argument_filters={"id": bytes.fromhex(ident[2:])}))


def test_kill_9_during_proving_then_resume(chain: dict[str, Any], setup: dict[str, Any]) -> None:
    from explainers.digits import digits_samples

    X, _ = digits_samples(3, split="test")
    proc, base = start_node(setup["work"], "--rpc-url", chain["url"], "--registry", setup["registry"], env=ENV)
    try:
        status, accepted = post_json(f"{base}/v1/attestations", {"model_hash": setup["model"]["model_hash"],
                                                                 "input": X[2].tolist(), "method": "gradient"})
        assert status == 202
        wait_status(base, accepted["request_id"], {"prepared"})  # stored, now proving
    finally:
        stop_process(proc, signal.SIGKILL, timeout=10)
    row = dict(sqlite3.connect(setup["work"] / "zkxai.db").execute(
        "select request_id, status from attestations where request_id = ?", (accepted["request_id"],)))
    assert row[accepted["request_id"]] in ("prepared", "proved")  # killed mid-way, state on disk

    with running_node(setup["work"], "--rpc-url", chain["url"], "--registry", setup["registry"], env=ENV) as base:
        done = wait_status(base, accepted["request_id"], {"attested", "failed"})
    assert done["status"] == "attested", done
    assert attested_events(chain["url"], setup["registry"], done["attestation_id"]) == 1


def test_crash_after_mining_adopts_the_existing_record(chain: dict[str, Any], setup: dict[str, Any]) -> None:
    """The row says `proved` but the transaction was mined: the restarted node must not send it again."""
    from explainers.digits import digits_samples

    X, _ = digits_samples(4, split="test")
    with running_node(setup["work"], "--rpc-url", chain["url"], "--registry", setup["registry"], env=ENV) as base:
        status, done = post_json(f"{base}/v1/attestations?wait=true", {"model_hash": setup["model"]["model_hash"],
                                                                      "input": X[3].tolist(), "method": "gradient"})
        assert status == 201
    db = sqlite3.connect(setup["work"] / "zkxai.db")
    db.execute("update attestations set status = 'proved', tx_hash = null where request_id = ?", (done["request_id"],))
    db.commit()
    w3 = Web3(Web3.HTTPProvider(chain["url"]))
    signer = w3.eth.account.from_key(ANVIL_KEY).address
    nonce = w3.eth.get_transaction_count(signer)
    with running_node(setup["work"], "--rpc-url", chain["url"], "--registry", setup["registry"], env=ENV) as base:
        again = wait_status(base, done["request_id"], {"attested", "failed"})
    assert again["status"] == "attested" and again["tx_hash"] == done["tx_hash"]
    assert w3.eth.get_transaction_count(signer) == nonce  # nothing sent
    assert attested_events(chain["url"], setup["registry"], done["attestation_id"]) == 1


def test_rpc_down_then_back(chain: dict[str, Any], setup: dict[str, Any]) -> None:
    """anvil stops (state dumped) while a request is proving; submission retries until anvil is back."""
    from explainers.digits import digits_samples

    X, _ = digits_samples(6, split="test")
    with running_node(setup["work"], "--rpc-url", chain["url"], "--registry", setup["registry"], env=ENV) as base:
        status, accepted = post_json(f"{base}/v1/attestations", {"model_hash": setup["model"]["model_hash"],
                                                                 "input": X[5].tolist(), "method": "gradient"})
        assert status == 202
        chain["proc"].terminate()  # SIGTERM: anvil writes its state file and exits
        chain["proc"].wait(timeout=20)
        wait_status(base, accepted["request_id"], {"proved"})
        time.sleep(3)  # submission is failing and backing off now
        assert http("GET", f"{base}/v1/attestations/{accepted['request_id']}")[1]["status"] == "proved"
        assert http("GET", f"{base}/readyz")[0] == 503
        chain["proc"] = start_anvil(chain["port"], chain["state"])[0]
        done = wait_status(base, accepted["request_id"], {"attested", "failed"}, timeout=120)
        assert http("GET", f"{base}/readyz")[0] == 200
    assert done["status"] == "attested", done
    assert attested_events(chain["url"], setup["registry"], done["attestation_id"]) == 1
    # the outage was seen and retried with backoff: by the submit stage ("chain unreachable ... retrying in") or, within
    # its bounded attempts, by the failover provider underneath ("RPC eth_... on ...: ...; retrying in")
    log_text = (setup["work"] / "node.log").read_text()
    assert "chain unreachable" in log_text or re.search(r"RPC eth_\w+ on .*retrying in", log_text), log_text[-2000:]
