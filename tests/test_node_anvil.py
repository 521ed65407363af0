"""Integration on anvil (npm @foundry-rs/anvil): a `zkxai node` attesting to a real JSON-RPC chain, `zkxai verify`
checking it, snarkjs checking the same proof independently, and tampering rejected by the contract and the CLI.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from contracts import abi
from node.chains.ethereum.errors import ProofRejected
from node.chains.ethereum.revert import decode_revert
from tests.node_harness import ANVIL_KEY, http, post_json, running_node, zkxai

pytestmark = pytest.mark.npm


@pytest.fixture(scope="module")
def anvil(anvil_url: str) -> str:
    return anvil_url


@pytest.fixture(scope="module")
def run(anvil: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from explainers.digits import digits_samples, export_onnx, train_digits_mlp

    work = tmp_path_factory.mktemp("anvil-node")
    model_file = work / "digits.onnx"
    module, _ = train_digits_mlp(seed=0)
    model_file.write_bytes(export_onnx(module, (64,)))
    env = {"ZKXAI_PRIVATE_KEY": ANVIL_KEY}
    with running_node(work, "--rpc-url", anvil, env=env) as base:
        status, model = http("POST", f"{base}/v1/models", model_file.read_bytes(), "application/octet-stream")
        assert status == 201, model
        X, _ = digits_samples(2, split="test")
        status, result = post_json(f"{base}/v1/attestations?wait=true",
                                   {"model_hash": model["model_hash"], "input": X[1].tolist(), "method": "lrp_epsilon_0_1"})
        assert status == 201, result
        info = http("GET", f"{base}/v1/info")[1]
    bundle = work / "bundle.json"
    bundle.write_text(json.dumps(result["disclosure"]))
    yield {"work": work, "model_file": model_file, "result": result, "bundle": bundle, "info": info,
           "vk": work / "keys" / "commitment-10.vk.json", "env": env}


def test_cli_verifies_on_anvil(anvil: str, run: dict[str, Any]) -> None:
    out = zkxai("verify", "--rpc-url", anvil, "--disclosure", str(run["bundle"]), "--model", str(run["model_file"]),
                "--vkey", str(run["vk"]), "--registry", run["info"]["registry"], "--attester", run["info"]["attester"],
                "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["verdict"] == "VALID" and {c["status"] for c in report["checks"]} == {"pass"}


def test_snarkjs_accepts_the_nodes_proof(run: dict[str, Any], snarkjs_bin: Path, tmp_path: Path) -> None:
    d = run["result"]["disclosure"]
    (tmp_path / "proof.json").write_text(json.dumps(d["proof"]))
    (tmp_path / "public.json").write_text(json.dumps(d["public_inputs"]))
    ok = subprocess.run([str(snarkjs_bin), "groth16", "verify", str(run["vk"]), str(tmp_path / "public.json"),
                         str(tmp_path / "proof.json")], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "OK" in ok.stdout, ok.stdout + ok.stderr
    bad = list(d["public_inputs"])
    bad[4] = str((int(bad[4]) + 1) % 10)
    (tmp_path / "public.json").write_text(json.dumps(bad))
    rejected = subprocess.run([str(snarkjs_bin), "groth16", "verify", str(run["vk"]), str(tmp_path / "public.json"),
                               str(tmp_path / "proof.json")], capture_output=True, text=True, timeout=120)
    assert rejected.returncode != 0 and "Invalid proof" in rejected.stdout + rejected.stderr


def _tampered(honest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The three attacks of the issue, each as a modified disclosure bundle."""
    proof = copy.deepcopy(honest)
    proof["proof"]["pi_c"][1] = str(21888242871839275222246405745257275088696311157297823662689037894645226208583
                                    - int(proof["proof"]["pi_c"][1]))  # -C: on the curve, wrong proof
    public = copy.deepcopy(honest)
    public["public_inputs"][2] = str(int(public["public_inputs"][2]) + 1)
    model = copy.deepcopy(honest)
    model["model_hash"] = "0x" + "ee" * 32
    model["public_inputs"][0] = str(int("ee" * 16, 16))
    model["public_inputs"][1] = str(int("ee" * 16, 16))
    return {"proof": proof, "public_input": public, "model_hash": model}


@pytest.fixture(scope="module")
def fresh_registry(anvil: str, run: dict[str, Any]) -> str:
    """A second registry on the node's verifier, holding no records: attacks reach the proof check, not the
    duplicate check (the node already attested the honest statement in its own registry)."""
    from contracts import artifact

    w3 = Web3(Web3.HTTPProvider(anvil))
    art = artifact("AttestationRegistry")
    tx = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor(
        Web3.to_checksum_address(run["info"]["verifier"])).transact({"from": w3.eth.accounts[1], "gas": 2_000_000})
    return str(w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])


