"""Groth16 key generation -- FOR LOCAL DEVELOPMENT ONLY.

A single party samples the toxic waste (tau, alpha, beta, gamma, delta) from ``secrets`` and
forgets it when this function returns; anyone who learnt it could forge proofs. Production keys
need a multi-party ceremony (e.g. snarkjs Powers of Tau + phase 2).

Cost: the QAP is evaluated at tau through Lagrange coefficients (O(n) after one batch
inversion), and every key point is produced by fixed-base batch multiplication
(:mod:`prover.fixed_base`), one G1 and one G2 table per setup.
"""

from __future__ import annotations

import random

from circuits.r1cs import R1CS

from .curve import G1_GEN, G2_GEN
from .fields import R
from .fixed_base import batch_mul_g1, batch_mul_g2
from .keys import ProvingKey, VerifyingKey
from .r1cs_digest import r1cs_digest
from .r1cs_to_qap import evaluate_qap_at, qap_domain
from .randomness import random_scalar


def setup(r1cs: R1CS, *, rng: random.Random | None = None) -> tuple[ProvingKey, VerifyingKey]:
    """Generate a (development) proving/verifying key pair for ``r1cs``."""
    domain = qap_domain(r1cs)
    n = domain.size
    while True:
        tau = random_scalar(rng)
        if domain.vanishing_at(tau) != 0:
            break
    alpha, beta, gamma, delta = (random_scalar(rng) for _ in range(4))
    a, b, c, zt = evaluate_qap_at(r1cs, domain, tau)
    gamma_inv = pow(gamma, -1, R)
    delta_inv = pow(delta, -1, R)
    n_inst = r1cs.n_public + 1
    combined = [(beta * a[j] + alpha * b[j] + c[j]) % R for j in range(r1cs.n_wires)]
    ic_sc = [combined[j] * gamma_inv % R for j in range(n_inst)]
    l_sc = [combined[j] * delta_inv % R for j in range(n_inst, r1cs.n_wires)]
    h_sc = []
    t = zt * delta_inv % R
    for _ in range(n - 1):
        h_sc.append(t)
        t = t * tau % R

    singles_g1 = [alpha, beta, delta]
    g1_scalars = singles_g1 + a + b + h_sc + l_sc + ic_sc
    g1 = batch_mul_g1(G1_GEN, g1_scalars)
    g2 = batch_mul_g2(G2_GEN, [beta, gamma, delta] + b)

    nw = r1cs.n_wires
    pos = 3
    alpha_g1, beta_g1, delta_g1 = g1[0], g1[1], g1[2]
    a_query = tuple(g1[pos : pos + nw])
    pos += nw
    b_g1_query = tuple(g1[pos : pos + nw])
    pos += nw
    h_query = tuple(g1[pos : pos + n - 1])
    pos += n - 1
    l_query = tuple(g1[pos : pos + len(l_sc)])
    pos += len(l_sc)
    ic = tuple(g1[pos:])
    vk = VerifyingKey(alpha_g1=alpha_g1, beta_g2=g2[0], gamma_g2=g2[1], delta_g2=g2[2], ic=ic)
    pk = ProvingKey(
        vk=vk,
        beta_g1=beta_g1,
        delta_g1=delta_g1,
        a_query=a_query,
        b_g1_query=b_g1_query,
        b_g2_query=tuple(g2[3:]),
        h_query=h_query,
        l_query=l_query,
        n_public=r1cs.n_public,
        n_wires=nw,
        n_constraints=r1cs.n_constraints,
        domain_size=n,
        r1cs_digest=r1cs_digest(r1cs),
    )
    return pk, vk
