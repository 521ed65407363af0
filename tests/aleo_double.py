"""A **snarkOS REST test double** (and delegated-prover test double) for the Aleo adapter's tests: an aiohttp
server on 127.0.0.1 that implements the routes the adapter uses and applies the finalize semantics of
``contracts/aleo/zkxai_registry.aleo`` in Python.

It is NOT an Aleo node. What it does NOT check or do:

* no proof: ``/prove`` wraps the SDK's authorizations into a transaction with a placeholder proof, and
  ``/transaction/broadcast`` accepts it without verifying any execution or fee proof, nor the transition
  signatures, serial numbers or commitments; it trusts the transition's outputs (the finalize arguments) as if
  the proof had shown they come from the program;
* no fees: the ``fee_public`` authorization is carried along but no balance is read or charged;
* no consensus: one process, one block per broadcast transaction plus empty blocks on a timer, no reorgs, no
  mempool, instant confirmation;
* no deployment: the program is "deployed" by construction (``GET program/{id}`` answers the committed source);
* transaction ids are the double's own (``at1`` + a hash of the transition ids), not snarkVM's.

What it does: the ``attest`` finalize (network id equal to ``network.id``, the EIP-191 secp256k1 signature by the
recorded Ethereum attester checked with eth-account, v in {0, 1}, low s; duplicate keys refused; the record stored
with the block height) and the ``revoke`` finalize (record present and not revoked, signature by its attester);
a finalize that fails makes the transaction ``rejected`` like snarkOS; block heights advance.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from eth_utils import to_checksum_address

from node.chains.aleo.plaintext import parse
from node.chains.aleo.statement import EIP191_PREFIX_32, NETWORK_IDS, PROGRAM_ID, recover_signer

_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _double_tx_id(transitions: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256("".join(str(t.get("id")) for t in transitions).encode()).digest()
    bits = int.from_bytes(digest, "big")
    return "at1" + "".join(_BECH32[(bits >> (5 * i)) & 31] for i in range(58))


def _format(value: Any) -> str:
    """Aleo plaintext text of a parsed value (the inverse of node.chains.aleo.plaintext.parse for our types)."""
    if isinstance(value, dict):
        return "{\n" + ",\n".join(f"  {k}: {_format(v)}" for k, v in value.items()) + "\n}"
    if isinstance(value, list):
        return "[\n" + ",\n".join(f"  {_format(v)}" for v in value) + "\n]"
    raise TypeError(value)


_SCHEMA = {"model_hash": "u128", "input_digest": "u128", "prediction_digest": "u128", "predicted_class": "u32",
           "explanation_digest": "u128", "proof_keccak": "u8", "attester": "u8", "caller": "address",
           "height": "u32", "revoked": "bool", "reason": "u8"}


def format_attestation(record: dict[str, Any]) -> str:
    parts = []
    for name, kind in _SCHEMA.items():
        v = record[name]
        if kind == "address":
            text = v
        elif kind == "bool":
            text = "true" if v else "false"
        elif isinstance(v, list):
            text = "[\n    " + ",\n    ".join(f"{x}{kind}" for x in v) + "\n  ]"
        else:
            text = f"{v}{kind}"
        parts.append(f"  {name}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}"


@dataclass
class SnarkosDouble:
    """Start with :meth:`start` (a thread with its own loop); ``url`` is the REST base, also the prover base."""

    source: str
    network: str = "testnet"
    program_id: str = PROGRAM_ID
    block_interval: float = 0.2
    height: int = 100
    mapping: dict[int, dict[str, Any]] = field(default_factory=dict)
    confirmed: dict[str, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)  # HTTP statuses to answer before serving normally
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def start(self) -> SnarkosDouble:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve(ready))
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="snarkos-double", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the snarkOS test double did not start")
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            self._ticker.cancel()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _serve(self, ready: threading.Event) -> None:
        app = web.Application(client_max_size=16 << 20, middlewares=[self._faults])
        n = "/v2/{network}"
        app.router.add_get(n + "/block/height/latest", self._latest)
        app.router.add_get(n + "/program/{program}", self._program)
        app.router.add_get(n + "/program/{program}/mapping/{mapping}/{key}", self._mapping)
        app.router.add_post(n + "/transaction/broadcast", self._broadcast)
        app.router.add_get(n + "/transaction/confirmed/{tx}", self._confirmed)
        app.router.add_get(n + "/transaction/{tx}", self._transaction)
        app.router.add_post("/{network}/prove", self._prove)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._ticker = asyncio.ensure_future(self._tick())
        ready.set()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.block_interval)
            self.height += 1

    @web.middleware
    async def _faults(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        if self.fail_next:
            return web.json_response({"message": "test double: injected failure"}, status=self.fail_next.pop(0))
        if "network" in request.match_info and request.match_info["network"] != self.network:
            return web.json_response({"message": "wrong network"}, status=404)
        return await handler(request)

    # -- snarkOS routes ----------------------------------------------------------------------------------------
    async def _latest(self, request: web.Request) -> web.Response:
        return web.json_response(self.height)

    async def _program(self, request: web.Request) -> web.Response:
        if request.match_info["program"] != self.program_id:
            return web.json_response({"message": "program not found"}, status=404)
        return web.json_response(self.source)

    async def _mapping(self, request: web.Request) -> web.Response:
        if request.match_info["program"] != self.program_id or request.match_info["mapping"] != "attestations":
            return web.json_response({"message": "mapping not found"}, status=404)
        key_text = request.match_info["key"]
        if not key_text.endswith("field") or not key_text[:-5].isdigit():
            return web.json_response({"message": "invalid key"}, status=400)
        record = self.mapping.get(int(key_text[:-5]))
        return web.json_response(None if record is None else format_attestation(record))

    async def _transaction(self, request: web.Request) -> web.Response:
        tx = self.transactions.get(request.match_info["tx"])
        return web.json_response(tx) if tx else web.json_response({"message": "not found"}, status=404)

    async def _confirmed(self, request: web.Request) -> web.Response:
        doc = self.confirmed.get(request.match_info["tx"])
        return web.json_response(doc) if doc else web.json_response({"message": "not found"}, status=404)

    async def _broadcast(self, request: web.Request) -> web.Response:
        try:
            tx = await request.json()
            transitions = tx["execution"]["transitions"]
            tx_id = tx["id"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"message": "malformed transaction"}, status=400)
        if tx_id in self.transactions:
            return web.json_response(tx_id)
        self.height += 1
        status = "accepted"
        try:
            for t in transitions:
                if t.get("program") == self.program_id:
                    self._finalize(t)
        except FinalizeFailed:
            status = "rejected"
        self.transactions[tx_id] = tx
        self.confirmed[tx_id] = {"status": status, "type": "execute", "index": 0, "transaction": tx, "finalize": []}
        return web.json_response(tx_id)

    # -- the program's finalize, in Python -----------------------------------------------------------------------
    def _finalize(self, transition: dict[str, Any]) -> None:
        future = parse(transition["outputs"][-1]["value"])
        args = future["arguments"]
        if future["function_name"] == "attest":
            key, record, message, signature, net = args
            self._check(net == NETWORK_IDS[self.network], "network.id")
            self._check_signature(bytes(message), bytes(signature), bytes(record["attester"]))
            self._check(key not in self.mapping, "duplicate statement")
            self.mapping[key] = {**record, "height": self.height, "revoked": False, "reason": 0}
        elif future["function_name"] == "revoke":
            key, message, signature, reason, net = args
            self._check(net == NETWORK_IDS[self.network], "network.id")
            record = self.mapping.get(key)
            self._check(record is not None, "no such attestation")
            self._check(not record["revoked"], "already revoked")
            self._check_signature(bytes(message), bytes(signature), bytes(record["attester"]))
            record.update(revoked=True, reason=reason)
        else:
            raise FinalizeFailed(f"unknown function {future['function_name']}")

    @staticmethod
    def _check(condition: bool, what: str) -> None:
        if not condition:
            raise FinalizeFailed(what)

    def _check_signature(self, message: bytes, signature: bytes, attester: bytes) -> None:
        self._check(len(message) == 60 and message[:28] == EIP191_PREFIX_32, "EIP-191 message")
        signer = recover_signer(message[28:], signature)
        self._check(signer is not None and signer == to_checksum_address(attester), "ecdsa.verify.keccak256.eth")

    # -- delegated prover (test double: no proof is made) ----------------------------------------------------------
    async def _prove(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
            auth = body["authorization"]
            fee = body.get("fee_authorization")
            auth = json.loads(auth) if isinstance(auth, str) else auth
            fee = json.loads(fee) if isinstance(fee, str) else fee
            transitions = auth["transitions"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"message": "malformed proving request"}, status=400)
        tx_id = _double_tx_id(transitions + (fee["transitions"] if fee else []))
        tx = {
            "type": "execute",
            "id": tx_id,
            "execution": {"transitions": transitions, "global_state_root": "sr1testdouble",
                          "proof": "test-double: no proof"},
            "fee": {"transition": fee["transitions"][0] if fee else None, "global_state_root": "sr1testdouble",
                    "proof": "test-double: no proof"},
        }
        return web.json_response({"transaction": tx, "broadcast_result": {"status": "Skipped"}})


class FinalizeFailed(Exception):
    """A finalize assertion failed in the double (the transaction is confirmed as rejected)."""
