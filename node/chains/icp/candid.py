"""A minimal Candid (IDL) codec: the types the zkxai registry canister's interface uses.

Encoding takes a type description and a value; decoding reads the type table the sender wrote (so it follows the
wire, not our expectation) and returns plain Python values. Types are described with strings and tuples:

``"null" "bool" "nat" "int" "nat8" "nat16" "nat32" "nat64" "text" "principal" "reserved"``, ``"blob"`` (vec nat8),
``("opt", T)``, ``("vec", T)``, ``("record", ((name, T), ...))``, ``("variant", ((name, T), ...))``.

Decoded values: naturals/integers as ``int``, ``text`` as ``str``, ``vec nat8`` as ``bytes``, ``opt`` as ``None``
or the value, records as ``dict`` (keys: the field name when ``names`` knows its hash, else the numeric id),
variants as a one-entry ``dict``, principals as :class:`~node.chains.icp.principal.Principal`.
Hostile input is bounded: every length is checked against the bytes left, the type table's size and nesting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from node.chains.icp.errors import CandidError
from node.chains.icp.leb128 import encode_uleb128
from node.chains.icp.principal import MAX_PRINCIPAL_BYTES, Principal

MAGIC = b"DIDL"
MAX_DEPTH = 32
MAX_TYPES = 256
MAX_LEB_BITS = 1024  # naturals up to 2^1024 (statement values are below 2^254)
PRIMITIVES = {
    "null": -1, "bool": -2, "nat": -3, "int": -4, "nat8": -5, "nat16": -6, "nat32": -7, "nat64": -8,
    "int8": -9, "int16": -10, "int32": -11, "int64": -12, "text": -15, "reserved": -16, "empty": -17,
    "principal": -24,
}
_BY_CODE = {code: name for name, code in PRIMITIVES.items()}
_FIXED = {"nat8": 1, "nat16": 2, "nat32": 4, "nat64": 8, "int8": 1, "int16": 2, "int32": 4, "int64": 8}
OPT, VEC, RECORD, VARIANT = -18, -19, -20, -21


def field_hash(name: str) -> int:
    """The Candid field id of a name: sum of utf8 bytes times 223^k, mod 2^32."""
    h = 0
    for byte in name.encode("utf-8"):
        h = (h * 223 + byte) & 0xFFFFFFFF
    return h


def _sleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte if done else byte | 0x80)
        if done:
            return bytes(out)


def _norm(t: Any) -> Any:
    if t == "blob":
        return ("vec", "nat8")
    if isinstance(t, str):
        if t not in PRIMITIVES:
            raise CandidError(f"unknown Candid type {t!r}")
        return t
    kind = t[0]
    if kind in ("opt", "vec"):
        return (kind, _norm(t[1]))
    if kind in ("record", "variant"):
        fields = sorted(((field_hash(n) if isinstance(n, str) else n, n, _norm(ft)) for n, ft in t[1]),
                        key=lambda f: f[0])
        ids = [f[0] for f in fields]
        if len(set(ids)) != len(ids):
            raise CandidError(f"field id collision in {t!r}")
        return (kind, tuple(fields))
    raise CandidError(f"unknown Candid type {t!r}")


class _Table:
    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.index: dict[Any, int] = {}

    def ref(self, t: Any) -> bytes:
        if isinstance(t, str):
            return _sleb(PRIMITIVES[t])
        if t in self.index:
            return _sleb(self.index[t])
        kind = t[0]
        if kind in ("opt", "vec"):
            body = _sleb(OPT if kind == "opt" else VEC) + self.ref(t[1])
        else:
            body = _sleb(RECORD if kind == "record" else VARIANT) + encode_uleb128(len(t[1]))
            for fid, _, ft in t[1]:
                body += encode_uleb128(fid) + self.ref(ft)
        self.index[t] = len(self.entries)
        self.entries.append(body)
        return _sleb(self.index[t])


def _value(t: Any, v: Any, out: bytearray) -> None:
    if isinstance(t, str):
        if t == "null" or t == "reserved":
            return
        if t == "bool":
            if not isinstance(v, bool):
                raise CandidError(f"bool expected, got {v!r}")
            out.append(1 if v else 0)
        elif t in ("nat", "int") or t in _FIXED:
            if isinstance(v, bool) or not isinstance(v, int):
                raise CandidError(f"{t} expected, got {v!r}")
            if t == "nat":
                if v < 0:
                    raise CandidError("nat must not be negative")
                out += encode_uleb128(v)
            elif t == "int":
                out += _sleb(v)
            else:
                try:
                    out += v.to_bytes(_FIXED[t], "little", signed=t.startswith("int"))
                except OverflowError:
                    raise CandidError(f"{v} does not fit in {t}") from None
        elif t == "text":
            raw = v.encode("utf-8")
            out += encode_uleb128(len(raw)) + raw
        elif t == "principal":
            raw = v.raw if isinstance(v, Principal) else Principal(bytes(v)).raw
            out += b"\x01" + encode_uleb128(len(raw)) + raw
        else:
            raise CandidError(f"cannot encode a value of type {t}")
        return
    kind = t[0]
    if kind == "opt":
        if v is None:
            out.append(0)
        else:
            out.append(1)
            _value(t[1], v, out)
    elif kind == "vec":
        if t[1] == "nat8" and isinstance(v, (bytes, bytearray)):
            out += encode_uleb128(len(v)) + bytes(v)
            return
        out += encode_uleb128(len(v))
        for element in v:
            _value(t[1], element, out)
    elif kind == "record":
        for fid, name, ft in t[1]:
            key = name if name in v else fid
            if key not in v:
                raise CandidError(f"record field {name!r} missing")
            _value(ft, v[key], out)
    else:
        if not isinstance(v, dict) or len(v) != 1:
            raise CandidError("a variant value is a one-entry dict {tag: value}")
        (tag, inner), = v.items()
        for position, (fid, name, ft) in enumerate(t[1]):
            if tag in (name, fid):
                out += encode_uleb128(position)
                _value(ft, inner, out)
                return
        raise CandidError(f"unknown variant tag {tag!r}")


def encode(types: Sequence[Any], values: Sequence[Any]) -> bytes:
    """The Candid message ``DIDL`` + type table + argument types + values."""
    if len(types) != len(values):
        raise CandidError("one value per type")
    normed = [_norm(t) for t in types]
    table = _Table()
    refs = [table.ref(t) for t in normed]
    body = bytearray()
    for t, v in zip(normed, values):
        _value(t, v, body)
    return MAGIC + encode_uleb128(len(table.entries)) + b"".join(table.entries) + encode_uleb128(len(refs)) + b"".join(
        refs) + bytes(body)


class _Reader:
    def __init__(self, data: bytes, names: dict[int, str]) -> None:
        self.data, self.pos, self.names = data, 0, names

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise CandidError(f"truncated Candid: need {n} bytes at offset {self.pos}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uleb(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value
            if shift > MAX_LEB_BITS:
                raise CandidError("LEB128 number too long")

    def sleb(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value - (1 << shift) if byte & 0x40 else value
            if shift > MAX_LEB_BITS:
                raise CandidError("LEB128 number too long")

    def table(self) -> list[tuple]:
        count = self.uleb()
        if count > MAX_TYPES:
            raise CandidError(f"type table of {count} entries (limit {MAX_TYPES})")
        entries = []
        for _ in range(count):
            code = self.sleb()
            if code in (OPT, VEC):
                entries.append((code, self.sleb()))
            elif code in (RECORD, VARIANT):
                n = self.uleb()
                if n > len(self.data) - self.pos:
                    raise CandidError("truncated Candid type table")
                fields, last = [], -1
                for _ in range(n):
                    fid, ft = self.uleb(), self.sleb()
                    if fid <= last or fid > 0xFFFFFFFF:
                        raise CandidError("record/variant field ids must be strictly increasing u32")
                    last = fid
                    fields.append((fid, ft))
                entries.append((code, tuple(fields)))
            else:
                raise CandidError(f"unsupported Candid type constructor {code}")
        for entry in entries:
            refs = [entry[1]] if entry[0] in (OPT, VEC) else [f[1] for f in entry[1]]
            for ref in refs:
                if ref >= len(entries) or (ref < 0 and ref not in _BY_CODE):
                    raise CandidError(f"type reference {ref} out of the table")
        return entries

    def value(self, ref: int, table: list[tuple], depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise CandidError(f"Candid value nested deeper than {MAX_DEPTH}")
        if ref < 0:
            name = _BY_CODE[ref]
            if name in ("null", "reserved"):
                return None
            if name == "empty":
                raise CandidError("a value of type empty cannot exist")
            if name == "bool":
                byte = self.take(1)[0]
                if byte > 1:
                    raise CandidError("bool byte is not 0 or 1")
                return bool(byte)
            if name == "nat":
                return self.uleb()
            if name == "int":
                return self.sleb()
            if name in _FIXED:
                return int.from_bytes(self.take(_FIXED[name]), "little", signed=name.startswith("int"))
            if name == "text":
                try:
                    return self.take(self.uleb()).decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise CandidError("text is not UTF-8") from exc
            if self.take(1) != b"\x01":
                raise CandidError("opaque principal references are not supported")
            size = self.uleb()
            if size > MAX_PRINCIPAL_BYTES:
                raise CandidError("principal longer than 29 bytes")
            return Principal(self.take(size))
        code, arg = table[ref]
        if code == OPT:
            flag = self.take(1)[0]
            if flag > 1:
                raise CandidError("opt flag is not 0 or 1")
            return self.value(arg, table, depth + 1) if flag else None
        if code == VEC:
            n = self.uleb()
            if arg == PRIMITIVES["nat8"]:
                return self.take(n)
            if n > len(self.data) - self.pos and arg not in (PRIMITIVES["null"], PRIMITIVES["reserved"]):
                raise CandidError(f"vec of {n} elements exceeds the bytes left")
            if n > 1 << 16:
                raise CandidError(f"vec of {n} elements is too long")
            return [self.value(arg, table, depth + 1) for _ in range(n)]
        if code == RECORD:
            return {self.names.get(fid, fid): self.value(ft, table, depth + 1) for fid, ft in arg}
        index = self.uleb()
        if index >= len(arg):
            raise CandidError(f"variant index {index} out of {len(arg)}")
        fid, ft = arg[index]
        return {self.names.get(fid, fid): self.value(ft, table, depth + 1)}


def decode(data: bytes, names: Iterable[str] = ()) -> list[Any]:
    """The argument values of a Candid message; ``names`` are the field names to map ids back to."""
    if not isinstance(data, (bytes, bytearray)) or not bytes(data).startswith(MAGIC):
        raise CandidError("not a Candid message (no DIDL magic)")
    reader = _Reader(bytes(data), {field_hash(n): n for n in names})
    reader.pos = len(MAGIC)
    table = reader.table()
    count = reader.uleb()
    if count > MAX_TYPES:
        raise CandidError(f"{count} arguments (limit {MAX_TYPES})")
    refs = []
    for _ in range(count):
        ref = reader.sleb()
        if ref >= len(table) or (ref < 0 and ref not in _BY_CODE):
            raise CandidError(f"argument type {ref} out of the table")
        refs.append(ref)
    values = [reader.value(ref, table, 0) for ref in refs]
    if reader.pos != len(reader.data):
        raise CandidError(f"{len(reader.data) - reader.pos} trailing bytes after the Candid values")
    return values