@pytest.fixture(scope="module")
def rebound(anvil: str, run: dict[str, Any], fresh_registry: str) -> dict[str, Any]:
    """The honest bundle proven again, with the node's key and the disclosed openings, for the fresh registry and
    anvil's first account (the context the fresh registry recomputes for that sender)."""
    from node.chains.binding import attestation_context
    from node.verify.disclosure import Disclosure
    from node.pipeline.proving import (
        load_proving_key,
        prove_opening,
    )
    from prover.serialize import proof_to_snarkjs

    honest = Disclosure.from_json(run["result"]["disclosure"])
    w3 = Web3(Web3.HTTPProvider(anvil))
    context = attestation_context(w3.eth.chain_id, fresh_registry, w3.eth.accounts[0])
    pk = load_proving_key(str(run["work"] / "keys" / "commitment-10.pk.json"))
    out = copy.deepcopy(run["result"]["disclosure"])
    out["chain"] |= {"registry": fresh_registry, "attester": w3.eth.accounts[0]}
    out["public_inputs"] = [str(v) for v in (*honest.statement(), context)]
    out["proof"] = proof_to_snarkjs(prove_opening(pk, honest.opening(), context))
    return out


def test_honest_proof_is_refused_by_another_registry(anvil: str, run: dict[str, Any], fresh_registry: str) -> None:
    """Cross-registry replay with the real circuit: the node's own proof of an honest statement, sent by the same
    account to another registry on the same verifier, fails the proof check (its context names the node's registry)."""
    with pytest.raises((ContractCustomError, ContractLogicError)) as err:
        _attest_call(anvil, fresh_registry, run["result"]["disclosure"])
    revert_data = getattr(err.value, "data", None) or err.value.args[-1]
    assert isinstance(decode_revert(revert_data, "attest"), ProofRejected)


def test_honest_statement_is_accepted_by_a_fresh_registry(anvil: str, rebound: dict[str, Any],
                                                          fresh_registry: str) -> None:
    _attest_call(anvil, fresh_registry, rebound)  # eth_call: would succeed


def _attest_call(anvil: str, registry: str, d: dict[str, Any]) -> None:
    from prover.serialize import proof_from_snarkjs
    from prover.solidity import proof_calldata

    w3 = Web3(Web3.HTTPProvider(anvil))
    contract = w3.eth.contract(address=Web3.to_checksum_address(registry), abi=abi("AttestationRegistry"))
    p = [int(v) for v in d["public_inputs"]]
    a, b, c = proof_calldata(proof_from_snarkjs(d["proof"]))
    model_hash = bytes.fromhex(d["model_hash"][2:])
    contract.functions.attest(model_hash, p[2], p[3], p[4], p[5], a, b, c).call(
        {"from": w3.eth.accounts[0], "gas": 1_000_000})


@pytest.mark.parametrize("attack", ["proof", "public_input", "model_hash"])
def test_tampering_rejected_by_contract_and_cli(anvil: str, run: dict[str, Any], rebound: dict[str, Any],
                                               fresh_registry: str, attack: str, tmp_path: Path) -> None:
    d = _tampered(rebound)[attack]
    with pytest.raises((ContractCustomError, ContractLogicError)) as err:
        _attest_call(anvil, fresh_registry, d)
    revert_data = getattr(err.value, "data", None) or err.value.args[-1]
    assert isinstance(decode_revert(revert_data, "attest"), ProofRejected)

    bundle = tmp_path / "tampered.json"
    bundle.write_text(json.dumps(d))
    out = zkxai("verify", "--disclosure", str(bundle), "--vkey", str(run["vk"]), "--json")  # offline: bundle vs key
    report = json.loads(out.stdout)
    assert out.returncode != 0 and report["verdict"] == "INVALID"
    assert not next(c for c in report["checks"] if c["name"] == "proof")["ok"]


def test_honest_bundle_passes_offline_and_node_reattaches(anvil: str, run: dict[str, Any]) -> None:
    out = zkxai("verify", "--disclosure", str(run["bundle"]), "--vkey", str(run["vk"]), "--model",
                str(run["model_file"]), "--json")
    assert out.returncode == 0, out.stdout
    # a restarted node attaches to the deployed registry with the same keys (checked against the on-chain key)
    with running_node(run["work"], "--rpc-url", anvil, "--registry", run["info"]["registry"], env=run["env"]) as base:
        info = http("GET", f"{base}/v1/info")[1]
    assert info["registry"] == run["info"]["registry"] and info["verifier"] == run["info"]["verifier"]
