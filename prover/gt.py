"""G_T (F_q12) helpers: the pairing e(alpha, beta) in snarkjs' ``vk_alphabeta_12`` layout.

py_ecc represents F_q12 as F_q[w]/(w^12 - 18 w^6 + 82), i.e. coefficients d_0..d_11 on w^k.
snarkjs (ffjavascript) uses the tower F_q12 = F_q6[w]/(w^2 - v), F_q6 = F_q2[v]/(v^3 - (9+u)),
F_q2 = F_q[u]/(u^2 + 1). Both share w (w^6 = 9 + u), so the tower coefficient c_ij of v^j w^i
sits at w^(2j+i); writing it as a + b*u with u = w^6 - 9 gives b = d_(k+6), a = d_k + 9*b.

The two libraries' pairings differ by a fixed exponent: ffjavascript's final exponentiation
(Fuentes-Castaneda et al.) computes f^(m * (q^12 - 1) / r) with m = 2x(6x^2 + 3x + 1), x the BN
parameter, whereas py_ecc raises to (q^12 - 1) / r exactly. Both are non-degenerate bilinear
pairings (m is coprime to r), so only ``vk_alphabeta_12`` needs the adjustment; the test suite
checks the result against ffjavascript byte for byte.
"""

from __future__ import annotations

from typing import Any

from .curve import g1_to_pyecc, g2_to_pyecc
from .fields import Q, R
from .keys import G1, G2


#: The BN254 curve parameter x (q and r are polynomials in x).
BN_X = 4965661367192848881
#: ffjavascript pairing = py_ecc pairing ** SNARKJS_GT_EXPONENT.
SNARKJS_GT_EXPONENT = 2 * BN_X * (6 * BN_X * BN_X + 3 * BN_X + 1) % R


def fq12_to_tower(coeffs: list[int]) -> list[list[list[int]]]:
    """py_ecc F_q12 coefficients -> [[c00, c01, c02], [c10, c11, c12]] with c_ij = [a, b]."""
    if len(coeffs) != 12:
        raise ValueError("an F_q12 element has 12 coefficients")
    out: list[list[list[int]]] = []
    for i in range(2):
        row = []
        for j in range(3):
            k = 2 * j + i
            b = coeffs[k + 6] % Q
            a = (coeffs[k] + 9 * b) % Q
            row.append([a, b])
        out.append(row)
    return out


def pairing_gt(p: G1, q: G2) -> Any:
    """Full (final-exponentiated) py_ecc pairing e(p, q) as an FQ12."""
    from py_ecc.optimized_bn128.optimized_pairing import pairing

    return pairing(g2_to_pyecc(q), g1_to_pyecc(p))


def alphabeta_tower(alpha: G1, beta: G2) -> list[list[list[int]]]:
    """e(alpha, beta) as snarkjs computes it (ffjavascript's pairing), in its tower layout."""
    gt = pairing_gt(alpha, beta) ** SNARKJS_GT_EXPONENT
    return fq12_to_tower([int(c) for c in gt.coeffs])
