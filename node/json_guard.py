"""Bounded JSON parsing: a size and nesting-depth check on the raw text before ``json.loads`` runs.

Why: CPython's C JSON decoder recurses once per ``[`` / ``{``, guarded only by the interpreter's recursion
limit. ``py_ecc`` and py-evm (``eth``) raise that limit to 100000 when imported, after which a 200 kB body of
nested brackets overflows the C stack and the process dies with SIGSEGV. :func:`loads` refuses such text before
the decoder sees it (a linear scan, no recursion: strings are skipped with their escapes, brackets outside
strings are counted), and :func:`restore_recursion_limit` puts the limit back after the crypto imports.

Every JSON entry point of the node and the verifier CLI (HTTP bodies, ``/rpc``, disclosure bundles, verifying
keys, model cards) goes through :func:`loads`. This module imports nothing heavy (the light verifier uses it).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from node.errors import (
    JsonTooDeep,
    JsonTooLarge,
    MalformedJson,
)

#: Deepest nesting accepted (inputs are at most 4 deep, a disclosure bundle about 5).
MAX_DEPTH = 64
#: Largest JSON *file* read by the CLI (a disclosure of a 2**20-value input with its attribution fits).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: The interpreter's default recursion limit; what :func:`restore_recursion_limit` sets.
SANE_RECURSION_LIMIT = 1000

# A JSON string (escapes honoured, unrolled so the regex engine never backtracks) or one bracket.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPEN = frozenset(b"[{")


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """Deepest bracket nesting of ``raw`` outside strings; stops (returning ``limit + 1``) once over ``limit``."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        first = raw[match.start()]
        if first == 0x22:  # '"': a whole string, brackets inside it do not count
            continue
        if first in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def loads(raw: bytes | str, *, what: str = "body", max_bytes: int | None = None, max_depth: int = MAX_DEPTH) -> object:
    """``json.loads`` after a size and depth check; NaN / Infinity literals are refused.

    Raises :class:`JsonTooLarge` (413), :class:`JsonTooDeep` or :class:`MalformedJson` (400), all :class:`BadRequest`
    / :class:`PayloadTooLarge` subclasses of the node's error root.
    """
    data = raw.encode() if isinstance(raw, str) else bytes(raw)
    if max_bytes is not None and len(data) > max_bytes:
        raise JsonTooLarge(f"{what} is {len(data)} bytes, the limit is {max_bytes}")
    if nesting_depth(data, max_depth) > max_depth:
        raise JsonTooDeep(f"{what} nests JSON deeper than {max_depth} levels")
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except RecursionError:  # a lower recursion limit than max_depth needs: still a clean refusal
        raise JsonTooDeep(f"{what} nests JSON too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int digits limit, NaN/Infinity
        raise MalformedJson(f"{what} is not valid JSON: {exc}") from None


def load_file(path: str | Path, *, what: str = "file", max_bytes: int = MAX_FILE_BYTES) -> object:
    """Read and :func:`loads` a JSON file, refusing files over ``max_bytes`` before reading them whole.

    ``OSError`` propagates (the caller says which file it could not read)."""
    path = Path(path)
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    return loads(data, what=f"{what} {path}", max_bytes=max_bytes)


def restore_recursion_limit(limit: int = SANE_RECURSION_LIMIT) -> None:
    """Undo the 100000 recursion limit that importing ``py_ecc`` / ``eth`` sets (call after those imports)."""
    if sys.getrecursionlimit() > limit:
        sys.setrecursionlimit(limit)
