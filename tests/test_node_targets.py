"""A node recording every prediction on two chains: the embedded Ethereum registry and an ICP registry canister
(served by the replica test double, tests/icp_replica_double.py), each through the chain adapter contract in its own
persisted rows. Killing the node while the second chain is unreachable loses and duplicates nothing."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from node.chains.icp.identity import create_keystore
from tests.icp_replica_double import ReplicaDouble
from tests.node_harness import free_port, http, post_json, running_node, start_node, stop_process, wait_status, zkxai

pytestmark = [pytest.mark.slow]
PASSWORD = "targets-test-password"


def _model(work: Path) -> Path:
    from explainers.digits import export_onnx, train_digits_mlp

    path = work / "digits.onnx"
    module, _ = train_digits_mlp(seed=0)
    path.write_bytes(export_onnx(module, (64,)))
    return path


def _config(work: Path, replica: ReplicaDouble) -> Path:
    identity = work / "icp-identity.json"
    if not identity.exists():
        create_keystore(identity, PASSWORD)
    config = work / "zkxai.toml"
    config.write_text(f"""[chains]
targets = ["ethereum", "icp"]

[icp]
url = "{replica.url}"
canister = "{replica.canister_id.to_text()}"
root_key = "{replica.root_key_der.hex()}"
identity = "icp-identity.json"
""")
    (work / "secrets.toml").write_text(f'keystore_password = "{PASSWORD}"\n')
    (work / "secrets.toml").chmod(0o600)
    return config


def _attest(base: str, model: Path, index: int = 1) -> str:
    from explainers.digits import digits_samples

    status, registered = http("POST", f"{base}/v1/models", model.read_bytes(), "application/octet-stream")
    assert status in (200, 201), registered
    X, _ = digits_samples(index + 1, split="test")
    status, accepted = post_json(f"{base}/v1/attestations", {"model_hash": registered["model_hash"],
                                                             "input": X[index].tolist(), "method": "gradient"})
    assert status == 202, accepted
    return str(accepted["request_id"])


def _chain(row: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in row.get("chains", []) if c["chain"] == kind)


def _wait_chain(base: str, request_id: str, kind: str, wanted: str, timeout: float = 180) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, row = http("GET", f"{base}/v1/attestations/{request_id}")
        if status == 200 and any(c["chain"] == kind and c["status"] == wanted for c in row.get("chains", [])):
            return row
        time.sleep(0.3)
    raise AssertionError(f"{request_id} never reached {wanted} on {kind}: {row}")


def test_one_request_is_attested_on_ethereum_and_icp(tmp_path: Path) -> None:
    replica = ReplicaDouble().start()
    try:
        config = _config(tmp_path, replica)
        model = _model(tmp_path)
        (tmp_path / "data").mkdir()
        with running_node(tmp_path / "data", "--config", str(config)) as base:
            request_id = _attest(base, model)
            row = wait_status(base, request_id, {"attested"})
            row = _wait_chain(base, request_id, "icp", "attested")
            icp = _chain(row, "icp")
            assert icp["registry"] == replica.canister_id.to_text() and icp["attester"]
            status, bundle = http("GET", f"{base}/v1/attestations/{request_id}/disclosure?chain=icp")
            assert status == 200, bundle
            status, eth_bundle = http("GET", f"{base}/v1/attestations/{request_id}/disclosure")
        # the same statement on both chains, each proof bound to its own chain's context
        assert bundle["chain"]["kind"] == "icp" and bundle["chain"]["attester"] == icp["attester"]
        assert bundle["public_inputs"][:6] == eth_bundle["public_inputs"][:6]
        assert bundle["public_inputs"][6] != eth_bundle["public_inputs"][6] and bundle["proof"] != eth_bundle["proof"]
        assert len(replica.registry.records) == 1
        # zkxai verify on both chains, each pinning what it trusts: ICP down to the replica's root key
        (tmp_path / "icp.json").write_text(json.dumps(bundle))
        (tmp_path / "eth.json").write_text(json.dumps(eth_bundle))
        vk = str(tmp_path / "data" / "keys" / "commitment-10.vk.json")
        icp_out = zkxai("verify", "--chain", "icp", "--rpc-url", replica.url, "--root-key", replica.root_key_der.hex(),
                        "--disclosure", str(tmp_path / "icp.json"), "--registry", icp["registry"],
                        "--attester", icp["attester"], "--vkey", vk, "--json")
        assert icp_out.returncode == 0, icp_out.stdout + icp_out.stderr
        assert json.loads(icp_out.stdout)["verdict"] == "VALID"
        eth_out = zkxai("verify", "--disclosure", str(tmp_path / "eth.json"), "--vkey", vk, "--json")  # offline
        assert eth_out.returncode == 0, eth_out.stdout + eth_out.stderr
        # online, the proof checked is the one the canister certified; offline, the bundle's own proof must be bound
        # to the chain its chain section names: the Ethereum proof in the ICP bundle fails the pairing
        assert zkxai("verify", "--disclosure", str(tmp_path / "icp.json"), "--vkey", vk).returncode == 0
        crossed = dict(bundle, proof=eth_bundle["proof"])
        (tmp_path / "crossed.json").write_text(json.dumps(crossed))
        bad = zkxai("verify", "--disclosure", str(tmp_path / "crossed.json"), "--vkey", vk, "--json")
        assert bad.returncode == 1 and json.loads(bad.stdout)["verdict"] == "INVALID"
    finally:
        replica.stop()


def test_killed_while_the_second_chain_is_down_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    port = free_port()
    replica = ReplicaDouble().start(port)
    config = _config(tmp_path, replica)
    model = _model(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    # the node attaches to the canister at start (its certified module hash is checked), then ICP goes down
    proc, base = start_node(data, "--config", str(config))
    try:
        replica.stop()
        request_id = _attest(base, model)
        wait_status(base, request_id, {"attested"})  # Ethereum does not wait for ICP
        row = http("GET", f"{base}/v1/attestations/{request_id}")[1]
        assert _chain(row, "icp")["status"] in ("pending", "proved")
        stop_process(proc, signal.SIGKILL)  # killed between the two chains' submissions
        proc = None
        assert len(replica.registry.records) == 0
        replica.start(port)
        proc, base = start_node(data, "--config", str(config))
        row = _wait_chain(base, request_id, "icp", "attested")
        assert row["status"] == "attested"
        assert len(replica.registry.records) == 1  # recorded once
        stop_process(proc)  # a clean restart finds nothing left to do and sends nothing
        proc, base = start_node(data, "--config", str(config))
        assert _chain(http("GET", f"{base}/v1/attestations/{request_id}")[1], "icp")["status"] == "attested"
        assert len(replica.registry.records) == 1
    finally:
        if proc is not None:
            stop_process(proc)
        replica.stop()


@pytest.mark.npm
def test_one_request_is_attested_on_ethereum_and_aleo(tmp_path: Path) -> None:
    """The same with Aleo (the snarkOS REST test double plays network and delegated prover; the node's transitions
    are authorized by the real SDK and its records signed by the node's Ethereum attester key)."""
    from node.chains.aleo.adapter import program_source
    from node.chains.aleo.sdk import SdkBridge
    from tests.aleo_double import SnarkosDouble

    bridge = SdkBridge(network="testnet")
    try:
        aleo_key = bridge.new_account()[0]
    finally:
        bridge.close()
    double = SnarkosDouble(source=program_source(), block_interval=0.05).start()
    try:
        config = tmp_path / "zkxai.toml"
        config.write_text(f"""[chains]
targets = ["ethereum", "aleo"]

[aleo]
endpoint = "{double.url}"
prover_url = "{double.url}"
network = "testnet"
poll_interval = 0.05
confirm_timeout = 120.0
""")
        (tmp_path / "secrets.toml").write_text(f'aleo_private_key = "{aleo_key}"\n')
        (tmp_path / "secrets.toml").chmod(0o600)
        model = _model(tmp_path)
        (tmp_path / "data").mkdir()
        with running_node(tmp_path / "data", "--config", str(config)) as base:
            request_id = _attest(base, model)
            wait_status(base, request_id, {"attested"})
            row = _wait_chain(base, request_id, "aleo", "attested", timeout=300)
            aleo = _chain(row, "aleo")
            status, bundle = http("GET", f"{base}/v1/attestations/{request_id}/disclosure?chain=aleo")
            assert status == 200, bundle
            eth_bundle = http("GET", f"{base}/v1/attestations/{request_id}/disclosure")[1]
        # one attester on both chains: the Ethereum signer, whose signature the Aleo program checked
        assert aleo["attester"] == eth_bundle["chain"]["attester"] == bundle["chain"]["attester"]
        assert bundle["chain"]["kind"] == "aleo" and bundle["chain"]["network"] == "testnet"
        assert bundle["public_inputs"][:6] == eth_bundle["public_inputs"][:6]
        assert bundle["public_inputs"][6] != eth_bundle["public_inputs"][6]
        assert len(double.mapping) == 1
        (tmp_path / "aleo.json").write_text(json.dumps(bundle))
        vk = str(tmp_path / "data" / "keys" / "commitment-10.vk.json")
        out = zkxai("verify", "--chain", "aleo", "--rpc-url", double.url, "--disclosure", str(tmp_path / "aleo.json"),
                    "--registry", bundle["chain"]["registry"], "--attester", aleo["attester"], "--vkey", vk, "--json")
        assert out.returncode == 0, out.stdout + out.stderr
        assert json.loads(out.stdout)["verdict"] == "VALID"
    finally:
        double.stop()
