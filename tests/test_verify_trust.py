"""``zkxai verify`` trusts only what its user pinned (issue 10): the forged-registry attack on anvil.

An attacker deploys their own Groth16Verifier with the key of a circuit that constrains nothing about the
statement (each public input is only bound by ``p * 1 = p``), puts an AttestationRegistry on it and attests
class 7 for the victim's model hash. Before the trust anchors, ``zkxai verify --tx <that tx> --model victim.onnx``
exited 0 with every check PASS (the registry came from the transaction's log, the key from that registry's own
verifier). Now it exits EXIT_UNPINNED, and FAILs as soon as the genuine registry, key, attester or trust file is
pinned.

The "genuine node" here is a registry on a key of the same shape with other toxic waste; the number of public
inputs follows the registry's (``calldata.PUBLIC_INPUT_COUNT``).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest
import pytest_asyncio

from circuits.r1cs import R1CS, Constraint
from contracts_tiny_circuit import bound_public
from node.chains.ethereum import calldata
from node.chains.ethereum.adapter import (
    Deployment,
    EthereumAdapter,
)
from node.verify.trust import vk_sha256_of
from node.verify.report import (
    EXIT_ATTESTER_MISMATCH,
    EXIT_CHAIN_MISMATCH,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_UNPINNED,
    EXIT_USAGE,
    EXIT_VK_MISMATCH,
)
from prover.keys import ProvingKey, VerifyingKey
from prover.prove import prove
from prover.serialize import vk_to_snarkjs
from prover.setup import setup
from prover.solidity import proof_calldata, vk_calldata
from tests.node_harness import ANVIL_KEY, zkxai

#: anvil's second default account (well-known test mnemonic): the attacker.
ATTACKER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
VICTIM_MODEL = b"victim model bytes: any file, its SHA-256 is the model hash"
MODEL_HASH = hashlib.sha256(VICTIM_MODEL).digest()

pytestmark = [pytest.mark.npm]


def binding_only_r1cs(n: int) -> R1CS:
    """n public inputs, each bound by p * 1 = p and by nothing else: any statement has a witness."""
    return R1CS(n_wires=1 + n, n_public=n, constraints=tuple(Constraint({i: 1}, {0: 1}, {i: 1}) for i in range(1, n + 1)),
                public_names=tuple(f"p{i}" for i in range(n)), wire_names={})


@lru_cache(maxsize=None)
def keys(seed: int) -> tuple[ProvingKey, VerifyingKey]:
    return setup(binding_only_r1cs(calldata.PUBLIC_INPUT_COUNT), rng=random.Random(seed))


def proof_for(pk: ProvingKey, fields: tuple[bytes, int, int, int, int], sender: EthereumAdapter) -> tuple[object, ...]:
    """A valid proof of ``fields`` for ``sender`` at its registry (the context it will be checked in)."""
    public = bound_public(fields, sender)
    r1cs = binding_only_r1cs(len(public))
    return tuple(proof_calldata(prove(pk, r1cs, [1, *public], rng=random.Random(7))))


@dataclass(frozen=True)
class World:
    url: str
    chain_id: int
    genuine: Deployment
    forged: Deployment
    victim: str
    attacker: str
    genuine_tx: str
    forged_tx: str
    #: The attacker's attestation in the GENUINE registry, with a valid proof (the proving key is public).
    squatted_tx: str
    model: Path
    genuine_vk: Path
    trust: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(anvil_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("trust")
    victim = await EthereumAdapter.connect(anvil_url, ANVIL_KEY)
    attacker = await EthereumAdapter.connect(anvil_url, ATTACKER_KEY)
    genuine_pk, genuine_vk = keys(11)
    forged_pk, forged_vk = keys(99)
    genuine = await victim.deploy_registry(vk_calldata(genuine_vk))
    forged = await attacker.deploy_registry(vk_calldata(forged_vk))
    honest = (MODEL_HASH, 11, 22, 3, 44)
    genuine_sent = await victim.attest(*honest, *proof_for(genuine_pk, honest, victim))
    lie = (MODEL_HASH, 12, 23, 7, 45)
    forged_sent = await attacker.attest(*lie, *proof_for(forged_pk, lie, attacker))
    squat = (MODEL_HASH, 13, 24, 7, 46)
    squatter = await EthereumAdapter.connect(anvil_url, ATTACKER_KEY, registry=genuine.registry)
    squatted_sent = await squatter.attest(*squat, *proof_for(genuine_pk, squat, squatter))
    model = tmp / "victim.onnx"
    model.write_bytes(VICTIM_MODEL)
    vk_file = tmp / "genuine.vk.json"
    vk_file.write_text(json.dumps(vk_to_snarkjs(genuine_vk)))
    trust = tmp / "trust.toml"
    trust.write_text(f"""# zkxai trust file: what this verifier pins
