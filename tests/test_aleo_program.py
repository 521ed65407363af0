"""The registry program through the real Aleo SDK (@provablehq/sdk, run by the bridge): it parses and type-checks,
``attest`` and ``revoke`` evaluate to the key and digests Python computes (node.chains.aleo.statement), and bad
inputs are refused by the SDK. ``finalize`` is not run offline by anything: its semantics are the test double's
(tests/aleo_double.py, exercised in test_aleo_adapter.py).

One bridge process serves the module (its first authorize takes 15-20 s)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from eth_account import Account

from node.chains.adapter import Statement
from node.chains.aleo.adapter import program_source
from node.chains.aleo.errors import ProgramError
from node.chains.aleo.plaintext import parse
from node.chains.aleo.sdk import SdkBridge
from node.chains.aleo.statement import (
    PROGRAM_ID, AttestInputs, attest_digest, attest_inputs, digest_limbs, limbs, mapping_key, proof_keccak,
    revoke_digest, revoke_inputs, sign_digest, statement_id, eth_message,
)

pytestmark = [pytest.mark.npm, pytest.mark.slow]

ETH = Account.from_key("0x" + "11" * 32)
STATEMENT = Statement(
    model_hash=bytes.fromhex("9f" * 16 + "0a" * 16),
    input_digest=0x2A5F_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_1234,
    prediction_digest=0x1D00_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0001,
    predicted_class=7,
    explanation_digest=(1 << 253) + 99,
)
PROOF = tuple((i << 250) + 3 * i for i in range(1, 9))


@pytest.fixture(scope="module")
def bridge() -> Iterator[SdkBridge]:
    b = SdkBridge(network="testnet")
    yield b
    b.close()


@pytest.fixture(scope="module")
def aleo_key(bridge: SdkBridge) -> str:
    private_key, address = bridge.new_account()
    assert address.startswith("aleo1") and bridge.address(private_key) == address
    return private_key


def _inputs(statement: Statement = STATEMENT, network: str = "testnet") -> list[str]:
    sid = statement_id(statement)
    digest = attest_digest(PROGRAM_ID, network, sid, proof_keccak(PROOF))
    return attest_inputs(AttestInputs(statement, PROOF, ETH.address, sign_digest(ETH.key, digest), network))


def test_fee_estimates(bridge: SdkBridge) -> None:
    attest, revoke = bridge.estimate_fee(program_source(), "attest"), bridge.estimate_fee(program_source(), "revoke")
    assert 0 < revoke < attest < 10_000_000  # microcredits: attest stores more (the 256-byte proof input)


def test_program_parses_and_type_checks(bridge: SdkBridge) -> None:
    info = bridge.check_program(program_source())
    assert info["id"] == PROGRAM_ID
    assert info["functions"] == ["attest", "revoke"]
    assert info["mappings"] == [{"name": "attestations", "key_type": "field", "value_type": "Attestation"}]


def test_type_errors_are_refused(bridge: SdkBridge) -> None:
    source = program_source()
    # a finalize comparing a u16 input with a u32 register: parses, but does not type-check
    broken = source.replace("assert.eq network.id r4;", "assert.eq r1.height r4;", 1)
    assert broken != source
    with pytest.raises(ProgramError):
        bridge.check_program(broken)
    with pytest.raises(ProgramError):
        bridge.check_program(source.replace("program zkxai_registry_v1.aleo;", "program zkxai registry;"))


def test_attest_evaluates_to_the_python_packing(bridge: SdkBridge, aleo_key: str) -> None:
    authorized = bridge.authorize(program_source(), "attest", _inputs(), aleo_key)
    key, id_limbs, digest, future = authorized.outputs
    sid = statement_id(STATEMENT)
    assert key == f"{mapping_key(sid)}field"
    assert tuple(parse(id_limbs)) == digest_limbs(sid)
    expected_digest = attest_digest(PROGRAM_ID, "testnet", sid, proof_keccak(PROOF))
    assert bytes(parse(digest)) == expected_digest
    fut = parse(future)
    assert fut["program_id"] == PROGRAM_ID and fut["function_name"] == "attest"
    fkey, record, message, signature, net = fut["arguments"]
    assert fkey == mapping_key(sid) and net == 1
    assert bytes(message) == eth_message(expected_digest)
    assert bytes(record["proof_keccak"]) == proof_keccak(PROOF)
    assert bytes(record["attester"]) == bytes.fromhex(ETH.address[2:])
    assert tuple(record["model_hash"]) == limbs(STATEMENT.model_hash)
    assert record["predicted_class"] == 7 and record["caller"] == bridge.address(aleo_key)
    # the authorization is the SDK's signed request for this program and function
    auth = json.loads(authorized.authorization)
    assert auth["requests"][0]["program"] == PROGRAM_ID and auth["requests"][0]["function"] == "attest"
    # another network id changes the signed digest (and finalize compares it with network.id)
    other = bridge.authorize(program_source(), "attest", _inputs(network="mainnet"), aleo_key)
    assert bytes(parse(other.outputs[2])) == attest_digest(PROGRAM_ID, "mainnet", sid, proof_keccak(PROOF))
    assert other.outputs[2] != digest


def test_revoke_evaluates_to_the_python_packing(bridge: SdkBridge, aleo_key: str) -> None:
    sid = statement_id(STATEMENT)
    digest = revoke_digest(PROGRAM_ID, "testnet", sid, 3)
    authorized = bridge.authorize(
        program_source(), "revoke", revoke_inputs(sid, 3, sign_digest(ETH.key, digest), "testnet"), aleo_key
    )
    key, out_digest, future = authorized.outputs
    assert key == f"{mapping_key(sid)}field"
    assert bytes(parse(out_digest)) == digest
    assert parse(future)["arguments"][3] == 3


def test_bad_inputs_are_refused(bridge: SdkBridge, aleo_key: str) -> None:
    source = program_source()
    good = _inputs()
    sid = statement_id(STATEMENT)
    bad_inputs = [
        good[:3] + ["4294967296u32"] + good[4:],  # class out of u32
        good[:6] + [good[6].replace("[", "[0u8, ", 1)] + good[7:],  # 21-byte attester
        good[:-1],  # missing network id
        [good[0].replace("u128", "u64")] + good[1:],  # wrong limb type
    ]
    for inputs in bad_inputs:
        with pytest.raises(ProgramError):
            bridge.authorize(source, "attest", inputs, aleo_key)
    # revoke with reason 0 fails the transition's assert.neq when evaluated (authorize computes outputs only:
    # a failed assertion would make the circuit unsatisfiable, found by the prover, not by authorize)
    zero = revoke_inputs(sid, 1, b"\x00" * 65, "testnet")
    bridge.evaluate(source, "revoke", zero, aleo_key)
    zero[1] = "0u8"
    with pytest.raises(ProgramError, match="assert.neq"):
        bridge.evaluate(source, "revoke", zero, aleo_key)
    with pytest.raises(ProgramError):
        bridge.authorize(source, "attest", good, "APrivateKey1notakey")
