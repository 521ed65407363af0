"""The aiohttp application: thin handlers, typed AppKeys, cleanup contexts, JSON errors.

Resources live in cleanup contexts, opened in order and closed in reverse on shutdown:
database -> chain (embedded EVM or RPC; deploys the registry if none is configured) -> prover pool.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from explainers.errors import ExplainerError, InvalidInput, UnknownMethod

from contracts import abi as contracts_abi

from . import db
from .chain.ethereum import EthereumAdapter
from .config import NodeConfig
from .errors import NodeError
from .pipeline import Attester
from .proving import ProverPool, ensure_keys
from .service import ChainInfo, NodeService

log = logging.getLogger("zkxai.node")

CONFIG = web.AppKey("config", NodeConfig)
SERVICE = web.AppKey("service", NodeService)
ADAPTER = web.AppKey("adapter", EthereumAdapter)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except NodeError as exc:
        return _error(exc.status, exc.code, str(exc))
    except (InvalidInput, UnknownMethod) as exc:
        code = "unknown_method" if isinstance(exc, UnknownMethod) else "invalid_input"
        return _error(400, code, str(exc))
    except ExplainerError as exc:
        return _error(422, "unprocessable_model", str(exc))
    except web.HTTPRequestEntityTooLarge as exc:
        return _error(413, "payload_too_large", exc.text or "request body too large")
    except web.HTTPException as exc:
        return _error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, "internal_error", "internal error; the request was recorded, see the node log")


async def _json_body(request: web.Request) -> object:
    try:
        return await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"body is not valid JSON: {exc}") from None


# -- handlers -------------------------------------------------------------------------------------
async def healthz(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    return web.json_response({"status": "ok", "chain_id": svc.chain.chain_id, "registry": svc.chain.registry})


async def info(request: web.Request) -> web.Response:
    svc = request.app[SERVICE]
    return web.json_response({
        "chain_id": svc.chain.chain_id, "registry": svc.chain.registry, "verifier": svc.chain.verifier,
        "embedded_chain": svc.chain.embedded, "rpc_path": "/rpc" if svc.chain.embedded else None,
        "circuit_classes": svc.config.circuit_classes,
    })


async def post_model(request: web.Request) -> web.Response:
    data = await request.read()
    result = await request.app[SERVICE].register_model(data, request.query.get("name", ""))
    return web.json_response(result, status=201)


async def get_models(request: web.Request) -> web.Response:
    return web.json_response({"models": await request.app[SERVICE].list_models()})


async def post_attestation(request: web.Request) -> web.Response:
    result = await request.app[SERVICE].attest(await _json_body(request))
    return web.json_response(result, status=201)


async def get_attestation(request: web.Request) -> web.Response:
    return web.json_response(await request.app[SERVICE].attestation(request.match_info["key"]))


async def get_disclosure(request: web.Request) -> web.Response:
    return web.json_response(await request.app[SERVICE].disclosure(request.match_info["key"]))


async def rpc(request: web.Request) -> web.Response:
    """JSON-RPC for the embedded chain, so verifiers in other processes can reach it."""
    from .chain.rpc_bridge import handle_rpc_request

    payload = await _json_body(request)
    if not isinstance(payload, dict):
        raise web.HTTPBadRequest(text="JSON-RPC batch requests are not supported")
    return web.json_response(await handle_rpc_request(request.app[ADAPTER], payload))


# -- resources ------------------------------------------------------------------------------------
async def resources(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    engine = db.make_engine(config.db_url)
    paths, vk = ensure_keys(config.keys_dir, config.circuit_classes)
    if config.rpc_url is None:
        adapter = await EthereumAdapter.in_process()
    else:
        assert config.private_key is not None
        adapter = await EthereumAdapter.connect(config.rpc_url, config.private_key)
    pool = ProverPool(paths, workers=config.prover_workers)
    try:
        from prover.solidity import vk_calldata

        if config.registry is None:
            deployment = await adapter.deploy_registry(vk_calldata(vk))
        else:
            deployment = await adapter.attach_registry(config.registry)
            await _check_onchain_key(adapter, deployment.verifier, vk)
        registry, verifier = deployment.registry, deployment.verifier
        chain = ChainInfo(chain_id=adapter.chain_id, registry=registry, verifier=verifier,
                          embedded=config.rpc_url is None)
        attester = Attester(chain=adapter, pool=pool, circuit_classes=config.circuit_classes,
                            chain_id=chain.chain_id, registry=registry)
        app[ADAPTER] = adapter
        app[SERVICE] = NodeService(config, engine, attester, chain)
        log.info("node ready: chain %s registry %s verifier %s", chain.chain_id, registry, verifier)
        yield
    finally:
        pool.close()
        await adapter.close()
        engine.dispose()


async def _check_onchain_key(adapter: EthereumAdapter, verifier: str, vk: object) -> None:
    """Refuse to start against a registry whose verifier holds another key: every proof would be rejected."""
    from prover.solidity import vk_calldata

    from .chain.calldata import verifying_key_words
    from .errors import ConfigError

    contract = adapter.w3.eth.contract(address=verifier, abi=contracts_abi("Groth16Verifier"))
    onchain = await contract.functions.verifyingKey().call()
    if verifying_key_words(onchain) != verifying_key_words(vk_calldata(vk)):  # type: ignore[arg-type]
        raise ConfigError(
            f"the registry's verifier {verifier} holds a different verifying key than this node's keys; "
            "use the keys it was deployed with, or deploy a new registry"
        )


def build_app(config: NodeConfig) -> web.Application:
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[error_middleware])
    app[CONFIG] = config
    app.cleanup_ctx.append(resources)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/v1/info", info)
    app.router.add_post("/v1/models", post_model)
    app.router.add_get("/v1/models", get_models)
    app.router.add_post("/v1/attestations", post_attestation)
    app.router.add_get("/v1/attestations/{key}", get_attestation)
    app.router.add_get("/v1/attestations/{key}/disclosure", get_disclosure)
    if config.rpc_url is None:
        app.router.add_post("/rpc", rpc)
    return app
