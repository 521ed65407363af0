"""Base-field arithmetic for BN254 on raw ints: F_q and F_q2 = F_q[u]/(u^2 + 1).

F_q2 elements are ``(c0, c1)`` tuples meaning ``c0 + c1*u`` (the same order snarkjs and py_ecc
use; the EVM precompiles use the reverse order, see :mod:`prover.solidity`). Everything is plain
Python ints so keys and proofs stay trivially serialisable; when gmpy2 is installed the hot loops
(:mod:`prover.msm`) convert to ``mpz`` internally, and ``inv_q`` uses ``gmpy2.invert``.
"""

from __future__ import annotations

from collections.abc import Sequence

try:  # optional acceleration; everything below works on plain ints as well
    import gmpy2 as _gmpy2

    HAVE_GMPY2 = True
except ImportError:  # pragma: no cover - exercised only where gmpy2 is absent
    _gmpy2 = None
    HAVE_GMPY2 = False

#: Modulus of the base field F_q (the EVM / snarkjs "q").
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
#: Order of G1 and G2 = modulus of the scalar field F_r.
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617

Fq2 = tuple[int, int]

F2_ZERO: Fq2 = (0, 0)
F2_ONE: Fq2 = (1, 0)


def fast_int(x: int) -> int:
    """Convert to gmpy2 ``mpz`` when available (faster modular products), else return ``x``."""
    return _gmpy2.mpz(x) if _gmpy2 is not None else x


def inv_q(x: int) -> int:
    """Inverse in F_q; raises ZeroDivisionError for 0."""
    x %= Q
    if x == 0:
        raise ZeroDivisionError("0 has no inverse in F_q")
    if _gmpy2 is not None:
        return int(_gmpy2.invert(x, Q))
    return pow(x, -1, Q)


def batch_inv_q(values: Sequence[int]) -> list[int]:
    """Montgomery's trick: invert many non-zero F_q elements with one field inversion."""
    n = len(values)
    if n == 0:
        return []
    prefix = [0] * n
    acc = 1
    for i, v in enumerate(values):
        prefix[i] = acc
        acc = acc * v % Q
    acc = inv_q(acc)
    out = [0] * n
    for i in range(n - 1, -1, -1):
        out[i] = acc * prefix[i] % Q
        acc = acc * values[i] % Q
    return out


def f2_add(a: Fq2, b: Fq2) -> Fq2:
    return ((a[0] + b[0]) % Q, (a[1] + b[1]) % Q)


def f2_sub(a: Fq2, b: Fq2) -> Fq2:
    return ((a[0] - b[0]) % Q, (a[1] - b[1]) % Q)


def f2_neg(a: Fq2) -> Fq2:
    return (-a[0] % Q, -a[1] % Q)


def f2_mul(a: Fq2, b: Fq2) -> Fq2:
    a0, a1 = a
    b0, b1 = b
    t0 = a0 * b0
    t1 = a1 * b1
    return ((t0 - t1) % Q, ((a0 + a1) * (b0 + b1) - t0 - t1) % Q)


def f2_sqr(a: Fq2) -> Fq2:
    a0, a1 = a
    return ((a0 + a1) * (a0 - a1) % Q, 2 * a0 * a1 % Q)


def f2_mul_scalar(a: Fq2, k: int) -> Fq2:
    return (a[0] * k % Q, a[1] * k % Q)


def f2_inv(a: Fq2) -> Fq2:
    """Inverse in F_q2: (a0 - a1 u) / (a0^2 + a1^2)."""
    a0, a1 = a
    t = inv_q(a0 * a0 + a1 * a1)
    return (a0 * t % Q, -a1 * t % Q)


def batch_inv_q2(values: Sequence[Fq2]) -> list[Fq2]:
    """Invert many non-zero F_q2 elements via their norms (one F_q inversion overall)."""
    norms = [(a0 * a0 + a1 * a1) % Q for a0, a1 in values]
    inv_norms = batch_inv_q(norms)
    return [(a0 * t % Q, -a1 * t % Q) for (a0, a1), t in zip(values, inv_norms)]


def f2_is_zero(a: Fq2) -> bool:
    return a[0] % Q == 0 and a[1] % Q == 0


def f2_eq(a: Fq2, b: Fq2) -> bool:
    return (a[0] - b[0]) % Q == 0 and (a[1] - b[1]) % Q == 0


def f2_pow(a: Fq2, e: int) -> Fq2:
    result = F2_ONE
    base = a
    while e:
        if e & 1:
            result = f2_mul(result, base)
        base = f2_sqr(base)
        e >>= 1
    return result


def f2_sqrt(a: Fq2) -> Fq2 | None:
    """A square root in F_q2 (q = 3 mod 4; Adj & Rodriguez-Henriquez, alg. 9), or None."""
    minus_one = (Q - 1, 0)
    a1 = f2_pow(a, (Q - 3) // 4)
    alpha = f2_mul(f2_sqr(a1), a)
    a0 = f2_mul(f2_pow(alpha, Q), alpha)
    if a0 == minus_one:
        return None
    x0 = f2_mul(a1, a)
    if alpha == minus_one:
        x = f2_mul((0, 1), x0)
    else:
        x = f2_mul(f2_pow(f2_add((1, 0), alpha), (Q - 1) // 2), x0)
    return x if f2_sqr(x) == (a[0] % Q, a[1] % Q) else None
