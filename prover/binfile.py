"""The iden3 binary container shared by circom/snarkjs files (``.r1cs``, ``.wtns``, ``.zkey``,
``.ptau``): 4-byte magic, u32 version, u32 section count, then sections of
``u32 type | u64 byte length | payload``, all little-endian. A section type may repeat in
principle; every format we read uses each type once, and a repeat is rejected.

Field elements are fixed-width little-endian integers; snarkjs stores curve points in Montgomery
form ("LEM": x * 2^256 mod q), which :func:`from_montgomery_q` undoes.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from .errors import SerializationError
from .fields import Q, R

#: Montgomery radix 2^256 inverted mod q (points) and its square's inverse mod r (zkey coefs).
_RINV_Q = pow(1 << 256, -1, Q)
_R2INV_R = pow(1 << 512, -1, R)


@dataclass(frozen=True)
class BinFile:
    """A parsed container: its magic, version and section payloads (views into ``data``)."""

    magic: str
    version: int
    sections: dict[int, memoryview]

    def section(self, kind: int) -> memoryview:
        if kind not in self.sections:
            raise SerializationError(f"{self.magic} file has no section {kind}")
        return self.sections[kind]


def parse_binfile(data: bytes, magic: str, max_version: int) -> BinFile:
    """Split ``data`` into sections after checking the magic and version."""
    view = memoryview(data)
    if len(data) < 12 or bytes(view[:4]) != magic.encode():
        raise SerializationError(f"not a .{magic} file (bad magic)")
    version, n_sections = struct.unpack_from("<II", data, 4)
    if not 1 <= version <= max_version:
        raise SerializationError(f".{magic} version {version} is not supported")
    pos = 12
    sections: dict[int, memoryview] = {}
    for _ in range(n_sections):
        if pos + 12 > len(data):
            raise SerializationError(f"truncated .{magic} section header")
        kind, size = struct.unpack_from("<IQ", data, pos)
        pos += 12
        if pos + size > len(data):
            raise SerializationError(f"truncated .{magic} section {kind}")
        if kind in sections:
            raise SerializationError(f"duplicate .{magic} section {kind}")
        sections[kind] = view[pos : pos + size]
        pos += size
    if pos != len(data):
        raise SerializationError(f"trailing bytes after the last .{magic} section")
    return BinFile(magic=magic, version=version, sections=sections)


def read_binfile(path: str | os.PathLike[str], magic: str, max_version: int) -> BinFile:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise SerializationError(f"cannot read {path}: {exc}") from exc
    return parse_binfile(data, magic, max_version)


def build_binfile(magic: str, version: int, sections: list[tuple[int, bytes]]) -> bytes:
    """Inverse of :func:`parse_binfile`."""
    out = [magic.encode(), struct.pack("<II", version, len(sections))]
    for kind, payload in sections:
        out.append(struct.pack("<IQ", kind, len(payload)))
        out.append(payload)
    return b"".join(out)


def le_int(buf: memoryview | bytes, offset: int, n8: int) -> int:
    return int.from_bytes(buf[offset : offset + n8], "little")


def le_ints(buf: memoryview | bytes, n8: int, count: int, offset: int = 0) -> list[int]:
    """``count`` consecutive ``n8``-byte little-endian integers."""
    end = offset + n8 * count
    if end > len(buf):
        raise SerializationError("section shorter than its declared element count")
    raw = bytes(buf[offset:end])
    return [int.from_bytes(raw[i : i + n8], "little") for i in range(0, n8 * count, n8)]


def from_montgomery_q(v: int) -> int:
    """Montgomery (x * 2^256 mod q) -> x; rejects non-canonical inputs."""
    if v >= Q:
        raise SerializationError("Montgomery coordinate >= q")
    return v * _RINV_Q % Q


def to_montgomery_q(v: int) -> int:
    return (v << 256) % Q


def zkey_coef_value(v: int) -> int:
    """A zkey coefficient (stored as c * 2^512 mod r for the wasm prover) -> c."""
    if v >= R:
        raise SerializationError("zkey coefficient >= r")
    return v * _R2INV_R % R
