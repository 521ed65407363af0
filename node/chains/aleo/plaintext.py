"""A strict reader of Aleo plaintext text (mapping values, transition inputs and future arguments as snarkOS and
the SDK print them): literals, arrays and structs.

Values come back as Python values: integers for ``u8``..``u128`` / ``i*`` / ``field`` / ``scalar`` literals (the
type suffix is checked), ``bool`` for booleans, ``str`` for addresses / identifiers / program ids, ``list`` for
arrays and ``dict`` for structs (and futures, which print as a struct ``{program_id, function_name, arguments}``).
Input from the network is hostile: sizes and nesting are bounded, and anything else raises :class:`PlaintextError`.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import PlaintextError

MAX_TEXT = 1 << 20
MAX_DEPTH = 16

_TOKEN = re.compile(r"\s*(?:(?P<punct>[\[\]{},:])|(?P<word>[A-Za-z0-9_.\-]+))")
_INT = re.compile(r"^(-?[0-9]+)(u8|u16|u32|u64|u128|i8|i16|i32|i64|i128|field|scalar|group)$")
_BITS = {"u8": 8, "u16": 16, "u32": 32, "u64": 64, "u128": 128}


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise PlaintextError(f"unexpected character at {pos}: {text[pos:pos + 12]!r}")
        out.append(m.group("punct") or m.group("word"))
        pos = m.end()
    return out


def _literal(word: str) -> Any:
    if word in ("true", "false"):
        return word == "true"
    m = _INT.match(word)
    if m:
        value, kind = int(m.group(1)), m.group(2)
        if kind in _BITS and not 0 <= value < 2 ** _BITS[kind]:
            raise PlaintextError(f"{word} is out of range")
        return value
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", word):
        return word  # address, identifier, program id
    raise PlaintextError(f"not an Aleo literal: {word[:40]!r}")


def parse(text: str) -> Any:
    """Parse one Aleo plaintext value; the whole text must be consumed."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise PlaintextError("plaintext must be a string of at most 1 MiB")
    toks = _tokens(text)
    value, pos = _value(toks, 0, 0)
    if pos != len(toks):
        raise PlaintextError("trailing text after the value")
    return value


def _value(toks: list[str], pos: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise PlaintextError("plaintext nested too deeply")
    if pos >= len(toks):
        raise PlaintextError("truncated plaintext")
    tok = toks[pos]
    if tok == "[":
        items: list[Any] = []
        pos += 1
        while True:
            if pos < len(toks) and toks[pos] == "]" and not items:
                return items, pos + 1
            item, pos = _value(toks, pos, depth + 1)
            items.append(item)
            if pos >= len(toks):
                raise PlaintextError("truncated array")
            if toks[pos] == "]":
                return items, pos + 1
            if toks[pos] != ",":
                raise PlaintextError("expected ',' in array")
            pos += 1
    if tok == "{":
        fields: dict[str, Any] = {}
        pos += 1
        while True:
            if pos + 1 >= len(toks):
                raise PlaintextError("truncated struct")
            name, colon = toks[pos], toks[pos + 1]
            if colon != ":" or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in fields:
                raise PlaintextError("malformed struct member")
            fields[name], pos = _value(toks, pos + 2, depth + 1)
            if pos >= len(toks):
                raise PlaintextError("truncated struct")
            if toks[pos] == "}":
                return fields, pos + 1
            if toks[pos] != ",":
                raise PlaintextError("expected ',' in struct")
            pos += 1
    if tok in ("]", "}", ",", ":"):
        raise PlaintextError(f"unexpected {tok!r}")
    return _literal(tok), pos + 1


def u8_bytes(value: Any, length: int, what: str) -> bytes:
    """An ``[u8; length]`` array parsed by :func:`parse` as bytes."""
    if not isinstance(value, list) or len(value) != length or not all(
        isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in value
    ):
        raise PlaintextError(f"{what} is not [u8; {length}]")
    return bytes(value)


def u128_pair(value: Any, what: str) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2 or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**128 for v in value
    ):
        raise PlaintextError(f"{what} is not [u128; 2]")
    return value[0], value[1]
