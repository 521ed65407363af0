"""Deployments are remembered per chain: a restarted node (SIGTERM or kill -9) attaches to the registry it deployed
instead of deploying a new one, in single and batch mode; a recorded registry that is gone (anvil restarted fresh)
stops the node with a message saying what to do; ``--redeploy`` replaces the record (which later starts attach to,
see test_registry_is_deployed_once_then_attached).

The first tests drive :mod:`node.store.deployments` directly (tiny circuit keys, no node process); the others run real
`zkxai node` processes on anvil."""

from __future__ import annotations

import json
import logging
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from contracts import abi
from contracts_tiny_circuit import tiny_keys
from node.store import db
from node.chains.ethereum.adapter import EthereumAdapter
from node.chains.ethereum.chain import EthereumChain
from node.config import NodeConfig
from node.store.deployments import (
    BATCH_REGISTRY,
    REGISTRY,
    single_registry,
)
from node.errors import ConfigError
from tests.node_harness import (
    ANVIL_KEY,
    free_port,
    http,
    post_json,
    start_anvil,
    start_node,
    stop_process,
    zkxai,
)

ENV = {"ZKXAI_PRIVATE_KEY": ANVIL_KEY}
pytestmark = pytest.mark.npm


@pytest.fixture(scope="module")
def chain() -> Iterator[dict[str, Any]]:
    """anvil on a fixed port, so a test can replace it by a fresh chain at the same URL."""
    port = free_port()
    proc, url = start_anvil(port)
    box = {"proc": proc, "url": url, "port": port}
    yield box
    stop_process(box["proc"], timeout=10)


# -- node.store.deployments on anvil, no node process ---------------------------------------------------------------
async def _registry(url: str, engine: Any, vk: Any, **config: Any) -> tuple[str, str]:
    adapter = EthereumChain(await EthereumAdapter.connect(url, ANVIL_KEY))
    try:
        deployment, origin = await single_registry(adapter, engine, NodeConfig(rpc_url=url, private_key=ANVIL_KEY,
                                                                               **config), vk)
        return deployment.registry, origin.origin
    finally:
        await adapter.close()


