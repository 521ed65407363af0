"""A local replica TEST DOUBLE for the ICP agent and adapter tests: NOT an Internet Computer replica.

It serves the IC's real HTTP interface on 127.0.0.1 (CBOR bodies with tag 55799): ``GET /api/v2/status``
(publishing its test ``root_key``), ``POST /api/v3/canister/<id>/call`` (synchronous: answers with a certificate),
``/api/v2/canister/<id>/call`` (202, then ``read_state``), ``/api/v2/canister/<id>/query`` and
``/api/v2/canister/<id>/read_state``. It checks every envelope as a replica would: request ids, Ed25519 sender
signatures over ``0x0A "ic-request" || request_id``, self-authenticating senders, ``ingress_expiry`` (expired or
more than five minutes ahead: 400), the canister id of the URL, read_state of a request only by its sender.
Certificates are BLS12-381 min-sig signatures (blst) over ``0x0D "ic-state-root" || root`` by a test root key.

What it does NOT cover: consensus and finality (a call is certified at once), subnets and delegations from a
real NNS (certificates are signed by the root key directly), node signatures on query answers, cycles,
canister installation, upgrades and wasm execution: it runs the registry's logic in Python, mirroring
contracts/icp/src (the Motoko canister is checked against the same Python mirrors in the interpreter, in
tests/test_icp_canister.py), and decodes arguments with our own Candid codec.
Knobs for tests: ``v3`` (False: the v3 endpoint answers 404), ``async_calls`` (v3 answers 202, so the agent polls),
``tamper`` (sign certificates over a different root), ``now_ns`` (the double's clock).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import pyblst
from aiohttp import web

from node.chains.icp import candid, cbor, hashtree
from node.chains.icp.bls import DST, G2_GENERATOR
from node.chains.icp.certificate import STATE_ROOT_DOMAIN
from node.chains.icp.der import wrap_bls_key
from node.chains.icp.errors import IcpError
from node.chains.icp.hashtree import Empty, Fork, HashTree, Labeled, Leaf, Pruned
from node.chains.icp.identity import self_authenticating, verify_ed25519
from node.chains.icp.leb128 import encode_uleb128
from node.chains.icp.principal import ANONYMOUS, Principal
from node.chains.icp.registry_candid import CERTIFIED, NAMES, RESULT_ID, RESULT_UNIT
from node.chains.icp.registry_record import MAX_REASON, PROOF_BYTES, IcpStatement, RegistryRecord
from node.chains.icp.registry_tree import RecordTree
from node.chains.icp.request_id import request_id, signable

ROOT = Path(__file__).resolve().parent.parent
WASM = ROOT / "contracts" / "icp" / "build" / "registry.wasm"
MAX_EXPIRY_AHEAD_NS = 5 * 60 * 1_000_000_000 + 30 * 1_000_000_000
CANISTER_ID = Principal.from_text("rrkah-fqaaa-aaaaa-aaaaq-cai")


class RegistryLogic:
    """The registry canister's methods in Python (contracts/icp/src/registry.mo)."""

    def __init__(self, now_ns) -> None:
        self.ids: dict[bytes, int] = {}
        self.records: list[RegistryRecord] = []
        self.tree = RecordTree()
        self.now_ns = now_ns

    def _store(self, i: int, record: RegistryRecord) -> None:
        if i == len(self.records):
            self.records.append(record)
        else:
            self.records[i] = record
        self.tree.set(i, record.encode())

    def attest_one(self, caller: Principal, statement: dict, proof: bytes) -> dict:
        if caller == ANONYMOUS:
            return {"err": {"anonymous": None}}
        try:
            s = IcpStatement(**{k: statement[k] for k in ("model_hash", "input_digest", "prediction_digest",
                                                          "predicted_class", "explanation_digest")})
        except (IcpError, KeyError, TypeError) as exc:
            return {"err": {"invalid": str(exc)}}
        if len(proof) != PROOF_BYTES:
            return {"err": {"invalid": "proof must be 256 bytes (8 words of 32 bytes)"}}
        ident = s.attestation_id()
        if ident in self.ids:
            return {"err": {"duplicate": {"id": ident, "attester": self.records[self.ids[ident]].attester}}}
        index = len(self.records)
        self.ids[ident] = index
        self._store(index, RegistryRecord(ident, s, proof, index, self.now_ns(), False, 0, caller))
        return {"ok": ident}

    def revoke(self, caller: Principal, ident: bytes, reason: int) -> dict:
        if reason > MAX_REASON:
            return {"err": {"invalid": "reason must be 0..4"}}
        if ident not in self.ids:
            return {"err": {"not_found": None}}
        record = self.records[self.ids[ident]]
        if record.attester != caller:
            return {"err": {"not_attester": None}}
        if record.revoked:
            return {"err": {"already_revoked": None}}
        self._store(record.index, RegistryRecord(**{**record.__dict__, "revoked": True, "reason": reason}))
        return {"ok": None}

    def view(self, ident: bytes, certificate: bytes | None) -> dict | None:
        if ident not in self.ids:
            return None
        record = self.records[self.ids[ident]]
        leaf = record.encode()
        witness = cbor.encode(hashtree.to_cbor(self.tree.witness(record.index)))
        attestation = {"id": record.attestation_id, "statement": record.statement.candid(), "proof": record.proof,
                       "attester": record.attester, "index": record.index, "time_ns": record.time_ns,
                       "revoked": record.revoked, "reason": record.reason}
        return {"attestation": attestation, "leaf": leaf, "witness": witness, "certificate": certificate}


