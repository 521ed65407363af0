"""Comparisons of n-bit values, by range-checking their difference.

Precondition (the caller's): both operands are already known to lie in [0, 2**n), e.g. by
:func:`~circuits.gadgets.bits.to_bits`. Then ``b - a`` is in [0, 2**n) iff a <= b: when a > b
the difference wraps to ``r - (a - b) >= r - 2**n``, far above 2**n for n <= 252.
"""

from __future__ import annotations

from ..builder import Api, Operand
from ..errors import CircuitError
from .bits import to_bits

MAX_COMPARE_BITS = 252


def _check_width(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_COMPARE_BITS:
        raise CircuitError(f"comparison width must be in 1..{MAX_COMPARE_BITS}, got {n!r}")


def assert_less_equal(api: Api, a: Operand, b: Operand, n: int) -> None:
    """Constrain a <= b for n-bit a, b (n + 1 constraints)."""
    _check_width(n)
    to_bits(api, api.sub(b, a), n)


def assert_geq(api: Api, a: Operand, b: Operand, n: int) -> None:
    """Constrain a >= b for n-bit a, b (n + 1 constraints)."""
    assert_less_equal(api, b, a, n)
