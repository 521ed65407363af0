"""Request ids: the representation-independent hash of a request's ``content`` map (IC interface spec).

``hash(blob) = H(blob)``, ``hash(text) = H(utf8)``, ``hash(nat) = H(leb128)``, ``hash(array) = H(concat of
hash(element))``, ``hash(map) = H(concat of sorted (H(key) · hash(value)))``; ``H`` is SHA-256. Fields whose
value is ``None`` are left out (an absent optional field). The signature on a request is over
``0x0A "ic-request" || request_id``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from node.chains.icp.errors import RequestIdError
from node.chains.icp.leb128 import encode_uleb128

REQUEST_DOMAIN = b"\x0aic-request"
MAX_DEPTH = 32


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash_value(value: Any, _depth: int = 0) -> bytes:
    if _depth > MAX_DEPTH:
        raise RequestIdError(f"request content nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _sha256(bytes(value))
    if isinstance(value, str):
        return _sha256(value.encode("utf-8"))
    if isinstance(value, bool):
        raise RequestIdError("booleans have no representation-independent hash")
    if isinstance(value, int):
        if value < 0:
            raise RequestIdError("negative integers have no representation-independent hash here")
        return _sha256(encode_uleb128(value))
    if isinstance(value, (list, tuple)):
        return _sha256(b"".join(hash_value(element, _depth + 1) for element in value))
    if isinstance(value, Mapping):
        return hash_map(value, _depth + 1)
    raise RequestIdError(f"no representation-independent hash for {type(value).__name__}")


def hash_map(content: Mapping[str, Any], _depth: int = 0) -> bytes:
    pairs = []
    for key, value in content.items():
        if not isinstance(key, str):
            raise RequestIdError(f"map keys must be text, not {type(key).__name__}")
        if value is None:
            continue
        pairs.append(_sha256(key.encode("utf-8")) + hash_value(value, _depth))
    return _sha256(b"".join(sorted(pairs)))


def request_id(content: Mapping[str, Any]) -> bytes:
    """The 32-byte request id of a ``content`` map."""
    return hash_map(content)


def signable(content: Mapping[str, Any]) -> bytes:
    """The bytes a sender signs for this content: ``0x0A "ic-request" || request_id``."""
    return REQUEST_DOMAIN + request_id(content)
