"""The BN254 (alt_bn128) scalar field F_r, on plain Python ints.

Elements are ints in [0, R). Functions here never accept out-of-range values silently:
``element`` is the boundary check used wherever outside data enters.
"""

from __future__ import annotations

from .errors import FieldRangeError

#: Order of the BN254 G1/G2 groups = modulus of the scalar field (snarkjs/circom "p" for circuits).
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
#: Bit length of R.
R_BITS = 254


def element(x: int, what: str = "value") -> int:
    """Return ``x`` if it is a canonical field element, else raise :class:`FieldRangeError`."""
    if isinstance(x, bool) or not isinstance(x, int):
        raise FieldRangeError(f"{what} must be an int, got {type(x).__name__}")
    if not 0 <= x < R:
        raise FieldRangeError(f"{what} is outside the BN254 scalar field [0, r): {x}")
    return x


def reduce(x: int) -> int:
    """Map any int (negative included) to its residue in [0, R)."""
    return x % R


def inv(x: int) -> int:
    """Multiplicative inverse; raises ZeroDivisionError for 0."""
    if x % R == 0:
        raise ZeroDivisionError("0 has no inverse in F_r")
    return pow(x, R - 2, R)


def neg(x: int) -> int:
    return (-x) % R


def to_signed(x: int) -> int:
    """Interpret a field element as a signed int in (-R/2, R/2]."""
    x %= R
    return x - R if x > R // 2 else x
