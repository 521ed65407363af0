"""Batched attestations: Merkle oracle and gadget, prefix flags, batch circuit vs its native oracle (accept/reject)."""

from __future__ import annotations

import hashlib

import pytest

from circuits.batch import (
    BATCH_PUBLIC_INPUTS,
    assert_prefix_flags,
    batch_circuit,
    batch_leaves,
    batch_public_inputs,
    batch_secret_assignment,
    batch_witness,
    opening_leaf,
    slot_prefix,
    statement_leaf,
)
from circuits.builder import Api, compile
from circuits.commitment import CommitmentOpening, commitment_circuit, hash_to_field, statement_values, vector_hash
from circuits.errors import CircuitError, InvalidOpening, OpeningMismatch, UnsatisfiedConstraint
from circuits.field import R
from circuits.merkle import (
    MerkleError,
    batch_root,
    merkle_path,
    merkle_root_gadget,
    path_root,
    tree_levels,
    verify_path,
)
from circuits.poseidon import poseidon
from prover.r1cs_digest import r1cs_digest

NUM_CLASSES = 2
SIZE = 2
#: Any field element: the circuits only carry the context (see test_circuits_commitment).
CONTEXT = 0x1234567890ABCDEF << 100


def _opening(k: int, scores: tuple[int, ...] = (3 << 16, -(1 << 16))) -> CommitmentOpening:
    return CommitmentOpening(
        model_hash=hashlib.sha256(b"batch model").digest(),
        input_hash=hash_to_field(b"input %d" % k),
        input_salt=1000 + k,
        scores=scores,
        predicted_class=scores.index(max(scores)),
        prediction_salt=2000 + k,
        explanation_hash=vector_hash([k, -k]),
        explanation_salt=3000 + k,
    )


OPENINGS = (_opening(0), _opening(1, (-5, 9)))


# --------------------------------------------------------------------------- native Merkle oracle
def test_tree_by_hand() -> None:
    leaves = [11, 22, 33, 44]
    n01, n23 = poseidon([11, 22]), poseidon([33, 44])
    assert batch_root(leaves) == poseidon([n01, n23])
    assert batch_root([11, 22, 33], size=4) == poseidon([n01, poseidon([33, 0])])
    assert tree_levels(leaves)[1] == [n01, n23]
    assert merkle_path(leaves, 2) == [44, n01]
    assert merkle_path(leaves, 1) == [11, n23]


def test_paths_verify_and_reject() -> None:
    leaves = [poseidon([i]) for i in range(8)]
    root = batch_root(leaves)
    for i, leaf in enumerate(leaves):
        path = merkle_path(leaves, i)
        assert len(path) == 3
        assert verify_path(leaf, i, path, root)
        assert path_root(leaf, i, path) == root
        assert not verify_path(leaf + 1, i, path, root)  # tampered leaf
        assert not verify_path(leaf, i ^ 1, path, root)  # wrong index
        assert not verify_path(leaf, i, [path[0] + 1, *path[1:]], root)  # tampered sibling
        assert not verify_path(leaf, i, path, root + 1)  # wrong root
        assert not verify_path(leaf, i, path[:-1], root)  # short path
    assert not verify_path(leaves[0], 8, merkle_path(leaves, 0), root)  # index beyond the path
    assert not verify_path(R, 0, merkle_path(leaves, 0), root)  # out of field


def test_tree_shape_errors() -> None:
    for bad in ([], [1], [1, 2, 3]):
        with pytest.raises(MerkleError):
            batch_root(bad)
    with pytest.raises(MerkleError):
        batch_root([1, 2, 3], size=2)
    with pytest.raises(MerkleError):
        merkle_path([1, 2], 2)
    with pytest.raises(CircuitError):
        batch_root([R, 0])


def test_root_gadget_matches_oracle() -> None:
    leaves = [poseidon([i, 7]) for i in range(4)]

    def define(api: Api) -> None:
        root = api.public("root")
        api.assert_equal(merkle_root_gadget(api, api.secret_vector("leaves", 4)), root)

    circuit = compile(define)
    assert circuit.n_constraints == 3 * 240 + 1 + 1
    circuit.solve({"root": batch_root(leaves)}, {"leaves": leaves})
    with pytest.raises(UnsatisfiedConstraint):
        circuit.solve({"root": batch_root(leaves)}, {"leaves": [leaves[1], leaves[0], *leaves[2:]]})


# --------------------------------------------------------------------------- active-slot flags
def _flags_circuit() -> object:
    def define(api: Api) -> None:
        count = api.public("count")
        assert_prefix_flags(api, api.secret_vector("flags", 4), count)

    return compile(define)


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_prefix_flags_accept(count: int) -> None:
    _flags_circuit().solve({"count": count}, {"flags": [1] * count + [0] * (4 - count)})  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("count", "flags"),
    [
        (0, [0, 0, 0, 0]),  # empty batch
        (1, [0, 1, 0, 0]),  # not a prefix
        (2, [1, 0, 1, 0]),  # gap
        (2, [1, 1, 1, 0]),  # sum != count
        (5, [1, 1, 1, 1]),  # count beyond the tree
        (2, [2, 0, 0, 0]),  # not boolean
        (1, [1, R - 1, 1, 0]),  # non-boolean that sums right
    ],
)
def test_prefix_flags_reject(count: int, flags: list[int]) -> None:
    with pytest.raises(UnsatisfiedConstraint):
        _flags_circuit().solve({"count": count}, {"flags": flags})  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- the single circuit is unchanged
