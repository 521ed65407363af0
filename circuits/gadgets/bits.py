"""Bit decomposition, i.e. range checks: ``x`` is proven to lie in [0, 2**n)."""

from __future__ import annotations

from ..builder import Api, Operand, Var
from ..errors import CircuitError

#: Widest decomposition allowed: sum b_i 2^i over n <= 253 bits stays below r, so the
#: decomposition is unique and the range check sound (no wrap-around modulo r).
MAX_RANGE_BITS = 253


def _check_width(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_RANGE_BITS:
        raise CircuitError(f"bit width must be in 1..{MAX_RANGE_BITS}, got {n!r}")


def to_bits(api: Api, x: Operand, n: int) -> list[Var]:
    """Little-endian bits of ``x``, constraining ``x < 2**n``: n booleanity constraints + 1 recomposition.

    The bits are hinted from x's value; if x >= 2**n the hinted low bits cannot recompose it and
    the witness fails the recomposition constraint.
    """
    _check_width(n)
    value = api.as_var(x)
    bits = api.hints(lambda v: [(v >> i) & 1 for i in range(n)], n, value)
    for bit in bits:
        api.assert_boolean(bit)
    api.assert_equal(api.linear_combination([1 << i for i in range(n)], bits), value)
    return bits


def native_to_bits(x: int, n: int) -> list[int]:
    """Oracle of :func:`to_bits`: little-endian bits, or ValueError when x is not in [0, 2**n)."""
    _check_width(n)
    if not 0 <= x < 1 << n:
        raise ValueError(f"{x} does not fit in {n} bits")
    return [(x >> i) & 1 for i in range(n)]
