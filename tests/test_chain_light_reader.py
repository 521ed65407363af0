"""The verifier's light chain reader (stdlib JSON-RPC, hand-decoded ABI words) against the web3 reader on the same
chains: anvil (takes JSON-RPC batches: three round trips) and the node's in-process chain behind the read-only
``/rpc`` bridge (refuses batches: the client falls back to single calls). Then hostile answers: tampered logs,
words and revert data are refused with typed errors."""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from eth_utils import keccak
from web3 import Web3

from circuits.field import R
from contracts_tiny_circuit import tiny_keys
from node.chains.ethereum import calldata, reader
from node.chains.ethereum.errors import AttestationNotFound, ChainConnectionError, ContractMismatch
from node.chains.ethereum.adapter import Deployment, EthereumAdapter, RevocationReason, SubmittedAttestation
from node.chains.ethereum.jsonrpc import JsonRpc
from node.chains.ethereum.light_reader import (
    ATTESTED_TYPES,
    LightReader,
    _topic,
    attestation_id_of,
    checksum_address,
    decode_attested,
    decode_verifying_key,
)
from tests.node_harness import ANVIL_KEY, served_bridge

MODEL = keccak(b"light reader model")
FIELDS = (MODEL, 15, 26, 3, 48)
REVOKED_FIELDS = (MODEL, 16, 27, 4, 49)

#: The async tests share the module-scoped chains, so they share one event loop.
ON_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")


@dataclass(frozen=True)
class Served:
    url: str
    adapter: EthereumAdapter
    deployment: Deployment
    submitted: SubmittedAttestation
    revoked: SubmittedAttestation


async def _attest_two(adapter: EthereumAdapter) -> tuple[Deployment, SubmittedAttestation, SubmittedAttestation]:
    keys = tiny_keys()
    deployment = await adapter.deploy_registry(keys.vk_calldata())
    submitted = await adapter.attest(*FIELDS, *keys.attestation_proof(FIELDS, adapter))
    revoked = await adapter.attest(*REVOKED_FIELDS, *keys.attestation_proof(REVOKED_FIELDS, adapter))
    await adapter.revoke(revoked.id, RevocationReason.INPUT_INVALID)
    return deployment, submitted, revoked


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bridge() -> AsyncIterator[Served]:
    adapter = await EthereumAdapter.in_process()
    deployment, submitted, revoked = await _attest_two(adapter)

    async with served_bridge(adapter) as url:
        yield Served(url, adapter, deployment, submitted, revoked)
    await adapter.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def anvil(anvil_url: str) -> AsyncIterator[Served]:
    adapter = await EthereumAdapter.connect(anvil_url, ANVIL_KEY)
    deployment, submitted, revoked = await _attest_two(adapter)
    yield Served(anvil_url, adapter, deployment, submitted, revoked)
    await adapter.close()


def _both_readers(served: Served, ident: bytes) -> tuple[Any, Any, Any, Any, LightReader]:
    w3 = Web3(Web3.HTTPProvider(served.url, request_kwargs={"timeout": 30}))
    heavy = reader.read_attestation(w3, served.deployment.registry, ident)
    heavy_vk = reader.read_verifying_key(w3, reader.registry_verifier(w3, served.deployment.registry))
    light = LightReader(served.url)
    got = light.read_attestation(served.deployment.registry, ident)
    got_vk = light.read_verifying_key(light.registry_verifier(served.deployment.registry))
    light.close()
    return heavy, heavy_vk, got, got_vk, light


async def _same_as_web3(served: Served) -> list[LightReader]:
    readers = []
    for sub in (served.submitted, served.revoked):
        heavy, heavy_vk, got, got_vk, light = await asyncio.to_thread(_both_readers, served, sub.id)
        assert got == heavy
        assert got_vk == heavy_vk == calldata.verifying_key_words(tiny_keys().vk_calldata())
        assert got.tx_hash == sub.tx_hash and got.attester == served.adapter.address
        readers.append(light)
    with LightReader(served.url) as again:
        revoked = await asyncio.to_thread(again.read_attestation, served.deployment.registry, served.revoked.id)
    assert revoked.revoked and revoked.revocation_reason == RevocationReason.INPUT_INVALID and revoked.revoked_at > 0
    return readers


@pytest.mark.npm
@ON_MODULE_LOOP
async def test_anvil_same_records_and_key_as_web3_in_three_round_trips(anvil: Served) -> None:
    for light in await _same_as_web3(anvil):
        assert light.rpc.batches is True
        assert light.rpc.round_trips == 3


