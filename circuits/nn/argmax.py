"""Argmax over offset (unsigned) values, as the commitment circuit proves it."""

from __future__ import annotations

from collections.abc import Sequence

from ..builder import Api, Operand, Var
from ..gadgets import assert_geq, select_by_one_hot, select_one_hot
from ..qnet.fixed_point import VALUE_BITS


def argmax(api: Api, offsets: Sequence[Var], index: Operand, bits: int = VALUE_BITS) -> list[Var]:
    """Constrain ``index`` to an argmax (ties: any maximal index) of ``bits``-bit values; returns its one-hot."""
    e = select_one_hot(api, index, len(offsets))
    selected = select_by_one_hot(api, e, offsets)
    for u in offsets:
        assert_geq(api, selected, u, bits)
    return e
