"""Groth16 phase 2 from a Powers-of-Tau ceremony (what ``snarkjs groth16 setup`` does), and a
local delta contribution.

:func:`setup_from_ptau` derives every key point from the ceremony's Lagrange-basis points, so
no single party (in particular not us) ever knew tau, alpha or beta. Like snarkjs' initial key
it has gamma = delta = 1 (the generators): its points equal ``snarkjs groth16 setup``'s output
byte for byte (tested), and it must receive at least one delta contribution before use --
:func:`contribute_delta` here, or ``snarkjs zkey contribute`` on the written ``.zkey``.

Per wire j (rows i over constraints, then one row per instance wire as in snarkjs):
  A_j = sum_i A_ij L_i,  B_j = sum_i B_ij L_i (G1 and G2),
  IC_j / C_j = sum_i (A_ij beta L_i + B_ij alpha L_i + C_ij L_i),
  H_k = L'_(2k+1) over the 2n-th roots (the :data:`~prover.keys.H_ODD_LAGRANGE` layout).
Each sum is one small MSM; coefficient 1 (most of circom's) costs a single addition.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace

from circuits.r1cs import R1CS

from .curve import G1_GEN, G2_GEN, g1_mul, g1_to_affine, g2_mul, g2_to_affine
from .errors import KeyMismatch
from .keys import G1, H_ODD_LAGRANGE, ProvingKey, VerifyingKey
from .batch_affine import scale_many_g1
from .fields import R, fast_int
from .msm import msm_many_g1, msm_many_g2
from .ptau import Ptau
from .r1cs_digest import r1cs_digest
from .r1cs_to_qap import qap_domain_size
from .randomness import random_scalar

_Terms = dict[int, list[tuple[int, int]]]


def _collect(r1cs: R1CS) -> tuple[_Terms, _Terms, _Terms]:
    """(A, B, C) per wire: lists of (row, coefficient), public-input rows appended to A."""
    a: _Terms = defaultdict(list)
    b: _Terms = defaultdict(list)
    c: _Terms = defaultdict(list)
    for i, con in enumerate(r1cs.constraints):
        for w, k in con.a.items():
            a[w].append((i, k))
        for w, k in con.b.items():
            b[w].append((i, k))
        for w, k in con.c.items():
            c[w].append((i, k))
    m = r1cs.n_constraints
    for s in range(r1cs.n_public + 1):
        a[s].append((m + s, 1))
    return a, b, c


def setup_from_ptau(r1cs: R1CS, ptau: Ptau) -> ProvingKey:
    """The initial (delta = 1) phase-2 key for ``r1cs``; contribute before proving."""
    n = qap_domain_size(r1cs)
    if 2 * n > 1 << (ptau.power + 1):
        raise KeyMismatch(f"circuit needs a ptau of power >= {n.bit_length() - 1}, file has {ptau.power}")
    lag = ptau.lagrange("tau_g1", n)
    lag2 = ptau.lagrange("tau_g2", n)
    alag = ptau.lagrange("alpha_tau_g1", n)
    blag = ptau.lagrange("beta_tau_g1", n)
    a, b, c = _collect(r1cs)

    nw = r1cs.n_wires

    def groups(base: list, terms: _Terms) -> list:  # type: ignore[type-arg]
        return [([base[i] for i, _ in terms.get(j, [])], [k for _, k in terms.get(j, [])]) for j in range(nw)]

    combined_groups = [
        (
            [blag[i] for i, _ in a.get(j, [])] + [alag[i] for i, _ in b.get(j, [])] + [lag[i] for i, _ in c.get(j, [])],
            [k for _, k in a.get(j, [])] + [k for _, k in b.get(j, [])] + [k for _, k in c.get(j, [])],
        )
        for j in range(nw)
    ]
    g1 = msm_many_g1(groups(lag, a) + groups(lag, b) + combined_groups)
    a_query, b_g1, combined = g1[:nw], g1[nw : 2 * nw], g1[2 * nw :]
    b_g2 = msm_many_g2(groups(lag2, b))
    lag_2n = ptau.lagrange("tau_g1", 2 * n)
    n_inst = r1cs.n_public + 1
    vk = VerifyingKey(
        alpha_g1=ptau.alpha_g1(),
        beta_g2=ptau.beta_g2(),
        gamma_g2=G2_GEN,
        delta_g2=G2_GEN,
        ic=tuple(combined[:n_inst]),
    )
    return ProvingKey(
        vk=vk,
        beta_g1=ptau.beta_g1(),
        delta_g1=G1_GEN,
        a_query=tuple(a_query),
        b_g1_query=tuple(b_g1),
        b_g2_query=tuple(b_g2),
        h_query=tuple(lag_2n[2 * k + 1] for k in range(n)),
        l_query=tuple(combined[n_inst:]),
        n_public=r1cs.n_public,
        n_wires=nw,
        n_constraints=r1cs.n_constraints,
        domain_size=n,
        r1cs_digest=r1cs_digest(r1cs),
        h_form=H_ODD_LAGRANGE,
    )


def contribute_delta(pk: ProvingKey, *, rng: random.Random | None = None) -> ProvingKey:
    """A phase-2 contribution: delta' = x * delta for fresh secret x, ``l_query`` and ``h_query``
    divided by x. Soundness holds if any one contributor forgot their x (the contribution is not
    recorded in a snarkjs transcript; use ``snarkjs zkey contribute`` when one is needed)."""
    x = random_scalar(rng)
    x_inv = pow(x, -1, R)

    def scale_g1(points: tuple[G1, ...]) -> tuple[G1, ...]:
        live = [i for i, p in enumerate(points) if p != (0, 0)]
        scaled = scale_many_g1(
            [fast_int(points[i][0]) for i in live], [fast_int(points[i][1]) for i in live], x_inv
        )
        out: list[G1] = [(0, 0)] * len(points)
        for i, s in zip(live, scaled):
            if s is not None:
                out[i] = (int(s[0]), int(s[1]))
        return tuple(out)

    vk = pk.vk
    new_vk = VerifyingKey(
        alpha_g1=vk.alpha_g1,
        beta_g2=vk.beta_g2,
        gamma_g2=vk.gamma_g2,
        delta_g2=g2_to_affine(g2_mul(vk.delta_g2, x)),
        ic=vk.ic,
    )
    return replace(
        pk,
        vk=new_vk,
        delta_g1=g1_to_affine(g1_mul(pk.delta_g1, x)),
        l_query=scale_g1(pk.l_query),
        h_query=scale_g1(pk.h_query),
    )
