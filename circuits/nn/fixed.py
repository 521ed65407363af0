"""Fixed-point gadgets: rescaling with a range-checked remainder, signed range checks, ReLU, division by a constant.

Soundness precondition shared by all of them: the operands are integers far below the field modulus in
magnitude (< 2**200), which the proven circuits guarantee by range-checking every value they compute
(int32) and bounding weights (|w| < 2**24) and fan-in (2**16). Then each field equation below is an
integer equation.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..builder import Api, Operand, Var
from ..errors import CircuitError
from ..field import inv as field_inv, to_signed
from ..gadgets import to_bits
from ..qnet.fixed_point import SCALE_BITS, VALUE_BITS


@dataclass(frozen=True)
class Rescaled:
    """``value`` = floor(x / 2**shift) (signed), ``offset`` = value + 2**(bits-1) in [0, 2**bits), ``sign`` = [value >= 0]."""

    value: Var
    offset: Var
    sign: Var


def rescale(api: Api, x: Operand, shift: int = SCALE_BITS, bits: int = VALUE_BITS) -> Rescaled:
    """floor(x / 2**shift), constrained to a signed ``bits``-bit int (shift + bits + 1 constraints).

    One decomposition of ``x + 2**(shift+bits-1)`` into shift + bits bits: the low ``shift`` bits are the
    remainder (so it lies in [0, 2**shift)), the high ``bits`` bits the offset quotient, the top bit its sign.
    Unsatisfiable iff x is outside [-2**(shift+bits-1), 2**(shift+bits-1)).
    """
    if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0 or not 1 <= bits <= 64:
        raise CircuitError(f"bad rescale shift {shift!r} / bits {bits!r}")
    n = shift + bits
    b = to_bits(api, api.add(x, 1 << (n - 1)), n)
    offset = api.linear_combination([1 << i for i in range(bits)], b[shift:])
    return Rescaled(api.sub(offset, 1 << (bits - 1)), offset, b[-1])


def signed_range(api: Api, x: Operand, bits: int = VALUE_BITS) -> Rescaled:
    """Constrain x to a signed ``bits``-bit int (bits + 1 constraints); returns its offset and sign bit."""
    return rescale(api, x, 0, bits)


def relu(api: Api, x: Operand, bits: int = VALUE_BITS) -> tuple[Var, Var]:
    """(max(x, 0), mask = [x >= 0]) for a signed ``bits``-bit x (range-checked here: bits + 2 constraints)."""
    mask = signed_range(api, x, bits).sign
    return api.mul(mask, x), mask


def relu_masked(api: Api, x: Operand, mask: Var) -> Var:
    """mask * x, for a mask already constrained to [x >= 0] (e.g. the sign bit of the rescale producing x)."""
    return api.mul(mask, x)


def is_zero(api: Api, x: Operand) -> Var:
    """[x == 0] (2 constraints): with a hinted inverse ``inv``, ``z = 1 - x * inv`` and ``x * z = 0``.

    x != 0 forces z = 0 (second constraint); x = 0 forces z = 1 (first). Sound for any field element x."""
    xv = api.as_var(x)
    inv = api.hint(lambda v: field_inv(v) if v else 0, xv)
    z = api.sub(1, api.mul(xv, inv))
    api.assert_product(xv, z, 0)
    return z


def positive_mask(api: Api, x: Operand, sign: Var) -> Var:
    """[x > 0] from ``sign`` = [x >= 0] (already constrained): ``sign - [x == 0]`` (2 constraints).

    torch's ReLU derivative (0 at exactly 0), used by the backward passes; at x = 0, sign = 1 and the flag is 1."""
    return api.sub(sign, is_zero(api, x))


def div_floor_const(api: Api, x: Operand, d: int, bits: int = VALUE_BITS) -> Var:
    """floor(x / d) for a positive constant d, a signed ``bits``-bit result; remainder range-checked in [0, d)."""
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise CircuitError(f"divisor must be a positive int, got {d!r}")
    xv = api.as_var(x)
    if d == 1:
        signed_range(api, xv, bits)
        return xv
    q = api.hint(lambda v: to_signed(v) // d, xv)
    signed_range(api, q, bits)
    r = api.sub(xv, api.scale(q, d))
    nb = (d - 1).bit_length()
    to_bits(api, r, nb)
    to_bits(api, api.sub(d - 1, r), nb)
    return q


def native_rescale(x: int, shift: int = SCALE_BITS, bits: int = VALUE_BITS) -> int:
    """Oracle of :func:`rescale`: floor(x / 2**shift), or ValueError if it is not a signed ``bits``-bit int."""
    q = x >> shift
    if not -(1 << (bits - 1)) <= q < 1 << (bits - 1):
        raise ValueError(f"floor({x} / 2**{shift}) does not fit {bits} signed bits")
    return q
