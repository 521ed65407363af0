"""A running node on anvil with ``chain.confirmations = 3`` survives a reorg that drops its mined attestation.

anvil stands in for the reorg: ``evm_snapshot`` before the request, the attestation is mined (automine) and the
node waits for depth 3 (status ``submitted``), ``evm_revert`` removes its block, then blocks are mined. The node must
notice that its transaction left the chain, submit again, and end with exactly one attestation (``eth_getLogs``),
status ``attested``, verified by ``zkxai verify``. Also across a kill -9 while ``submitted`` (the confirmation is
re-checked after the restart), and in batch mode (the batch stage has its own confirm stage)."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from contracts import abi
from tests.node_harness import ANVIL_KEY, http, post_json, running_anvil, start_node, stop_process, wait_status, zkxai

ENV = {"ZKXAI_PRIVATE_KEY": ANVIL_KEY}
pytestmark = pytest.mark.npm


@pytest.fixture(scope="module")
def chain() -> Iterator[str]:
    with running_anvil() as url:
        yield url


def rpc(url: str, method: str, *params: Any) -> Any:
    status, body = http("POST", url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                                 "params": list(params)}).encode(), timeout=10)
    assert status == 200 and "error" not in body, body
    return body["result"]


class Miner:
    """Mines a block every 0.25 s (anvil's automine only mines blocks with transactions)."""

    def __init__(self, url: str) -> None:
        self.url, self.stop = url, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.25):
            rpc(self.url, "evm_mine")

    def __enter__(self) -> Miner:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


def events(url: str, address: str, contract: str, name: str, **filters: Any) -> list[Any]:
    w3 = Web3(Web3.HTTPProvider(url))
    c = w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi(contract))
    return list(getattr(c.events, name)().get_logs(from_block=0, argument_filters=filters or None))


def _model(base: str) -> str:
    from explainers.digits import export_onnx, train_digits_mlp

    module, _ = train_digits_mlp(seed=0)
    status, model = http("POST", f"{base}/v1/models", export_onnx(module, (64,)), "application/octet-stream")
    assert status == 201, model
    return str(model["model_hash"])


def _submit(base: str, model_hash: str, sample: int) -> str:
    from explainers.digits import digits_samples

    X, _ = digits_samples(sample + 1, split="test")
    status, accepted = post_json(f"{base}/v1/attestations", {"model_hash": model_hash, "input": X[sample].tolist(),
                                                             "method": "gradient"})
    assert status == 202, accepted
    return str(accepted["request_id"])


def _nonce(url: str) -> int:
    w3 = Web3(Web3.HTTPProvider(url))
    return int(w3.eth.get_transaction_count(w3.eth.account.from_key(ANVIL_KEY).address))


