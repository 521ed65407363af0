"""Shared pieces of the ICP agent/adapter tests: a started replica test double and statements."""

from __future__ import annotations

import hashlib

from circuits.field import R
from node.chains.adapter import Statement


def statement(seed: int) -> Statement:
    return Statement(hashlib.sha256(b"model-%d" % (seed % 3)).digest(), R - 1 - seed, 1000 + seed, seed % 10,
                     2**200 + seed)


def proof(seed: int) -> list[int]:
    return [int.from_bytes(hashlib.sha256(b"proof-%d-%d" % (seed, k)).digest(), "big") for k in range(8)]
