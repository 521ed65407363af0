"""The attestation commitment: circuit, native oracle and the canonical encodings both rely on.

Statement proven (for a circuit fixed to ``num_classes`` = n classes), public inputs in
:data:`PUBLIC_INPUTS` order::

    model_hash_hi, model_hash_lo   the model's 32-byte hash as two 128-bit limbs (carried, bound by p*1=p)
    input_digest       = poseidon([input_hash, input_salt])
    prediction_digest  = poseidon([poseidon([acc, predicted_class]), prediction_salt])
    predicted_class    in [0, n), and an argmax of the committed scores
    explanation_digest = poseidon([explanation_hash, explanation_salt])
    context            the chain, registry and attester the proof is for (carried, bound by p*1=p)

with the private opening ``input_hash, input_salt, scores[0..n), prediction_salt,
explanation_hash, explanation_salt``, where:

* scores are signed int32 fixed-point logits (logit * 2**16); in the circuit each is carried as
  its offset value ``u_i = s_i + 2**31`` and range-checked to 32 bits (so s_i is a valid int32);
* ``pack_scores``: u_0..u_{n-1} are packed 7 per field element (224 bits < 254),
  ``chunk_k = sum_{j<7} u_{7k+j} * 2**(32 j)`` (a short last chunk simply has fewer terms, i.e.
  is padded with 0);
* ``acc = chunk_0``, then ``acc = poseidon([acc, chunk_k])`` for k = 1, 2, ...;
* argmax: a one-hot vector e selects ``sel = sum e_i u_i`` with ``sum i*e_i = predicted_class``, and
  ``sel - u_i`` is range-checked to 32 bits (i.e. sel >= u_i) for every i. Ties are allowed: any
  index of a maximal score is a valid predicted_class.

Hashes of off-circuit data (the input tensor, the explanation) are ``hash_to_field`` =
SHA-256 truncated to 248 bits (so they are field elements); vectors are hashed with the canonical
encoding of :func:`vector_hash`. The number of classes is not hashed: it is fixed by the circuit
(hence by the verification key).

``context`` is a field element the circuit only carries: Groth16 binds every public input, so a proof
made for one context does not verify for another. The node sets it to a hash naming where the statement
is made and by whom (``node.binding``: chain id, registry address, attester address), and the registry
recomputes it from ``block.chainid``, ``address(this)`` and ``msg.sender``: a copied proof is useless to
any other sender, registry or chain. The first six public inputs are the prediction's *statement*
(:data:`STATEMENT`), the same wherever it is attested; a batch's leaves hash the statement alone.

For n = 10 the circuit has 1,891 constraints: 5 Poseidon(2) hashes at 240 each, 20 32-bit range
checks at 33 each (10 scores, 10 differences), 22 for the one-hot selection, 3 digest equalities
and 7 public-input bindings: 1,892 in all.
"""

from __future__ import annotations

import hashlib
import operator
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .builder import Api, CompiledCircuit, Var, compile
from .errors import CircuitError, EncodingError, InvalidOpening, OpeningMismatch
from .field import R
from .gadgets import assert_geq, select_by_one_hot, select_one_hot, to_bits
from .poseidon import poseidon, poseidon_gadget

SCORE_BITS = 32
SCORE_OFFSET = 2**31
SCORE_MIN = -(2**31)
SCORE_MAX = 2**31 - 1
HASH_BITS = 248
#: Offset scores per packed field element.
SCORES_PER_CHUNK = 7
VECTOR_DOMAIN = b"zkxai.vec.v1"
MODEL_HASH_BYTES = 32

#: The six statement values of one prediction (what a batch leaf hashes), in public-input order.
STATEMENT: tuple[str, ...] = (
    "model_hash_hi",
    "model_hash_lo",
    "input_digest",
    "prediction_digest",
    "predicted_class",
    "explanation_digest",
)
#: Public inputs of the commitment circuit: the statement, then the context it is attested in.
PUBLIC_INPUTS: tuple[str, ...] = (*STATEMENT, "context")
#: Names of the circuit's private inputs (``offset_scores`` is a vector of num_classes values).
SECRET_INPUTS: tuple[str, ...] = (
    "input_hash",
    "input_salt",
    "offset_scores",
    "prediction_salt",
    "explanation_hash",
    "explanation_salt",
)


