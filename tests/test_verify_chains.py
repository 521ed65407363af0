"""``zkxai verify --chain icp|aleo``: records made through the real adapters, checked by the CLI as a user runs it.

ICP: the replica test double (tests/icp_replica_double.py, certificates signed by its own root key); Aleo: the
snarkOS REST test double (tests/aleo_double.py) with transitions authorized by the real SDK. Every record carries a
REAL Groth16 proof of the tiny seven-input circuit (tests/contracts_tiny_circuit.py: it proves any statement, as an
attacker's circuit would), bound (or, for the attacks, not bound) to the chain's context. The bundles are real
disclosures: their data opens the recorded digests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from circuits.commitment import CommitmentOpening, statement_values
from contracts_tiny_circuit import tiny_keys
from node.chains.adapter import Statement
from node.chains.binding import attestation_context, chain_context
from node.chains.ethereum.calldata import flat_proof, proof_words
from node.chains.icp.adapter import IcpAdapter, network_of
from node.chains.icp.agent import IcAgent
from node.chains.icp.identity import Ed25519Identity
from node.verify.digests import explanation_hash, input_hash
from node.verify.report import proof_from_calldata
from prover.serialize import proof_to_snarkjs, vk_to_snarkjs
from tests.node_harness import zkxai

OTHER_CANISTER = "ryjl3-tyaaa-aaaaa-aaaba-cai"


@dataclass(frozen=True)
class Made:
    """One recorded statement: its attestation id, its bundle file and the proof words submitted."""

    attestation_id: str
    bundle: Path
    words: tuple[int, ...]
    tx_id: str = ""


def _data(seed: int) -> tuple[CommitmentOpening, dict[str, Any]]:
    x = [(i * 4096 + seed) % 65536 for i in range(16)]
    scores = [1000 * ((i * 7 + seed) % 10) for i in range(10)]
    cls = max(range(10), key=lambda i: scores[i])
    expl = [(-1) ** i * i * 17 + seed for i in range(16)]
    model_hash = hashlib.sha256(b"model-%d" % seed).digest()
    salts = (1000 + seed, 2000 + seed, 3000 + seed)
    opening = CommitmentOpening(
        model_hash=model_hash, input_hash=input_hash((16,), x), input_salt=salts[0], scores=tuple(scores),
        predicted_class=cls, prediction_salt=salts[1], explanation_hash=explanation_hash("gradient", (16,), expl),
        explanation_salt=salts[2])
    data = {
        "model_hash": "0x" + model_hash.hex(),
        "input": {"shape": [16], "values": x, "salt": str(salts[0])},
        "prediction": {"predicted_class": cls, "num_classes": 10, "scores": scores, "salt": str(salts[1])},
        "explanation": {"method": "gradient", "shape": [16], "values": expl, "salt": str(salts[2])},
    }
    return opening, data


def _statement(values: list[int], model_hash: bytes) -> Statement:
    return Statement(model_hash=model_hash, input_digest=values[2], prediction_digest=values[3],
                     predicted_class=values[4], explanation_digest=values[5])


def _prove(values: list[int], context: int, seed: int) -> tuple[tuple[int, ...], dict[str, Any]]:
    a, b, c = tiny_keys().proof([*values, context], seed=seed)
    return tuple(flat_proof(proof_words(a, b, c))), proof_to_snarkjs(proof_from_calldata((a, b, c)))


def _write_bundle(path: Path, attestation_id: str, data: dict[str, Any], chain: dict[str, Any],
                  public: list[int], proof: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"format": "zkxai.disclosure/2", "attestation_id": attestation_id, "chain": chain,
                                **data, "public_inputs": [str(v) for v in public], "proof": proof}))
    return path


def _run(*args: str) -> tuple[int, dict[str, Any]]:
    done = zkxai("verify", "--json", *args)
    try:
        return done.returncode, json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"exit {done.returncode}: {done.stdout}\n{done.stderr}") from None


def _status(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in report["checks"]}


def _tamper(src: Path, dst: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    doc = json.loads(src.read_text())
    mutate(doc)
    dst.write_text(json.dumps(doc))
    return dst


# -- ICP ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IcpWorld:
    url: str
    canister: str
    attester: str
    network: str
    root_key: Path
    vkey: Path
    genuine: Made
    other_canister: Made
    revoked: Made
    tmp: Path


@pytest.fixture(scope="module")
def icp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IcpWorld]:
    from tests.icp_replica_double import ReplicaDouble

    tmp = tmp_path_factory.mktemp("icp")
    double = ReplicaDouble().start()
    try:
        adapter = IcpAdapter(IcAgent(double.url, double.root_key_der, Ed25519Identity.generate()))
        canister = double.canister_id.to_text()
        asyncio.run(adapter.attach_or_deploy(canister))
        network = network_of(double.root_key_der)

        def record(seed: int, context: int, revoke: bool = False) -> Made:
            opening, data = _data(seed)
            values = statement_values(opening)
            words, proof = _prove(values, context, seed)
            submitted = asyncio.run(adapter.submit(_statement(values, opening.model_hash), list(words)))
            if revoke:
                asyncio.run(adapter.revoke(submitted.attestation_id, 2))
            ident = "0x" + submitted.attestation_id.removeprefix("0x")
            chain = {"kind": "icp", "network": network, "chain_id": 0, "registry": canister,
                     "attester": adapter.attester, "tx_hash": submitted.tx_id, "block_number": submitted.height}
            bundle = _write_bundle(tmp / f"bundle-{seed}.json", ident, data, chain, [*values, context], proof)
            return Made(ident, bundle, words)

        genuine = record(1, adapter.context())
        other = record(2, chain_context("icp", network, OTHER_CANISTER, adapter.attester))
        revoked = record(3, adapter.context(), revoke=True)
        root_key = tmp / "root_key.hex"
        root_key.write_text(double.root_key_der.hex() + "\n")
        vkey = tmp / "vk.json"
        vkey.write_text(json.dumps(vk_to_snarkjs(tiny_keys().vk)))
        yield IcpWorld(double.url, canister, adapter.attester, network, root_key, vkey, genuine, other, revoked, tmp)
    finally:
        double.stop()


def _icp_pinned(w: IcpWorld) -> list[str]:
    return ["--registry", w.canister, "--attester", w.attester, "--vkey", str(w.vkey), "--root-key", str(w.root_key)]


def test_icp_valid_with_registry_attester_and_key_pinned(icp: IcpWorld) -> None:
    code, report = _run("--rpc-url", icp.url, "--disclosure", str(icp.genuine.bundle), *_icp_pinned(icp))
    assert code == 0 and report["verdict"] == "VALID", report
    assert set(_status(report).values()) == {"pass"}
    assert set(_status(report)) == {"chain", "record", "attester", "revocation", "finality", "vk", "proof",
                                    "disclosure"}
    assert report["record"]["attester"] == icp.attester and report["record"]["registry"] == icp.canister
    # the same without a bundle: --chain and --id (the root key given as hex on the command line)
    code, report = _run("--chain", "icp", "--rpc-url", icp.url, "--id", icp.genuine.attestation_id,
                        "--registry", icp.canister, "--attester", icp.attester, "--vkey", str(icp.vkey),
                        "--root-key", icp.root_key.read_text().strip())
    assert code == 0 and "disclosure" not in _status(report), report


def test_icp_unpinned_without_anchors(icp: IcpWorld) -> None:
    code, report = _run("--rpc-url", icp.url, "--disclosure", str(icp.genuine.bundle), "--root-key", str(icp.root_key))
    assert code == 11 and report["verdict"] == "UNPINNED", report
    s = _status(report)
    assert {k for k, v in s.items() if v == "unpinned"} == {"record", "attester", "vk", "proof"}
    assert "fail" not in s.values()


def test_icp_wrong_attester_pinned(icp: IcpWorld) -> None:
    stranger = Ed25519Identity.generate().principal.to_text()
    code, report = _run("--rpc-url", icp.url, "--disclosure", str(icp.genuine.bundle), "--registry", icp.canister,
                        "--attester", stranger, "--vkey", str(icp.vkey), "--root-key", str(icp.root_key))
    assert code == 12 and _status(report)["attester"] == "fail", report
    assert stranger in [c for c in report["checks"] if c["name"] == "attester"][0]["detail"]


def test_icp_proof_for_another_canister_fails(icp: IcpWorld) -> None:
    """The canister records whatever proof it is given: a proof bound to another canister is recorded, and only
    the verifier's recomputed context catches it."""
    code, report = _run("--chain", "icp", "--rpc-url", icp.url, "--id", icp.other_canister.attestation_id,
                        *_icp_pinned(icp))
    assert code == 1 and _status(report)["proof"] == "fail", report
    assert _status(report)["record"] == "pass" and _status(report)["attester"] == "pass"


