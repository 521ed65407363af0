"""Poseidon hash over BN254, bit-compatible with circomlib / circomlibjs ``poseidon(inputs)``.

``poseidon([x_1..x_k])`` (1 <= k <= 16) runs the width ``t = k + 1`` permutation on the state
``[0, x_1, ..., x_k]`` and returns state[0]. Each of the ``R_F + R_P`` rounds adds the round's
constants, applies x^5 to every cell (full rounds: the first and last R_F/2) or to cell 0 only
(partial rounds), then multiplies by the MDS matrix. Parameters come from
:mod:`circuits.poseidon_constants`.

Two implementations of the same function: :func:`poseidon` (native, the oracle) and
:func:`poseidon_gadget` (in-circuit; each S-box is x2 = x*x, x4 = x2*x2, x5 = x4*x, i.e. 3
constraints, and S-boxes applied to a known constant cost nothing, so t=3 costs 240 constraints).
The gadget is a native block of the builder: the fast solver computes its S-box wires with the native
permutation (:func:`_sbox_wires`) instead of replaying its products, in the gadget's allocation order.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from operator import mul

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


@lru_cache(maxsize=None)
def _schedule(t: int) -> tuple[tuple[tuple[int, ...], bool], ...]:
    """(round constants, is a full round) for each round of the width-``t`` permutation."""
    params = poseidon_params(t)
    return tuple((params.round_constants_of(r), _is_full_round(params, r)) for r in range(params.n_rounds))


def _permute(state: list[int], wired: Sequence[bool] | None = None, trace: list[int] | None = None) -> int:
    """state[0] after the permutation of width len(state); with ``trace``, appends each S-box's
    (x^2, x^4, x^5) for the S-boxes flagged in ``wired`` (all S-boxes in application order)."""
    t = len(state)
    mds = poseidon_params(t).mds
    k = 0
    for rc, full in _schedule(t):
        state = [s + c for s, c in zip(state, rc)]  # < 2R: every use below reduces
        for i in range(t if full else 1):
            x = state[i]
            x2 = x * x % R
            x4 = x2 * x2 % R
            x5 = x4 * x % R
            state[i] = x5
            if trace is not None:
                if wired[k]:  # type: ignore[index]
                    trace += (x2, x4, x5)
                k += 1
        state = [sum(map(mul, row, state)) % R for row in mds]
    return state[0]


def poseidon(inputs: Sequence[int]) -> int:
    """Native Poseidon of field elements (raises FieldRangeError for out-of-range inputs)."""
    _params_for(len(inputs))
    return _permute([0, *(element(x, f"poseidon input {i}") for i, x in enumerate(inputs))])


def _sbox_wires(wired: Sequence[bool], *values: int) -> list[int]:
    """The native block solver of :func:`poseidon_gadget`: the wires its S-boxes allocate, in order."""
    trace: list[int] = []
    _permute([0, *values], wired, trace)
    return trace


def _sbox(api: Api, x: Var, wired: list[bool]) -> Var:
    wired.append(not x.is_constant())  # an S-box of a constant allocates nothing
    x2 = api.mul(x, x)
    x4 = api.mul(x2, x2)
    return api.mul(x4, x)


def poseidon_gadget(api: Api, inputs: Sequence[Operand]) -> Var:
    """In-circuit Poseidon; equals :func:`poseidon` of the inputs' values."""
    params = _params_for(len(inputs))
    xs = [api.as_var(x) for x in inputs]
    wired: list[bool] = []  # filled while the body runs, read by the solver when solving
    with api.native_block(lambda *values: _sbox_wires(wired, *values), xs):
        state: list[Var] = [api.constant(0), *xs]
        for rc, full in _schedule(params.t):
            state = [api.add(s, c) for s, c in zip(state, rc)]
            if full:
                state = [_sbox(api, s, wired) for s in state]
            else:
                state[0] = _sbox(api, state[0], wired)
            state = [api.linear_combination(row, state) for row in params.mds]
    return state[0]