[[node]]
name = "victim"
chain = "anvil"
chain_id = {victim.chain_id}
registry = "{genuine.registry}"
attesters = ["{victim.address}"]
vk_sha256 = "{vk_sha256_of(genuine_vk)}"
""")
    yield World(anvil_url, victim.chain_id, genuine, forged, victim.address, attacker.address, genuine_sent.tx_hash,
                forged_sent.tx_hash, squatted_sent.tx_hash, model, vk_file, trust)
    for adapter in (victim, attacker, squatter):
        await adapter.close()


def verify(world: World, *args: str) -> tuple[int, dict]:
    out = zkxai("verify", "--rpc-url", world.url, *args, "--json")
    try:
        return out.returncode, json.loads(out.stdout)
    except json.JSONDecodeError:
        raise AssertionError(out.stdout + out.stderr) from None


def statuses(report: dict) -> dict[str, str]:
    return {c["name"]: c["status"] for c in report["checks"]}


def test_forged_registry_without_anchor_is_unpinned_not_valid(world: World) -> None:
    code, report = verify(world, "--tx", world.forged_tx, "--model", str(world.model))
    assert code == EXIT_UNPINNED, report
    assert report["verdict"] == "UNPINNED" and report["exit_code"] == EXIT_UNPINNED
    s = statuses(report)
    assert s["record"] == s["attester"] == s["vk"] == "unpinned", s
    assert s["proof"] == s["model"] == "pass"  # what is there is shown: a valid proof under the attacker's key
    assert report["record"]["predicted_class"] == 7
    assert all(flag in report["pin"] for flag in ("--registry", "--attester", "--vkey", "--trust"))
    assert any("nothing pinned" in n for n in report["notes"])
    text = zkxai("verify", "--rpc-url", world.url, "--tx", world.forged_tx, "--model", str(world.model))
    assert text.returncode == EXIT_UNPINNED
    assert "[UNPINNED] record" in text.stdout and "--registry" in text.stdout and "verdict: UNPINNED" in text.stdout


def test_forged_registry_fails_against_the_pinned_registry(world: World) -> None:
    code, report = verify(world, "--tx", world.forged_tx, "--model", str(world.model), "--registry", world.genuine.registry)
    assert code == EXIT_NOT_FOUND, report
    (record,) = [c for c in report["checks"] if c["name"] == "record"]
    assert record["status"] == "fail"
    assert f"made no attestation in the pinned registry {world.genuine.registry}" in record["detail"]
    assert world.forged.registry in record["detail"]


def test_forged_registry_fails_against_the_pinned_key(world: World) -> None:
    code, report = verify(world, "--tx", world.forged_tx, "--model", str(world.model), "--vkey", str(world.genuine_vk))
    assert code == EXIT_VK_MISMATCH, report
    s = statuses(report)
    assert s["vk"] == "fail" and s["proof"] == "fail"  # the forged proof does not verify under the genuine key


def test_forged_registry_fails_against_the_trust_file(world: World) -> None:
    code, report = verify(world, "--tx", world.forged_tx, "--model", str(world.model), "--trust", str(world.trust))
    assert code == EXIT_NOT_FOUND, report
    assert statuses(report)["chain"] == "pass"


def test_forged_registry_fails_against_the_pinned_attester(world: World) -> None:
    code, report = verify(world, "--tx", world.forged_tx, "--attester", world.victim)
    assert code == EXIT_ATTESTER_MISMATCH, report
    assert statuses(report)["attester"] == "fail"


def test_someone_else_attesting_in_the_genuine_registry_is_not_the_node(world: World) -> None:
    """The registry is open: anyone with the (public) proving key can attest in it. Only the attester says who."""
    code, report = verify(world, "--tx", world.squatted_tx, "--registry", world.genuine.registry)
    assert code == EXIT_UNPINNED, report
    s = statuses(report)
    assert s["record"] == s["vk"] == s["proof"] == "pass" and s["attester"] == "unpinned"
    code, report = verify(world, "--tx", world.squatted_tx, "--trust", str(world.trust))
    assert code == EXIT_ATTESTER_MISMATCH, report
    assert world.attacker in [c for c in report["checks"] if c["name"] == "attester"][0]["detail"]


def test_genuine_attestation_with_the_trust_file_is_valid(world: World) -> None:
    code, report = verify(world, "--tx", world.genuine_tx, "--model", str(world.model), "--trust", str(world.trust))
    assert code == EXIT_OK, report
    assert report["verdict"] == "VALID" and report["unpinned"] == []
    assert set(statuses(report).values()) == {"pass"}
    assert "equals the one pinned by trust entry" in [c for c in report["checks"] if c["name"] == "vk"][0]["detail"]
    code, report = verify(world, "--tx", world.genuine_tx, "--registry", world.genuine.registry, "--attester", world.victim)
    assert code == EXIT_OK, report
    assert "read from the pinned registry's verifier" in [c for c in report["checks"] if c["name"] == "vk"][0]["detail"]


@pytest.mark.parametrize(("anchor", "passes", "unpinned"), [
    ("registry", {"record", "vk"}, {"attester"}),
    ("attester", {"attester"}, {"record", "vk"}),
    ("vkey", {"vk"}, {"record", "attester"}),
])
def test_each_anchor_alone_pins_its_check_only(world: World, anchor: str, passes: set[str], unpinned: set[str]) -> None:
    value = {"registry": world.genuine.registry, "attester": world.victim, "vkey": str(world.genuine_vk)}[anchor]
    code, report = verify(world, "--tx", world.genuine_tx, f"--{anchor}", value)
    assert code == EXIT_UNPINNED, report
    s = statuses(report)
    assert {k for k, v in s.items() if v == "unpinned"} == unpinned, s
    assert all(s[k] == "pass" for k in passes)
    assert "nothing pinned" not in " ".join(report["notes"])


def test_by_id_the_record_must_be_in_the_pinned_registry(world: World) -> None:
    forged_id = "0x" + calldata.attestation_id(MODEL_HASH, 12, 23, 7, 45).hex()
    code, report = verify(world, "--registry", world.genuine.registry, "--id", forged_id)
    assert code == EXIT_NOT_FOUND, report


def test_wrong_chain_fails(world: World, tmp_path: Path) -> None:
    code, report = verify(world, "--tx", world.genuine_tx, "--trust", str(world.trust), "--chain-id", "1")
    assert code == EXIT_CHAIN_MISMATCH, report
    other = tmp_path / "mainnet.toml"
    other.write_text(world.trust.read_text().replace(f"chain_id = {world.chain_id}", "chain_id = 1"))
    code, report = verify(world, "--tx", world.genuine_tx, "--trust", str(other))
    assert code == EXIT_CHAIN_MISMATCH, report
    assert "pins only chain(s) 1" in [c for c in report["checks"] if c["name"] == "chain"][0]["detail"]


def test_pinned_vk_digest_mismatch_fails(world: World, tmp_path: Path) -> None:
    other = tmp_path / "other-key.toml"
    other.write_text(world.trust.read_text().replace(vk_sha256_of(keys(11)[1]), vk_sha256_of(keys(99)[1])))
    code, report = verify(world, "--tx", world.genuine_tx, "--trust", str(other))
    assert code == EXIT_VK_MISMATCH, report


def test_trust_digest_command_matches(world: World) -> None:
    out = zkxai("trust", "digest", str(world.genuine_vk))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == vk_sha256_of(keys(11)[1])
    from node.store.deployments import vk_digest  # the digest a node records for its deployments is the same

    assert vk_digest(vk_calldata(keys(11)[1])) == out.stdout.strip()


@pytest.mark.parametrize(("body", "named"), [
    ('[[node]]\nname = "a"\nregistry = "0x' + "11" * 20 + '"\nattesters = ["0x' + "22" * 20 + '"]\ncolour = "red"\n',
     "colour"),
    ('[[node]]\nname = "a"\nregistry = "0x1234"\nattesters = ["0x' + "22" * 20 + '"]\n', "'registry'"),
    ('[[node]]\nname = "a"\nregistry = "0x' + "11" * 20 + '"\nattesters = "0x' + "22" * 20 + '"\n', "'attesters'"),
    ('[[node]]\nname = "a"\nchain_id = "31337"\nregistry = "0x' + "11" * 20 + '"\nattesters = ["0x' + "22" * 20
     + '"]\n', "'chain_id'"),
    ('[[node]]\nname = "a"\nregistry = "0x' + "11" * 20 + '"\nattesters = []\n', "'attesters'"),
    ('[[node]]\nname = "a"\nregistry = "0x' + "11" * 20 + '"\nattesters = ["0x' + "22" * 20
     + '"]\nvk_sha256 = "abc"\n', "'vk_sha256'"),
    ('[[node]]\nname = "a"\nattesters = ["0x' + "22" * 20 + '"]\n', "'registry'"),
    ("[[node]\nname = ", "not valid TOML"),
    ('[other]\nx = 1\n', "other"),
])
def test_trust_file_errors_exit_2_naming_the_key(tmp_path: Path, body: str, named: str) -> None:
    path = tmp_path / "trust.toml"
    path.write_text(body)
    # anchors are parsed before the chain is asked: port 9 (discard) is never reached
    out = zkxai("verify", "--rpc-url", "http://127.0.0.1:9", "--tx", "0x" + "12" * 32, "--trust", str(path))
    assert out.returncode == EXIT_USAGE, out.stdout + out.stderr
    assert named in out.stderr, out.stderr


def test_malformed_command_line_anchors_exit_2(tmp_path: Path) -> None:
    for flags, named in ((("--attester", "0xnope"), "--attester"), (("--registry", "12"), "--registry"),
                         (("--vkey", str(tmp_path / "missing.json")), "missing.json")):
        out = zkxai("verify", "--rpc-url", "http://127.0.0.1:9", "--tx", "0x" + "12" * 32, *flags)
        assert out.returncode == EXIT_USAGE and named in out.stderr, out.stderr
