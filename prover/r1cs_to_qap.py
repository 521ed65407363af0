"""R1CS -> QAP reduction (the arkworks ``LibsnarkReduction``).

Rows of the QAP: the R1CS constraints, then one "input consistency" row per instance wire
i = 0..n_public with A = wire i, B = 0, C = 0. Those rows make the A-polynomials of the public
wires linearly independent, which Groth16's soundness needs. The domain is the smallest power of
two holding all rows. Everything here is O(n log n) via NTTs; nothing quadratic.

With the C extension loaded, both witness maps run natively on packed bytes
(:func:`witness_map_packed`: R1CS rows, NTTs and the pointwise products in C, every row checked);
``witness_map_python`` / ``witness_map_odd_python`` are the pure-Python versions.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.errors import UnsatisfiedConstraint
from circuits.r1cs import R1CS, evaluate

from . import native as _native
from .errors import UnsatisfiedWitness
from .fft import COSET_SHIFT, Domain, domain_size_for, root_of_unity
from .fields import R


def qap_domain_size(r1cs: R1CS) -> int:
    return domain_size_for(r1cs.n_constraints + r1cs.n_public + 1)


def qap_domain(r1cs: R1CS) -> Domain:
    return Domain(qap_domain_size(r1cs))


def witness_map(r1cs: R1CS, witness: Sequence[int], domain: Domain) -> list[int]:
    """Coefficients h_0..h_(n-2) of H = (A*B - C) / Z (:func:`witness_map_python`, natively in C)."""
    if _native.NATIVE:
        packed = _native.pack_scalars(witness)
        return _native.unpack_ints(witness_map_packed(r1cs, packed, domain, odd=False))
    return witness_map_python(r1cs, witness, domain)


def witness_map_odd(r1cs: R1CS, witness: Sequence[int], domain: Domain) -> list[int]:
    """(A*B - C) at the odd 2n-th roots of unity (:func:`witness_map_odd_python`, natively in C)."""
    if _native.NATIVE:
        packed = _native.pack_scalars(witness)
        return _native.unpack_ints(witness_map_packed(r1cs, packed, domain, odd=True))
    return witness_map_odd_python(r1cs, witness, domain)


def witness_map_packed(r1cs: R1CS, witness: bytes, domain: Domain, *, odd: bool) -> bytes:
    """Native witness map on a packed witness: the H scalars of :func:`witness_map_odd_python`
    (``odd``) or :func:`witness_map_python`, packed.

    Raises :class:`UnsatisfiedWitness` at the first violated row (both forms check every row).
    Per polynomial: one iNTT whose output scaling also applies the coset shift, then one NTT.
    """
    n = domain.size
    a, b, c, bad = _native.r1cs_rows(r1cs, witness, n)
    if bad >= 0:
        raise UnsatisfiedWitness(str(UnsatisfiedConstraint(bad)))
    shift = root_of_unity(2 * n) if odd else COSET_SHIFT
    polys = []
    for evals in (a, b, c):
        coeffs = _native.fr_ntt(evals, domain.omega_inv, post=(domain.size_inv, shift))
        polys.append(_native.fr_ntt(coeffs, domain.omega))
    if odd:
        return _native.fr_abc(polys[0], polys[1], polys[2], 1)
    z_inv = pow(domain.vanishing_at(COSET_SHIFT), -1, R)
    quotient = _native.fr_abc(polys[0], polys[1], polys[2], z_inv)
    h = _native.fr_ntt(quotient, domain.omega_inv, post=(domain.size_inv, pow(COSET_SHIFT, -1, R)))
    if any(h[32 * (n - 1) :]):
        raise UnsatisfiedWitness("A*B - C is not divisible by the vanishing polynomial")
    return h[: 32 * (n - 1)]


def witness_map_python(r1cs: R1CS, witness: Sequence[int], domain: Domain) -> list[int]:
    """Coefficients h_0..h_(n-2) of H = (A*B - C) / Z for a satisfying witness.

    A, B, C are interpolated from their row evaluations (iNTT), evaluated on the coset g*<omega>
    (coset NTT) where Z is the constant g^n - 1, divided pointwise and brought back (coset iNTT).
    """
    n = domain.size
    m = r1cs.n_constraints
    a = [0] * n
    b = [0] * n
    c = [0] * n
    for i, con in enumerate(r1cs.constraints):
        a[i] = evaluate(con.a, witness)
        b[i] = evaluate(con.b, witness)
        c[i] = evaluate(con.c, witness)
    for i in range(r1cs.n_public + 1):
        a[m + i] = witness[i] % R
    a_c = domain.coset_ntt(domain.intt(a))
    b_c = domain.coset_ntt(domain.intt(b))
    c_c = domain.coset_ntt(domain.intt(c))
    z_inv = pow(domain.vanishing_at(COSET_SHIFT), -1, R)
    quotient = [(x * y - z) * z_inv % R for x, y, z in zip(a_c, b_c, c_c)]
    h = domain.coset_intt(quotient)
    if h[n - 1] != 0:
        raise UnsatisfiedWitness("A*B - C is not divisible by the vanishing polynomial")
    return h[: n - 1]


def witness_map_odd_python(r1cs: R1CS, witness: Sequence[int], domain: Domain) -> list[int]:
    """(A*B - C) at the odd 2n-th roots of unity w_2n^(2i+1), i < n (snarkjs' H scalars).

    A*B - C vanishes on the n-th roots (the even 2n-th roots) and has degree < 2n, so its value
    at tau is sum_i L_(2i+1)(tau) * (A*B - C)(w_2n^(2i+1)): paired with ``h_query[i] =
    L_(2i+1)(tau) / delta`` this gives H(tau) Z(tau) / delta without dividing by Z. The odd points
    are the coset w_2n * <w_n>, reached by one iNTT and one coset NTT per polynomial. Rows are
    checked first, so an unsatisfying witness is reported instead of yielding a bad proof.
    """
    n = domain.size
    m = r1cs.n_constraints
    a = [0] * n
    b = [0] * n
    c = [0] * n
    for i, con in enumerate(r1cs.constraints):
        ai = evaluate(con.a, witness)
        bi = evaluate(con.b, witness)
        a[i] = ai
        b[i] = bi
        c[i] = ai * bi % R
        if evaluate(con.c, witness) != c[i]:
            raise UnsatisfiedWitness(f"constraint {i} is violated")
    for i in range(r1cs.n_public + 1):
        a[m + i] = witness[i] % R
    shift = root_of_unity(2 * n)
    a_o = domain.coset_ntt(domain.intt(a), shift)
    b_o = domain.coset_ntt(domain.intt(b), shift)
    c_o = domain.coset_ntt(domain.intt(c), shift)
    return [(x * y - z) % R for x, y, z in zip(a_o, b_o, c_o)]


def lagrange_at(domain: Domain, tau: int) -> list[int]:
    """L_i(tau) for every domain point: Z(tau) * omega^i / (n * (tau - omega^i)); tau off-domain."""
    zt = domain.vanishing_at(tau)
    if zt == 0:
        raise ValueError("tau lies in the evaluation domain")
    elems = domain.elements()
    dens = [(tau - w) % R for w in elems]
    inv = _batch_inv_r(dens)
    factor = zt * domain.size_inv % R
    return [factor * w % R * d % R for w, d in zip(elems, inv)]


def evaluate_qap_at(
    r1cs: R1CS, domain: Domain, tau: int
) -> tuple[list[int], list[int], list[int], int]:
    """Per-wire A_j(tau), B_j(tau), C_j(tau) and Z(tau) (used by the setup)."""
    lag = lagrange_at(domain, tau)
    a = [0] * r1cs.n_wires
    b = [0] * r1cs.n_wires
    c = [0] * r1cs.n_wires
    for i, con in enumerate(r1cs.constraints):
        li = lag[i]
        for w, k in con.a.items():
            a[w] = (a[w] + k * li) % R
        for w, k in con.b.items():
            b[w] = (b[w] + k * li) % R
        for w, k in con.c.items():
            c[w] = (c[w] + k * li) % R
    m = r1cs.n_constraints
    for i in range(r1cs.n_public + 1):
        a[i] = (a[i] + lag[m + i]) % R
    return a, b, c, domain.vanishing_at(tau)


def _batch_inv_r(values: Sequence[int]) -> list[int]:
    n = len(values)
    prefix = [0] * n
    acc = 1
    for i, v in enumerate(values):
        prefix[i] = acc
        acc = acc * v % R
    acc = pow(acc, -1, R)
    out = [0] * n
    for i in range(n - 1, -1, -1):
        out[i] = acc * prefix[i] % R
        acc = acc * values[i] % R
    return out
