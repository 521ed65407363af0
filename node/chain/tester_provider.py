"""An in-process chain (eth-tester, py-evm backend) that reports reverts like a real node.

web3's stock :class:`AsyncEthereumTesterProvider` turns a reverted ``eth_call`` into a Python exception whose
message holds the revert bytes as a ``repr`` string. A real node (geth, anvil) instead answers with a JSON-RPC
error ``{code: 3, message: "execution reverted", data: "0x<revert data>"}``, which web3 maps to
``ContractCustomError``. This subclass produces the real-node shape, so the adapter, the reader and the RPC
bridge decode custom errors through one path for both kinds of chain.

eth-tester is imported lazily (it is a ``node`` extra, not part of the light verifier install).
"""

from __future__ import annotations

import ast
from typing import Any, cast

from web3.providers.eth_tester import AsyncEthereumTesterProvider
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

    async def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        from eth_tester.exceptions import TransactionFailed

        request_id = self._current_request_id
        try:
            return await super().make_request(method, params)
        except TransactionFailed as exc:
            message = str(exc.args[0]) if exc.args else "execution reverted"
            data = _revert_data(message)
            error: dict[str, Any] = {"code": 3, "message": "execution reverted"}
            if data is not None:
                error["data"] = "0x" + data.hex()
            else:
                error["message"] = message
            return cast(RPCResponse, {"jsonrpc": "2.0", "id": repr(request_id), "error": error})