def test_icp_wrong_root_key_is_a_chain_failure(icp: IcpWorld) -> None:
    # default: the IC mainnet key, which did not sign the double's certificates
    code, report = _run("--rpc-url", icp.url, "--disclosure", str(icp.genuine.bundle), "--registry", icp.canister,
                        "--attester", icp.attester, "--vkey", str(icp.vkey))
    assert code == 13 and _status(report) == {"chain": "fail"}, report
    assert "IC mainnet root key" in report["checks"][0]["detail"]
    # a malformed key is a usage error, before any request
    done = zkxai("verify", "--rpc-url", icp.url, "--disclosure", str(icp.genuine.bundle), "--root-key", "00ff")
    assert done.returncode == 2 and "root key" in done.stderr


@pytest.mark.parametrize("mutate", [
    lambda d: d["input"]["values"].__setitem__(0, d["input"]["values"][0] + 1),
    lambda d: d["chain"].__setitem__("registry", OTHER_CANISTER),
], ids=["input", "chain-registry"])
def test_icp_tampered_bundle_fails_disclosure(icp: IcpWorld, mutate, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bundle = _tamper(icp.genuine.bundle, tmp_path / "tampered.json", mutate)
    code, report = _run("--rpc-url", icp.url, "--disclosure", str(bundle), *_icp_pinned(icp))
    assert code == 4 and _status(report)["disclosure"] == "fail", report
    assert _status(report)["proof"] == "pass"


def test_icp_revoked_record(icp: IcpWorld) -> None:
    code, report = _run("--rpc-url", icp.url, "--disclosure", str(icp.revoked.bundle), *_icp_pinned(icp))
    assert code == 8 and _status(report)["revocation"] == "fail", report


def test_icp_trust_file(icp: IcpWorld, tmp_path: Path) -> None:
    trust = tmp_path / "trust.toml"
    trust.write_text(f'[[node]]\nname = "icp-node"\nchain = "icp"\nnetwork = "{icp.network}"\n'
                     f'registry = "{icp.canister}"\nattesters = ["{icp.attester}"]\n')
    code, report = _run("--rpc-url", icp.url, "--disclosure", str(icp.genuine.bundle), "--trust", str(trust),
                        "--vkey", str(icp.vkey), "--root-key", str(icp.root_key))
    assert code == 0 and report["verdict"] == "VALID", report
    # an entry for another IC (another root key) pins nothing here: the network check fails
    trust.write_text(trust.read_text().replace(icp.network, "ab" * 32))
    code, report = _run("--rpc-url", icp.url, "--disclosure", str(icp.genuine.bundle), "--trust", str(trust),
                        "--vkey", str(icp.vkey), "--root-key", str(icp.root_key))
    assert code == 13 and _status(report) == {"chain": "fail"}, report
    # an ICP entry naming an Ethereum address as attester is refused when parsed
    trust.write_text(trust.read_text().replace(icp.attester, "0x" + "11" * 20))
    done = zkxai("verify", "--rpc-url", icp.url, "--disclosure", str(icp.genuine.bundle), "--trust", str(trust))
    assert done.returncode == 2 and "principal" in done.stderr


# -- Aleo --------------------------------------------------------------------------------------------------------

ETH = Account.from_key("0x" + "c3" * 32)


@dataclass(frozen=True)
class AleoWorld:
    url: str
    program: str
    vkey: Path
    genuine: Made
    eth_context: Made


@pytest.fixture(scope="module")
def aleo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AleoWorld]:
    from node.chains.aleo.adapter import AleoAdapter, AleoConfig, program_source
    from node.chains.aleo.sdk import SdkBridge
    from tests.aleo_double import SnarkosDouble

    tmp = tmp_path_factory.mktemp("aleo")
    bridge = SdkBridge(network="testnet")
    double = SnarkosDouble(source=program_source(), block_interval=0.05).start()
    try:
        config = AleoConfig.from_mapping({"endpoint": double.url, "prover_url": double.url, "poll_interval": 0.05,
                                          "confirm_timeout": 60, "retries": 2})
        adapter = AleoAdapter(config, bridge.new_account()[0], ETH.key.hex(), bridge=bridge)
        ref = asyncio.run(adapter.attach_or_deploy(None))

        def record(seed: int, context: int) -> Made:
            opening, data = _data(seed)
            values = statement_values(opening)
            words, proof = _prove(values, context, seed)
            submitted = asyncio.run(adapter.submit(_statement(values, opening.model_hash), words))
            chain = {"kind": "aleo", "network": "testnet", "chain_id": 0, "registry": ref.registry,
                     "attester": adapter.attester, "tx_hash": submitted.tx_id, "block_number": submitted.height}
            bundle = _write_bundle(tmp / f"bundle-{seed}.json", submitted.attestation_id, data, chain,
                                   [*values, context], proof)
            return Made(submitted.attestation_id, bundle, words, submitted.tx_id)

        genuine = record(11, adapter.context())
        eth_context = record(12, attestation_context(31337, "0x" + "11" * 20, adapter.attester))
        vkey = tmp / "vk.json"
        vkey.write_text(json.dumps(vk_to_snarkjs(tiny_keys().vk)))
        yield AleoWorld(double.url, ref.registry, vkey, genuine, eth_context)
    finally:
        double.stop()
        bridge.close()


