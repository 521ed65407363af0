"""HTTP side of the web pages (:mod:`node.web`): thin handlers for the explorer, the console and their JSON.

Routes (added by :func:`add_web_routes`):

``GET /explorer``, ``GET /console``         the pages (static HTML; the console's data needs the admin key)
``GET /web/{path}``                          their static assets (CSS, ES modules, vendored snarkjs / Poseidon)
``GET /v1/explorer/attestations/{key}``      public: the public part of a record by attestation id or tx hash
                                              (model, class, level, chain section, proof, public inputs, the trust
                                              figures marked measured; never the disclosed input, scores or salts)
``GET /v1/explorer/verification-key``        public: the node's published commitment key (snarkjs JSON), for a
                                              visitor to compare with the one they pin
``GET /v1/console/state``                    admin: queues per stage and chain, recent requests, failures, gas,
                                              prover throughput, registries and deployments (the console polls it)
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web

from node.api.appkeys import CONFIG, SERVICE
from node.errors import BadRequest, NodeError
from node.pipeline.proving import key_paths
from node.store import console
from node.web import STATIC

#: Paths anyone may GET (the pages, their assets and the explorer's JSON); see app.auth_middleware.
PUBLIC_PREFIXES = ("/explorer", "/console", "/web/", "/v1/explorer/")
#: Paths that need the admin key.
ADMIN_PREFIXES = ("/v1/console/",)
_KEY_RE = re.compile(r"^0x[0-9a-fA-F]{64}$")


class NotFound(NodeError):
    status = 404
    code = "not_found"


def _page(name: str) -> web.FileResponse:
    response = web.FileResponse(STATIC / name)
    response.headers["Content-Security-Policy"] = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
                                                   "connect-src *; img-src 'self' data:; style-src 'self'; "
                                                   "worker-src 'self' blob:; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def explorer(request: web.Request) -> web.FileResponse:
    return _page("explorer.html")


async def console_page(request: web.Request) -> web.FileResponse:
    return _page("console.html")


def public_view(row: Any) -> dict[str, Any]:
    """What the explorer shows anyone about a record: no disclosed data, no salts, no scores."""
    try:
        bundle = json.loads(row.disclosure or "{}")
    except ValueError:
        bundle = {}
    bundle = bundle if isinstance(bundle, dict) else {}
    assessment = bundle.get("assessment") if isinstance(bundle.get("assessment"), dict) else None
    return {"attestation_id": row.attestation_id, "status": row.status, "model_hash": row.model_hash,
            "method": row.method, "level": row.level or "commitment", "predicted_class": row.predicted_class,
            "tx_hash": row.tx_hash, "block_number": row.block_number, "chain": bundle.get("chain"),
            "format": bundle.get("format"), "public_inputs": bundle.get("public_inputs"), "proof": bundle.get("proof"),
            "batch": bundle.get("batch"),
            "assessment": None if assessment is None else {
                "measured_not_proven": True, "trust": assessment.get("trust"), "quality": assessment.get("quality")},
            "revoked": row.status == "revoked"}


async def explorer_attestation(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    if not _KEY_RE.match(key):
        raise BadRequest("look up by attestation id or transaction hash: 0x followed by 64 hex digits")
    engine = request.app[SERVICE].engine
    row = await asyncio.to_thread(console.find_public, engine, key.lower())
    if row is None or row.attestation_id is None:
        raise NotFound(f"this node has no attestation or transaction {key}")
    return web.json_response(public_view(row))


async def verification_key(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    path = key_paths(config.keys_dir, config.circuit_classes).verifying_key
    text = await asyncio.to_thread(path.read_text)
    return web.Response(text=text, content_type="application/json")


async def console_state(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]

    def snapshot() -> dict[str, Any]:
        return {"queues": console.queues(svc.engine), "recent": console.recent(svc.engine),
                "failures": console.failures(svc.engine), "gas": console.gas_and_throughput(svc.engine),
                "deployments": console.deployments(svc.engine)}

    state = await asyncio.to_thread(snapshot)
    chain = svc.chain
    state["node"] = {"chain_id": chain.chain_id, "registry": chain.registry, "verifier": chain.verifier,
                     "attester": chain.attester, "vk_sha256": chain.vk_sha256, "embedded": chain.embedded,
                     "batch_registry": chain.batch_registry, "mode": svc.config.attestation_mode,
                     "inflight": svc.pipeline.inflight, "accepting": svc.pipeline.accepting,
                     "targets": [{"chain": t.chain, "registry": t.ref.registry, "queued": t.queue.qsize()} for t in svc.pipeline.targets]}
    state["stages"] = list(console.STAGES)
    return web.json_response(state)


def add_web_routes(app: web.Application) -> None:
    app.router.add_get("/explorer", explorer)
    app.router.add_get("/console", console_page)
    app.router.add_static("/web/", STATIC, show_index=False, follow_symlinks=False)
    app.router.add_get("/v1/explorer/attestations/{key}", explorer_attestation)
    app.router.add_get("/v1/explorer/verification-key", verification_key)
    app.router.add_get("/v1/console/state", console_state)


__all__ = ["ADMIN_PREFIXES", "PUBLIC_PREFIXES", "add_web_routes", "public_view"]
