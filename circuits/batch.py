"""Batched attestations: many predictions in one proof, each keeping its own Merkle inclusion path.

Statement of ``batch_circuit(size, num_classes)`` (size = 2**depth slots), public inputs
:data:`BATCH_PUBLIC_INPUTS` = ``[root, count, context]``:

* for each slot i, the single commitment statement (:func:`circuits.commitment.commitment_statement`:
  salted digests, 32-bit scores, in-circuit argmax) over private values, giving its six statement
  values ``v_i`` = (model_hash_hi, model_hash_lo, input_digest, prediction_digest, predicted_class,
  explanation_digest) -- exactly the public inputs a single attestation of it would have;
* ``leaf_i = poseidon(v_i)`` (Poseidon with 6 inputs, :func:`statement_leaf`);
* ``active_i`` = 1 iff i < count: each flag is boolean, ``active_0 = 1``, ``active_{i+1} <= active_i``
  and ``sum active_i = count`` (so 1 <= count <= size, and the flags are exactly a prefix of ones);
* the tree (:mod:`circuits.merkle`, Poseidon(2) nodes) over ``active_i * leaf_i`` has root ``root``:
  padding slots (i >= count) contribute the leaf 0 whatever their (unconstrained-dummy) opening;
* ``context`` is carried (bound by p*1=p), as in the single circuit: the batch registry recomputes it from
  the chain id, its own address and the sender, so the proof serves only that attester there. Leaves hash
  the statement alone, so a prediction's leaf is the same wherever its batch is attested.

Domain separation: leaves are Poseidon(6) (width 7) and nodes Poseidon(2) (width 3), different
permutations, so an inner node cannot be passed off as a leaf; the registry also fixes the path length
to the tree depth and requires ``index < count``. An active leaf is a Poseidon output, hence not 0
(short of a preimage of 0), so a consumer can tell padding from predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from .builder import Api, CompiledCircuit, Var, compile
from .commitment import (
    STATEMENT,
    CommitmentOpening,
    field_element,
    commitment_statement,
    is_argmax,
    model_hash_limbs,
    secret_assignment,
    statement_values,
)
from .errors import InvalidOpening, OpeningMismatch
from .merkle import batch_root, merkle_root_gadget, tree_depth
from .poseidon import poseidon, poseidon_gadget

BATCH_PUBLIC_INPUTS: tuple[str, ...] = ("root", "count", "context")
#: Private statement values of a slot that the single circuit has as public inputs.
SLOT_HEAD_INPUTS: tuple[str, ...] = ("model_hash_hi", "model_hash_lo", "predicted_class")
#: Largest batch circuit this module builds (a sanity bound: 64 slots is ~150k constraints).
MAX_BATCH_SIZE = 64


def slot_prefix(index: int) -> str:
    """Name prefix of slot ``index``'s private inputs, e.g. ``slot3.input_salt``."""
    return f"slot{index}."


def statement_leaf(statement: Sequence[int]) -> int:
    """Native leaf of one prediction: poseidon of its six statement values (:data:`~circuits.commitment.STATEMENT`)."""
    if len(statement) != len(STATEMENT):
        raise OpeningMismatch(f"a statement has {len(STATEMENT)} values, got {len(statement)}")
    return poseidon(list(statement))


def opening_leaf(opening: CommitmentOpening) -> int:
    """Native leaf of an opening (its statement's leaf)."""
    return statement_leaf(statement_values(opening))


