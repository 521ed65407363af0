"""Request envelopes of the IC's HTTP interface: ``content`` maps, their signatures and the CBOR body.

A signed envelope is ``{content, sender_pubkey, sender_sig}`` with ``sender_sig`` the sender's signature over
``0x0A "ic-request" || request_id(content)``; an anonymous one is ``{content}`` (sender 0x04). ``ingress_expiry``
is nanoseconds since the epoch; replicas accept at most five minutes ahead, so requests expire 4 minutes out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from node.chains.icp import cbor
from node.chains.icp.identity import Ed25519Identity
from node.chains.icp.principal import ANONYMOUS
from node.chains.icp.request_id import request_id, signable

DEFAULT_EXPIRY_NS = 4 * 60 * 1_000_000_000


@dataclass(frozen=True)
class Envelope:
    content: dict[str, Any]
    request_id: bytes
    body: bytes  # the CBOR (tag 55799) bytes to POST


def _sender(identity: Ed25519Identity | None) -> bytes:
    return identity.principal.raw if identity is not None else ANONYMOUS.raw


def seal(content: dict[str, Any], identity: Ed25519Identity | None) -> Envelope:
    rid = request_id(content)
    envelope: dict[str, Any] = {"content": content}
    if identity is not None:
        envelope["sender_pubkey"] = identity.der_public_key
        envelope["sender_sig"] = identity.sign(signable(content))
    return Envelope(content, rid, cbor.encode(envelope))


def _expiry(clock: Callable[[], int] | None, expiry_ns: int) -> int:
    return (clock or time.time_ns)() + expiry_ns


def call_content(identity: Ed25519Identity | None, canister_id: bytes, method: str, arg: bytes, *,
                 request_type: str = "call", clock: Callable[[], int] | None = None,
                 expiry_ns: int = DEFAULT_EXPIRY_NS) -> dict[str, Any]:
    """The content of a ``call`` (update, with a fresh nonce so equal calls get distinct ids) or ``query``."""
    content: dict[str, Any] = {
        "request_type": request_type,
        "sender": _sender(identity),
        "ingress_expiry": _expiry(clock, expiry_ns),
        "canister_id": canister_id,
        "method_name": method,
        "arg": arg,
    }
    if request_type == "call":
        content["nonce"] = os.urandom(16)
    return content


def read_state_content(identity: Ed25519Identity | None, paths: Sequence[Sequence[bytes]], *,
                       clock: Callable[[], int] | None = None, expiry_ns: int = DEFAULT_EXPIRY_NS) -> dict[str, Any]:
    return {
        "request_type": "read_state",
        "sender": _sender(identity),
        "ingress_expiry": _expiry(clock, expiry_ns),
        "paths": [[bytes(p) for p in path] for path in paths],
    }
