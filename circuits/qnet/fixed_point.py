"""The fixed-point number format of the proven circuits, and its native (Python int) operations.

Every value the circuits handle (input, activation, score, gradient, relevance, attribution) is a signed
**int32** ``v`` standing for the real ``v / 2**16`` (:data:`SCALE_BITS` = 16). Weights and biases are ints at
the same scale with ``|w| < 2**24`` (:data:`WEIGHT_BOUND`). A product of two scale-2**16 values has scale
2**32 and is brought back by :func:`rescale`:

    rescale(acc) = floor(acc / 2**16)      (Python ``acc >> 16``: rounds toward -infinity)

with remainder ``acc - 2**16 * rescale(acc)`` in [0, 2**16). The result must be an int32, i.e.
``acc`` in [-2**47, 2**47); otherwise the computation is *out of range* (:class:`FixedPointOverflow`) and
no circuit witness exists. Division (LRP's stabilised ratio, average pooling) is
:func:`floor_div`: ``floor(num / den)`` of the exact rational, remainder ``num - den * q`` with
``0 <= (num - den*q) * sign(den) < |den|``; the quotient must be an int32 too.
"""

from __future__ import annotations

from ..errors import FixedPointOverflow

SCALE_BITS = 16
#: 1.0 in fixed point.
ONE = 1 << SCALE_BITS
#: Every value is an int32.
VALUE_BITS = 32
VALUE_OFFSET = 1 << (VALUE_BITS - 1)
VALUE_MIN = -VALUE_OFFSET
VALUE_MAX = VALUE_OFFSET - 1
#: |weight|, |bias| < 2**24 (real magnitude < 256).
WEIGHT_BITS = 24
WEIGHT_BOUND = 1 << WEIGHT_BITS


def check_value(v: int, what: str) -> int:
    """``v`` if it is an int32, else FixedPointOverflow naming ``what``."""
    if not VALUE_MIN <= v <= VALUE_MAX:
        raise FixedPointOverflow(f"{what} = {v} is outside int32 (|real| >= 32768 at scale 2**16)")
    return v


def rescale(acc: int, what: str = "value", shift: int = SCALE_BITS) -> int:
    """floor(acc / 2**shift), which must be an int32."""
    return check_value(acc >> shift, what)


def floor_div(num: int, den: int, what: str = "quotient") -> int:
    """floor(num / den) for den != 0 (Python ``//`` is exactly that for either sign), which must be an int32."""
    if den == 0:
        raise FixedPointOverflow(f"{what}: division by zero")
    return check_value(num // den, what)
