"""Test support: a tiny six-public-input R1CS with real Groth16 keys and proofs from ``prover``.

The statement layout matches the registry's (six public inputs, any values): private wires
w7 = p1*p2, w8 = w7*p3, w9 = (p4+p5)*p6, w10 = w8*w9 bind every public input, so changing any one of
them invalidates a proof. Used by tests/test_contracts_* and tests/test_chain_*.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from circuits.field import R
from circuits.r1cs import R1CS, Constraint
from prover.keys import ProvingKey, VerifyingKey
from prover.prove import prove
from prover.setup import setup
from prover.solidity import proof_calldata, vk_calldata

TINY_R1CS = R1CS(
    n_wires=11,
    n_public=6,
    constraints=(
        Constraint({1: 1}, {2: 1}, {7: 1}),
        Constraint({7: 1}, {3: 1}, {8: 1}),
        Constraint({4: 1, 5: 1}, {6: 1}, {9: 1}),
        Constraint({8: 1}, {9: 1}, {10: 1}),
    ),
    public_names=("model_hi", "model_lo", "input", "prediction", "class", "explanation"),
    wire_names={},
)


def tiny_witness(public: list[int]) -> list[int]:
    p1, p2, p3, p4, p5, p6 = public
    w7 = p1 * p2 % R
    w8 = w7 * p3 % R
    w9 = (p4 + p5) * p6 % R
    return [1, *public, w7, w8, w9, w8 * w9 % R]


@dataclass(frozen=True)
class TinyKeys:
    pk: ProvingKey
    vk: VerifyingKey

    def vk_calldata(self) -> tuple[list[int], list[list[int]], list[list[int]], list[list[int]], list[list[int]]]:
        return vk_calldata(self.vk)

    def proof(self, public: list[int], seed: int = 0) -> tuple[list[int], list[list[int]], list[int]]:
        """(a, b, c) calldata of a real proof for ``public``."""
        return proof_calldata(prove(self.pk, TINY_R1CS, tiny_witness(public), rng=random.Random(seed)))


@lru_cache(maxsize=None)
def tiny_keys(seed: int = 1) -> TinyKeys:
    pk, vk = setup(TINY_R1CS, rng=random.Random(seed))
    return TinyKeys(pk, vk)