@ON_MODULE_LOOP
async def test_bridge_same_records_and_key_as_web3_without_batches(bridge: Served) -> None:
    for light in await _same_as_web3(bridge):
        assert light.rpc.batches is False  # the bridge refused the first batch; single calls after it
        assert light.rpc.round_trips == 1 + 5 + 2 + 2  # the refused batch, then 5 + 2 + 2 single calls


@pytest.mark.npm
@ON_MODULE_LOOP
async def test_anvil_unknown_id_and_missing_contract(anvil: Served) -> None:
    with LightReader(anvil.url) as light:
        await asyncio.to_thread(_unknown_and_missing, anvil, light)


def _unknown_and_missing(anvil: Served, light: LightReader) -> None:
    with pytest.raises(AttestationNotFound):
        light.read_attestation(anvil.deployment.registry, keccak(b"absent"))
    with pytest.raises(ContractMismatch, match="no contract"):
        light.read_attestation("0x" + "12" * 20, keccak(b"absent"))
    with pytest.raises(ContractMismatch, match="no contract"):
        light.read_verifying_key("0x" + "12" * 20)


@ON_MODULE_LOOP
async def test_bridge_unknown_id(bridge: Served) -> None:
    with LightReader(bridge.url) as light, pytest.raises(AttestationNotFound):
        await asyncio.to_thread(light.read_attestation, bridge.deployment.registry, keccak(b"absent"))


def test_unreachable_endpoint_is_a_connection_error() -> None:
    with pytest.raises(ChainConnectionError):
        LightReader("http://127.0.0.1:9/rpc", timeout=5).read_attestation("0x" + "12" * 20, bytes(32))
    with pytest.raises(ChainConnectionError):
        JsonRpc("ftp://example.invalid")


def test_attestation_id_and_checksum_match_the_eth_libraries() -> None:
    rng = random.Random(3)
    for _ in range(20):
        fields = (rng.randbytes(32), rng.randrange(R), rng.randrange(R), rng.randrange(2**64),
                  rng.randrange(R))
        assert attestation_id_of(*fields) == calldata.attestation_id(*fields)
        raw = rng.randbytes(20)
        assert checksum_address(raw) == Web3.to_checksum_address("0x" + raw.hex())


# ----------------------------------------------------------------------------- hostile answers
def _real_log(served: Served) -> dict[str, Any]:
    rpc = JsonRpc(served.url)
    topic = _topic("AttestationRegistry", "Attested", ATTESTED_TYPES)
    (log,) = rpc.call("eth_getLogs", [{"address": served.deployment.registry, "fromBlock": "0x0", "toBlock": "latest",
                                       "topics": ["0x" + topic.hex(), "0x" + served.submitted.id.hex()]}])
    rpc.close()
    return dict(log)


@ON_MODULE_LOOP
async def test_tampered_logs_are_refused(bridge: Served) -> None:
    log = await asyncio.to_thread(_real_log, bridge)
    registry = bridge.deployment.registry
    topic = _topic("AttestationRegistry", "Attested", ATTESTED_TYPES)
    assert decode_attested(log, registry, topic)["id"] == bridge.submitted.id

    other = copy.deepcopy(log)
    other["address"] = "0x" + "34" * 20
    with pytest.raises(ContractMismatch, match="another contract"):
        decode_attested(other, registry, topic)
    wrong_event = copy.deepcopy(log)
    wrong_event["topics"][0] = "0x" + keccak(b"Other(bytes32)").hex()
    with pytest.raises(ContractMismatch, match="not an Attested event"):
        decode_attested(wrong_event, registry, topic)
    short = copy.deepcopy(log)
    short["data"] = log["data"][:-64]
    with pytest.raises(ContractMismatch, match="bytes, expected"):
        decode_attested(short, registry, topic)
    dirty_attester = copy.deepcopy(log)
    dirty_attester["topics"][3] = "0x01" + log["topics"][3][4:]  # non-zero padding above the 20 address bytes
    with pytest.raises(ContractMismatch, match="does not fit uint160"):
        decode_attested(dirty_attester, registry, topic)
    missing = copy.deepcopy(log)
    missing["topics"] = log["topics"][:3]
    with pytest.raises(ContractMismatch, match="four topics"):
        decode_attested(missing, registry, topic)


def _vk_data() -> bytes:
    alpha, beta, gamma, delta, ic = calldata.verifying_key_words(tiny_keys().vk_calldata())
    words = [*alpha]
    for g2 in (beta, gamma, delta):
        words += [g2[0][0], g2[0][1], g2[1][0], g2[1][1]]
    words += [15 * 32, len(ic)]
    for p in ic:
        words += list(p)
    return b"".join(w.to_bytes(32, "big") for w in words)


