"""Batched attestations, off-chain side: a batch of openings, its proof, and per-prediction inclusion proofs.

A batch puts up to ``size`` predictions (``circuits.batch``) under one Groth16 proof with public inputs
``[root, count, context]`` (the context binds it to the chain, batch registry and attester: :mod:`node.chains.binding`). Each prediction keeps its own Merkle path (:class:`BatchInclusion`), so a consumer can check
one prediction alone against the batch root recorded by ``BatchAttestationRegistry`` (off-chain with
:meth:`BatchInclusion.verify`, on-chain with ``verifyInclusion`` / ``isAttestedLeafBy``). Submitting is
the chain's, through the adapter contract's :class:`~node.chains.adapter.BatchChain` (:mod:`node.pipeline.batch_stage`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from circuits.batch import batch_circuit, batch_leaves, batch_secret_assignment, batch_witness, statement_leaf
from circuits.commitment import CommitmentOpening, field_element, statement_values
from circuits.errors import CircuitError
from circuits.merkle import batch_root, merkle_path, tree_depth, verify_path
from prover.errors import ProverError
from prover.keys import Proof, ProvingKey
from prover.prove import prove

from node.errors import NodeError


class BatchError(NodeError):
    """A batch is malformed (size, openings) or cannot be proven."""

    status = 400
    code = "bad_batch"


@dataclass(frozen=True)
class BatchOpening:
    """The openings of one batch, in slot order, for a circuit of ``size`` slots, to be attested in ``context``
    (validated on construction)."""

    openings: tuple[CommitmentOpening, ...]
    size: int
    context: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "openings", tuple(self.openings))
        if not self.openings:
            raise BatchError("a batch holds at least one opening")
        try:
            field_element(self.context, "context")
            batch_secret_assignment(self.openings, self.size, self.openings[0].num_classes)
        except CircuitError as exc:
            raise BatchError(f"invalid batch: {exc}") from exc

    @property
    def num_classes(self) -> int:
        return self.openings[0].num_classes

    @property
    def count(self) -> int:
        return len(self.openings)

    @property
    def depth(self) -> int:
        return tree_depth(self.size)

    def leaves(self) -> list[int]:
        """All ``size`` leaves: one per opening, then zeros."""
        return batch_leaves(self.openings, self.size)

    def statements(self) -> list[list[int]]:
        """Each opening's six statement values (what its leaf hashes)."""
        return [statement_values(o) for o in self.openings]


@dataclass(frozen=True)
class BatchProof:
    """A proof for public inputs ``[root, count, context]`` and the leaves it commits to (``size`` of them)."""

    proof: Proof
    root: int
    count: int
    leaves: tuple[int, ...]
    context: int

    @property
    def public_inputs(self) -> list[int]:
        return [self.root, self.count, self.context]


@dataclass(frozen=True)
class BatchInclusion:
    """Prediction ``index`` of batch ``root``: its leaf and Merkle path (siblings from the leaf level up)."""

    root: int
    index: int
    leaf: int
    path: tuple[int, ...]

    def verify(self) -> bool:
        """Off-chain check of the path (same computation as the registry's ``verifyInclusion``)."""
        return self.leaf != 0 and verify_path(self.leaf, self.index, self.path, self.root)

    def matches(self, statement: Sequence[int]) -> bool:
        """True iff the leaf is the one of ``statement`` (a prediction's six statement values) and the path verifies."""
        try:
            return statement_leaf(statement) == self.leaf and self.verify()
        except CircuitError:
            return False


def batch_inclusion(leaves: Sequence[int], index: int) -> BatchInclusion:
    """Inclusion proof of leaf ``index`` in the tree over ``leaves`` (all ``size`` of them, zeros included)."""
    try:
        path = merkle_path(leaves, index)
        root = batch_root(leaves)
    except CircuitError as exc:
        raise BatchError(f"no inclusion proof: {exc}") from exc
    if leaves[index] == 0:
        raise BatchError(f"leaf {index} is padding, not a prediction")
    return BatchInclusion(root=root, index=index, leaf=int(leaves[index]), path=tuple(path))


def prove_batch(pk: ProvingKey, batch: BatchOpening, *, rng: random.Random | None = None) -> BatchProof:
    """Solve and prove ``batch_circuit(batch.size, batch.num_classes)`` for the batch (pk must be that circuit's)."""
    circuit = batch_circuit(batch.size, batch.num_classes)
    leaves = batch.leaves()
    root = batch_root(leaves)
    try:
        # prove() checks every row
        witness = batch_witness(batch.openings, batch.size, batch.context, [root, batch.count, batch.context], check=False)
        proof = prove(pk, circuit.r1cs, witness, rng=rng)
    except (CircuitError, ProverError) as exc:
        raise BatchError(f"cannot prove the batch: {exc}") from exc
    return BatchProof(proof=proof, root=root, count=batch.count, leaves=tuple(leaves), context=batch.context)
