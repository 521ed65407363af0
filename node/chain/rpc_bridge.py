"""Serve the adapter's chain over JSON-RPC to other processes (read-only).

The node mounts :func:`handle_rpc_request` at ``/rpc`` so that ``zkxai verify --rpc-url http://HOST:PORT/rpc``
can read the in-process chain from another process. Only read methods are forwarded: the in-process chain has
unlocked, funded test accounts, so state-changing methods (``eth_sendTransaction``, ``evm_*``...) are refused.

For the in-process chain, eth-tester's Python-typed results (after web3's eth-tester middleware, which maps keys
and parameters to the JSON-RPC names) are re-encoded into JSON-RPC wire format: quantities as ``0x`` hex,
``logsBloom`` as 256-byte data. For a remote chain the request is forwarded as is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from web3.datastructures import NamedElementOnion
from web3.exceptions import Web3Exception

from .tester_provider import InProcessChainProvider

if TYPE_CHECKING:
    from .ethereum import EthereumAdapter

#: Read-only methods forwarded to the chain.
READ_METHODS = frozenset(
    {
        "web3_clientVersion",
        "net_version",
        "eth_chainId",
        "eth_blockNumber",
        "eth_call",
        "eth_estimateGas",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        "eth_getBalance",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_getTransactionCount",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getTransactionByHash",
        "eth_getTransactionReceipt",
        "eth_getLogs",
        "eth_syncing",
    }
)

_DATA_SIZES = {"logsBloom": 256}


def _error(request_id: object, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _to_wire(value: object, key: str | None = None) -> object:
    """Python-typed eth-tester result -> JSON-RPC wire value."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        size = _DATA_SIZES.get(key or "")
        if size is not None:
            return "0x" + value.to_bytes(size, "big").hex()
        return hex(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        # Transactions nested in blocks keep eth-tester's snake_case keys and "data" (the middleware maps only
        # top-level results): map them to the JSON-RPC names.
        is_tx = "nonce" in value and "from" in value and "data" in value
        out: dict[str, object] = {}
        for k, v in value.items():
            name = "input" if is_tx and k == "data" else _camel(str(k))
            out[name] = _to_wire(v, name)
        return out
    if isinstance(value, (list, tuple)):
        return [_to_wire(v, key) for v in value]
    raise TypeError(f"cannot encode {type(value).__name__} for JSON-RPC")


async def handle_rpc_request(adapter: EthereumAdapter, payload: object) -> dict[str, Any]:
    """Answer one JSON-RPC 2.0 request object (batches are not supported) from ``adapter``'s chain."""
    if not isinstance(payload, dict):
        return _error(None, -32600, "invalid request: expected one JSON-RPC object (batches are not supported)")
    request_id = payload.get("id")
    method = payload.get("method")
    params = payload.get("params", [])
    if payload.get("jsonrpc") != "2.0" or not isinstance(method, str) or not isinstance(params, list):
        return _error(request_id, -32600, "invalid request")
    if method not in READ_METHODS:
        return _error(request_id, -32601, f"method not available on this endpoint: {method}")

    provider = adapter.w3.provider
    try:
        if isinstance(provider, InProcessChainProvider):
            request = await provider.request_func(adapter.w3, NamedElementOnion([]))
            response = dict(await request(method, params))
        else:
            response = dict(await provider.make_request(method, params))  # type: ignore[arg-type]
    except Web3Exception as exc:
        return _error(request_id, -32602, f"{method} failed: {exc}")
    except Exception as exc:  # noqa: BLE001 - server boundary: eth-tester raises its own validation errors
        return _error(request_id, -32603, f"{method} failed: {type(exc).__name__}: {exc}")
    response["id"] = request_id
    response["jsonrpc"] = "2.0"
    if "result" in response and isinstance(provider, InProcessChainProvider):
        try:
            response["result"] = _to_wire(response["result"])
        except TypeError as exc:
            return _error(request_id, -32603, str(exc))
    return response