# --------------------------------------------------------------------------- native encodings
def hash_to_field(data: bytes) -> int:
    """SHA-256 of ``data`` as a big-endian int, shifted right by 8: a field element < 2**248."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise EncodingError(f"hash_to_field takes bytes, got {type(data).__name__}")
    return int.from_bytes(hashlib.sha256(bytes(data)).digest(), "big") >> (256 - HASH_BITS)


def _as_int(x: object, what: str, error: type[CircuitError] = EncodingError) -> int:
    if isinstance(x, bool):
        raise error(f"{what} must be an integer, got bool")
    try:
        return operator.index(x)  # type: ignore[arg-type]  # accepts numpy integers too
    except TypeError:
        raise error(f"{what} must be an integer, got {type(x).__name__}") from None


def vector_hash(values: Sequence[int]) -> int:
    """hash_to_field(b"zkxai.vec.v1" || len as 4-byte BE || each value as 8-byte BE two's complement)."""
    ints = [_as_int(v, f"vector value {i}") for i, v in enumerate(values)]
    if len(ints) >= 1 << 32:
        raise EncodingError("vector too long for a 4-byte length")
    parts = [VECTOR_DOMAIN, len(ints).to_bytes(4, "big")]
    for i, v in enumerate(ints):
        try:
            parts.append(v.to_bytes(8, "big", signed=True))
        except OverflowError:
            raise EncodingError(f"vector value {i} = {v} does not fit a signed 64-bit integer") from None
    return hash_to_field(b"".join(parts))


def new_salt() -> int:
    """A fresh uniformly random field element, used to hide a committed value."""
    return secrets.randbelow(R)


def input_digest(input_hash: int, salt: int) -> int:
    return poseidon([input_hash, salt])


def explanation_digest(explanation_hash: int, salt: int) -> int:
    return poseidon([explanation_hash, salt])


def _check_scores(scores: Sequence[int]) -> tuple[int, ...]:
    if isinstance(scores, (str, bytes)) or len(scores) == 0:
        raise InvalidOpening("scores must be a non-empty sequence of int32 values")
    out = tuple(_as_int(s, f"score {i}", InvalidOpening) for i, s in enumerate(scores))
    for i, s in enumerate(out):
        if not SCORE_MIN <= s <= SCORE_MAX:
            raise InvalidOpening(f"score {i} = {s} is outside int32")
    return out


def offset_scores(scores: Sequence[int]) -> list[int]:
    """Scores shifted to unsigned: s + 2**31 in [0, 2**32)."""
    return [s + SCORE_OFFSET for s in _check_scores(scores)]


def pack_scores(scores: Sequence[int]) -> list[int]:
    """Offset scores packed 7 per field element, little-endian in 32-bit slots."""
    offset = offset_scores(scores)
    return [
        sum(u << (SCORE_BITS * j) for j, u in enumerate(offset[k : k + SCORES_PER_CHUNK]))
        for k in range(0, len(offset), SCORES_PER_CHUNK)
    ]


def prediction_digest(scores: Sequence[int], predicted_class: int, salt: int) -> int:
    """poseidon([poseidon([acc, predicted_class]), salt]) over the chained packed chunks (see module doc)."""
    chunks = pack_scores(scores)
    acc = chunks[0]
    for chunk in chunks[1:]:
        acc = poseidon([acc, chunk])
    return poseidon([poseidon([acc, predicted_class]), salt])


def model_hash_limbs(model_hash: bytes) -> tuple[int, int]:
    """A 32-byte hash as (high 128 bits, low 128 bits), big-endian."""
    if not isinstance(model_hash, (bytes, bytearray)) or len(model_hash) != MODEL_HASH_BYTES:
        raise InvalidOpening(f"model hash must be {MODEL_HASH_BYTES} bytes")
    return int.from_bytes(model_hash[:16], "big"), int.from_bytes(model_hash[16:], "big")


def is_argmax(scores: Sequence[int], predicted_class: int) -> bool:
    """True iff scores[predicted_class] is a maximum (ties allowed)."""
    return 0 <= predicted_class < len(scores) and scores[predicted_class] == max(scores)


# --------------------------------------------------------------------------- the opening
def field_element(x: object, what: str) -> int:
    value = _as_int(x, what, InvalidOpening)
    if not 0 <= value < R:
        raise InvalidOpening(f"{what} is outside the field [0, r)")
    return value


@dataclass(frozen=True)
class CommitmentOpening:
    """Everything the prover knows: the public model hash and the private openings of the digests."""

    model_hash: bytes
    input_hash: int
    input_salt: int
    scores: tuple[int, ...]
    predicted_class: int
    prediction_salt: int
    explanation_hash: int
    explanation_salt: int

    def __post_init__(self) -> None:
        model_hash_limbs(self.model_hash)
        object.__setattr__(self, "model_hash", bytes(self.model_hash))
        for name in ("input_hash", "input_salt", "prediction_salt", "explanation_hash", "explanation_salt"):
            object.__setattr__(self, name, field_element(getattr(self, name), name))
        scores = _check_scores(self.scores)
        object.__setattr__(self, "scores", scores)
        cls = _as_int(self.predicted_class, "predicted_class", InvalidOpening)
        if not 0 <= cls < len(scores):
            raise InvalidOpening(f"predicted_class {cls} is not in [0, {len(scores)})")
        object.__setattr__(self, "predicted_class", cls)

    @property
    def num_classes(self) -> int:
        return len(self.scores)


def public_inputs(opening: CommitmentOpening, context: int) -> list[int]:
    """Native oracle: the public inputs of a proof of ``opening`` in ``context``, in PUBLIC_INPUTS order."""
    return [*statement_values(opening), field_element(context, "context")]


def statement_values(opening: CommitmentOpening) -> list[int]:
    """Native oracle: the six statement values the opening commits to, in :data:`STATEMENT` order."""
    hi, lo = model_hash_limbs(opening.model_hash)
    return [
        hi,
        lo,
        input_digest(opening.input_hash, opening.input_salt),
        prediction_digest(opening.scores, opening.predicted_class, opening.prediction_salt),
        opening.predicted_class,
        explanation_digest(opening.explanation_hash, opening.explanation_salt),
    ]


def check_opening(opening: CommitmentOpening, public: Sequence[int]) -> None:
    """Native oracle of the circuit: raise OpeningMismatch unless the opening proves ``public``."""
    if len(public) != len(PUBLIC_INPUTS):
        raise OpeningMismatch(f"expected {len(PUBLIC_INPUTS)} public inputs, got {len(public)}")
    if not is_argmax(opening.scores, opening.predicted_class):
        raise OpeningMismatch(f"class {opening.predicted_class} is not an argmax of the scores")
    expected = public_inputs(opening, public[-1])
    for name, want, got in zip(PUBLIC_INPUTS, expected, public):
        if want != got:
            raise OpeningMismatch(f"{name} does not match the opening")


# --------------------------------------------------------------------------- the circuit
def _chained_scores_hash(api: Api, scores: Sequence[Var]) -> Var:
    chunks = [
        api.linear_combination(
            [1 << (SCORE_BITS * j) for j in range(len(group))], group
        )
        for group in (scores[k : k + SCORES_PER_CHUNK] for k in range(0, len(scores), SCORES_PER_CHUNK))
    ]
    acc = chunks[0]
    for chunk in chunks[1:]:
        acc = poseidon_gadget(api, [acc, chunk])
    return acc


@dataclass(frozen=True)
class StatementVars:
    """The six statement values of one prediction as circuit variables, in :data:`STATEMENT` order."""

    model_hash_hi: Var
    model_hash_lo: Var
    input_digest: Var
    prediction_digest: Var
    predicted_class: Var
    explanation_digest: Var

    def as_list(self) -> list[Var]:
        return [
            self.model_hash_hi,
            self.model_hash_lo,
            self.input_digest,
            self.prediction_digest,
            self.predicted_class,
            self.explanation_digest,
        ]


def commitment_statement(
    api: Api,
    num_classes: int,
    model_hash_hi: Var,
    model_hash_lo: Var,
    predicted_class: Var,
    *,
    prefix: str = "",
    claimed: tuple[Var, Var, Var] | None = None,
) -> StatementVars:
    """The commitment statement of one prediction (the gadget shared by the single and the batch circuits).

    Declares the private opening (:data:`SECRET_INPUTS`, each name prefixed with ``prefix``), computes the
    input, prediction and explanation digests, range-checks the scores and proves ``predicted_class`` an
    argmax. ``claimed`` = (input_digest, prediction_digest, explanation_digest) variables the computed
    digests must equal (asserted where each is computed, the single circuit's constraint order); without it
    the computed digests are returned (the batch circuit hashes them into a leaf).
    """
    input_hash = api.secret(prefix + "input_hash")
    input_salt = api.secret(prefix + "input_salt")
    scores = api.secret_vector(prefix + "offset_scores", num_classes)
    prediction_salt = api.secret(prefix + "prediction_salt")
    explanation_hash = api.secret(prefix + "explanation_hash")
    explanation_salt = api.secret(prefix + "explanation_salt")

    def bind(computed: Var, index: int) -> Var:
        if claimed is None:
            return computed
        api.assert_equal(computed, claimed[index])
        return claimed[index]

    in_digest = bind(poseidon_gadget(api, [input_hash, input_salt]), 0)
    expl_digest = bind(poseidon_gadget(api, [explanation_hash, explanation_salt]), 2)

    for u in scores:
        to_bits(api, u, SCORE_BITS)
    acc = _chained_scores_hash(api, scores)
    pred_digest = bind(
        poseidon_gadget(api, [poseidon_gadget(api, [acc, predicted_class]), prediction_salt]), 1
    )

    selected = select_by_one_hot(api, select_one_hot(api, predicted_class, num_classes), scores)
    for u in scores:
        assert_geq(api, selected, u, SCORE_BITS)
    return StatementVars(model_hash_hi, model_hash_lo, in_digest, pred_digest, predicted_class, expl_digest)


def _define_commitment(num_classes: int, api: Api) -> None:
    hi, lo, in_digest, pred_digest, cls, expl_digest, _context = (api.public(name) for name in PUBLIC_INPUTS)
    # hi, lo and the context are carried only: bound by the compiler's p*1=p constraints
    commitment_statement(api, num_classes, hi, lo, cls, claimed=(in_digest, pred_digest, expl_digest))


@lru_cache(maxsize=None)
def commitment_circuit(num_classes: int) -> CompiledCircuit:
    """The compiled commitment circuit for ``num_classes`` classes (cached)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise InvalidOpening(f"num_classes must be a positive int, got {num_classes!r}")

    def define(api: Api) -> None:
        _define_commitment(num_classes, api)

    return compile(define)


def public_assignment(public: Sequence[int]) -> dict[str, int]:
    """Public input values (PUBLIC_INPUTS order) as the name -> value mapping ``solve`` takes."""
    if len(public) != len(PUBLIC_INPUTS):
        raise OpeningMismatch(f"expected {len(PUBLIC_INPUTS)} public inputs, got {len(public)}")
    return dict(zip(PUBLIC_INPUTS, public))


def secret_assignment(opening: CommitmentOpening) -> dict[str, int | Sequence[int]]:
    """The opening's private values as the name -> value mapping ``solve`` takes."""
    return {
        "input_hash": opening.input_hash,
        "input_salt": opening.input_salt,
        "offset_scores": offset_scores(opening.scores),
        "prediction_salt": opening.prediction_salt,
        "explanation_hash": opening.explanation_hash,
        "explanation_salt": opening.explanation_salt,
    }


def commitment_witness(opening: CommitmentOpening, context: int, *, check: bool = True) -> list[int]:
    """Full witness of ``commitment_circuit(opening.num_classes)`` for the opening, attested in ``context``.

    Raises OpeningMismatch (natively, before solving) when the class is not an argmax. ``check=False``
    skips re-checking the product rows (see :meth:`~circuits.builder.CompiledCircuit.solve`): for a caller
    that hands the witness to a prover checking every row anyway.
    """
    if not is_argmax(opening.scores, opening.predicted_class):
        raise OpeningMismatch(f"class {opening.predicted_class} is not an argmax of the scores")
    circuit = commitment_circuit(opening.num_classes)
    return circuit.solve(public_assignment(public_inputs(opening, context)), secret_assignment(opening), check=check)


def commitment_public_values(witness: Sequence[int], circuit: CompiledCircuit) -> Mapping[str, int]:
    """The named public inputs held by a witness of ``circuit``."""
    return dict(zip(circuit.r1cs.public_names, circuit.r1cs.public_values(witness)))


def prediction_digest_gadget(api: Api, offset_scores: Sequence[Var], predicted_class: Var, salt: Var) -> Var:
    """In-circuit :func:`prediction_digest` of offset scores (each already range-checked to 32 bits)."""
    acc = _chained_scores_hash(api, offset_scores)
    return poseidon_gadget(api, [poseidon_gadget(api, [acc, predicted_class]), salt])
