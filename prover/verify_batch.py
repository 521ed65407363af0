"""Batch verification of many Groth16 proofs for one verifying key.

With independent random 128-bit weights z_j (unknown to the prover, drawn after the proofs are
fixed), the k equations e(A_j, B_j) = e(alpha, beta) e(vk_x_j, gamma) e(C_j, delta) hold for all
j -- except with probability about 2^-128 -- iff

    prod_j e(-z_j A_j, B_j) * e((sum z_j) alpha, beta) * e(sum z_j vk_x_j, gamma)
        * e(sum z_j C_j, delta) == 1,

one multi-pairing of k + 3 Miller loops and one final exponentiation instead of 4k loops and k
exponentiations (native when the extension is loaded, see :mod:`prover.pairing`). All the G1
sums are MSMs. Every proof and public input is strictly validated
(:func:`~prover.validate.check_proof`, range checks) before any pairing, so a single malformed
item raises instead of being silently absorbed; a ``False`` result means at least one proof is
invalid (call :func:`~prover.verify.verify` per proof to find which).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from .curve import g1_neg_affine
from .errors import PublicInputError
from .keys import G1, G2, Proof, VerifyingKey
from .msm import msm_g1
from .validate import check_proof, check_public_inputs, check_vk
from .pairing import pairing_product_is_one

WEIGHT_BITS = 128


def verify_batch(
    vk: VerifyingKey,
    items: Sequence[tuple[Sequence[int], Proof]],
    *,
    weights: Sequence[int] | None = None,
) -> bool:
    """True iff every ``(public_inputs, proof)`` in ``items`` is valid under ``vk``.

    ``weights`` exists for tests only (fixed weights let a crafted batch cancel); by default they
    are fresh from ``secrets``. An empty batch is vacuously valid.
    """
    vk = check_vk(vk, subgroup=False)
    checked = [(check_public_inputs(vk, pub), check_proof(proof)) for pub, proof in items]
    if not checked:
        return True
    if weights is None:
        weights = [1 + secrets.randbits(WEIGHT_BITS) for _ in checked]
    elif len(weights) != len(checked):
        raise PublicInputError("one weight per proof is needed")
    # sum_j z_j vk_x_j = sum_i (sum_j z_j x_ji) IC_i, with x_j0 = 1
    n = vk.n_public + 1
    ic_scalars = [0] * n
    for z, (pub, _) in zip(weights, checked):
        for i, x in enumerate([1, *pub]):
            ic_scalars[i] += z * x
    vk_x = msm_g1(list(vk.ic), ic_scalars)
    c_sum = msm_g1([p.c for _, p in checked], list(weights))
    alpha_sum = msm_g1([vk.alpha_g1], [sum(weights)])
    pairs: list[tuple[G1, G2]] = [
        (msm_g1([g1_neg_affine(p.a)], [z]), p.b) for z, (_, p) in zip(weights, checked)
    ]
    pairs += [(alpha_sum, vk.beta_g2), (vk_x, vk.gamma_g2), (c_sum, vk.delta_g2)]
    return pairing_product_is_one(pairs)
