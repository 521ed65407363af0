"""Poseidon hash over BN254, bit-compatible with circomlib / circomlibjs ``poseidon(inputs)``.

``poseidon([x_1..x_k])`` (1 <= k <= 16) runs the width ``t = k + 1`` permutation on the state
``[0, x_1, ..., x_k]`` and returns state[0]. Each of the ``R_F + R_P`` rounds adds the round's
constants, applies x^5 to every cell (full rounds: the first and last R_F/2) or to cell 0 only
(partial rounds), then multiplies by the MDS matrix. Parameters come from
:mod:`circuits.poseidon_constants`.

Two implementations of the same function: :func:`poseidon` (native, the oracle) and
:func:`poseidon_gadget` (in-circuit; each S-box is x2 = x*x, x4 = x2*x2, x5 = x4*x, i.e. 3
constraints, and S-boxes applied to a known constant cost nothing, so t=3 costs 240 constraints).
"""

from __future__ import annotations

from collections.abc import Sequence

from .builder import Api, Operand, Var
from .errors import CircuitError
from .field import R, element
from .poseidon_constants import MAX_WIDTH, PoseidonParams, poseidon_params

#: Most inputs one call accepts (circomlib's limit, t = 17).
MAX_INPUTS = MAX_WIDTH - 1


def _params_for(n_inputs: int) -> PoseidonParams:
    if not 1 <= n_inputs <= MAX_INPUTS:
        raise CircuitError(f"poseidon takes 1..{MAX_INPUTS} inputs, got {n_inputs}")
    return poseidon_params(n_inputs + 1)


def _is_full_round(params: PoseidonParams, r: int) -> bool:
    half = params.rounds_f // 2
    return r < half or r >= half + params.rounds_p


def poseidon(inputs: Sequence[int]) -> int:
    """Native Poseidon of field elements (raises FieldRangeError for out-of-range inputs)."""
    params = _params_for(len(inputs))
    state = [0, *(element(x, f"poseidon input {i}") for i, x in enumerate(inputs))]
    t, mds = params.t, params.mds
    for r in range(params.n_rounds):
        rc = params.round_constants_of(r)
        state = [(s + c) % R for s, c in zip(state, rc)]
        if _is_full_round(params, r):
            state = [pow(s, 5, R) for s in state]
        else:
            state[0] = pow(state[0], 5, R)
        state = [sum(mds[i][j] * state[j] for j in range(t)) % R for i in range(t)]
    return state[0]


def _sbox(api: Api, x: Var) -> Var:
    x2 = api.mul(x, x)
    x4 = api.mul(x2, x2)
    return api.mul(x4, x)


def poseidon_gadget(api: Api, inputs: Sequence[Operand]) -> Var:
    """In-circuit Poseidon; equals :func:`poseidon` of the inputs' values."""
    params = _params_for(len(inputs))
    state: list[Var] = [api.constant(0), *(api.as_var(x) for x in inputs)]
    t, mds = params.t, params.mds
    for r in range(params.n_rounds):
        rc = params.round_constants_of(r)
        state = [api.add(s, c) for s, c in zip(state, rc)]
        if _is_full_round(params, r):
            state = [_sbox(api, s) for s in state]
        else:
            state[0] = _sbox(api, state[0])
        state = [api.linear_combination(mds[i], state) for i in range(t)]
    return state[0]
