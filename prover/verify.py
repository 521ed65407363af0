"""Groth16 verification: validate everything, then one multi-pairing product check

    e(-A, B) * e(alpha, beta) * e(vk_x, gamma) * e(C, delta) == 1,
    vk_x = ic[0] + sum_i x_i * ic[i],

as four py_ecc Miller loops multiplied together and a single final exponentiation.
"""

from __future__ import annotations

from collections.abc import Sequence

from .curve import g1_neg_affine, g1_to_pyecc, g2_to_pyecc
from .keys import G1, G2, Proof, VerifyingKey
from .msm import msm_g1
from .validate import check_proof, check_public_inputs, check_vk


def pairing_product_is_one(pairs: Sequence[tuple[G1, G2]]) -> bool:
    """prod e(P_i, Q_i) == 1 in G_T, with one final exponentiation for the whole product."""
    from py_ecc.fields import optimized_bn128_FQ12 as FQ12
    from py_ecc.optimized_bn128.optimized_pairing import final_exponentiate, pairing

    acc = FQ12.one()
    for p, q in pairs:
        acc = acc * pairing(g2_to_pyecc(q), g1_to_pyecc(p), final_exponentiate=False)
    return bool(final_exponentiate(acc) == FQ12.one())


def verify(vk: VerifyingKey, public_inputs: Sequence[int], proof: Proof) -> bool:
    """True iff ``proof`` is valid for ``public_inputs`` under ``vk``.

    Raises :class:`~prover.errors.PublicInputError` (count / range), and
    :class:`~prover.errors.MalformedProof` / :class:`~prover.errors.InvalidPoint` for a proof or key
    that is not made of valid, non-identity group elements. A well-formed but wrong proof -> False.
    """
    vk = check_vk(vk, subgroup=False)  # cheap on-curve checks; subgroup checked when keys are loaded
    inputs = check_public_inputs(vk, public_inputs)
    proof = check_proof(proof)
    vk_x = msm_g1(list(vk.ic), [1, *inputs])
    return pairing_product_is_one(
        [
            (g1_neg_affine(proof.a), proof.b),
            (vk.alpha_g1, vk.beta_g2),
            (vk_x, vk.gamma_g2),
            (proof.c, vk.delta_g2),
        ]
    )
