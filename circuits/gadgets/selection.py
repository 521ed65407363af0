"""One-hot selection: turn an index into indicator bits and pick a vector entry with them."""

from __future__ import annotations

from collections.abc import Sequence

from ..builder import Api, Operand, Var
from ..errors import CircuitError


def select_one_hot(api: Api, index: Operand, n: int) -> list[Var]:
    """Indicators e_0..e_{n-1} with e_i = [index == i], constraining index in [0, n).

    Constraints: each e_i boolean (n), sum e_i = 1 (exactly one set), sum i*e_i = index;
    together they force e to be the indicator of index and index to be in range (n + 2).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise CircuitError(f"one-hot size must be a positive int, got {n!r}")
    idx = api.as_var(index)
    indicators = api.hints(lambda v: [int(v == i) for i in range(n)], n, idx)
    for e in indicators:
        api.assert_boolean(e)
    api.assert_equal(api.sum(indicators), 1)
    api.assert_equal(api.linear_combination(list(range(n)), indicators), idx)
    return indicators


def select_by_one_hot(api: Api, indicators: Sequence[Var], values: Sequence[Operand]) -> Var:
    """sum e_i * v_i: the entry flagged by a one-hot vector (one constraint per non-constant pair)."""
    if len(indicators) != len(values):
        raise CircuitError(f"{len(indicators)} indicators for {len(values)} values")
    return api.sum([api.mul(e, v) for e, v in zip(indicators, values)])
