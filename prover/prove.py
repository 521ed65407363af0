"""Groth16 proving.

With witness w (w_0 = 1) and fresh r, s:
  A = alpha + sum_j w_j A_j(tau) + r*delta                      (G1)
  B = beta  + sum_j w_j B_j(tau) + s*delta                      (G2, and in G1 for C)
  C = sum_{j private} w_j L_j + sum_i h_i tau^i Z(tau)/delta + s*A + r*B_1 - r*s*delta   (G1)
Each line is one MSM; constant terms ride along as extra MSM terms (scalar 1 is a fast path).
The B-in-G2 MSM (the most expensive one) and the L part of C depend on neither H nor A/B, so
with an ``executor`` (e.g. a long-lived ``ProcessPoolExecutor``) they start first and run beside
the QAP work and the H, A and B1 MSMs.

With the C extension (:data:`prover.native.NATIVE`) the whole pipeline stays on packed bytes
(:func:`prove_native`): the key's bases are packed once per key object, the witness once per
proof, the witness map runs in C and feeds H straight into the MSMs, L and H share one MSM, and
each MSM uses every core itself, so ``executor`` is not used. Proofs are identical either way.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from typing import Any

from circuits.errors import CircuitError
from circuits.r1cs import R1CS

from . import native as _native
from .curve import g1_add, g1_to_affine
from .errors import KeyMismatch, UnsatisfiedWitness
from .fft import Domain
from .fields import R
from .keys import H_ODD_LAGRANGE, ProvingKey, Proof
from .msm import msm_g1, msm_g1_jac, msm_g2
from .r1cs_digest import r1cs_digest
from .r1cs_to_qap import witness_map, witness_map_odd, witness_map_packed
from .randomness import random_scalar


def check_key_matches(pk: ProvingKey, r1cs: R1CS) -> None:
    """Raise :class:`KeyMismatch` unless ``pk`` was generated for exactly this ``r1cs``."""
    if (pk.n_wires, pk.n_public, pk.n_constraints) != (
        r1cs.n_wires,
        r1cs.n_public,
        r1cs.n_constraints,
    ):
        raise KeyMismatch(
            f"key is for {pk.n_wires} wires / {pk.n_public} public / {pk.n_constraints} constraints, "
            f"circuit has {r1cs.n_wires} / {r1cs.n_public} / {r1cs.n_constraints}"
        )
    if pk.r1cs_digest != r1cs_digest(r1cs):
        raise KeyMismatch("proving key was generated for a different constraint system")


def check_witness(r1cs: R1CS, witness: Sequence[int], *, constraints: bool = True) -> None:
    """Raise :class:`UnsatisfiedWitness` for a short/long, out-of-range or unsatisfying witness
    (``constraints=False`` leaves the constraint check to a caller that evaluates them anyway)."""
    if len(witness) != r1cs.n_wires:
        raise UnsatisfiedWitness(f"witness has {len(witness)} wires, circuit has {r1cs.n_wires}")
    for i, v in enumerate(witness):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < R:
            raise UnsatisfiedWitness(f"witness wire {i} is not a field element in [0, r): {v!r}")
    if witness[0] != 1:
        raise UnsatisfiedWitness("wire 0 must hold the constant 1")
    if not constraints:
        return
    try:
        r1cs.check(witness)
    except CircuitError as exc:
        raise UnsatisfiedWitness(str(exc)) from exc


def prove(
    pk: ProvingKey,
    r1cs: R1CS,
    witness: Sequence[int],
    *,
    rng: random.Random | None = None,
    executor: Executor | None = None,
) -> Proof:
    """Prove knowledge of ``witness`` satisfying ``r1cs``; randomness from ``secrets`` by default.

    Raises :class:`KeyMismatch` if ``pk`` is not for ``r1cs`` and :class:`UnsatisfiedWitness`
    if the witness is malformed or violates a constraint. ``executor``, when given, runs the
    G2 MSM and the L MSM in parallel with the rest (results are identical).
    """
    check_key_matches(pk, r1cs)
    odd = pk.h_form == H_ODD_LAGRANGE
    native = _native.NATIVE
    # the odd-coset and the native witness maps check every row themselves
    check_witness(r1cs, witness, constraints=not (odd or native))
    w = list(witness)
    r = random_scalar(rng, nonzero=False)
    s = random_scalar(rng, nonzero=False)
    if native:
        return prove_native(pk, r1cs, w, r, s)
    vk = pk.vk
    b2_args = ([vk.beta_g2, *pk.b_g2_query, vk.delta_g2], [1, *w, s])
    l_args = (pk.l_query, w[pk.n_public + 1 :])
    futures: list[Future[Any]] = []
    if executor is not None:  # independent of H: start them before the QAP work
        futures = [executor.submit(msm_g2, *b2_args), executor.submit(msm_g1_jac, *l_args)]
    try:
        if odd:
            h = witness_map_odd(r1cs, w, Domain(pk.domain_size))
        else:
            h = witness_map(r1cs, w, Domain(pk.domain_size))
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    h_part = msm_g1_jac(pk.h_query, h)
    a = msm_g1([vk.alpha_g1, *pk.a_query, pk.delta_g1], [1, *w, r])
    b1 = msm_g1([pk.beta_g1, *pk.b_g1_query, pk.delta_g1], [1, *w, s])
    if futures:
        b2 = futures[0].result()
        l_part = futures[1].result()
    else:
        b2 = msm_g2(*b2_args)
        l_part = msm_g1_jac(*l_args)
    lh = g1_add(l_part, h_part)
    c = g1_to_affine(g1_add(lh, msm_g1_jac([a, b1, pk.delta_g1], [s, r, (-r * s) % R])))
    return Proof(a=a, b=b2, c=c)


def prove_native(pk: ProvingKey, r1cs: R1CS, witness: Sequence[int], r: int, s: int) -> Proof:
    """The proof for blinding scalars ``r``, ``s`` with the C kernels (same result as the Python
    path); ``witness`` must already be checked (:func:`check_witness`, rows excepted)."""
    keys = _native.packed_key(pk)
    wb = _native.pack_ints(witness)
    one, rb, sb = (v.to_bytes(32, "little") for v in (1, r, s))
    h = witness_map_packed(r1cs, wb, Domain(pk.domain_size), odd=pk.h_form == H_ODD_LAGRANGE)
    a = _native.g1_msm_packed(keys.a, one + wb + rb)
    b1 = _native.g1_msm_packed(keys.b1, one + wb + sb)
    b2 = _native.g2_msm_packed(keys.b2, one + wb + sb)
    lh = _native.g1_msm_packed(keys.lh, wb[32 * (pk.n_public + 1) :] + h)
    c = _native.msm_g1_native([lh, a, b1, pk.delta_g1], [1, s, r, (-r * s) % R])
    return Proof(a=a, b=b2, c=c)
