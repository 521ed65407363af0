"""G2 Jacobian formulas with the F_q2 arithmetic written out inline.

Same formulas as the readable helper-based versions in :mod:`prover.curve` (dbl-2009-l,
add-2007-bl, madd-2007-bl), about 2x faster because they avoid a function call and a tuple per
F_q2 operation. :mod:`prover.msm` and :mod:`prover.fixed_base` use these; the test suite checks
them against the helper-based versions and py_ecc.
"""

from __future__ import annotations

from .fields import F2_ONE, Q, Fq2

G2Jac = tuple[Fq2, Fq2, Fq2]
_INF: G2Jac = (F2_ONE, F2_ONE, (0, 0))


def g2_double_fast(p: G2Jac) -> G2Jac:
    (X0, X1), (Y0, Y1), (Z0, Z1) = p
    if (Z0 == 0 and Z1 == 0) or (Y0 == 0 and Y1 == 0):
        return _INF
    A0 = (X0 + X1) * (X0 - X1) % Q
    A1 = 2 * X0 * X1 % Q
    B0 = (Y0 + Y1) * (Y0 - Y1) % Q
    B1 = 2 * Y0 * Y1 % Q
    C0 = (B0 + B1) * (B0 - B1) % Q
    C1 = 2 * B0 * B1 % Q
    s0 = X0 + B0
    s1 = X1 + B1
    D0 = 2 * ((s0 + s1) * (s0 - s1) - A0 - C0) % Q
    D1 = 2 * (2 * s0 * s1 - A1 - C1) % Q
    E0 = 3 * A0
    E1 = 3 * A1
    X30 = ((E0 + E1) * (E0 - E1) - 2 * D0) % Q
    X31 = (2 * E0 * E1 - 2 * D1) % Q
    d0 = D0 - X30
    d1 = D1 - X31
    t0 = E0 * d0
    t1 = E1 * d1
    Y30 = (t0 - t1 - 8 * C0) % Q
    Y31 = ((E0 + E1) * (d0 + d1) - t0 - t1 - 8 * C1) % Q
    t0 = Y0 * Z0
    t1 = Y1 * Z1
    Z30 = 2 * (t0 - t1) % Q
    Z31 = 2 * ((Y0 + Y1) * (Z0 + Z1) - t0 - t1) % Q
    return ((X30, X31), (Y30, Y31), (Z30, Z31))


def _finish(
    U10: int, U11: int, S10: int, S11: int, H0: int, H1: int, r0: int, r1: int, I0: int, I1: int
) -> tuple[Fq2, Fq2]:
    """X3 = r^2 - J - 2V, Y3 = r(V - X3) - 2*S1*J with J = H*I, V = U1*I."""
    t0 = H0 * I0
    t1 = H1 * I1
    J0 = (t0 - t1) % Q
    J1 = ((H0 + H1) * (I0 + I1) - t0 - t1) % Q
    t0 = U10 * I0
    t1 = U11 * I1
    V0 = (t0 - t1) % Q
    V1 = ((U10 + U11) * (I0 + I1) - t0 - t1) % Q
    X30 = ((r0 + r1) * (r0 - r1) - J0 - 2 * V0) % Q
    X31 = (2 * r0 * r1 - J1 - 2 * V1) % Q
    d0 = V0 - X30
    d1 = V1 - X31
    t0 = r0 * d0
    t1 = r1 * d1
    e0 = t0 - t1
    e1 = (r0 + r1) * (d0 + d1) - t0 - t1
    t0 = S10 * J0
    t1 = S11 * J1
    f0 = t0 - t1
    f1 = (S10 + S11) * (J0 + J1) - t0 - t1
    return (X30, X31), ((e0 - 2 * f0) % Q, (e1 - 2 * f1) % Q)


