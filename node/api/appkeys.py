"""The application's typed keys (aiohttp ``AppKey`` / ``RequestKey``), apart from :mod:`node.api.app` so that the
handler modules it registers (:mod:`node.api.web_pages`) can read them without importing the app module back."""

from __future__ import annotations

from aiohttp import web

from node.api.rate_limit import TokenBuckets
from node.api.service import NodeService
from node.chains.adapter import PrimaryChain
from node.config import NodeConfig
from node.metrics import Metrics

CONFIG = web.AppKey("config", NodeConfig)
SERVICE = web.AppKey("service", NodeService)
ADAPTER = web.AppKey("adapter", PrimaryChain)
METRICS = web.AppKey("metrics", Metrics)
RPC_BUCKETS = web.AppKey("rpc_buckets", TokenBuckets)
REQUEST_ID = web.RequestKey("request_id", str)
