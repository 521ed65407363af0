"""A strict, minimal CBOR (RFC 8949) codec for what the IC sends and accepts.

Decoded: unsigned integers, byte strings (``bytes``), UTF-8 text strings (``str``), definite-length arrays
(``list``) and maps with text keys (``dict``, no duplicate keys), ``false``/``true``/``null``, and the
self-describe tag 55799 (transparent, anywhere). Everything else (negative integers, floats, other tags,
indefinite lengths, ``undefined``, reserved additional information) raises :class:`CborError`.

Hostile input is bounded before any work: the input size (``max_size``), the nesting depth (``max_depth``,
so recursion stays shallow), and every announced length is checked against the bytes left, so a header
claiming 2^64 elements fails at once instead of allocating. Trailing bytes after the top item are an error.
"""

from __future__ import annotations

from typing import Any

from node.chains.icp.errors import CborError

SELF_DESCRIBE_TAG = 55799
SELF_DESCRIBE_PREFIX = b"\xd9\xd9\xf7"
MAX_SIZE = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_UINT = (1 << 64) - 1

_SIMPLE = {20: False, 21: True, 22: None}


class _Reader:
    __slots__ = ("data", "pos", "max_depth")

    def __init__(self, data: bytes, max_depth: int) -> None:
        self.data = data
        self.pos = 0
        self.max_depth = max_depth

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise CborError(f"truncated CBOR: need {n} bytes at offset {self.pos}, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def argument(self, info: int) -> int:
        if info < 24:
            return info
        if info == 24:
            return self.take(1)[0]
        if info == 25:
            return int.from_bytes(self.take(2), "big")
        if info == 26:
            return int.from_bytes(self.take(4), "big")
        if info == 27:
            return int.from_bytes(self.take(8), "big")
        if info == 31:
            raise CborError(f"indefinite-length CBOR item at offset {self.pos - 1} (the IC uses definite lengths)")
        raise CborError(f"reserved CBOR additional information {info} at offset {self.pos - 1}")

    def left(self) -> int:
        return len(self.data) - self.pos

    def item(self, depth: int) -> Any:
        if depth > self.max_depth:
            raise CborError(f"CBOR nested deeper than {self.max_depth} levels")
        start = self.pos
        initial = self.take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            if info in _SIMPLE:
                return _SIMPLE[info]
            raise CborError(f"unsupported CBOR simple value / float (0x{initial:02x}) at offset {start}")
        arg = self.argument(info)
        if major == 0:
            return arg
        if major == 1:
            raise CborError(f"negative integer at offset {start} (the IC's CBOR uses unsigned integers)")
        if major in (2, 3):
            if arg > self.left():
                raise CborError(f"truncated CBOR: string of {arg} bytes at offset {start}, {self.left()} left")
            raw = self.take(arg)
            if major == 2:
                return raw
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CborError(f"invalid UTF-8 in text string at offset {start}") from exc
        if major == 4:
            if arg > self.left():  # every element takes at least one byte
                raise CborError(f"truncated CBOR: array of {arg} items at offset {start}, {self.left()} bytes left")
            return [self.item(depth + 1) for _ in range(arg)]
        if major == 5:
            if 2 * arg > self.left():
                raise CborError(f"truncated CBOR: map of {arg} entries at offset {start}, {self.left()} bytes left")
            out: dict[str, Any] = {}
            for _ in range(arg):
                key_at = self.pos
                key = self.item(depth + 1)
                if not isinstance(key, str):
                    raise CborError(f"map key at offset {key_at} is not a text string")
                if key in out:
                    raise CborError(f"duplicate map key {key!r} at offset {key_at}")
                out[key] = self.item(depth + 1)
            return out
        # major 6: tags; only the self-describe tag, which carries no meaning
        if arg != SELF_DESCRIBE_TAG:
            raise CborError(f"unsupported CBOR tag {arg} at offset {start}")
        return self.item(depth + 1)


def decode(data: bytes, *, max_size: int = MAX_SIZE, max_depth: int = MAX_DEPTH) -> Any:
    """Decode exactly one CBOR item spanning all of ``data``."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CborError(f"CBOR input must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_size:
        raise CborError(f"CBOR input of {len(data)} bytes exceeds the limit of {max_size}")
    if not data:
        raise CborError("empty CBOR input")
    reader = _Reader(data, max_depth)
    value = reader.item(0)
    if reader.pos != len(data):
        raise CborError(f"{len(data) - reader.pos} trailing bytes after the CBOR item")
    return value


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * width):
            return bytes([major << 5 | info]) + arg.to_bytes(width, "big")
    raise CborError(f"integer {arg} does not fit in 64 bits")


def _encode(value: Any, out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CborError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        out += bytes([0xF6 if value is None else 0xF5 if value else 0xF4])
    elif isinstance(value, int):
        if value < 0:
            raise CborError("negative integers are not encoded (the IC's CBOR uses unsigned integers)")
        out += _head(0, value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        out += _head(2, len(raw)) + raw
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        out += _head(3, len(raw)) + raw
    elif isinstance(value, (list, tuple)):
        out += _head(4, len(value))
        for element in value:
            _encode(element, out, depth + 1)
    elif isinstance(value, dict):
        out += _head(5, len(value))
        for key, element in value.items():
            if not isinstance(key, str):
                raise CborError(f"map keys must be text, not {type(key).__name__}")
            _encode(key, out, depth + 1)
            _encode(element, out, depth + 1)
    else:
        raise CborError(f"cannot encode {type(value).__name__} as IC CBOR")


def encode(value: Any, *, self_describe: bool = True) -> bytes:
    """Encode ``value`` (shortest integer heads, definite lengths, map keys in insertion order).

    With ``self_describe`` (the default, as the IC's HTTP interface expects) the output starts with tag 55799.
    """
    out = bytearray(SELF_DESCRIBE_PREFIX if self_describe else b"")
    _encode(value, out, 0)
    return bytes(out)
