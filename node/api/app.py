"""The aiohttp application: thin handlers, typed AppKeys, middlewares, cleanup contexts, graceful shutdown.

Resources live in one cleanup context, opened in order and closed in reverse on shutdown:
database -> circuit keys -> chain (the primary chain's adapter from :mod:`node.api.chain_targets`, the one factory:
embedded EVM or RPC; the registry: configured, else the one this node deployed on
this chain earlier (recorded in the database), else deployed and recorded now; in batch mode also the batch registry
with its verifier and Poseidon hashers, the same way; see :mod:`node.store.deployments`) -> prover pool -> pipeline. On shutdown intake stops first (503), an in-flight transaction completes,
the rest of the work is already persisted and resumes at the next start.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web

from explainers.errors import ExplainerError, InvalidInput, UnknownMethod

from node.store import db
from node.store import deployments
from node.chains.adapter import FundedSigner, RegistryFamily, batch_chain
from node.config import NodeConfig
from node.errors import (
    NodeError,
    PayloadTooLarge,
    RateLimited,
    RequestTimeout,
)
from node.pipeline.levels import ProvenModels
from node.pipeline.engine import (
    ChainInfo,
    Pipeline,
)
from node.json_guard import (
    loads,
    restore_recursion_limit,
)
from node.metrics import Metrics
from node.api.chain_targets import open_primary, open_targets, serve_rpc
from node.api.openapi import document
from node.pipeline.cluster import Cluster, ClusterSettings, exclusive
from node.pipeline.proving import (
    ensure_batch_keys,
    ensure_keys,
)
from node.pipeline.prover_pools import prover_pool
from node.api.rate_limit import TokenBuckets
from node.api.appkeys import ADAPTER, CONFIG, METRICS, REQUEST_ID, RPC_BUCKETS, SERVICE
from node.api.web_pages import ADMIN_PREFIXES, PUBLIC_PREFIXES, add_web_routes
from node.api.service import (
    ModelStore,
    NodeService,
)

restore_recursion_limit()  # py_ecc (imported by the prover above) raised it to 100000

log = logging.getLogger("zkxai.node")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Unauthorized(NodeError):
    status = 401
    code = "unauthorized"


class Forbidden(NodeError):
    status = 403
    code = "forbidden"


def _error(request: web.Request, status: int, code: str, message: str, retry_after: float = 5) -> web.Response:
    body = {"error": {"code": code, "message": message, "request_id": request.get(REQUEST_ID, "")}}
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if status in (429, 503) else None
    response = web.json_response(body, status=status, headers=headers)
    if status == 408:  # the client stalled mid-body: do not keep its connection
        response.force_close()
    return response


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get("X-Request-Id", "")
    request[REQUEST_ID] = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex
    t0 = time.perf_counter()
    response = await handler(request)
    response.headers["X-Request-Id"] = request[REQUEST_ID]
    log.info("http", extra={"request_id": request[REQUEST_ID], "method": request.method, "path": request.path,
                            "status": response.status, "ms": round((time.perf_counter() - t0) * 1000, 1)})
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RateLimited as exc:
        return _error(request, exc.status, exc.code, str(exc), retry_after=exc.retry_after)
    except NodeError as exc:
        return _error(request, exc.status, exc.code, str(exc))
    except (InvalidInput, UnknownMethod) as exc:
        return _error(request, 400, "unknown_method" if isinstance(exc, UnknownMethod) else "invalid_input", str(exc))
    except ExplainerError as exc:
        return _error(request, 422, "unprocessable_model", str(exc))
    except web.HTTPRequestEntityTooLarge as exc:
        return _error(request, 413, "payload_too_large", exc.text or "request body too large")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(request, exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(request, 500, "internal_error", "internal error; see the node log with this request id")


#: (method, path prefix) -> who may call it. Anything under /v1 not listed needs a submitter key.
_PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/v1/info"),
           ("GET", "/v1/openapi.json"), ("POST", "/rpc")}
_ADMIN = {("POST", "/v1/models")}
_ADMIN_SUFFIXES = ("/calibration", "/revoke")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    config = request.app[CONFIG]
    public = (request.method, request.path) in _PUBLIC or (
        request.method in ("GET", "HEAD") and request.path.startswith(PUBLIC_PREFIXES))
    if public or not (config.api_keys or config.admin_key):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not token:
        raise Unauthorized("send the API key as: Authorization: Bearer <key>")
    is_admin = bool(config.admin_key) and hmac.compare_digest(token, config.admin_key or "")
    is_submitter = any(hmac.compare_digest(token, k) for k in config.api_keys)
    if not (is_admin or is_submitter):
        raise Unauthorized("unknown API key")
    admin_only = ((request.method, request.path) in _ADMIN or request.path.endswith(_ADMIN_SUFFIXES)
                  or request.path.startswith(ADMIN_PREFIXES))
    if admin_only and not is_admin:
        raise Forbidden("this endpoint needs the admin key")
    return await handler(request)


async def _read_body(request: web.Request) -> bytes:
    """The whole body (at most ``api.max_body_bytes``), or 408 when the client does not send it in time."""
    timeout = request.app[CONFIG].body_timeout_s
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise RequestTimeout(f"request body not received within {timeout:g} s") from None


async def _json_body(request: web.Request) -> object:
    """The body as JSON, refused (400/413) when too large, too deeply nested or malformed, before parsing."""
    return loads(await _read_body(request), what="request body")


# -- handlers -------------------------------------------------------------------------------------
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    checks: dict[str, str] = {}
    try:
        await asyncio.to_thread(db.count_by_status, svc.engine)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await asyncio.wait_for(request.app[ADAPTER].height(), 5)
        checks["chain"] = "ok"
    except Exception as exc:
        checks["chain"] = f"error: {type(exc).__name__}"
    funded = request.app[ADAPTER]
    if isinstance(funded, FundedSigner):
        try:
            problem = await asyncio.wait_for(funded.funding_problem(), 5)
        except Exception as exc:  # unreachable chain: reported by the chain check above
            problem = None if checks["chain"] != "ok" else f"error: {type(exc).__name__}"
        checks["signer"] = "ok" if problem is None else problem
        request.app[METRICS].signer_funded.labels(funded.kind).set(1 if problem is None else 0)
    checks["intake"] = "ok" if svc.pipeline.accepting else "shutting down"
    ready = all(v == "ok" for v in checks.values())
    return web.json_response({"status": "ready" if ready else "not ready", "checks": checks,
                              "inflight": svc.pipeline.inflight}, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=request.app[METRICS].render(), content_type="text/plain", charset="utf-8")


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document())


async def info(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    counts = await asyncio.to_thread(db.count_by_status, svc.engine)
    return web.json_response({
        "chain_id": svc.chain.chain_id, "registry": svc.chain.registry, "verifier": svc.chain.verifier,
        "attester": svc.chain.attester, "vk_sha256": svc.chain.vk_sha256, "batch_vk_sha256": svc.chain.batch_vk_sha256,
        "embedded_chain": svc.chain.embedded, "attestation_mode": svc.config.attestation_mode,
        "batch_registry": svc.chain.batch_registry, "batch_verifier": svc.chain.batch_verifier,
        "batch_size": svc.config.batch_size if svc.config.attestation_mode == "batch" else None, "rpc_path": "/rpc" if svc.chain.embedded else None,
        "deployments": {k: v for k, v in (("registry", svc.chain.registry_origin),
                                          ("batch_registry", svc.chain.batch_registry_origin)) if v is not None},
        "circuit_classes": svc.config.circuit_classes, "confirmations": svc.pipeline.confirmations,
        "proven": [p.to_json() for p in svc.pipeline.proven.all()] if svc.pipeline.proven is not None else [],
        "requests": counts, "inflight": svc.pipeline.inflight, "accepting": svc.pipeline.accepting,
        "max_in_flight": svc.config.max_in_flight, "prover_backend": svc.config.prover_backend,
        "cluster": ({"replica": svc.pipeline.cluster.replica, "submitter": svc.pipeline.cluster.is_submitter,
                     "lease_s": svc.config.cluster_lease_s} if svc.pipeline.cluster is not None else None),
    })


async def _read_model(request: web.Request) -> bytes:
    """A model upload: up to ``api.max_model_bytes`` (admin only, so larger than other bodies), read in chunks and
    refused (413) as soon as it passes the limit, within ``api.body_timeout_s`` per MiB (at least the plain one)."""
    config = request.app[CONFIG]
    limit = config.max_model_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"model upload of {request.content_length} bytes exceeds api.max_model_bytes = {limit}")
    chunks, size = [], 0
    timeout = config.body_timeout_s * max(1.0, (request.content_length or 0) / 2**20)
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.content.iter_chunked(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"model upload exceeds api.max_model_bytes = {limit}")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(f"model body not received within {timeout:g} s") from None
    return b"".join(chunks)


async def post_model(request: web.Request) -> web.Response:
    data = await _read_model(request)
    q = request.query
    return web.json_response(await request.app[SERVICE].register_model(data, q.get("name", ""),
                                                                       q.get("level", "commitment"), q.get("method")),
                             status=201)


async def post_calibration(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    return web.json_response(await svc.models.calibrate(request.match_info["model_hash"], await _json_body(request)),
                             status=201)


async def post_evaluation(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    return web.json_response(await svc.models.evaluate(request.match_info["model_hash"], await _json_body(request)))


async def get_models(request: web.Request) -> web.Response:
    return web.json_response({"models": await request.app[SERVICE].models.list()})


async def post_attestation(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        if not _REQUEST_ID_RE.match(key):
            raise web.HTTPBadRequest(text="Idempotency-Key must be 1-64 characters of [A-Za-z0-9._:-]")
        if await asyncio.to_thread(db.get_attestation, svc.engine, key) is not None:
            return web.json_response(await svc.attestation(key), status=200)
    wait = request.query.get("wait", "false").lower() in ("1", "true", "yes")
    status, body = await svc.attest(await _json_body(request), wait=wait, request_id=key)
    return web.json_response(body, status=status)


async def get_attestation(request: web.Request) -> web.Response:
    return web.json_response(await request.app[SERVICE].attestation(request.match_info["key"]))


async def get_disclosure(request: web.Request) -> web.Response:
    chain = request.query.get("chain")
    return web.json_response(await request.app[SERVICE].disclosure(request.match_info["key"], chain))


async def post_revoke(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    return web.json_response(await svc.revoke(request.match_info["key"], await _json_body(request)))


async def post_revoke_model(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    return web.json_response(await svc.revoke_model(request.match_info["model_hash"], await _json_body(request)))


async def rpc(request: web.Request) -> web.Response:
    """Read-only JSON-RPC for the embedded chain, so verifiers in other processes can reach it (rate limited per
    client IP; each call's gas and time capped, see the chain factory's serve_rpc)."""
    config = request.app[CONFIG]
    request.app[RPC_BUCKETS].take(request.remote or "")
    payload = await _json_body(request)
    if not isinstance(payload, dict):
        raise web.HTTPBadRequest(text="JSON-RPC batch requests are not supported")
    return web.json_response(await serve_rpc(request.app[ADAPTER], payload, config.rpc_gas_cap, config.rpc_timeout_s))


# -- resources ------------------------------------------------------------------------------------
async def resources(app: web.Application) -> AsyncIterator[None]:
    from prover.solidity import vk_calldata

    from node.verify.trust import vk_sha256

    config = app[CONFIG]
    db.secure_data_dir(config.data_dir)
    engine = db.make_engine(config.db_url)
    paths, vk = await asyncio.to_thread(ensure_keys, config.keys_dir, config.circuit_classes, config.prover_zkey)
    batch_keys = None
    if config.attestation_mode == "batch":
        batch_keys = await asyncio.to_thread(ensure_batch_keys, config.keys_dir, config.batch_size,
                                             config.circuit_classes)
    adapter = await open_primary(config)
    pool = prover_pool(paths, workers=config.prover_workers, batch_paths=batch_keys[0] if batch_keys else None,
                       backend=config.prover_backend, ray_address=config.ray_address)
    pipeline: Pipeline | None = None
    cluster = (Cluster(engine, ClusterSettings.of(config.replica_id, config.port, config.cluster_lease_s))
               if config.cluster_enabled else None)
    try:
        if cluster is not None:  # replicas starting together: one deploys, the others attach to what it recorded
            async with exclusive(engine, f"deploy:{adapter.kind}", cluster.replica, 120_000):
                deployment, origin = await deployments.single_registry(adapter, engine, config, vk_calldata(vk))
        else:
            deployment, origin = await deployments.single_registry(adapter, engine, config, vk_calldata(vk))
        batches, batch_origin = None, None
        if batch_keys is not None:
            batches, batch_origin = await deployments.batch_registry(adapter, engine, config,
                                                                     vk_calldata(batch_keys[1]))
        chain = ChainInfo(chain_id=int(adapter.network), registry=deployment.registry, verifier=deployment.verifier,
                          embedded=adapter.embedded,
                          batch_registry=batches.registry if batches else None,
                          batch_verifier=batches.verifier if batches else None,
                          registry_origin=origin.origin,
                          batch_registry_origin=batch_origin.origin if batch_origin else None,
                          attester=adapter.attester, vk_sha256=vk_sha256(vk_calldata(vk)),
                          batch_vk_sha256=vk_sha256(vk_calldata(batch_keys[1])) if batch_keys else None)
        models = ModelStore(engine, config.circuit_classes)
        targets = await open_targets(config, adapter, Path.cwd())
        proven = ProvenModels(engine, config.keys_dir, adapter) if isinstance(adapter, RegistryFamily) else None
        if proven is not None:
            await proven.start()
        pipeline = Pipeline(config=config, engine=engine, models=models, pool=pool, primary=adapter, chain=chain,
                            metrics=app[METRICS], batches=batch_chain(adapter) if batches else None,
                            targets=targets, proven=proven, cluster=cluster)
        app[ADAPTER] = adapter
        app[SERVICE] = NodeService(config, engine, models, pipeline, chain)
        await pipeline.start()
        if not (config.api_keys or config.admin_key):
            log.warning("no API keys configured: the API is open (development only)")
        log.info("node ready: chain %s registry %s verifier %s signer %s", chain.chain_id, chain.registry,
                 chain.verifier, adapter.attester)
        yield
    finally:
        if pipeline is not None:
            await pipeline.stop()
        pool.close()
        for target in (pipeline.targets if pipeline is not None else ()):
            await target.adapter.close()
        await adapter.close()
        engine.dispose()
        log.info("node stopped")


async def _stop_intake(app: web.Application) -> None:
    if SERVICE in app:
        app[SERVICE].pipeline.accepting = False


def build_app(config: NodeConfig) -> web.Application:
    app = web.Application(client_max_size=config.max_body_bytes,
                          middlewares=[request_id_middleware, error_middleware, auth_middleware])
    app[CONFIG] = config
    app[METRICS] = Metrics()
    app[RPC_BUCKETS] = TokenBuckets(config.rpc_rate_per_s, config.rpc_burst)
    app.cleanup_ctx.append(resources)
    app.on_shutdown.append(_stop_intake)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/v1/openapi.json", openapi)
    app.router.add_get("/v1/info", info)
    app.router.add_post("/v1/models", post_model)
    app.router.add_get("/v1/models", get_models)
    app.router.add_post("/v1/models/{model_hash}/calibration", post_calibration)
    app.router.add_post("/v1/models/{model_hash}/evaluation", post_evaluation)
    app.router.add_post("/v1/attestations", post_attestation)
    app.router.add_get("/v1/attestations/{key}", get_attestation)
    app.router.add_get("/v1/attestations/{key}/disclosure", get_disclosure)
    app.router.add_post("/v1/attestations/{key}/revoke", post_revoke)
    app.router.add_post("/v1/models/{model_hash}/revoke", post_revoke_model)
    add_web_routes(app)
    if config.rpc_url is None:
        app.router.add_post("/rpc", rpc)
    return app
