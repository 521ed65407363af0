"""Test support: a tiny seven-public-input R1CS with real Groth16 keys and proofs from ``prover``.

The statement layout matches the registry's (six statement values and the context, any values): private wires
w8 = p1*p2, w9 = w8*p3, w10 = (p4+p5)*p6, w11 = w9*w10, w12 = w11*p7 bind every public input, so changing any
one of them invalidates a proof. It proves nothing about the values: it is what an attacker's "circuit with
only public inputs" looks like, and lets contract tests make valid proofs for any statement and context. Used by
tests/test_contracts_* and tests/test_chain_*.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from typing import Any

from circuits.field import R
from circuits.r1cs import R1CS, Constraint
from node.chains.binding import attestation_context
from node.chains.ethereum import calldata
from prover.keys import ProvingKey, VerifyingKey
from prover.prove import prove
from prover.setup import setup
from prover.solidity import proof_calldata, vk_calldata

TINY_R1CS = R1CS(
    n_wires=13,
    n_public=7,
    constraints=(
        Constraint({1: 1}, {2: 1}, {8: 1}),
        Constraint({8: 1}, {3: 1}, {9: 1}),
        Constraint({4: 1, 5: 1}, {6: 1}, {10: 1}),
        Constraint({9: 1}, {10: 1}, {11: 1}),
        Constraint({11: 1}, {7: 1}, {12: 1}),
    ),
    public_names=("model_hi", "model_lo", "input", "prediction", "class", "explanation", "context"),
    wire_names={},
)


def tiny_witness(public: list[int]) -> list[int]:
    p1, p2, p3, p4, p5, p6, p7 = public
    w8 = p1 * p2 % R
    w9 = w8 * p3 % R
    w10 = (p4 + p5) * p6 % R
    w11 = w9 * w10 % R
    return [1, *public, w8, w9, w10, w11, w11 * p7 % R]


@dataclass(frozen=True)
class TinyKeys:
    pk: ProvingKey
    vk: VerifyingKey

    def vk_calldata(self) -> tuple[list[int], list[list[int]], list[list[int]], list[list[int]], list[list[int]]]:
        return vk_calldata(self.vk)

    def proof(self, public: list[int], seed: int = 0) -> tuple[list[int], list[list[int]], list[int]]:
        """(a, b, c) calldata of a real proof for ``public``."""
        return proof_calldata(prove(self.pk, TINY_R1CS, tiny_witness(public), rng=random.Random(seed)))

    def attestation_proof(self, fields: tuple[Any, ...], adapter: Any, registry: str | None = None,
                          seed: int = 0) -> tuple[list[int], list[list[int]], list[int]]:
        """A real proof of ``fields`` bound to where ``adapter`` attests (:func:`bound_public`)."""
        return self.proof(bound_public(fields, adapter, registry), seed)


def bound_public(fields: tuple[Any, ...], adapter: Any, registry: str | None = None) -> list[int]:
    """The seven public inputs a registry checks when ``adapter``'s account attests the statement ``fields``
    (model hash, input, prediction, class, explanation digests) at ``registry`` (default: the adapter's)."""
    context = attestation_context(adapter.chain_id, registry or adapter.deployment.registry, adapter.address)
    return [*calldata.public_inputs(*fields), context]


@lru_cache(maxsize=None)
def tiny_keys(seed: int = 1) -> TinyKeys:
    pk, vk = setup(TINY_R1CS, rng=random.Random(seed))
    return TinyKeys(pk, vk)