def _aleo_pinned(w: AleoWorld) -> list[str]:
    return ["--registry", w.program, "--attester", ETH.address, "--vkey", str(w.vkey)]


@pytest.mark.slow
@pytest.mark.npm
def test_aleo_valid_unpinned_and_wrong_attester(aleo: AleoWorld) -> None:
    code, report = _run("--rpc-url", aleo.url, "--disclosure", str(aleo.genuine.bundle), *_aleo_pinned(aleo))
    assert code == 0 and report["verdict"] == "VALID", report
    assert set(_status(report)) == {"record", "attester", "revocation", "finality", "vk", "proof", "disclosure"}
    assert report["record"]["attester"] == ETH.address
    assert any("proof_keccak" in n for n in report["notes"])

    code, report = _run("--rpc-url", aleo.url, "--disclosure", str(aleo.genuine.bundle))
    assert code == 11 and {k for k, v in _status(report).items() if v == "unpinned"} == {
        "record", "attester", "vk", "proof"}, report

    code, report = _run("--rpc-url", aleo.url, "--disclosure", str(aleo.genuine.bundle), "--registry", aleo.program,
                        "--attester", "0x" + "44" * 20, "--vkey", str(aleo.vkey))
    assert code == 12 and _status(report)["attester"] == "fail", report


