"""Unsigned LEB128, the IC's encoding of natural numbers in the state tree (``/time``) and in request ids."""

from __future__ import annotations

from node.chains.icp.errors import LebError

MAX_BITS = 64  # the IC's naturals in certificates (nanoseconds) are u64


def encode_uleb128(value: int) -> bytes:
    """Shortest unsigned LEB128 encoding of a natural number of any size."""
    if value < 0:
        raise LebError("unsigned LEB128 of a negative number")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_uleb128(data: bytes, *, max_bits: int = MAX_BITS) -> int:
    """Decode one unsigned LEB128 number spanning all of ``data`` (no trailing bytes, below ``2**max_bits``)."""
    value = 0
    max_bytes = -(-max_bits // 7)
    for index, byte in enumerate(data):
        if index >= max_bytes:
            raise LebError(f"LEB128 number longer than {max_bytes} bytes")
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            if index != len(data) - 1:
                raise LebError(f"{len(data) - index - 1} trailing bytes after a LEB128 number")
            if value >> max_bits:
                raise LebError(f"LEB128 number does not fit in {max_bits} bits")
            return value
    raise LebError("truncated LEB128 number")
