"""What a JSON-RPC provider's refusal means: rate limited, log range too large, too many log results.

Public providers answer the same conditions with different codes and words; these are the ones they publish (and
that :mod:`tests.provider_double` reproduces):

- rate limits: HTTP 429 with ``{"code": 429, "message": "Your app has exceeded its compute units per second
  capacity..."}`` (Alchemy), ``{"code": -32005, "message": "daily request count exceeded, request rate limited"}``
  (Infura), ``{"code": -32029 | -32090, "message": "... rate limit ..."}`` (others);
- log range caps: ``{"code": -32000, "message": "exceed maximum block range: 10000"}`` (geth-derived public
  endpoints, Base), ``"eth_getLogs is limited to a 10,000 range"`` (QuickNode), ``"block range is too wide"``;
- log result caps: ``{"code": -32005, "message": "query returned more than 10000 results. Try with this block range
  [0x.., 0x..]."}`` (Infura), ``{"code": -32602, "message": "Log response size exceeded. ... this block range should
  work: [0x.., 0x..]"}`` (Alchemy). A suggested range, when given, is parsed (:func:`hinted_range`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RATE_LIMITED, RANGE_TOO_LARGE, TOO_MANY_RESULTS = "rate_limited", "range_too_large", "too_many_results"

_RATE = ("rate limit", "rate-limit", "too many requests", "compute units", "request rate", "capacity",
         "exceeded the rate", "throughput")
_RESULTS = ("more than", "results", "response size", "too many logs", "log response")
_RANGE = ("block range", "range is too", "maximum block range", "is limited to", "range too large",
          "range exceeds", "max range", "blocks range", "exceed max")
_HINT = re.compile(r"\[\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\]")


@dataclass(frozen=True)
class RpcRefusal:
    """A classified provider refusal: ``kind`` (:data:`RATE_LIMITED`, :data:`RANGE_TOO_LARGE`,
    :data:`TOO_MANY_RESULTS`) and the block range the provider suggested, if any."""

    kind: str
    hint: tuple[int, int] | None = None


def hinted_range(message: str) -> tuple[int, int] | None:
    """The ``[0x.., 0x..]`` block range a provider suggests in its refusal, if any."""
    match = _HINT.search(message)
    return (int(match.group(1), 16), int(match.group(2), 16)) if match else None


def classify(code: object, message: str) -> RpcRefusal | None:
    """What a JSON-RPC error object (``code``, ``message``) means, or None when it is not a provider limit (a revert,
    a bad request: the caller's to handle)."""
    text = message.lower()
    if code == 429 or any(word in text for word in _RATE):
        return RpcRefusal(RATE_LIMITED)
    if any(word in text for word in _RESULTS) and ("log" in text or "result" in text or "query" in text):
        return RpcRefusal(TOO_MANY_RESULTS, hinted_range(message))
    if any(word in text for word in _RANGE):
        return RpcRefusal(RANGE_TOO_LARGE, hinted_range(message))
    return None


def classify_exception(exc: BaseException) -> RpcRefusal | None:
    """:func:`classify` of a web3 ``Web3RPCError`` (its ``rpc_response``) or any exception's text."""
    response = getattr(exc, "rpc_response", None)
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        err = response["error"]
        return classify(err.get("code"), str(err.get("message", "")))
    return classify(None, str(exc))


__all__ = ["RATE_LIMITED", "RANGE_TOO_LARGE", "TOO_MANY_RESULTS", "RpcRefusal", "classify", "classify_exception",
           "hinted_range"]
