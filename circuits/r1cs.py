"""Rank-1 constraint systems: <A_i, w> * <B_i, w> = <C_i, w> for every constraint i.

Wire layout follows circom/snarkjs: wire 0 is the constant 1, wires 1..n_public are the public
inputs in declaration order, the remaining wires are private.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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

    def check(self, witness: Sequence[int]) -> None:
        """Raise :class:`UnsatisfiedConstraint` at the first violated constraint."""
        if len(witness) != self.n_wires:
            raise WitnessError(f"witness has {len(witness)} wires, the circuit has {self.n_wires}")
        if witness[0] != 1:
            raise WitnessError("wire 0 must hold the constant 1")
        for i, con in enumerate(self.constraints):
            a, b, c = evaluate(con.a, witness), evaluate(con.b, witness), evaluate(con.c, witness)
            if a * b % R != c:
                raise UnsatisfiedConstraint(i)

    def is_satisfied(self, witness: Sequence[int]) -> bool:
        try:
            self.check(witness)
        except (UnsatisfiedConstraint, WitnessError):
            return False
        return True
