"""The pairing product check of Groth16 verification, on two paths that give the same answers:

* native: ``prover._native`` (prover/csrc/pairing.c): one multi-Miller loop over all pairs (the optimal ate
  loop over 6x + 2 with the two Frobenius lines, G2 in projective coordinates) and one final exponentiation;
* Python: py_ecc's ``optimized_bn128`` Miller loop per pair, the values multiplied, one final
  exponentiation -- the reference, kept beside the native path (as :mod:`prover.msm` keeps its Python paths).

:func:`pairing_product_is_one` picks the native path when :data:`prover.native.NATIVE` is set (the extension
loaded and ``ZKXAI_NO_NATIVE`` unset). Both paths first check every point the same way (coordinates in [0, q),
on the curve / twist; the identity is allowed and contributes 1), so malformed input raises the same
:class:`~prover.errors.MalformedProof` / :class:`~prover.errors.InvalidPoint` on either path before any
pairing work. G2 subgroup membership is *not* checked here: callers check it where the points come from
(:func:`prover.validate.check_proof` for proofs, key loading for verifying keys).

Both paths compute e(P, Q) = f_{6x+2,Q}(P)^((q^12 - 1) / r), py_ecc's exact exponent, so their G_T values are
equal coefficient by coefficient once written in one basis (:func:`prover.gt.fq12_to_tower`; snarkjs'
pairing is this one raised to :data:`prover.gt.SNARKJS_GT_EXPONENT`).
"""

from __future__ import annotations

from collections.abc import Sequence

from . import native
from .curve import g1_to_pyecc, g2_to_pyecc
from .keys import G1, G2
from .validate import check_g1, check_g2

#: An F_q12 value in the tower layout of :func:`prover.gt.fq12_to_tower`: [[c00, c01, c02], [c10, c11, c12]],
#: c_ij = [a, b] = a + b u the coefficient of w^i v^j.
Tower = list[list[list[int]]]


def checked_pairs(pairs: Sequence[tuple[G1, G2]]) -> list[tuple[G1, G2]]:
    """Each pair's points range-checked and on their curves (identity allowed); typed errors otherwise."""
    return [
        (check_g1(p, f"pair {i} G1", allow_identity=True), check_g2(q, f"pair {i} G2", allow_identity=True, subgroup=False))
        for i, (p, q) in enumerate(pairs)
    ]


def backend() -> str:
    """The path :func:`pairing_product_is_one` takes now: ``"native"`` or ``"py_ecc"``."""
    return "native" if native.NATIVE else "py_ecc"


def pairing_product_is_one(pairs: Sequence[tuple[G1, G2]]) -> bool:
    """prod e(P_i, Q_i) == 1 in G_T, with one final exponentiation for the whole product."""
    if native.NATIVE:
        return pairing_product_is_one_native(pairs)
    return pairing_product_is_one_python(pairs)


def pairing_product_is_one_native(pairs: Sequence[tuple[G1, G2]]) -> bool:
    """The native path (needs the extension)."""
    good = checked_pairs(pairs)
    return native.pairing_check_packed(native.pack_g1([p for p, _ in good]), native.pack_g2([q for _, q in good]))


def pairing_product_is_one_python(pairs: Sequence[tuple[G1, G2]]) -> bool:
    """The py_ecc reference: one Miller loop per pair, their product, one final exponentiation."""
    from py_ecc.fields import optimized_bn128_FQ12 as FQ12
    from py_ecc.optimized_bn128.optimized_pairing import final_exponentiate, pairing

    acc = FQ12.one()
    for p, q in checked_pairs(pairs):
        acc = acc * pairing(g2_to_pyecc(q), g1_to_pyecc(p), final_exponentiate=False)
    return bool(final_exponentiate(acc) == FQ12.one())


def pairing_native(pairs: Sequence[tuple[G1, G2]]) -> Tower:
    """prod e(P_i, Q_i) as a G_T value in the tower layout, from the native path."""
    good = checked_pairs(pairs)
    v = native.pairing_packed(native.pack_g1([p for p, _ in good]), native.pack_g2([q for _, q in good]))
    return [[[v[6 * i + 2 * j], v[6 * i + 2 * j + 1]] for j in range(3)] for i in range(2)]


def pairing_python(pairs: Sequence[tuple[G1, G2]]) -> Tower:
    """prod e(P_i, Q_i) as a G_T value in the tower layout, from py_ecc (basis change of prover.gt)."""
    from py_ecc.fields import optimized_bn128_FQ12 as FQ12
    from py_ecc.optimized_bn128.optimized_pairing import final_exponentiate, pairing

    from .gt import fq12_to_tower

    acc = FQ12.one()
    for p, q in checked_pairs(pairs):
        acc = acc * pairing(g2_to_pyecc(q), g1_to_pyecc(p), final_exponentiate=False)
    return fq12_to_tower([int(c) for c in final_exponentiate(acc).coeffs])