def test_verifying_key_words_are_checked() -> None:
    data = _vk_data()
    assert decode_verifying_key(data) == calldata.verifying_key_words(tiny_keys().vk_calldata())
    with pytest.raises(ContractMismatch, match="offset"):
        decode_verifying_key(data[: 14 * 32] + (10**6).to_bytes(32, "big") + data[15 * 32 :])
    with pytest.raises(ContractMismatch, match="does not fit"):
        decode_verifying_key(data[: 15 * 32] + (10**6).to_bytes(32, "big") + data[16 * 32 :])
    with pytest.raises(ContractMismatch, match="return data"):
        decode_verifying_key(data[:64])
    q_word = calldata.Q.to_bytes(32, "big")  # a coordinate = q: not canonical
    with pytest.raises(calldata.CalldataError):
        decode_verifying_key(q_word + data[32:])


def _by_transaction(served: Served) -> None:
    with LightReader(served.url) as light:
        got = light.attestation_from_transaction(served.submitted.tx_hash)
        assert got == (served.deployment.registry, "0x" + served.submitted.id.hex())
        assert light.attestation_from_transaction(served.submitted.tx_hash, served.deployment.registry.lower()) == got
        with pytest.raises(LookupError, match="made no attestation"):
            light.attestation_from_transaction(served.submitted.tx_hash, "0x" + "34" * 20)
        with pytest.raises(LookupError, match="no mined transaction"):
            light.attestation_from_transaction("0x" + "12" * 32)


@pytest.mark.npm
@ON_MODULE_LOOP
async def test_anvil_attestation_by_transaction(anvil: Served) -> None:
    await asyncio.to_thread(_by_transaction, anvil)


@ON_MODULE_LOOP
async def test_bridge_attestation_by_transaction(bridge: Served) -> None:
    await asyncio.to_thread(_by_transaction, bridge)


# ----------------------------------------------------------------------------- a hostile endpoint
class _Hostile:
    """An HTTP server on loopback that answers every POST with the next canned body (a hostile JSON-RPC peer)."""

    def __init__(self, bodies: list[bytes]) -> None:
        import http.server
        import threading

        outer = self
        self.bodies = list(bodies)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = outer.bodies.pop(0) if outer.bodies else b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


HOSTILE_ANSWERS = [
    pytest.param([b"<html>not json</html>"], id="not_json"),
    pytest.param([b"[" * 100_000 + b"]" * 100_000], id="absurdly_nested"),
    pytest.param([b'[{"jsonrpc": "2.0", "id": [1], "result": "0x"}]'], id="unhashable_id"),
    pytest.param([b'[{"jsonrpc": "2.0", "id": 99, "result": "0x"}]'], id="batch_without_our_ids"),
    pytest.param([b'[{"id": 1, "result": 5}, {"id": 2, "result": 6}, {"id": 3, "result": 7}, {"id": 4, "result": 8}]'],
                 id="results_of_wrong_types"),
    pytest.param([b'[{"id": 1, "result": "0x60"}, {"id": 2, "result": "0x1234"}, {"id": 3, "result": "0x"},'
                  b' {"id": 4, "result": "0x10"}]'], id="short_return_data"),
    pytest.param([b'"just a string"'] * 5, id="not_an_object"),
]


@pytest.mark.parametrize("bodies", HOSTILE_ANSWERS)
def test_hostile_endpoint_gets_typed_chain_errors(bodies: list[bytes]) -> None:
    from node.chains.ethereum.errors import ChainError

    server = _Hostile(bodies)
    try:
        with LightReader(server.url, timeout=10) as light, pytest.raises(ChainError):
            light.read_attestation("0x" + "12" * 20, bytes(32))
    finally:
        server.close()


def test_hostile_endpoint_is_exit_code_6_for_the_cli() -> None:
    import json as json_mod

    from tests.node_harness import ROOT, zkxai

    server = _Hostile([b"[" * 100_000 + b"]" * 100_000])
    try:
        out = zkxai("verify", "--rpc-url", server.url, "--disclosure", str(ROOT / "tests" / "data" / "disclosure-v1.json"),
                    "--json")
    finally:
        server.close()
    assert out.returncode == 6, out.stdout + out.stderr
    assert json_mod.loads(out.stdout)["verdict"] == "ERROR"


def test_nesting_guard_ignores_brackets_inside_strings() -> None:
    from node.chains.ethereum.jsonrpc import MAX_DEPTH, _too_deep

    assert not _too_deep(b'{"result": "' + b"[{" * 10_000 + b'"}')
    assert not _too_deep(b'{"result": "\\"' + b"[" * 10_000 + b'"}')
    assert not _too_deep(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    assert _too_deep(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert _too_deep(b'{"a": "x", "b": ' + b'{"c": ' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 2))