@pytest.mark.asyncio
async def test_registry_is_deployed_once_then_attached(chain: dict[str, Any], tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    url, vk = chain["url"], tiny_keys().vk_calldata()
    engine = db.make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    first, origin = await _registry(url, engine, vk)
    assert origin == "deployed"
    record = db.get_deployment(engine, 31337, REGISTRY)
    assert record is not None and record.address == first and record.block > 0 and record.genesis_hash
    assert record.deployer and record.tx_hash and not record.embedded
    assert await _registry(url, engine, vk) == (first, "recorded")

    # a configured address wins over the record, with a warning naming both
    other, _ = await _registry(url, db.make_engine(f"sqlite:///{tmp_path / 'other.db'}"), vk)
    caplog.set_level(logging.WARNING, logger="zkxai.node")
    assert await _registry(url, engine, vk, registry=other) == (other, "configured")
    assert first in caplog.text and other in caplog.text
    assert db.get_deployment(engine, 31337, REGISTRY).address == first  # type: ignore[union-attr]

    # other keys than the recorded deployment's: refused, saying how to go on
    with pytest.raises(ConfigError, match="another verifying key.*--redeploy"):
        await _registry(url, engine, tiny_keys(seed=2).vk_calldata())
    # --redeploy replaces the record; the next start attaches to the new registry
    again, origin = await _registry(url, engine, vk, redeploy=True)
    assert origin == "deployed" and again not in (first, other)
    assert [d.address for d in db.list_deployments(engine, 31337)] == [again]
    assert await _registry(url, engine, vk) == (again, "recorded")
    engine.dispose()


@pytest.mark.asyncio
async def test_recorded_registry_on_another_chain_history_is_refused(chain: dict[str, Any], tmp_path: Path) -> None:
    url, vk = chain["url"], tiny_keys().vk_calldata()
    engine = db.make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    address, _ = await _registry(url, engine, vk)
    record = db.get_deployment(engine, 31337, REGISTRY)
    assert record is not None
    record.genesis_hash = "0x" + "11" * 32
    db.put(engine, record)
    with pytest.raises(ConfigError, match="another genesis block"):
        await _registry(url, engine, vk)
    record.genesis_hash, record.address = None, "0x" + "22" * 20
    db.put(engine, record)
    with pytest.raises(ConfigError, match="no code on this chain any more.*--redeploy"):
        await _registry(url, engine, vk)
    engine.dispose()


@pytest.mark.asyncio
async def test_embedded_chain_always_deploys_and_overwrites(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    vk = tiny_keys().vk_calldata()
    for _ in range(2):
        chain = EthereumChain(await EthereumAdapter.in_process())
        deployment, origin = await single_registry(chain, engine, NodeConfig(), vk)
        assert origin.origin == "deployed" and deployment.ref.origin == "deployed"
        (record,) = db.list_deployments(engine, int(chain.network))
        assert record.embedded and record.address == deployment.registry
    engine.dispose()


# -- node processes on anvil ------------------------------------------------------------------------------------
def _attest(base: str, model_hash: str, sample: int) -> dict[str, Any]:
    from explainers.digits import digits_samples

    X, _ = digits_samples(sample + 1, split="test")
    status, done = post_json(f"{base}/v1/attestations?wait=true", {"model_hash": model_hash,
                                                                  "input": X[sample].tolist(), "method": "gradient"})
    assert status == 201, done
    return done


def _verify(url: str, bundle: dict[str, Any], path: Path, info: dict[str, Any]) -> None:
    """Verified against what the node's first start published (its registry and attester): pinned."""
    path.write_text(json.dumps(bundle))
    pins = ("--batch-registry", info["batch_registry"]) if bundle.get("batch") else ("--registry", info["registry"])
    out = zkxai("verify", "--rpc-url", url, "--disclosure", str(path), "--json", *pins, "--attester", info["attester"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["verdict"] == "VALID"


def _events(url: str, registry: str, name: str, contract: str) -> list[Any]:
    w3 = Web3(Web3.HTTPProvider(url))
    c = w3.eth.contract(address=Web3.to_checksum_address(registry), abi=abi(contract))
    return list(getattr(c.events, name)().get_logs(from_block=0))


def _recorded(work: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(work / "zkxai.db") as conn:
        return list(conn.execute("select chain_id, kind, depth, address from deployments order by kind"))


def test_restarted_node_attests_to_the_same_registry(chain: dict[str, Any], tmp_path: Path) -> None:
    from explainers.digits import export_onnx, train_digits_mlp

    url, work = chain["url"], tmp_path
    module, _ = train_digits_mlp(seed=0)
    proc, base = start_node(work, "--rpc-url", url, env=ENV)
    try:
        status, model = http("POST", f"{base}/v1/models", export_onnx(module, (64,)), "application/octet-stream")
        assert status == 201
        info = http("GET", f"{base}/v1/info")[1]
        assert info["deployments"] == {"registry": "deployed"}
        first = _attest(base, model["model_hash"], 0)
    finally:
        stop_process(proc)
    registry = info["registry"]
    assert first["registry"] == registry
    assert _recorded(work) == [(31337, REGISTRY, 0, registry)]

    for sig in (signal.SIGTERM, signal.SIGKILL):  # a clean restart, then a crash
        proc, base = start_node(work, "--rpc-url", url, env=ENV)
        try:
            again = http("GET", f"{base}/v1/info")[1]
            assert (again["registry"], again["verifier"]) == (registry, info["verifier"])
            assert again["deployments"] == {"registry": "recorded"}
            if sig == signal.SIGTERM:
                status = zkxai("node", "status", "--url", base)
                assert f"registry {registry} (recorded" in status.stdout, status.stdout + status.stderr
            done = _attest(base, model["model_hash"], 1 if sig == signal.SIGTERM else 2)
            assert done["registry"] == registry
        finally:
            stop_process(proc, sig)
    assert _recorded(work) == [(31337, REGISTRY, 0, registry)]  # nothing new deployed
    assert "attached to registry" in (work / "node.log").read_text()
    assert len(_events(url, registry, "Attested", "AttestationRegistry")) == 3
    # the first attestation, made before the restarts, still verifies (same registry as the newer ones)
    _verify(url, first["disclosure"], tmp_path / "first.json", info)
    _verify(url, done["disclosure"], tmp_path / "last.json", info)
    chain["single_work"] = work


def test_batch_registry_is_reused_after_a_crash(chain: dict[str, Any], tmp_path: Path) -> None:
    from explainers.digits import export_onnx, train_digits_mlp

    url, work = chain["url"], tmp_path
    args = ("--rpc-url", url, "--attestation-mode", "batch", "--batch-size", "2", "--batch-latency-ms", "200")
    module, _ = train_digits_mlp(seed=0)
    proc, base = start_node(work, *args, env=ENV)
    try:
        status, model = http("POST", f"{base}/v1/models", export_onnx(module, (64,)), "application/octet-stream")
        assert status == 201
        info = http("GET", f"{base}/v1/info")[1]
        assert info["deployments"] == {"registry": "deployed", "batch_registry": "deployed"}
        first = _attest(base, model["model_hash"], 0)
    finally:
        stop_process(proc, signal.SIGKILL)
    assert first["batch"]["registry"] == info["batch_registry"]
    recorded = _recorded(work)
    assert [(k, d, a) for _, k, d, a in recorded] == [(BATCH_REGISTRY, 1, info["batch_registry"]),
                                                      (REGISTRY, 0, info["registry"])]

    proc, base = start_node(work, *args, env=ENV)
    try:
        again = http("GET", f"{base}/v1/info")[1]
        assert (again["registry"], again["batch_registry"]) == (info["registry"], info["batch_registry"])
        assert again["deployments"] == {"registry": "recorded", "batch_registry": "recorded"}
        done = _attest(base, model["model_hash"], 1)
    finally:
        stop_process(proc)
    assert done["batch"]["registry"] == info["batch_registry"]
    assert _recorded(work) == recorded
    assert len(_events(url, info["batch_registry"], "BatchAttested", "BatchAttestationRegistry")) == 2
    _verify(url, first["disclosure"], tmp_path / "first.json", info)
    _verify(url, done["disclosure"], tmp_path / "second.json", info)


def test_recorded_registry_gone_after_a_chain_reset(chain: dict[str, Any], tmp_path: Path) -> None:
    """anvil restarted without its state: the node refuses to start, saying why and what to do; --redeploy deploys
    and records a new registry."""
    work = chain.get("single_work")
    if work is None:
        pytest.skip("needs the data dir of test_restarted_node_attests_to_the_same_registry")
    (old,) = [a for _, _, _, a in _recorded(work)]
    stop_process(chain["proc"], timeout=10)
    chain["proc"], url = start_anvil(chain["port"])  # same URL, fresh chain
    args = ("node", "--port", str(free_port()), "--data-dir", str(work), "--prover-workers", "1", "--rpc-url", url,
            "--log-format", "text")
    out = zkxai(*args, env=ENV)
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"the registry {old} this node deployed on chain 31337" in out.stderr
    assert "no code on this chain any more" in out.stderr and "--redeploy" in out.stderr

    proc, base = start_node(work, "--rpc-url", url, "--redeploy", env=ENV)
    try:
        info = http("GET", f"{base}/v1/info")[1]
    finally:
        stop_process(proc)
    assert info["deployments"] == {"registry": "deployed"}
    assert _recorded(work) == [(31337, REGISTRY, 0, info["registry"])]  # replaced: later starts attach to it
    assert "--redeploy: replacing the recorded registry" in (work / "node.log").read_text()
