"""Batch attestation mode on a real node (anvil): two predictions -> one batch proof -> one attestBatch transaction,
each verified alone by ``zkxai verify`` (record, proof, Merkle inclusion, disclosure); tampered bundles fail with
their exit codes; kill -9 while a batch is proving resumes and records the batch exactly once."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from contracts import abi
from node.config import NodeConfig
from node.verify.disclosure import (
    Disclosure,
    leaf_id,
)
from node.errors import ConfigError
from node.settings import load_config
from node.verify.report import (
    EXIT_DISCLOSURE_MISMATCH,
    EXIT_INCLUSION_FAILED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REVOKED,
)
from tests.node_harness import (
    ANVIL_KEY,
    http,
    post_json,
    running_anvil,
    start_node,
    stop_process,
    wait_status,
    zkxai,
)

ENV = {"ZKXAI_PRIVATE_KEY": ANVIL_KEY}
pytestmark = pytest.mark.npm


def node_info(node: dict[str, Any]) -> dict[str, Any]:
    status, info = http("GET", f"{node['base']}/v1/info")
    assert status == 200 and info["attester"] and info["batch_vk_sha256"], info
    return info


def pins(node: dict[str, Any]) -> tuple[str, ...]:
    """What a verifier pins for this node: its batch registry and its attester (here from its own /v1/info)."""
    info = node_info(node)
    return ("--batch-registry", info["batch_registry"], "--attester", info["attester"])


# -- configuration (no chain) -------------------------------------------------------------------------
def test_batch_settings_from_env_and_validation() -> None:
    config = load_config(env={"ZKXAI_PIPELINE_ATTESTATION_MODE": "batch", "ZKXAI_PIPELINE_BATCH_SIZE": "4",
                              "ZKXAI_PIPELINE_BATCH_LATENCY_MS": "250"})
    assert (config.attestation_mode, config.batch_size, config.batch_latency_ms) == ("batch", 4, 250)
    assert NodeConfig().attestation_mode == "single"
    for bad in ({"batch_size": 6}, {"batch_size": 1}, {"batch_size": 128}, {"attestation_mode": "bulk"},
                {"batch_latency_ms": -1}):
        with pytest.raises(ConfigError):
            NodeConfig(**bad)  # type: ignore[arg-type]


# -- a node in batch mode on anvil ------------------------------------------------------------------
@pytest.fixture(scope="module")
def chain() -> Iterator[str]:
    with running_anvil() as url:
        yield url


def start_batch_node(work: Path, rpc_url: str, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    return start_node(work, "--rpc-url", rpc_url, "--attestation-mode", "batch", "--batch-size", "2",
                      "--batch-latency-ms", "60000", *extra, env=ENV)


@pytest.fixture(scope="module")
def node(chain: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from explainers.digits import export_onnx, train_digits_mlp

    work = tmp_path_factory.mktemp("batchnode")
    module, _ = train_digits_mlp(seed=0)
    proc, base = start_batch_node(work, chain)
    box: dict[str, Any] = {"proc": proc, "base": base, "work": work}
    try:
        status, model = http("POST", f"{base}/v1/models", export_onnx(module, (64,)), "application/octet-stream")
        assert status == 201
        box["model"] = model
        box["info"] = http("GET", f"{base}/v1/info")[1]
        yield box
    finally:
        stop_process(box["proc"])


def submit(node: dict[str, Any], sample: int) -> str:
    from explainers.digits import digits_samples

    X, _ = digits_samples(sample + 1, split="test")
    status, accepted = post_json(f"{node['base']}/v1/attestations", {"model_hash": node["model"]["model_hash"],
                                                                     "input": X[sample].tolist(), "method": "gradient"})
    assert status == 202, accepted
    return str(accepted["request_id"])


def batch_events(rpc_url: str, registry: str, root: int | None = None) -> list[Any]:
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    contract = w3.eth.contract(address=Web3.to_checksum_address(registry), abi=abi("BatchAttestationRegistry"))
    events = contract.events.BatchAttested().get_logs(from_block=0)
    return [e for e in events if root is None or int(e["args"]["root"]) == root]


def test_two_predictions_one_batch_transaction_each_verifies(chain: str, node: dict[str, Any],
                                                             tmp_path: Path) -> None:
    info = node["info"]
    assert info["attestation_mode"] == "batch" and info["batch_size"] == 2 and info["batch_registry"]
    ids = [submit(node, 0), submit(node, 1)]
    rows = [wait_status(node["base"], i, {"attested", "failed"}) for i in ids]
    assert [r["status"] for r in rows] == ["attested", "attested"], rows
    assert rows[0]["tx_hash"] == rows[1]["tx_hash"]
    assert {r["batch"]["index"] for r in rows} == {0, 1}
    assert rows[0]["batch"]["root"] == rows[1]["batch"]["root"]
    events = batch_events(chain, info["batch_registry"])
    assert len(events) == 1 and events[0]["args"]["count"] == 2
    w3 = Web3(Web3.HTTPProvider(chain))
    gas = w3.eth.get_transaction_receipt(rows[0]["tx_hash"])["gasUsed"]
    assert rows[0]["gas_used"] == -(-gas // 2) and gas < 400_000

    bundles = []
    for i in ids:
        status, body = http("GET", f"{node['base']}/v1/attestations/{i}/disclosure")
        assert status == 200
        d = Disclosure.from_json(body)
        assert d.batch is not None and d.attestation_id == leaf_id(d.batch.leaf)
        assert Disclosure.from_json(d.to_json()) == d
        path = tmp_path / f"{i}.json"
        path.write_text(json.dumps(body))
        bundles.append((path, body))
        # the attestation id (the leaf) finds the request
        assert http("GET", f"{node['base']}/v1/attestations/{d.attestation_id}")[1]["request_id"] == i

    for path, _ in bundles:
        out = zkxai("verify", "--rpc-url", chain, *pins(node), "--disclosure", str(path), "--json")
        report = json.loads(out.stdout)
        assert out.returncode == EXIT_OK, out.stdout + out.stderr
        assert {c["name"] for c in report["checks"]} >= {"record", "attester", "vk", "proof", "inclusion", "disclosure"}
        assert {c["status"] for c in report["checks"]} == {"pass"}

    # offline: the bundle's batch proof against the published batch key, its path and its data
    vkey = node["work"] / "keys" / "batch-2-10.vk.json"
    out = zkxai("verify", "--disclosure", str(bundles[0][0]), "--vkey", str(vkey), "--json")
    assert out.returncode == EXIT_OK, out.stdout + out.stderr
    assert [c["name"] for c in json.loads(out.stdout)["checks"]] == ["vk", "proof", "inclusion", "disclosure"]

    # the flags alone (no bundle): record, proof and inclusion
    b = bundles[1][1]["batch"]
    out = zkxai("verify", "--rpc-url", chain, "--attester", node_info(node)["attester"],
                "--batch-registry", b["registry"], "--root", b["root"],
                "--leaf", b["leaf"], "--index", str(b["index"]), "--path", ",".join(b["path"]))
    assert out.returncode == EXIT_OK, out.stdout + out.stderr

    # a wrong Merkle path: inclusion fails (off-chain and in the registry's view)
    bad = json.loads(json.dumps(bundles[0][1]))
    bad["batch"]["path"] = [str(int(bad["batch"]["path"][0]) + 1)]
    (tmp_path / "path.json").write_text(json.dumps(bad))
    out = zkxai("verify", "--rpc-url", chain, *pins(node), "--disclosure", str(tmp_path / "path.json"))
    assert out.returncode == EXIT_INCLUSION_FAILED, out.stdout + out.stderr
    # the other prediction's slot with this prediction's path
    bad = json.loads(json.dumps(bundles[0][1]))
    bad["batch"]["index"] = 1 - bad["batch"]["index"]
    (tmp_path / "index.json").write_text(json.dumps(bad))
    out = zkxai("verify", "--rpc-url", chain, *pins(node), "--disclosure", str(tmp_path / "index.json"))
    assert out.returncode == EXIT_INCLUSION_FAILED, out.stdout + out.stderr
    # tampered disclosed data: the recomputed leaf differs
    bad = json.loads(json.dumps(bundles[0][1]))
    bad["explanation"]["values"][0] += 1
    bad["public_inputs"] = [str(v) for v in Disclosure.from_json(bad).recomputed_public_inputs()]
    (tmp_path / "data.json").write_text(json.dumps(bad))
    out = zkxai("verify", "--rpc-url", chain, *pins(node), "--disclosure", str(tmp_path / "data.json"))
    assert out.returncode == EXIT_DISCLOSURE_MISMATCH, out.stdout + out.stderr
    assert "another leaf" in out.stdout
    # a root that was never recorded
    bad = json.loads(json.dumps(bundles[0][1]))
    bad["batch"]["root"] = str(int(bad["batch"]["root"]) ^ 1)
    (tmp_path / "root.json").write_text(json.dumps(bad))
    out = zkxai("verify", "--rpc-url", chain, *pins(node), "--disclosure", str(tmp_path / "root.json"))
    assert out.returncode == EXIT_NOT_FOUND, out.stdout + out.stderr


def test_kill_9_while_batch_proving_resumes_once(chain: str, node: dict[str, Any]) -> None:
    ids = [submit(node, 2), submit(node, 3)]
    for i in ids:
        wait_status(node["base"], i, {"batched"})  # the batch is formed and stored; proving now
    stop_process(node["proc"], signal.SIGKILL)
    db = sqlite3.connect(node["work"] / "zkxai.db")
    statuses = dict(db.execute("select request_id, status from attestations where request_id in (?, ?)", ids))
    assert set(statuses.values()) == {"batched"}, statuses
    keys = {k for (k,) in db.execute("select batch_key from attestations where request_id in (?, ?)", ids)}
    assert len(keys) == 1
    assert db.execute("select status from batches where batch_key = ?", tuple(keys)).fetchone()[0] == "formed"
    db.close()

    registry = node["info"]["batch_registry"]
    node["proc"], node["base"] = start_batch_node(node["work"], chain, "--registry", node["info"]["registry"],
                                            "--batch-registry", registry)
    rows = [wait_status(node["base"], i, {"attested", "failed"}) for i in ids]
    assert [r["status"] for r in rows] == ["attested", "attested"], rows
    root = int(rows[0]["batch"]["root"])
    assert len(batch_events(chain, registry, root)) == 1
    assert len(batch_events(chain, registry)) == 2  # this batch and the one of the test before


def test_crash_after_mining_adopts_the_recorded_batch(chain: str, node: dict[str, Any]) -> None:
    """The batch row says `proved` and its members `batched`, but attestBatch was mined: nothing is sent again."""
    stop_process(node["proc"])
    db = sqlite3.connect(node["work"] / "zkxai.db")
    key, tx_hash = db.execute("select batch_key, tx_hash from batches where status = 'attested' "
                              "order by created_at desc").fetchone()
    ids = [i for (i,) in db.execute("select request_id from attestations where batch_key = ?", (key,))]
    db.execute("update batches set status = 'proved', tx_hash = null where batch_key = ?", (key,))
    db.execute("update attestations set status = 'batched', tx_hash = null, disclosure = null where batch_key = ?",
               (key,))
    db.commit()
    db.close()
    w3 = Web3(Web3.HTTPProvider(chain))
    signer = w3.eth.account.from_key(ANVIL_KEY).address
    nonce = w3.eth.get_transaction_count(signer)
    registry = node["info"]["batch_registry"]
    node["proc"], node["base"] = start_batch_node(node["work"], chain, "--registry", node["info"]["registry"],
                                            "--batch-registry", registry)
    rows = [wait_status(node["base"], i, {"attested", "failed"}) for i in ids]
    assert [r["status"] for r in rows] == ["attested", "attested"] and {r["tx_hash"] for r in rows} == {tx_hash}
    assert w3.eth.get_transaction_count(signer) == nonce  # nothing sent
    assert len(batch_events(chain, registry)) == 2


def test_revoke_batched_predictions_through_the_api(chain: str, node: dict[str, Any], tmp_path: Path) -> None:
    """Runs last (it revokes the module's model): a slot, then a whole batch, then the model, each seen by
    ``zkxai verify`` (exit code 8) while an unrevoked sibling still verifies."""
    db = sqlite3.connect(node["work"] / "zkxai.db")
    rows = db.execute("select batch_key, request_id from attestations where status = 'attested' "
                      "order by batch_key, batch_index").fetchall()
    db.close()
    batches: dict[str, list[str]] = {}
    for key, request_id in rows:
        batches.setdefault(key, []).append(request_id)
    (first, second) = [ids for ids in batches.values() if len(ids) == 2][:2]
    bundles = {}
    for i in (*first, *second):
        status, body = http("GET", f"{node['base']}/v1/attestations/{i}/disclosure")
        assert status == 200
        bundles[i] = tmp_path / f"{i}.json"
        bundles[i].write_text(json.dumps(body))

    def verify(request_id: str, *extra: str) -> tuple[int, dict[str, Any]]:
        out = zkxai("verify", "--rpc-url", chain, *pins(node), "--disclosure", str(bundles[request_id]), "--json", *extra)
        assert out.stdout.strip(), f"exit {out.returncode}, no report; stderr: {out.stderr}"
        return out.returncode, json.loads(out.stdout)

    # one slot
    status, body = post_json(f"{node['base']}/v1/attestations/{first[0]}/revoke", {"reason": 2})
    assert status == 200, body
    assert body["status"] == "revoked" and body["scope"] == "leaf" and body["revoked"] == [first[0]]
    assert body["gas_used"] > 0
    assert http("GET", f"{node['base']}/v1/attestations/{first[0]}")[1]["status"] == "revoked"
    assert http("GET", f"{node['base']}/v1/attestations/{first[1]}")[1]["status"] == "attested"
    code, report = verify(first[0])
    assert code == EXIT_REVOKED, report
    assert report["record"]["revoked"] and report["record"]["revocation_scope"] == "leaf"
    assert report["record"]["revocation_reason"] == 2 and report["record"]["model_revoked"] is False
    code, report = verify(first[1])
    assert code == EXIT_OK, report
    assert next(c for c in report["checks"] if c["name"] == "revocation")["detail"].startswith("not revoked")
    status, body = post_json(f"{node['base']}/v1/attestations/{first[0]}/revoke", {"reason": 2})
    assert status == 400  # the row is revoked: nothing attested left to revoke

    # a whole batch, through one of its members
    status, body = post_json(f"{node['base']}/v1/attestations/{second[1]}/revoke", {"reason": 3, "scope": "batch"})
    assert status == 200, body
    assert body["scope"] == "batch" and sorted(body["revoked"]) == sorted(second)
    assert {http("GET", f"{node['base']}/v1/attestations/{i}")[1]["status"] for i in second} == {"revoked"}
    code, report = verify(second[0])
    assert code == EXIT_REVOKED and report["record"]["revocation_scope"] == "batch", report

    # the model: both registries; the sibling that survived the slot revocation is now revoked too
    model_hash = node["model"]["model_hash"]
    status, body = post_json(f"{node['base']}/v1/models/{model_hash}/revoke", {"reason": 1})
    assert status == 200, body
    assert body["tx_hash"] and body["batch_registry"]["gas_used"] > 0
    code, report = verify(first[1])
    assert code == EXIT_REVOKED, report
    assert report["record"]["revocation_scope"] == "model" and report["record"]["model_revoked"] is True
    status, body = post_json(f"{node['base']}/v1/models/{model_hash}/revoke", {"reason": 1})
    assert status == 409 and body["error"]["code"] == "already_revoked"
