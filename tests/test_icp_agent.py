"""The ICP agent against the local replica test double (tests/icp_replica_double.py): real CBOR/HTTP interface,
signed envelopes, sync v3 calls, the v2 + read_state fallback, queries, and certificate checks that refuse a
tampered certificate, a wrong root key, a forged witness or leaf, and an expired request."""

from __future__ import annotations

import hashlib
import time

import pytest

from node.chains.icp import candid, cbor
from node.chains.icp.agent import IcAgent
from node.chains.icp.errors import ReplicaError, SignatureError
from node.chains.icp.hashtree import LookupStatus
from node.chains.icp.identity import Ed25519Identity
from node.chains.icp.registry_candid import ATTEST_ARGS, NAMES
from node.chains.icp.registry_record import IcpStatement, proof_bytes
from node.chains.icp.registry_view import UncertifiedAnswer
from node.chains.icp.adapter import read_certified

from tests.icp_replica_double import WASM, ReplicaDouble
from tests.icp_replica_double import sample_proof as proof
from tests.icp_replica_double import sample_statement as statement


@pytest.fixture
def double():
    replica = ReplicaDouble().start()
    yield replica
    replica.stop()


def _agent(double: ReplicaDouble, identity: Ed25519Identity | None = None, **kwargs) -> IcAgent:
    return IcAgent(double.url, double.root_key_der, identity or Ed25519Identity.generate(), poll_interval_s=0.05,
                   **kwargs)


def _attest_arg(seed: int) -> bytes:
    s = statement(seed)
    icp = IcpStatement(s.model_hash, s.input_digest, s.prediction_digest, s.predicted_class, s.explanation_digest)
    return candid.encode(list(ATTEST_ARGS), [icp.candid(), proof_bytes(proof(seed))])


def test_status_publishes_the_root_key(double) -> None:
    assert _agent(double).status()["root_key"] == double.root_key_der


def test_sync_call_reply_is_read_from_the_certificate(double) -> None:
    agent = _agent(double)
    result = agent.call(double.canister_id.raw, "attest", _attest_arg(1))
    (outcome,) = candid.decode(result.reply, NAMES)
    assert "ok" in outcome and len(outcome["ok"]) == 32
    assert double.calls_seen == ["v3"]
    assert result.certificate.lookup([b"request_status", result.request_id, b"status"]).value == b"replied"
    size = candid.decode(agent.query(double.canister_id.raw, "size", candid.encode([], [])))
    assert size == [1]


@pytest.mark.parametrize("mode", ["no_v3", "async"])
def test_call_falls_back_to_polling_read_state(double, mode) -> None:
    if mode == "no_v3":
        double.v3 = False
    else:
        double.async_calls = True
    result = _agent(double).call(double.canister_id.raw, "attest", _attest_arg(2))
    assert "ok" in candid.decode(result.reply, NAMES)[0]
    assert double.calls_seen == (["v3", "v2"] if mode == "no_v3" else ["v3"])


def test_read_state_certifies_the_module_hash(double) -> None:
    cert = _agent(double).read_state(double.canister_id.raw, [[b"canister", double.canister_id.raw, b"module_hash"]])
    found = cert.lookup([b"canister", double.canister_id.raw, b"module_hash"])
    assert found.status is LookupStatus.FOUND and found.value == hashlib.sha256(WASM.read_bytes()).digest()


def test_tampered_certificate_is_refused(double) -> None:
    agent = _agent(double)
    double.tamper = True
    with pytest.raises(SignatureError):
        agent.call(double.canister_id.raw, "attest", _attest_arg(3))
    with pytest.raises(SignatureError):
        agent.read_state(double.canister_id.raw, [[b"time"]])


def test_wrong_root_key_is_refused(double) -> None:
    other = ReplicaDouble()  # not started: only its (different) root key is used
    agent = IcAgent(double.url, other.root_key_der, Ed25519Identity.generate())
    with pytest.raises(SignatureError):
        agent.call(double.canister_id.raw, "attest", _attest_arg(4))


def test_expired_request_is_refused(double) -> None:
    agent = _agent(double, clock=lambda: time.time_ns() - 10 * 60 * 1_000_000_000)
    with pytest.raises(ReplicaError) as info:
        agent.call(double.canister_id.raw, "attest", _attest_arg(5))
    assert info.value.http_status == 400 and "ingress_expiry" in str(info.value)
    assert double.registry.records == []


def test_forged_signature_is_refused_by_the_double(double) -> None:
    """The double is a faithful counterpart: a request signed by another key than its sender's is a 400."""
    import urllib.request
    from node.chains.icp.envelope import call_content, seal

    me, other = Ed25519Identity.generate(), Ed25519Identity.generate()
    content = call_content(me, double.canister_id.raw, "attest", _attest_arg(6))
    forged = cbor.decode(seal(content, other).body)
    forged["sender_pubkey"] = me.der_public_key
    request = urllib.request.Request(f"{double.url}/api/v3/canister/{double.canister_id}/call",
                                     data=cbor.encode(forged), method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 400 and double.registry.records == []


def _attested(double) -> tuple[IcAgent, bytes]:
    agent = _agent(double)
    result = agent.call(double.canister_id.raw, "attest", _attest_arg(7))
    return agent, candid.decode(result.reply, NAMES)[0]["ok"]


def test_certified_record_reads_back(double) -> None:
    agent, ident = _attested(double)
    reader = IcAgent(double.url, double.root_key_der, None)  # anonymous queries suffice to read
    record = read_certified(reader, double.canister_id.raw, ident)
    assert record is not None and record.attester == agent.identity.principal
    assert record.proof == proof_bytes(proof(7))
    assert read_certified(reader, double.canister_id.raw, b"\x00" * 32) is None


@pytest.mark.parametrize("forgery", ["leaf", "witness", "index", "no_certificate"])
def test_forged_registry_answer_is_refused(double, monkeypatch, forgery) -> None:
    agent, ident = _attested(double)
    genuine = double.registry.view

    def forged_view(ident_, certificate):
        view = genuine(ident_, certificate)
        if forgery == "leaf":  # claims another class than the certified one
            leaf = bytearray(view["leaf"])
            leaf[1 + 32 + 32 * 4 - 1] ^= 1
            view["leaf"] = bytes(leaf)
        elif forgery == "witness":  # a self-consistent witness over a forged leaf: its root is not certified
            from node.chains.icp import hashtree
            from node.chains.icp.registry_tree import RecordTree

            leaf = bytearray(view["leaf"])
            leaf[200] ^= 1  # a proof byte
            tree = RecordTree()
            tree.set(0, bytes(leaf))
            view["leaf"], view["witness"] = bytes(leaf), cbor.encode(hashtree.to_cbor(tree.witness(0)))
        elif forgery == "index":
            view["attestation"]["index"] = 5
        else:
            view["certificate"] = None
        return view

    monkeypatch.setattr(double.registry, "view", forged_view)
    with pytest.raises(UncertifiedAnswer):
        read_certified(agent, double.canister_id.raw, ident)


def test_canister_refuses_a_malformed_statement(double) -> None:
    agent = _agent(double)
    s = IcpStatement(b"\x01" * 32, 1, 2, 3, 4).candid()
    arg = candid.encode(list(ATTEST_ARGS), [s, b"\x00" * 255])
    (outcome,) = candid.decode(agent.call(double.canister_id.raw, "attest", arg).reply, NAMES)
    assert "invalid" in outcome["err"]
