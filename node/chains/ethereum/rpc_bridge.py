"""Serve the adapter's chain over JSON-RPC to other processes (read-only).

The node mounts :func:`handle_rpc_request` at ``/rpc`` so that ``zkxai verify --rpc-url http://HOST:PORT/rpc``
can read the in-process chain from another process. Only read methods are forwarded: the in-process chain has
unlocked, funded test accounts, so state-changing methods (``eth_sendTransaction``, ``evm_*``...) are refused.

Hostile callers: ``eth_call`` and ``eth_estimateGas`` run with at most :attr:`RpcLimits.gas_cap` gas per execution
(a larger ``gas`` is lowered to the cap, as geth's ``--rpc.gascap`` does; ``eth_estimateGas`` is a binary search over
capped ``eth_call`` s, so it never runs the chain's whole block gas limit), every request is answered within
:attr:`RpcLimits.timeout_s`, and the in-process chain executes on its own thread (see
:mod:`node.chains.ethereum.tester_provider`), so an endless loop in init code costs one capped call, not the event loop.
Rate limiting per client is the HTTP handler's job (:mod:`node.api.rate_limit`).

For the in-process chain, eth-tester's Python-typed results (after web3's eth-tester middleware, which maps keys
and parameters to the JSON-RPC names) are re-encoded into JSON-RPC wire format: quantities as ``0x`` hex,
``logsBloom`` as 256-byte data. For a remote chain the request is forwarded as is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from web3.datastructures import NamedElementOnion
from web3.exceptions import Web3Exception

from node.chains.ethereum.tester_provider import InProcessChainProvider

if TYPE_CHECKING:
    from node.chains.ethereum.adapter import EthereumAdapter

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
#: Methods that execute EVM code and take a transaction object as their first parameter.
_EXECUTING = frozenset({"eth_call", "eth_estimateGas"})
#: Intrinsic gas of a transaction: the lower end of the eth_estimateGas search.
_TX_GAS = 21_000
#: eth_estimateGas stops once the bracket is within 1/64 of the answer (the answer errs high, never low) ...
_ESTIMATE_PRECISION = 64
#: ... or after this many probes.
_ESTIMATE_PROBES = 10


@dataclass(frozen=True)
class RpcLimits:
    """Bounds on one ``/rpc`` request (``[rpc]`` in the node configuration)."""

    gas_cap: int = 1_000_000
    timeout_s: float = 5.0


Call = Callable[[str, list[Any]], Awaitable[dict[str, Any]]]


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


def _capped_params(method: str, params: list[Any], gas_cap: int) -> list[Any] | None:
    """``params`` with the transaction's gas set to at most ``gas_cap`` (None: not a transaction object)."""
    if method not in _EXECUTING:
        return params
    if not params or not isinstance(params[0], dict):
        return None
    tx = dict(params[0])
    given = tx.get("gas")
    try:
        gas = gas_cap if given is None else int(given, 16) if isinstance(given, str) else int(given)
    except (TypeError, ValueError):
        return None
    if isinstance(given, bool) or gas < 0:
        return None
    tx["gas"] = hex(min(gas, gas_cap))
    return [tx, *params[1:]]


async def _fails(call: Call, params: list[Any]) -> bool:
    """Whether the transaction fails with this gas (below its intrinsic gas eth-tester raises instead)."""
    try:
        return "error" in await call("eth_call", params)
    except Exception:  # noqa: BLE001 - e.g. py-evm's ValidationError for gas under the intrinsic cost
        return True


async def _estimate_gas(call: Call, params: list[Any]) -> dict[str, Any]:
    """Gas for the transaction: a binary search over ``eth_call`` s, none above the (already capped) ``gas``."""
    tx, rest = params[0], params[1:]
    hi = int(tx["gas"], 16)
    first = await call("eth_call", [tx, *rest])
    if "error" in first:
        error = dict(first["error"])
        error["message"] = f"{error.get('message', 'execution failed')} (with {hi} gas, this endpoint's cap)"
        return {"error": error}
    lo = _TX_GAS - 1
    for _ in range(_ESTIMATE_PROBES):
        if hi - lo <= max(1, hi // _ESTIMATE_PRECISION):
            break
        mid = (lo + hi) // 2
        if await _fails(call, [{**tx, "gas": hex(mid)}, *rest]):
            lo = mid
        else:
            hi = mid
    return {"result": hi}


async def _forward(provider: Any, method: str, params: list[Any]) -> dict[str, Any]:
    return dict(await provider.make_request(method, params))


async def handle_rpc_request(adapter: EthereumAdapter, payload: object,
                             limits: RpcLimits = RpcLimits()) -> dict[str, Any]:
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
    if isinstance(provider, InProcessChainProvider):  # our chain: cap the gas of what it executes
        request = await provider.request_func(adapter.w3, NamedElementOnion([]))
        capped = _capped_params(method, params, limits.gas_cap)
        if capped is None:
            return _error(request_id, -32602, f"{method} needs a transaction object with a numeric gas (if any)")

        async def call(name: str, args: list[Any]) -> dict[str, Any]:
            return dict(await request(name, args))

        work = _estimate_gas(call, capped) if method == "eth_estimateGas" else call(method, capped)
    else:  # a remote node applies its own caps
        work = _forward(provider, method, params)
    try:
        async with asyncio.timeout(limits.timeout_s):
            response = await work
    except TimeoutError:
        return _error(request_id, -32000, f"{method} took longer than {limits.timeout_s} s; refused")
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
