"""Principals: raw bytes (at most 29), the textual form (CRC-32 + base32, dash-grouped), canister ranges.

Text form, per the IC interface specification: ``grouped(base32(crc32_be(b) · b))``, lowercase, no padding,
groups of five characters separated by ``-``. Parsing is strict: it re-encodes and compares, so a wrong
checksum, uppercase, a misplaced dash or padding are all rejected.

Canister ranges are closed intervals ``[lo, hi]`` of raw principals ordered lexicographically (byte-wise, as
Python compares ``bytes``): that is the order the IC's ``canister_ranges`` use.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from node.chains.icp import cbor
from node.chains.icp.errors import (
    CborError,
    PrincipalError,
)

MAX_PRINCIPAL_BYTES = 29


@dataclass(frozen=True, order=True)
class Principal:
    raw: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes) or len(self.raw) > MAX_PRINCIPAL_BYTES:
            raise PrincipalError(f"a principal is at most {MAX_PRINCIPAL_BYTES} bytes")

    @classmethod
    def from_text(cls, text: str) -> Principal:
        if not isinstance(text, str) or not text or len(text) > 63:
            raise PrincipalError("textual principal must be a non-empty string of at most 63 characters")
        compact = text.replace("-", "")
        try:
            decoded = base64.b32decode(compact.upper() + "=" * (-len(compact) % 8))
        except ValueError as exc:  # binascii.Error is a ValueError
            raise PrincipalError(f"textual principal {text!r} is not base32") from exc
        if len(decoded) < 4:
            raise PrincipalError(f"textual principal {text!r} is too short for its checksum")
        principal = cls(decoded[4:])
        if principal.to_text() != text:
            raise PrincipalError(f"textual principal {text!r} has a wrong checksum or is not in canonical form")
        return principal

    def to_text(self) -> str:
        checked = zlib.crc32(self.raw).to_bytes(4, "big") + self.raw
        compact = base64.b32encode(checked).decode("ascii").lower().rstrip("=")
        return "-".join(compact[i : i + 5] for i in range(0, len(compact), 5))

    def __str__(self) -> str:
        return self.to_text()


MANAGEMENT_CANISTER = Principal(b"")
ANONYMOUS = Principal(b"\x04")


@dataclass(frozen=True)
class CanisterRange:
    low: bytes
    high: bytes

    def __contains__(self, principal: bytes) -> bool:
        return self.low <= principal <= self.high


def parse_canister_ranges(blob: bytes) -> tuple[CanisterRange, ...]:
    """Decode a ``canister_ranges`` leaf: CBOR (tag 55799) array of ``[lo, hi]`` principal byte pairs."""
    try:
        value: Any = cbor.decode(blob, max_depth=4)
    except CborError as exc:
        raise PrincipalError(f"canister_ranges is not valid CBOR: {exc}") from exc
    if not isinstance(value, list):
        raise PrincipalError("canister_ranges must be an array of [low, high] pairs")
    ranges = []
    for pair in value:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(p, bytes) and len(p) <= MAX_PRINCIPAL_BYTES for p in pair)
        ):
            raise PrincipalError("each canister range must be [low, high] of principals (bytes, at most 29)")
        if pair[0] > pair[1]:
            raise PrincipalError("canister range with low > high")
        ranges.append(CanisterRange(pair[0], pair[1]))
    return tuple(ranges)


def in_ranges(principal: bytes, ranges: Iterable[CanisterRange]) -> bool:
    return any(principal in r for r in ranges)