def g2_madd_fast(p: G2Jac, x2: Fq2, y2: Fq2) -> G2Jac:
    """Jacobian + affine (non-identity) point."""
    (X0, X1), (Y0, Y1), (Z0, Z1) = p
    if Z0 == 0 and Z1 == 0:
        return (x2, y2, F2_ONE)
    zz0 = (Z0 + Z1) * (Z0 - Z1) % Q
    zz1 = 2 * Z0 * Z1 % Q
    a0, a1 = x2
    t0 = a0 * zz0
    t1 = a1 * zz1
    H0 = (t0 - t1 - X0) % Q
    H1 = ((a0 + a1) * (zz0 + zz1) - t0 - t1 - X1) % Q
    t0 = Z0 * zz0
    t1 = Z1 * zz1
    c0 = (t0 - t1) % Q
    c1 = ((Z0 + Z1) * (zz0 + zz1) - t0 - t1) % Q
    b0, b1 = y2
    t0 = b0 * c0
    t1 = b1 * c1
    r0 = 2 * (t0 - t1 - Y0) % Q
    r1 = 2 * ((b0 + b1) * (c0 + c1) - t0 - t1 - Y1) % Q
    if H0 == 0 and H1 == 0:
        return g2_double_fast(p) if r0 == 0 and r1 == 0 else _INF
    HH0 = (H0 + H1) * (H0 - H1) % Q
    HH1 = 2 * H0 * H1 % Q
    x3, y3 = _finish(X0, X1, Y0, Y1, H0, H1, r0, r1, 4 * HH0, 4 * HH1)
    g0 = Z0 + H0
    g1 = Z1 + H1
    z3 = (((g0 + g1) * (g0 - g1) - zz0 - HH0) % Q, (2 * g0 * g1 - zz1 - HH1) % Q)
    return (x3, y3, z3)


def g2_add_fast(p: G2Jac, q: G2Jac) -> G2Jac:
    """Jacobian + Jacobian."""
    (X10, X11), (Y10, Y11), (Z10, Z11) = p
    (X20, X21), (Y20, Y21), (Z20, Z21) = q
    if Z10 == 0 and Z11 == 0:
        return q
    if Z20 == 0 and Z21 == 0:
        return p
    a0 = (Z10 + Z11) * (Z10 - Z11) % Q  # Z1Z1
    a1 = 2 * Z10 * Z11 % Q
    b0 = (Z20 + Z21) * (Z20 - Z21) % Q  # Z2Z2
    b1 = 2 * Z20 * Z21 % Q
    t0 = X10 * b0
    t1 = X11 * b1
    U10 = (t0 - t1) % Q
    U11 = ((X10 + X11) * (b0 + b1) - t0 - t1) % Q
    t0 = X20 * a0
    t1 = X21 * a1
    U20 = (t0 - t1) % Q
    U21 = ((X20 + X21) * (a0 + a1) - t0 - t1) % Q
    t0 = Z20 * b0  # Z2^3
    t1 = Z21 * b1
    c0 = (t0 - t1) % Q
    c1 = ((Z20 + Z21) * (b0 + b1) - t0 - t1) % Q
    t0 = Y10 * c0
    t1 = Y11 * c1
    S10 = (t0 - t1) % Q
    S11 = ((Y10 + Y11) * (c0 + c1) - t0 - t1) % Q
    t0 = Z10 * a0  # Z1^3
    t1 = Z11 * a1
    c0 = (t0 - t1) % Q
    c1 = ((Z10 + Z11) * (a0 + a1) - t0 - t1) % Q
    t0 = Y20 * c0
    t1 = Y21 * c1
    S20 = (t0 - t1) % Q
    S21 = ((Y20 + Y21) * (c0 + c1) - t0 - t1) % Q
    H0 = (U20 - U10) % Q
    H1 = (U21 - U11) % Q
    r0 = 2 * (S20 - S10) % Q
    r1 = 2 * (S21 - S11) % Q
    if H0 == 0 and H1 == 0:
        return g2_double_fast(p) if r0 == 0 and r1 == 0 else _INF
    h0 = 2 * H0
    h1 = 2 * H1
    I0 = (h0 + h1) * (h0 - h1) % Q
    I1 = 2 * h0 * h1 % Q
    x3, y3 = _finish(U10, U11, S10, S11, H0, H1, r0, r1, I0, I1)
    s0 = Z10 + Z20
    s1 = Z11 + Z21
    w0 = ((s0 + s1) * (s0 - s1) - a0 - b0) % Q
    w1 = (2 * s0 * s1 - a1 - b1) % Q
    t0 = w0 * H0
    t1 = w1 * H1
    z3 = ((t0 - t1) % Q, ((w0 + w1) * (H0 + H1) - t0 - t1) % Q)
    return (x3, y3, z3)