def _reorgs_metric(base: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    line = next((x for x in text.splitlines() if x.startswith('zkxai_failures_total{chain="ethereum",stage="submit_reorg"}')), None)
    return float(line.split()[-1]) if line else 0.0


def _verify(url: str, base: str, request_id: str, path: Path) -> None:
    status, bundle = http("GET", f"{base}/v1/attestations/{request_id}/disclosure")
    assert status == 200, bundle
    path.write_text(json.dumps(bundle))
    info = http("GET", f"{base}/v1/info")[1]
    out = zkxai("verify", "--rpc-url", url, "--disclosure", str(path), "--confirmations", "3", "--json",
                "--registry", info["registry"], "--attester", info["attester"])
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture(scope="module")
def single(chain: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("reorg-single")
    with Miner(chain):  # the registry's deployment is recorded only once it is 3 blocks deep
        proc, base = start_node(work, "--rpc-url", chain, "--confirmations", "3", env=ENV)
    box: dict[str, Any] = {"proc": proc, "base": base, "work": work}
    try:
        box["model"] = _model(base)
        box["info"] = http("GET", f"{base}/v1/info")[1]
        assert box["info"]["confirmations"] == 3
        yield box
    finally:
        stop_process(box["proc"])


def test_reorg_drops_the_mined_attestation_and_the_node_submits_it_again(chain: str, single: dict[str, Any],
                                                                         tmp_path: Path) -> None:
    base, registry = single["base"], single["info"]["registry"]
    snapshot = rpc(chain, "evm_snapshot")  # before the request: the revert removes whatever the node sends for it
    nonce = _nonce(chain)
    request_id = _submit(base, single["model"], 0)
    mined = wait_status(base, request_id, {"submitted", "attested", "failed"}, timeout=120)
    assert mined["status"] == "submitted", mined  # mined at depth 1; anvil mines no more blocks by itself
    ident = bytes.fromhex(mined["attestation_id"][2:])
    (first,) = events(chain, registry, "AttestationRegistry", "Attested", id=ident)
    assert first["transactionHash"].to_0x_hex() == mined["tx_hash"]
    time.sleep(1.0)
    assert http("GET", f"{base}/v1/attestations/{request_id}")[1]["status"] == "submitted"  # not final at depth 1

    assert rpc(chain, "evm_revert", snapshot) is True  # the "reorg": the attestation's block is gone
    assert events(chain, registry, "AttestationRegistry", "Attested", id=ident) == []
    with Miner(chain):
        done = wait_status(base, request_id, {"attested", "failed"}, timeout=120)
    assert done["status"] == "attested", done
    (final,) = events(chain, registry, "AttestationRegistry", "Attested", id=ident)  # exactly one
    # the same nonce, data and fees sign to the same hash: what shows the re-submission is the reorg the node
    # counted, its log, and one transaction of the signer in the canonical chain for the request
    assert final["transactionHash"].to_0x_hex() == done["tx_hash"]
    assert _nonce(chain) == nonce + 1
    assert _reorgs_metric(base) == 1
    assert done["attestation_id"] == mined["attestation_id"] and done["block_number"] == final["blockNumber"]
    w3 = Web3(Web3.HTTPProvider(chain))
    assert w3.eth.block_number - done["block_number"] + 1 >= 3
    log = (single["work"] / "node.log").read_text()
    assert "was reorged out" in log or "no longer in the chain" in log
    assert "submitting again" in log
    _verify(chain, base, request_id, tmp_path / "bundle.json")


def test_reorg_while_the_node_is_down_is_found_at_restart(chain: str, single: dict[str, Any], tmp_path: Path) -> None:
    """kill -9 while the row is ``submitted``; the reorg happens while the node is down; the restarted node
    (attached to its recorded registry) re-checks the transaction, finds it gone and submits again."""
    base, registry, work = single["base"], single["info"]["registry"], single["work"]
    snapshot = rpc(chain, "evm_snapshot")
    nonce = _nonce(chain)
    request_id = _submit(base, single["model"], 1)
    mined = wait_status(base, request_id, {"submitted", "attested", "failed"}, timeout=120)
    assert mined["status"] == "submitted", mined
    stop_process(single["proc"], signal.SIGKILL)
    with sqlite3.connect(work / "zkxai.db") as conn:
        row = conn.execute("select status, tx_hash from attestations where request_id = ?", (request_id,)).fetchone()
    assert row == ("submitted", mined["tx_hash"])  # the confirm stage is persisted

    assert rpc(chain, "evm_revert", snapshot) is True
    ident = bytes.fromhex(mined["attestation_id"][2:])
    assert events(chain, registry, "AttestationRegistry", "Attested", id=ident) == []
    with Miner(chain):
        single["proc"], single["base"] = start_node(work, "--rpc-url", chain, "--confirmations", "3", env=ENV)
        base = single["base"]
        done = wait_status(base, request_id, {"attested", "failed"}, timeout=120)
    assert done["status"] == "attested", done
    assert http("GET", f"{base}/v1/info")[1]["registry"] == registry
    (final,) = events(chain, registry, "AttestationRegistry", "Attested", id=ident)
    assert final["transactionHash"].to_0x_hex() == done["tx_hash"] and _nonce(chain) == nonce + 1
    assert _reorgs_metric(base) == 1  # counted by the restarted node
    _verify(chain, base, request_id, tmp_path / "bundle.json")


def test_batch_reorg_resubmits_the_batch_once(chain: str, tmp_path_factory: pytest.TempPathFactory,
                                             tmp_path: Path) -> None:
    work = tmp_path_factory.mktemp("reorg-batch")
    with Miner(chain):  # deployments are recorded only once 3 blocks deep
        proc, base = start_node(work, "--rpc-url", chain, "--confirmations", "3", "--attestation-mode", "batch",
                                "--batch-size", "2", "--batch-latency-ms", "200", env=ENV)
    try:
        model = _model(base)
        registry = http("GET", f"{base}/v1/info")[1]["batch_registry"]
        snapshot = rpc(chain, "evm_snapshot")
        nonce = _nonce(chain)
        request_id = _submit(base, model, 2)

        def submitted() -> tuple[str, str, str] | None:
            with sqlite3.connect(work / "zkxai.db") as conn:
                return conn.execute("select status, tx_hash, root from batches where status != 'formed' and "
                                    "status != 'proved'").fetchone()

        deadline = time.monotonic() + 120
        while (batch := submitted()) is None:
            assert time.monotonic() < deadline, "the batch was never submitted"
            time.sleep(0.2)
        assert batch[0] == "submitted", batch
        assert http("GET", f"{base}/v1/attestations/{request_id}")[1]["status"] == "batched"  # not final yet
        root = int(batch[2])
        (first,) = [e for e in events(chain, registry, "BatchAttestationRegistry", "BatchAttested")
                    if int(e["args"]["root"]) == root]
        assert first["transactionHash"].to_0x_hex() == batch[1]

        assert rpc(chain, "evm_revert", snapshot) is True
        assert events(chain, registry, "BatchAttestationRegistry", "BatchAttested") == []
        with Miner(chain):
            done = wait_status(base, request_id, {"attested", "failed"}, timeout=120)
        assert done["status"] == "attested", done
        (final,) = events(chain, registry, "BatchAttestationRegistry", "BatchAttested")
        assert int(final["args"]["root"]) == root
        assert final["transactionHash"].to_0x_hex() == done["tx_hash"] and _nonce(chain) == nonce + 1
        assert _reorgs_metric(base) == 1
        assert "submitting again" in (work / "node.log").read_text()
        status, bundle = http("GET", f"{base}/v1/attestations/{request_id}/disclosure")
        assert status == 200
        (tmp_path / "bundle.json").write_text(json.dumps(bundle))
        info = http("GET", f"{base}/v1/info")[1]
        out = zkxai("verify", "--rpc-url", chain, "--disclosure", str(tmp_path / "bundle.json"), "--json",
                    "--batch-registry", info["batch_registry"], "--attester", info["attester"])
        assert out.returncode == 0, out.stdout + out.stderr
    finally:
        stop_process(proc)
