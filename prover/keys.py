"""Groth16 key and proof records (frozen, plain ints so they serialise and pickle trivially).

Point conventions (see :mod:`prover.curve`): ``G1 = (x, y)`` affine; ``G2 = ((x0, x1), (y0, y1))``
affine with ``x = x0 + x1*u``; the identity is all zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

G1 = tuple[int, int]
G2 = tuple[tuple[int, int], tuple[int, int]]

#: ``h_query[i] = tau^i Z(tau) / delta`` (i < n - 1); H's coefficients come from a coset NTT.
H_COSET = "coset"
#: snarkjs/zkey layout: ``h_query[i] = L_(2i+1)(tau) / delta`` over the 2n-th roots of unity
#: (i < n); the scalars are (A*B - C) at the odd 2n-th roots, no division by Z needed.
H_ODD_LAGRANGE = "odd-lagrange"


@dataclass(frozen=True)
class VerifyingKey:
    """``ic[0]`` is the constant-wire term, ``ic[i]`` belongs to public input i (1-based wire)."""

    alpha_g1: G1
    beta_g2: G2
    gamma_g2: G2
    delta_g2: G2
    ic: tuple[G1, ...]

    @property
    def n_public(self) -> int:
        return len(self.ic) - 1


@dataclass(frozen=True)
class ProvingKey:
    """Everything the prover needs; ``r1cs_digest`` binds the key to one constraint system.

    Query layout (arkworks/libsnark): ``a_query``/``b_g1_query``/``b_g2_query`` have one point per
    wire (A_j(tau), B_j(tau)); ``h_query[i] = tau^i * Z(tau) / delta`` for i < domain_size - 1;
    ``l_query[j]`` = (beta*A + alpha*B + C)(tau) / delta for private wire ``n_public + 1 + j``.
    ``h_form`` says which of the two H layouts ``h_query`` uses (:data:`H_COSET` from our
    :func:`prover.setup.setup`, :data:`H_ODD_LAGRANGE` from a snarkjs ``.zkey`` / ptau setup).
    """

    vk: VerifyingKey
    beta_g1: G1
    delta_g1: G1
    a_query: tuple[G1, ...]
    b_g1_query: tuple[G1, ...]
    b_g2_query: tuple[G2, ...]
    h_query: tuple[G1, ...]
    l_query: tuple[G1, ...]
    n_public: int
    n_wires: int
    n_constraints: int
    domain_size: int
    r1cs_digest: str
    h_form: str = H_COSET


@dataclass(frozen=True)
class Proof:
    a: G1
    b: G2
    c: G1