def _labeled_tree(items: dict[bytes, Any]) -> HashTree:
    """A tree of sorted labels; values are subtrees (dict) or leaves (bytes)."""
    nodes = [Labeled(k, _labeled_tree(v) if isinstance(v, dict) else Leaf(v)) for k, v in sorted(items.items())]
    if not nodes:
        return Empty()
    while len(nodes) > 1:
        nodes = [Fork(nodes[i], nodes[i + 1]) if i + 1 < len(nodes) else nodes[i] for i in range(0, len(nodes), 2)]
    return nodes[0]


def _prune(tree: HashTree, paths: list[list[bytes]]) -> HashTree:
    """Keep the subtrees on ``paths`` (a path ending inside keeps all below), prune everything else."""
    if any(not p for p in paths):
        return tree
    if isinstance(tree, Fork):
        return Fork(_prune(tree.left, paths), _prune(tree.right, paths))
    if isinstance(tree, Labeled):
        below = [p[1:] for p in paths if p[0] == tree.label]
        return Labeled(tree.label, _prune(tree.subtree, below)) if below else Pruned(hashtree.reconstruct(tree))
    if isinstance(tree, (Leaf, Empty)):
        return Pruned(hashtree.reconstruct(tree)) if paths else tree
    return tree


class ReplicaDouble:
    """The test double; ``start()`` serves it on 127.0.0.1 in a thread, ``stop()`` ends it."""

    def __init__(self) -> None:
        self.secret = secrets.randbelow(2**255 - 19) + 1
        g2 = pyblst.BlstP2Element.uncompress(G2_GENERATOR)
        self.root_key_der = wrap_bls_key(g2.scalar_mul(self.secret).compress())
        self.canister_id = CANISTER_ID
        self.module_hash = hashlib.sha256(WASM.read_bytes()).digest()
        self.offset_ns = 0
        self.v3 = True
        self.async_calls = False
        self.tamper = False
        self.registry = RegistryLogic(self.now_ns)
        self.requests: dict[bytes, tuple[bytes, dict[bytes, bytes]]] = {}  # id -> (sender, status fields)
        self.calls_seen: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    def now_ns(self) -> int:
        return time.time_ns() + self.offset_ns

    # -- certificates ----------------------------------------------------------------------------------------
    def _state(self) -> dict[bytes, Any]:
        cid = self.canister_id.raw
        return {
            b"canister": {cid: {b"certified_data": self.registry.tree.root(), b"module_hash": self.module_hash}},
            b"request_status": {rid: fields for rid, (_, fields) in self.requests.items()},
            b"time": encode_uleb128(self.now_ns()),
        }

    def certificate(self, paths: list[list[bytes]]) -> bytes:
        tree = _prune(_labeled_tree(self._state()), [*paths, [b"time"]])
        root = hashtree.reconstruct(tree)
        if self.tamper:
            root = hashlib.sha256(root).digest()
        message = STATE_ROOT_DOMAIN + root
        signature = pyblst.BlstP1Element.hash_to_group(message, DST).scalar_mul(self.secret).compress()
        return cbor.encode({"tree": hashtree.to_cbor(tree), "signature": signature})

    # -- envelopes -------------------------------------------------------------------------------------------
    def _open(self, body: bytes, kind: str, canister: str | None) -> tuple[dict, Principal]:
        envelope = cbor.decode(body, max_size=2 * 1024 * 1024)
        if not isinstance(envelope, dict) or not isinstance(envelope.get("content"), dict):
            raise web.HTTPBadRequest(text="envelope must be a map with content")
        content = envelope["content"]
        if content.get("request_type") != kind:
            raise web.HTTPBadRequest(text=f"request_type must be {kind}")
        expiry = content.get("ingress_expiry")
        now = self.now_ns()
        if not isinstance(expiry, int) or expiry < now or expiry > now + MAX_EXPIRY_AHEAD_NS:
            raise web.HTTPBadRequest(text="ingress_expiry is not within the next five minutes")
        sender = content.get("sender")
        if not isinstance(sender, bytes):
            raise web.HTTPBadRequest(text="sender missing")
        if sender == ANONYMOUS.raw:
            if "sender_pubkey" in envelope or "sender_sig" in envelope:
                raise web.HTTPBadRequest(text="anonymous requests carry no signature")
        else:
            key, sig = envelope.get("sender_pubkey"), envelope.get("sender_sig")
            if not isinstance(key, bytes) or not isinstance(sig, bytes):
                raise web.HTTPBadRequest(text="signed request without sender_pubkey/sender_sig")
            if self_authenticating(key).raw != sender:
                raise web.HTTPBadRequest(text="sender is not the principal of sender_pubkey")
            if not verify_ed25519(key, sig, signable(content)):
                raise web.HTTPBadRequest(text="invalid signature")
        if canister is not None:
            if content.get("canister_id") != Principal.from_text(canister).raw:
                raise web.HTTPBadRequest(text="canister_id differs from the URL")
            if content["canister_id"] != self.canister_id.raw:
                raise web.HTTPNotFound(text="canister not found")
        return content, Principal(sender)

    # -- the canister ----------------------------------------------------------------------------------------
    def _execute(self, caller: Principal, method: str, arg: bytes, *, query: bool) -> bytes:
        if method == "get_attestation":
            (ident,) = candid.decode(arg, NAMES)
            cert = self.certificate([[b"canister", self.canister_id.raw, b"certified_data"]]) if query else None
            return candid.encode([("opt", CERTIFIED)], [self.registry.view(ident, cert)])
        if method == "certified_root":
            return candid.encode(["blob"], [self.registry.tree.root()])
        if method == "size":
            return candid.encode(["nat64"], [len(self.registry.records)])
        if query:
            raise ValueError(f"{method} is not a query method")
        if method == "attest":
            statement, proof = candid.decode(arg, NAMES)
            return candid.encode([RESULT_ID], [self.registry.attest_one(caller, statement, proof)])
        if method == "attest_batch":
            (items,) = candid.decode(arg, NAMES)
            results = [self.registry.attest_one(caller, i["statement"], i["proof"]) for i in items[:64]]
            return candid.encode([("vec", RESULT_ID)], [results])
        if method == "revoke":
            ident, reason = candid.decode(arg, NAMES)
            return candid.encode([RESULT_UNIT], [self.registry.revoke(caller, ident, reason)])
        raise ValueError(f"no method {method}")

    def _run_call(self, content: dict, caller: Principal) -> None:
        rid = request_id(content)
        if rid in self.requests:
            return  # a replayed request is executed once
        try:
            reply = self._execute(caller, content["method_name"], content["arg"], query=False)
            fields = {b"status": b"replied", b"reply": reply}
        except (IcpError, ValueError) as exc:
            fields = {b"status": b"rejected", b"reject_code": encode_uleb128(5),
                      b"reject_message": str(exc).encode(), b"error_code": b"IC0503"}
        self.requests[rid] = (caller.raw, fields)

    # -- HTTP ------------------------------------------------------------------------------------------------
    async def _status(self, request: web.Request) -> web.Response:
        body = cbor.encode({"ic_api_version": "0.18.0", "root_key": self.root_key_der, "replica_health_status":
                            "healthy", "impl_version": "zkxai-test-double"})
        return web.Response(body=body, content_type="application/cbor")

    async def _call(self, request: web.Request) -> web.Response:
        version = request.match_info["version"]
        self.calls_seen.append(version)
        if version == "v3" and not self.v3:
            raise web.HTTPNotFound(text="no v3 endpoint")
        content, caller = self._open(await request.read(), "call", request.match_info["canister"])
        self._run_call(content, caller)
        if version == "v2" or self.async_calls:
            return web.Response(status=202)
        rid = request_id(content)
        cert = self.certificate([[b"request_status", rid]])
        return web.Response(body=cbor.encode({"status": "replied", "certificate": cert}),
                            content_type="application/cbor")

    async def _query(self, request: web.Request) -> web.Response:
        content, caller = self._open(await request.read(), "query", request.match_info["canister"])
        try:
            reply = self._execute(caller, content["method_name"], content["arg"], query=True)
            answer = {"status": "replied", "reply": {"arg": reply}}
        except (IcpError, ValueError) as exc:
            answer = {"status": "rejected", "reject_code": 5, "reject_message": str(exc)}
        return web.Response(body=cbor.encode(answer), content_type="application/cbor")

    async def _read_state(self, request: web.Request) -> web.Response:
        content, caller = self._open(await request.read(), "read_state", None)
        paths = content.get("paths")
        if not isinstance(paths, list) or not all(isinstance(p, list) and all(isinstance(x, bytes) for x in p)
                                                  for p in paths):
            raise web.HTTPBadRequest(text="paths must be arrays of blobs")
        for path in paths:
            if len(path) >= 2 and path[0] == b"request_status" and path[1] in self.requests:
                if self.requests[path[1]][0] != caller.raw:
                    raise web.HTTPForbidden(text="request status is readable only by its sender")
        return web.Response(body=cbor.encode({"certificate": self.certificate(paths)}),
                            content_type="application/cbor")

    @web.middleware
    async def _errors(self, request: web.Request, handler):
        try:
            return await handler(request)
        except IcpError as exc:
            raise web.HTTPBadRequest(text=f"malformed request: {exc}") from None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors], client_max_size=2 * 1024 * 1024)
        app.router.add_get("/api/v2/status", self._status)
        app.router.add_post("/api/{version:v2|v3}/canister/{canister}/call", self._call)
        app.router.add_post("/api/v2/canister/{canister}/query", self._query)
        app.router.add_post("/api/v2/canister/{canister}/read_state", self._read_state)
        return app

    def start(self, port: int = 0) -> ReplicaDouble:
        """Serve on 127.0.0.1:``port`` (0: any free port). After :meth:`stop`, ``start(port)`` again brings the same
        replica (records, keys) back at the same address, as a replica that was unreachable for a while."""
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._runner = web.AppRunner(self.app(), access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", port)
            loop.run_until_complete(site.start())
            bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{bound}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="icp-replica-double", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("replica test double did not start")
        return self

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(10)


def sample_statement(seed: int):
    """A well-formed statement for the tests (distinct per seed)."""
    from circuits.field import R
    from node.chains.adapter import Statement

    return Statement(hashlib.sha256(b"model-%d" % (seed % 3)).digest(), R - 1 - seed, 1000 + seed, seed % 10,
                     2**200 + seed)


def sample_proof(seed: int) -> list[int]:
    """Eight 256-bit words standing for a proof (the double does not check proofs: neither does the canister)."""
    return [int.from_bytes(hashlib.sha256(b"proof-%d-%d" % (seed, k)).digest(), "big") for k in range(8)]
