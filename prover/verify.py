"""Groth16 verification: validate everything, then one multi-pairing product check

    e(-A, B) * e(alpha, beta) * e(vk_x, gamma) * e(C, delta) == 1,
    vk_x = ic[0] + sum_i x_i * ic[i],

as one multi-pairing: four Miller loops multiplied together and a single final exponentiation, natively
(prover/csrc/pairing.c) when the extension is loaded, else with py_ecc (the reference); see
:mod:`prover.pairing`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .curve import g1_neg_affine
from .keys import Proof, VerifyingKey
from .msm import msm_g1
from .pairing import pairing_product_is_one, pairing_product_is_one_python
from .validate import check_proof, check_public_inputs, check_vk

__all__ = ["pairing_product_is_one", "pairing_product_is_one_python", "verify"]


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