def _check_shape(size: int, num_classes: int) -> None:
    tree_depth(size)
    if size > MAX_BATCH_SIZE:
        raise InvalidOpening(f"batch size {size} exceeds {MAX_BATCH_SIZE}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise InvalidOpening(f"num_classes must be a positive int, got {num_classes!r}")


def assert_prefix_flags(api: Api, flags: Sequence[Var], count: Var) -> None:
    """Constrain ``flags[i] = 1 iff i < count`` with 1 <= count <= len(flags) (2n constraints).

    Each flag is boolean, the first is 1, a flag can be 1 only after a 1 (``f_{i+1} * f_i = f_{i+1}``), and
    the flags sum to ``count``: a boolean non-increasing sequence is a prefix of ones of length its sum."""
    for flag in flags:
        api.assert_boolean(flag)
    api.assert_equal(flags[0], 1)
    for prev, flag in zip(flags, flags[1:]):
        api.assert_equal(api.mul(flag, prev), flag)
    api.assert_equal(api.sum(list(flags)), count)


def _define_batch(size: int, num_classes: int, api: Api) -> None:
    root, count, _context = (api.public(name) for name in BATCH_PUBLIC_INPUTS)  # context: carried (p*1=p)
    leaves = []
    for i in range(size):
        prefix = slot_prefix(i)
        hi, lo, cls = (api.secret(prefix + name) for name in SLOT_HEAD_INPUTS)
        statement = commitment_statement(api, num_classes, hi, lo, cls, prefix=prefix)
        leaves.append(poseidon_gadget(api, statement.as_list()))

    active = api.hints(lambda c: [1 if i < c else 0 for i in range(size)], size, count)
    assert_prefix_flags(api, active, count)
    masked = [api.mul(flag, leaf) for flag, leaf in zip(active, leaves)]
    api.assert_equal(merkle_root_gadget(api, masked), root)


@lru_cache(maxsize=None)
def batch_circuit(size: int, num_classes: int) -> CompiledCircuit:
    """The compiled batch circuit: ``size`` slots (a power of two, 2..64), ``num_classes`` classes (cached)."""
    _check_shape(size, num_classes)

    def define(api: Api) -> None:
        _define_batch(size, num_classes, api)

    return compile(define)


def padding_opening(num_classes: int) -> CommitmentOpening:
    """The fixed dummy opening solved into unused slots (all zeros: a valid argmax; its leaf is masked to 0)."""
    return CommitmentOpening(
        model_hash=bytes(32),
        input_hash=0,
        input_salt=0,
        scores=(0,) * num_classes,
        predicted_class=0,
        prediction_salt=0,
        explanation_hash=0,
        explanation_salt=0,
    )


def _check_openings(openings: Sequence[CommitmentOpening], size: int, num_classes: int) -> None:
    _check_shape(size, num_classes)
    if not 1 <= len(openings) <= size:
        raise InvalidOpening(f"a batch of size {size} holds 1..{size} openings, got {len(openings)}")
    for i, opening in enumerate(openings):
        if not isinstance(opening, CommitmentOpening):
            raise InvalidOpening(f"opening {i} is a {type(opening).__name__}, not a CommitmentOpening")
        if opening.num_classes != num_classes:
            raise InvalidOpening(f"opening {i} has {opening.num_classes} classes, the circuit {num_classes}")
        if not is_argmax(opening.scores, opening.predicted_class):
            raise OpeningMismatch(f"opening {i}: class {opening.predicted_class} is not an argmax of the scores")


def batch_leaves(openings: Sequence[CommitmentOpening], size: int) -> list[int]:
    """Native oracle: the ``size`` tree leaves (opening leaves, then zeros)."""
    return [opening_leaf(o) for o in openings] + [0] * (size - len(openings))


def batch_public_inputs(openings: Sequence[CommitmentOpening], size: int, context: int) -> list[int]:
    """Native oracle: ``[root, count, context]`` for the openings in a batch of ``size`` slots."""
    return [batch_root(batch_leaves(openings, size)), len(openings), field_element(context, "context")]


def batch_secret_assignment(
    openings: Sequence[CommitmentOpening], size: int, num_classes: int
) -> dict[str, int | Sequence[int]]:
    """Private values of every slot (padding slots get :func:`padding_opening`) for ``solve``."""
    _check_openings(openings, size, num_classes)
    padded = list(openings) + [padding_opening(num_classes)] * (size - len(openings))
    secret: dict[str, int | Sequence[int]] = {}
    for i, opening in enumerate(padded):
        prefix = slot_prefix(i)
        hi, lo = model_hash_limbs(opening.model_hash)  # the statement's head, no digest needed here
        cls = opening.predicted_class
        secret.update({prefix + "model_hash_hi": hi, prefix + "model_hash_lo": lo, prefix + "predicted_class": cls})
        secret.update({prefix + name: value for name, value in secret_assignment(opening).items()})
    return secret


def batch_witness(
    openings: Sequence[CommitmentOpening],
    size: int,
    context: int,
    public: Sequence[int] | None = None,
    *,
    check: bool = True,
) -> list[int]:
    """Full witness of ``batch_circuit(size, num_classes)`` for the openings (in slot order), in ``context``.

    ``public`` overrides the claimed ``[root, count, context]`` (default: the native oracle's), so tests can check
    that a wrong claim is unsatisfiable (:class:`~circuits.errors.UnsatisfiedConstraint`). ``check=False``
    skips re-checking the product rows (see :meth:`~circuits.builder.CompiledCircuit.solve`): for a caller
    that hands the witness to a prover checking every row anyway.
    """
    if not openings:
        raise InvalidOpening("a batch holds at least one opening")
    num_classes = openings[0].num_classes
    secret = batch_secret_assignment(openings, size, num_classes)
    claim = batch_public_inputs(openings, size, context) if public is None else list(public)
    if len(claim) != len(BATCH_PUBLIC_INPUTS):
        raise OpeningMismatch(f"expected {len(BATCH_PUBLIC_INPUTS)} public inputs, got {len(claim)}")
    return batch_circuit(size, num_classes).solve(dict(zip(BATCH_PUBLIC_INPUTS, claim)), secret, check=check)
