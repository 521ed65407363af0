"""Rank-1 constraint systems: <A_i, w> * <B_i, w> = <C_i, w> for every constraint i.

Wire layout follows circom/snarkjs: wire 0 is the constant 1, wires 1..n_public are the public
inputs in declaration order, the remaining wires are private.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from operator import mul

from .errors import UnsatisfiedConstraint, WitnessError
from .field import R

#: A linear combination: wire index -> non-zero coefficient in [0, R).
LinearCombination = Mapping[int, int]


@dataclass(frozen=True)
class Constraint:
    a: LinearCombination
    b: LinearCombination
    c: LinearCombination


def evaluate(lc: LinearCombination, witness: Sequence[int]) -> int:
    return sum(coeff * witness[wire] for wire, coeff in lc.items()) % R


@dataclass(frozen=True)
class R1CS:
    n_wires: int
    n_public: int
    constraints: tuple[Constraint, ...]
    public_names: tuple[str, ...]
    #: Names of private wires where known (index -> name); used for messages only.
    wire_names: Mapping[int, str]

    @property
    def n_constraints(self) -> int:
        return len(self.constraints)

    def public_values(self, witness: Sequence[int]) -> list[int]:
        return list(witness[1 : 1 + self.n_public])

    @cached_property
    def _flat(self) -> tuple[tuple[tuple[tuple[int, ...], tuple[int, ...]], ...], tuple[tuple[int, int, int], ...]]:
        """(distinct linear combinations as (wires, coeffs), each constraint as indices of its A, B, C).

        Interning matters: a Poseidon S-box ``x2 = x*x, x4 = x2*x2, x5 = x4*x`` has its long ``x`` three
        times, so a check evaluates it once."""
        index: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}
        rows = []
        for con in self.constraints:
            ids = []
            for lc in (con.a, con.b, con.c):
                key = (tuple(lc), tuple(lc.values()))
                ids.append(index.setdefault(key, len(index)))
            rows.append((ids[0], ids[1], ids[2]))
        return tuple(index), tuple(rows)

    def check(self, witness: Sequence[int]) -> None:
        """Raise :class:`UnsatisfiedConstraint` at the first violated constraint."""
        self.check_rows(witness, range(len(self.constraints)))

    def check_rows(self, witness: Sequence[int], rows: Iterable[int]) -> None:
        """Like :meth:`check`, for the constraints ``rows`` only (increasing indices; the first violated is reported)."""
        if len(witness) != self.n_wires:
            raise WitnessError(f"witness has {len(witness)} wires, the circuit has {self.n_wires}")
        if witness[0] != 1:
            raise WitnessError("wire 0 must hold the constant 1")
        lcs, flat = self._flat
        get = witness.__getitem__
        values: dict[int, int] = {}
        for i in rows:
            abc = []
            for j in flat[i]:
                v = values.get(j)
                if v is None:
                    wires, coeffs = lcs[j]
                    v = values[j] = sum(map(mul, coeffs, map(get, wires)))
                abc.append(v)
            a, b, c = abc
            if (a * b - c) % R:
                raise UnsatisfiedConstraint(i)

    def is_satisfied(self, witness: Sequence[int]) -> bool:
        try:
            self.check(witness)
        except (UnsatisfiedConstraint, WitnessError):
            return False
        return True
