"""In-circuit packing and sponge of :mod:`circuits.qnet.digest` (same functions, as gadgets)."""

from __future__ import annotations

from collections.abc import Sequence

from ..builder import Api, Operand, Var
from ..poseidon import poseidon_gadget
from ..qnet.digest import SPONGE_RATE, VALUES_PER_CHUNK
from ..qnet.fixed_point import VALUE_BITS


def pack_offsets(api: Api, offsets: Sequence[Operand]) -> list[Var]:
    """Offsets (each already known to be in [0, 2**32)) packed 7 per element: linear, no constraint."""
    return [
        api.linear_combination([1 << (VALUE_BITS * j) for j in range(len(group))], list(group))
        for group in (offsets[k : k + VALUES_PER_CHUNK] for k in range(0, len(offsets), VALUES_PER_CHUNK))
    ]


def sponge_gadget(api: Api, tag: int, chunks: Sequence[Operand]) -> Var:
    acc: Operand = tag
    for k in range(0, len(chunks), SPONGE_RATE):
        acc = poseidon_gadget(api, [acc, *chunks[k : k + SPONGE_RATE]])
    return api.as_var(acc)