@pytest.mark.slow
@pytest.mark.npm
def test_aleo_proof_for_the_ethereum_context_fails(aleo: AleoWorld) -> None:
    code, report = _run("--chain", "aleo", "--network", "testnet", "--rpc-url", aleo.url, "--id",
                        aleo.eth_context.attestation_id, "--tx", aleo.eth_context.tx_id, *_aleo_pinned(aleo))
    assert code == 1 and _status(report)["proof"] == "fail", report
    assert _status(report)["record"] == "pass" and _status(report)["attester"] == "pass"


@pytest.mark.slow
@pytest.mark.npm
def test_aleo_proof_words_must_be_the_recorded_ones(aleo: AleoWorld) -> None:
    """The record stores only the proof's keccak: words from another attest transaction (a valid proof for some
    other statement) are not taken."""
    code, report = _run("--chain", "aleo", "--network", "testnet", "--rpc-url", aleo.url, "--id",
                        aleo.genuine.attestation_id, "--tx", aleo.eth_context.tx_id, *_aleo_pinned(aleo))
    assert code == 1 and _status(report)["proof"] == "fail", report
    assert "is not in transaction" in [c for c in report["checks"] if c["name"] == "proof"][0]["detail"]


@pytest.mark.slow
@pytest.mark.npm
def test_aleo_tampered_bundle_and_trust_file(aleo: AleoWorld, tmp_path: Path) -> None:
    bundle = _tamper(aleo.genuine.bundle, tmp_path / "tampered.json",
                     lambda d: d["prediction"].__setitem__("salt", "12345"))
    code, report = _run("--rpc-url", aleo.url, "--disclosure", str(bundle), *_aleo_pinned(aleo))
    assert code == 4 and _status(report)["disclosure"] == "fail", report

    trust = tmp_path / "trust.toml"
    trust.write_text(f'[[node]]\nname = "aleo-node"\nchain = "aleo"\nnetwork = "testnet"\n'
                     f'registry = "{aleo.program}"\nattesters = ["{ETH.address}"]\n')
    code, report = _run("--rpc-url", aleo.url, "--disclosure", str(aleo.genuine.bundle), "--trust", str(trust),
                        "--vkey", str(aleo.vkey))
    assert code == 0 and report["verdict"] == "VALID", report
    assert _status(report)["chain"] == "pass"

