"""BN254 G1 / G2 point arithmetic on raw ints (Jacobian coordinates) and py_ecc interop.

* G1: ``y^2 = x^3 + 3`` over F_q, prime order r (cofactor 1: on-curve implies in-subgroup).
* G2: ``y^2 = x^3 + 3/(9+u)`` over F_q2 (the D-type twist), order-r subgroup of a larger group,
  so points from outside need :func:`is_in_g2_subgroup`.

Affine points are ``(x, y)`` with the identity written ``(0, 0)`` (the EIP-197 convention; (0, 0)
is on neither curve). Jacobian points are ``(X, Y, Z)`` meaning ``(X/Z^2, Y/Z^3)``, identity
``Z == 0``. Formulas: dbl-2009-l, add-2007-bl, madd-2007-bl (a = 0) from the EFD.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .fields import (
    F2_ONE,
    F2_ZERO,
    Q,
    R,
    Fq2,
    batch_inv_q,
    batch_inv_q2,
    f2_add,
    f2_eq,
    f2_inv,
    f2_is_zero,
    f2_mul,
    f2_mul_scalar,
    f2_neg,
    f2_sqr,
    f2_sub,
)

G1Affine = tuple[int, int]
G2Affine = tuple[Fq2, Fq2]
G1Jac = tuple[int, int, int]
G2Jac = tuple[Fq2, Fq2, Fq2]

B1 = 3
B2: Fq2 = f2_mul((3, 0), f2_inv((9, 1)))

G1_GEN: G1Affine = (1, 2)
G2_GEN: G2Affine = (
    (
        10857046999023057135944570762232829481370756359578518086990519993285655852781,
        11559732032986387107991004021392285783925812861821192530917403151452391805634,
    ),
    (
        8495653923123431417604973247489272438418190587263600148770280649306958101930,
        4082367875863433681332203403145435568316851327593401208105741076214120093531,
    ),
)
G1_ZERO: G1Affine = (0, 0)
G2_ZERO: G2Affine = (F2_ZERO, F2_ZERO)
G1_INF: G1Jac = (1, 1, 0)
G2_INF: G2Jac = (F2_ONE, F2_ONE, F2_ZERO)


# ----------------------------------------------------------------------------- G1
def g1_is_zero_affine(p: G1Affine) -> bool:
    return p[0] == 0 and p[1] == 0


def is_on_curve_g1(p: G1Affine) -> bool:
    """True for canonical coordinates (< q) satisfying the curve equation; False for the identity."""
    x, y = p
    if not (0 <= x < Q and 0 <= y < Q):
        return False
    return (y * y - x * x * x - B1) % Q == 0


def g1_from_affine(p: G1Affine) -> G1Jac:
    return G1_INF if g1_is_zero_affine(p) else (p[0], p[1], 1)


def g1_double(p: G1Jac) -> G1Jac:
    X, Y, Z = p
    if Z == 0 or Y == 0:
        return G1_INF
    A = X * X % Q
    B = Y * Y % Q
    C = B * B % Q
    t = X + B
    D = 2 * (t * t - A - C) % Q
    E = 3 * A % Q
    X3 = (E * E - 2 * D) % Q
    Y3 = (E * (D - X3) - 8 * C) % Q
    return (X3, Y3, 2 * Y * Z % Q)


def g1_add(p: G1Jac, q: G1Jac) -> G1Jac:
    X1, Y1, Z1 = p
    X2, Y2, Z2 = q
    if Z1 == 0:
        return q
    if Z2 == 0:
        return p
    Z1Z1 = Z1 * Z1 % Q
    Z2Z2 = Z2 * Z2 % Q
    U1 = X1 * Z2Z2 % Q
    U2 = X2 * Z1Z1 % Q
    S1 = Y1 * Z2 * Z2Z2 % Q
    S2 = Y2 * Z1 * Z1Z1 % Q
    H = (U2 - U1) % Q
    rr = 2 * (S2 - S1) % Q
    if H == 0:
        return g1_double(p) if rr == 0 else G1_INF
    I = 4 * H * H % Q
    J = H * I % Q
    V = U1 * I % Q
    X3 = (rr * rr - J - 2 * V) % Q
    Y3 = (rr * (V - X3) - 2 * S1 * J) % Q
    t = Z1 + Z2
    Z3 = (t * t - Z1Z1 - Z2Z2) * H % Q
    return (X3, Y3, Z3)


def g1_madd(p: G1Jac, x2: int, y2: int) -> G1Jac:
    """Jacobian + affine (non-identity) point."""
    X1, Y1, Z1 = p
    if Z1 == 0:
        return (x2, y2, 1)
    Z1Z1 = Z1 * Z1 % Q
    U2 = x2 * Z1Z1 % Q
    S2 = y2 * Z1 * Z1Z1 % Q
    H = (U2 - X1) % Q
    rr = 2 * (S2 - Y1) % Q
    if H == 0:
        return g1_double(p) if rr == 0 else G1_INF
    HH = H * H % Q
    I = 4 * HH
    J = H * I % Q
    V = X1 * I % Q
    X3 = (rr * rr - J - 2 * V) % Q
    Y3 = (rr * (V - X3) - 2 * Y1 * J) % Q
    t = Z1 + H
    Z3 = (t * t - Z1Z1 - HH) % Q
    return (X3, Y3, Z3)


def g1_neg(p: G1Jac) -> G1Jac:
    return (p[0], -p[1] % Q, p[2])


def g1_neg_affine(p: G1Affine) -> G1Affine:
    return p if g1_is_zero_affine(p) else (p[0], -p[1] % Q)


def g1_mul(p: G1Affine, k: int) -> G1Jac:
    """Double-and-add ``k * p`` (k used as given, not reduced: lets callers multiply by r)."""
    if k < 0:
        return g1_neg(g1_mul(p, -k))
    if k == 0 or g1_is_zero_affine(p):
        return G1_INF
    x, y = p
    acc = G1_INF
    for bit in bin(k)[2:]:
        acc = g1_double(acc)
        if bit == "1":
            acc = g1_madd(acc, x, y)
    return acc


def g1_to_affine(p: G1Jac) -> G1Affine:
    X, Y, Z = p
    if Z % Q == 0:
        return G1_ZERO
    zi = pow(int(Z), -1, Q)
    zi2 = zi * zi % Q
    return (int(X * zi2 % Q), int(Y * zi2 * zi % Q))


def g1_batch_to_affine(points: Sequence[G1Jac]) -> list[G1Affine]:
    """Normalise many Jacobian points with a single field inversion."""
    idx = [i for i, p in enumerate(points) if p[2] % Q != 0]
    invs = batch_inv_q([points[i][2] for i in idx])
    out: list[G1Affine] = [G1_ZERO] * len(points)
    for i, zi in zip(idx, invs):
        X, Y, _ = points[i]
        zi2 = zi * zi % Q
        out[i] = (int(X * zi2 % Q), int(Y * zi2 * zi % Q))
    return out


# ----------------------------------------------------------------------------- G2
def g2_is_zero_affine(p: G2Affine) -> bool:
    return f2_is_zero(p[0]) and f2_is_zero(p[1])


def is_on_curve_g2(p: G2Affine) -> bool:
    """True for canonical coordinates satisfying the twist equation; False for the identity."""
    x, y = p
    if not all(0 <= c < Q for c in (*x, *y)):
        return False
    return f2_eq(f2_sqr(y), f2_add(f2_mul(f2_sqr(x), x), B2))


def g2_from_affine(p: G2Affine) -> G2Jac:
    return G2_INF if g2_is_zero_affine(p) else (p[0], p[1], F2_ONE)


def g2_double(p: G2Jac) -> G2Jac:
    X, Y, Z = p
    if f2_is_zero(Z) or f2_is_zero(Y):
        return G2_INF
    A = f2_sqr(X)
    B = f2_sqr(Y)
    C = f2_sqr(B)
    t = f2_sqr(f2_add(X, B))
    D = f2_mul_scalar(f2_sub(f2_sub(t, A), C), 2)
    E = f2_mul_scalar(A, 3)
    X3 = f2_sub(f2_sqr(E), f2_mul_scalar(D, 2))
    Y3 = f2_sub(f2_mul(E, f2_sub(D, X3)), f2_mul_scalar(C, 8))
    Z3 = f2_mul_scalar(f2_mul(Y, Z), 2)
    return (X3, Y3, Z3)


def g2_add(p: G2Jac, q: G2Jac) -> G2Jac:
    X1, Y1, Z1 = p
    X2, Y2, Z2 = q
    if f2_is_zero(Z1):
        return q
    if f2_is_zero(Z2):
        return p
    Z1Z1 = f2_sqr(Z1)
    Z2Z2 = f2_sqr(Z2)
    U1 = f2_mul(X1, Z2Z2)
    U2 = f2_mul(X2, Z1Z1)
    S1 = f2_mul(f2_mul(Y1, Z2), Z2Z2)
    S2 = f2_mul(f2_mul(Y2, Z1), Z1Z1)
    H = f2_sub(U2, U1)
    rr = f2_mul_scalar(f2_sub(S2, S1), 2)
    if f2_is_zero(H):
        return g2_double(p) if f2_is_zero(rr) else G2_INF
    I = f2_sqr(f2_mul_scalar(H, 2))
    J = f2_mul(H, I)
    V = f2_mul(U1, I)
    X3 = f2_sub(f2_sub(f2_sqr(rr), J), f2_mul_scalar(V, 2))
    Y3 = f2_sub(f2_mul(rr, f2_sub(V, X3)), f2_mul_scalar(f2_mul(S1, J), 2))
    Z3 = f2_mul(f2_sub(f2_sub(f2_sqr(f2_add(Z1, Z2)), Z1Z1), Z2Z2), H)
    return (X3, Y3, Z3)


def g2_madd(p: G2Jac, x2: Fq2, y2: Fq2) -> G2Jac:
    """Jacobian + affine (non-identity) point."""
    X1, Y1, Z1 = p
    if f2_is_zero(Z1):
        return (x2, y2, F2_ONE)
    Z1Z1 = f2_sqr(Z1)
    U2 = f2_mul(x2, Z1Z1)
    S2 = f2_mul(f2_mul(y2, Z1), Z1Z1)
    H = f2_sub(U2, X1)
    rr = f2_mul_scalar(f2_sub(S2, Y1), 2)
    if f2_is_zero(H):
        return g2_double(p) if f2_is_zero(rr) else G2_INF
    HH = f2_sqr(H)
    I = f2_mul_scalar(HH, 4)
    J = f2_mul(H, I)
    V = f2_mul(X1, I)
    X3 = f2_sub(f2_sub(f2_sqr(rr), J), f2_mul_scalar(V, 2))
    Y3 = f2_sub(f2_mul(rr, f2_sub(V, X3)), f2_mul_scalar(f2_mul(Y1, J), 2))
    Z3 = f2_sub(f2_sub(f2_sqr(f2_add(Z1, H)), Z1Z1), HH)
    return (X3, Y3, Z3)


def g2_neg(p: G2Jac) -> G2Jac:
    return (p[0], f2_neg(p[1]), p[2])


def g2_neg_affine(p: G2Affine) -> G2Affine:
    return p if g2_is_zero_affine(p) else (p[0], f2_neg(p[1]))


def g2_mul(p: G2Affine, k: int) -> G2Jac:
    """Double-and-add ``k * p`` (k used as given, so ``g2_mul(p, R)`` tests subgroup membership)."""
    if k < 0:
        return g2_neg(g2_mul(p, -k))
    if k == 0 or g2_is_zero_affine(p):
        return G2_INF
    x, y = p
    acc = G2_INF
    for bit in bin(k)[2:]:
        acc = g2_double(acc)
        if bit == "1":
            acc = g2_madd(acc, x, y)
    return acc


def g2_to_affine(p: G2Jac) -> G2Affine:
    X, Y, Z = p
    if f2_is_zero(Z):
        return G2_ZERO
    zi = f2_inv(Z)
    zi2 = f2_sqr(zi)
    x = f2_mul(X, zi2)
    y = f2_mul(Y, f2_mul(zi2, zi))
    return ((int(x[0]), int(x[1])), (int(y[0]), int(y[1])))


def g2_batch_to_affine(points: Sequence[G2Jac]) -> list[G2Affine]:
    idx = [i for i, p in enumerate(points) if not f2_is_zero(p[2])]
    invs = batch_inv_q2([points[i][2] for i in idx])
    out: list[G2Affine] = [G2_ZERO] * len(points)
    for i, zi in zip(idx, invs):
        X, Y, _ = points[i]
        zi2 = f2_sqr(zi)
        x = f2_mul(X, zi2)
        y = f2_mul(Y, f2_mul(zi2, zi))
        out[i] = ((int(x[0]), int(x[1])), (int(y[0]), int(y[1])))
    return out


def is_in_g2_subgroup(p: G2Affine) -> bool:
    """On the twist and of order r (``r * p == O``). The identity counts as a member."""
    if g2_is_zero_affine(p):
        return True
    return is_on_curve_g2(p) and f2_is_zero(g2_mul(p, R)[2])


# ----------------------------------------------------------------------------- py_ecc interop
def g1_to_pyecc(p: G1Affine) -> tuple[Any, Any, Any]:
    """Affine ints -> py_ecc optimized_bn128 (homogeneous projective) G1 point."""
    from py_ecc.fields import optimized_bn128_FQ as FQ
    from py_ecc.optimized_bn128.optimized_curve import Z1

    if g1_is_zero_affine(p):
        return Z1
    return (FQ(p[0]), FQ(p[1]), FQ.one())


def g2_to_pyecc(p: G2Affine) -> tuple[Any, Any, Any]:
    from py_ecc.fields import optimized_bn128_FQ2 as FQ2
    from py_ecc.optimized_bn128.optimized_curve import Z2

    if g2_is_zero_affine(p):
        return Z2
    return (FQ2(list(p[0])), FQ2(list(p[1])), FQ2.one())


def g1_from_pyecc(p: tuple[Any, Any, Any]) -> G1Affine:
    from py_ecc.optimized_bn128.optimized_curve import is_inf, normalize

    if is_inf(p):
        return G1_ZERO
    x, y = normalize(p)
    return (int(x), int(y))


def g2_from_pyecc(p: tuple[Any, Any, Any]) -> G2Affine:
    from py_ecc.optimized_bn128.optimized_curve import is_inf, normalize

    if is_inf(p):
        return G2_ZERO
    x, y = normalize(p)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))