def test_single_circuit_constraints_unchanged_by_the_shared_gadget() -> None:
    """Fingerprints of commitment_circuit(n): taken before commitment_statement was factored out (1,175 / 1,891
    constraints, digest c4e7f866...), then again when the context public input was added (one binding row more)."""
    circuit = commitment_circuit(3)
    assert circuit.n_constraints == 1176
    assert r1cs_digest(circuit.r1cs) == "bdbe080e474b26a7c983adaec3d4b76d970399ad81f4ce6e25377fc5e8bd50c3"
    assert commitment_circuit(10).n_constraints == 1892


# --------------------------------------------------------------------------- the batch circuit
def test_batch_circuit_shape() -> None:
    circuit = batch_circuit(SIZE, NUM_CLASSES)
    assert circuit.r1cs.public_names == BATCH_PUBLIC_INPUTS
    single = commitment_circuit(NUM_CLASSES).n_constraints
    # per slot: the single statement minus its 3 digest equalities and 7 public bindings, plus the leaf
    # Poseidon(6) and the mask; then the tree, 2 flags constraints per slot, first flag, sum, root, 3 bindings
    leaf_poseidon = 8 * 7 * 3 - 3 + 63 * 3  # first full round's constant cell is free
    assert circuit.n_constraints == SIZE * (single - 10 + leaf_poseidon + 1) + (SIZE - 1) * 240 + 2 * SIZE + 2 + 1 + 3
    for bad in (1, 3, 128):
        with pytest.raises(CircuitError):
            batch_circuit(bad, NUM_CLASSES)


def test_leaf_is_poseidon_of_single_public_inputs() -> None:
    statement = statement_values(OPENINGS[0])
    assert opening_leaf(OPENINGS[0]) == poseidon(statement) == statement_leaf(statement)
    assert batch_leaves(OPENINGS[:1], 4)[1:] == [0, 0, 0]
    with pytest.raises(OpeningMismatch):
        statement_leaf(statement[:5])


def _solve(public: list[int], secret: dict[str, object]) -> list[int]:
    """Solve for the claim ``[root, count]`` in :data:`CONTEXT`."""
    return batch_circuit(SIZE, NUM_CLASSES).solve(dict(zip(BATCH_PUBLIC_INPUTS, [*public, CONTEXT])), secret)  # type: ignore[arg-type]


def test_batch_accepts_full_and_padded() -> None:
    full = batch_witness(OPENINGS, SIZE, CONTEXT)
    assert full[1:3] + [CONTEXT] == batch_public_inputs(OPENINGS, SIZE, CONTEXT) == [batch_root([opening_leaf(o) for o in OPENINGS]), 2, CONTEXT]
    padded = batch_witness(OPENINGS[:1], SIZE, CONTEXT)
    assert padded[1:3] == [batch_root([opening_leaf(OPENINGS[0]), 0]), 1]
    # whatever opening sits in a padding slot, its leaf is masked to 0
    both = batch_secret_assignment(OPENINGS, SIZE, NUM_CLASSES)
    assert _solve([batch_root([opening_leaf(OPENINGS[0]), 0]), 1], both)[1:3] == padded[1:3]


def test_batch_rejects_wrong_root_tampered_leaf_wrong_count() -> None:
    leaves = batch_leaves(OPENINGS, SIZE)
    root = batch_root(leaves)
    secret = batch_secret_assignment(OPENINGS, SIZE, NUM_CLASSES)
    claims = {
        "wrong root": [root + 1, 2],
        "tampered leaf": [batch_root([leaves[0], leaves[1] + 1]), 2],
        "swapped leaves": [batch_root([leaves[1], leaves[0]]), 2],
        "count too small": [root, 1],
        "count too large": [root, 3],
        "count zero": [root, 0],
        "active slot with a zero leaf": [batch_root([leaves[0], 0]), 2],
    }
    for what, claim in claims.items():
        with pytest.raises(UnsatisfiedConstraint):
            _solve(claim, secret)
            pytest.fail(what)
    # a padded batch cannot claim its padding slot as a prediction either
    one = batch_secret_assignment(OPENINGS[:1], SIZE, NUM_CLASSES)
    with pytest.raises(UnsatisfiedConstraint):
        _solve([batch_root([leaves[0], 0]), 2], one)


def test_batch_rejects_non_argmax_class_in_one_slot() -> None:
    opening = OPENINGS[1]
    wrong_class = 1 - opening.predicted_class
    secret = batch_secret_assignment(OPENINGS, SIZE, NUM_CLASSES)
    secret[slot_prefix(1) + "predicted_class"] = wrong_class
    # the claimed root is honest for that (wrong) class, so only the argmax constraint can fail
    prediction = CommitmentOpening(
        model_hash=opening.model_hash,
        input_hash=opening.input_hash,
        input_salt=opening.input_salt,
        scores=opening.scores,
        predicted_class=wrong_class,
        prediction_salt=opening.prediction_salt,
        explanation_hash=opening.explanation_hash,
        explanation_salt=opening.explanation_salt,
    )
    statement = statement_values(prediction)
    root = batch_root([opening_leaf(OPENINGS[0]), statement_leaf(statement)])
    with pytest.raises(UnsatisfiedConstraint):
        _solve([root, 2], secret)
    with pytest.raises(OpeningMismatch):  # the native path refuses before solving
        batch_witness((OPENINGS[0], prediction), SIZE, CONTEXT)


def test_batch_opening_validation() -> None:
    with pytest.raises(InvalidOpening):
        batch_secret_assignment((), SIZE, NUM_CLASSES)
    with pytest.raises(InvalidOpening):
        batch_secret_assignment(OPENINGS * 2, SIZE, NUM_CLASSES)  # more than the slots
    with pytest.raises(InvalidOpening):
        batch_secret_assignment((_opening(0, (1, 2, 3)),), SIZE, NUM_CLASSES)  # class count
