"""An in-process chain (eth-tester, py-evm backend) that reports reverts like a real node.

web3's stock :class:`AsyncEthereumTesterProvider` turns a reverted ``eth_call`` into a Python exception whose
message holds the revert bytes as a ``repr`` string. A real node (geth, anvil) instead answers with a JSON-RPC
error ``{code: 3, message: "execution reverted", data: "0x<revert data>"}``, which web3 maps to
``ContractCustomError``. This subclass produces the real-node shape, so the adapter, the reader and the RPC
bridge decode custom errors through one path for both kinds of chain.

Every request runs on one dedicated thread (the chain thread), never on the event loop: py-evm executes contracts
in Python, and a long call (an ``eth_call`` from ``/rpc`` that burns its whole gas cap) must not stall the node's
HTTP server. One thread also keeps eth-tester, which is not thread-safe, to one caller at a time.

eth-tester is imported lazily (it is a ``node`` extra, not part of the light verifier install). py-evm raises the
recursion limit to 100000 on import; :func:`node.json_guard.restore_recursion_limit` puts it back.
"""

from __future__ import annotations

import ast
import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from web3.providers.eth_tester import AsyncEthereumTesterProvider
from web3.providers.eth_tester.main import _make_request
from web3.types import RPCEndpoint, RPCResponse

_PREFIX = "execution reverted: "


def _revert_data(message: str) -> bytes | None:
    """Revert bytes from eth-tester's ``execution reverted: b'...'`` message, if it carries them."""
    text = message[len(_PREFIX) :] if message.startswith(_PREFIX) else message
    if not text.startswith(("b'", 'b"')):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, bytes) else None


class InProcessChainProvider(AsyncEthereumTesterProvider):
    """eth-tester provider whose reverts come back as JSON-RPC errors carrying the revert data."""

    def __init__(self) -> None:
        super().__init__()
        from node.json_guard import restore_recursion_limit

        restore_recursion_limit()
        self._chain_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zkxai-evm")

    async def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        from eth_tester.exceptions import TransactionFailed

        request_id = self._current_request_id
        self._current_request_id += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._chain_thread, _make_request, method, params, self.api_endpoints, self.ethereum_tester,
                repr(request_id))
        except TransactionFailed as exc:
            message = str(exc.args[0]) if exc.args else "execution reverted"
            data = _revert_data(message)
            error: dict[str, Any] = {"code": 3, "message": "execution reverted"}
            if data is not None:
                error["data"] = "0x" + data.hex()
            else:
                error["message"] = message
            return cast(RPCResponse, {"jsonrpc": "2.0", "id": repr(request_id), "error": error})
