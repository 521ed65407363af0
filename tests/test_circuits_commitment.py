"""The attestation commitment: encodings, native oracle and circuit, accept and reject."""

from __future__ import annotations

import dataclasses
import hashlib
import time

import pytest

from circuits.commitment import (
    PUBLIC_INPUTS,
    STATEMENT,
    SCORE_OFFSET,
    CommitmentOpening,
    check_opening,
    commitment_circuit,
    commitment_witness,
    explanation_digest,
    hash_to_field,
    input_digest,
    model_hash_limbs,
    new_salt,
    offset_scores,
    pack_scores,
    prediction_digest,
    public_assignment,
    public_inputs,
    secret_assignment,
    vector_hash,
)
from circuits.errors import EncodingError, InvalidOpening, OpeningMismatch, UnsatisfiedConstraint
from circuits.field import R
from circuits.poseidon import poseidon

#: A context value as the node makes them (any field element; the circuit only carries it).
CONTEXT = int.from_bytes(hashlib.sha256(b"chain, registry, attester").digest(), "big") % R

SCORES = (5 << 16, -(3 << 16), 100, 7, 0, 2**31 - 1, -(2**31), 3, 3, 1)


def _opening(**changes: object) -> CommitmentOpening:
    base = CommitmentOpening(
        model_hash=hashlib.sha256(b"model").digest(),
        input_hash=hash_to_field(b"input tensor"),
        input_salt=new_salt(),
        scores=SCORES,
        predicted_class=5,
        prediction_salt=new_salt(),
        explanation_hash=vector_hash([1, -2, 3]),
        explanation_salt=new_salt(),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- encodings
def test_hash_to_field() -> None:
    digest = hashlib.sha256(b"abc").digest()
    assert hash_to_field(b"abc") == int.from_bytes(digest, "big") >> 8
    assert hash_to_field(b"abc") < 2**248
    with pytest.raises(EncodingError):
        hash_to_field("abc")  # type: ignore[arg-type]


def test_vector_hash_canonical_bytes() -> None:
    expected = b"zkxai.vec.v1" + (3).to_bytes(4, "big") + b"".join(
        v.to_bytes(8, "big", signed=True) for v in (1, -1, 2**63 - 1)
    )
    assert vector_hash([1, -1, 2**63 - 1]) == hash_to_field(expected)
    assert vector_hash([]) == hash_to_field(b"zkxai.vec.v1" + bytes(4))
    assert vector_hash([1, 2]) != vector_hash([2, 1])
    for bad in ([2**63], [-(2**63) - 1], [1.5]):
        with pytest.raises(EncodingError):
            vector_hash(bad)  # type: ignore[arg-type]


def test_pack_scores_and_limbs() -> None:
    scores = list(range(-4, 5))  # 9 scores -> 2 chunks, the second with 2 slots used
    u = [s + SCORE_OFFSET for s in scores]
    assert offset_scores(scores) == u
    assert pack_scores(scores) == [sum(u[j] << (32 * j) for j in range(7)), u[7] + (u[8] << 32)]
    assert all(chunk < 2**224 for chunk in pack_scores(SCORES))
    with pytest.raises(InvalidOpening):
        pack_scores([2**31])
    model_hash = bytes(range(32))
    hi, lo = model_hash_limbs(model_hash)
    assert (hi << 128) | lo == int.from_bytes(model_hash, "big") and hi < 2**128 and lo < 2**128
    with pytest.raises(InvalidOpening):
        model_hash_limbs(bytes(31))


def test_prediction_digest_formula() -> None:
    chunks = pack_scores(SCORES)
    assert len(chunks) == 2
    acc = poseidon([chunks[0], chunks[1]])
    assert prediction_digest(SCORES, 5, 77) == poseidon([poseidon([acc, 5]), 77])
    assert prediction_digest([1, 2], 1, 77) == poseidon([poseidon([pack_scores([1, 2])[0], 1]), 77])


def test_opening_validation() -> None:
    _opening()
    bad_changes: list[dict[str, object]] = [
        {"model_hash": bytes(31)},
        {"input_hash": R},
        {"input_salt": -1},
        {"prediction_salt": R + 5},
        {"explanation_salt": 1.0},
        {"scores": ()},
        {"scores": (2**31,)},
        {"scores": (0, -(2**31) - 1)},
        {"predicted_class": 10},
        {"predicted_class": -1},
    ]
    for change in bad_changes:
        with pytest.raises(InvalidOpening):
            _opening(**change)
    assert _opening(scores=[1, 2, 3], predicted_class=2).scores == (1, 2, 3)  # lists are normalised


# --------------------------------------------------------------------------- native oracle
def test_native_oracle_accepts_honest_and_rejects_tampering() -> None:
    opening = _opening()
    public = public_inputs(opening, CONTEXT)
    assert public[PUBLIC_INPUTS.index("input_digest")] == input_digest(opening.input_hash, opening.input_salt)
    assert public[PUBLIC_INPUTS.index("explanation_digest")] == explanation_digest(
        opening.explanation_hash, opening.explanation_salt
    )
    check_opening(opening, public)
    tampered_openings = [
        _opening(predicted_class=0),  # not the argmax
        dataclasses.replace(opening, input_salt=(opening.input_salt + 1) % R),  # wrong salt
        dataclasses.replace(opening, prediction_salt=(opening.prediction_salt + 1) % R),
        dataclasses.replace(opening, explanation_salt=(opening.explanation_salt + 1) % R),
        dataclasses.replace(opening, scores=(SCORES[0] + 1, *SCORES[1:])),  # tampered score
        dataclasses.replace(opening, explanation_hash=opening.explanation_hash ^ 1),
    ]
    for bad in tampered_openings:
        with pytest.raises(OpeningMismatch):
            check_opening(bad, public)
    for i in range(len(STATEMENT)):  # wrong digest / limb / class (the context is carried, any value opens)
        forged = list(public)
        forged[i] = (forged[i] + 1) % R
        with pytest.raises(OpeningMismatch):
            check_opening(opening, forged)


# --------------------------------------------------------------------------- circuit
def test_circuit_accepts_honest_opening_and_reports_size() -> None:
    start = time.perf_counter()
    circuit = commitment_circuit(10)
    opening = _opening()
    witness = commitment_witness(opening, CONTEXT)
    elapsed = time.perf_counter() - start
    assert commitment_circuit(10) is circuit  # cached
    assert circuit.r1cs.public_names == PUBLIC_INPUTS
    assert circuit.r1cs.public_values(witness) == public_inputs(opening, CONTEXT)
    assert circuit.r1cs.is_satisfied(witness)
    assert circuit.n_constraints == 1892  # 1,891 + the context's binding
    assert elapsed < 3.0, elapsed  # ~0.35 s on the dev machine (well under 1 s)


def test_circuit_accepts_ties_and_other_sizes() -> None:
    tie = _opening(scores=(3, 9, 9, 1), predicted_class=2)
    check_opening(tie, public_inputs(tie, CONTEXT))
    assert commitment_circuit(4).r1cs.is_satisfied(commitment_witness(tie, CONTEXT))
    for scores in ((42,), tuple(range(7)), tuple(range(8)), tuple(range(-15, 0))):
        opening = _opening(scores=scores, predicted_class=scores.index(max(scores)))
        witness = commitment_witness(opening, CONTEXT)
        assert commitment_circuit(len(scores)).r1cs.public_values(witness) == public_inputs(opening, CONTEXT)


def _solve(opening: CommitmentOpening, public: list[int], secret: dict | None = None) -> list[int]:  # type: ignore[type-arg]
    circuit = commitment_circuit(opening.num_classes)
    return circuit.solve(public_assignment(public), secret if secret is not None else secret_assignment(opening))


def test_circuit_rejects_non_argmax() -> None:
    opening = _opening(predicted_class=0)
    with pytest.raises(OpeningMismatch):
        commitment_witness(opening, CONTEXT)  # native pre-check
    with pytest.raises(UnsatisfiedConstraint):
        _solve(opening, public_inputs(opening, CONTEXT))  # digests are consistent, only the argmax fails


def test_circuit_rejects_wrong_salts_scores_and_digests() -> None:
    opening = _opening()
    public = public_inputs(opening, CONTEXT)
    _solve(opening, public)
    for bad in (
        dataclasses.replace(opening, input_salt=(opening.input_salt + 1) % R),
        dataclasses.replace(opening, prediction_salt=(opening.prediction_salt + 1) % R),
        dataclasses.replace(opening, explanation_salt=(opening.explanation_salt + 1) % R),
        dataclasses.replace(opening, scores=(SCORES[0] - 1, *SCORES[1:])),  # tampered, argmax kept
        dataclasses.replace(opening, input_hash=opening.input_hash + 1),
    ):
        with pytest.raises(UnsatisfiedConstraint):
            _solve(bad, public)
    for name in ("input_digest", "prediction_digest", "explanation_digest", "predicted_class"):
        forged = list(public)
        forged[PUBLIC_INPUTS.index(name)] = (forged[PUBLIC_INPUTS.index(name)] + 1) % R
        with pytest.raises(UnsatisfiedConstraint):
            _solve(opening, forged)


def _raw_prediction_digest(offset: list[int], cls: int, salt: int) -> int:
    """prediction_digest over raw offset values, without the int32 validation (to build forgeries)."""
    chunks = [sum(u << (32 * j) for j, u in enumerate(offset[k : k + 7])) % R for k in range(0, len(offset), 7)]
    acc = chunks[0]
    for chunk in chunks[1:]:
        acc = poseidon([acc, chunk])
    return poseidon([poseidon([acc, cls]), salt])


def test_circuit_rejects_out_of_range_scores() -> None:
    opening = _opening(scores=(1, 2, 3), predicted_class=2)
    secret = secret_assignment(opening)
    public = public_inputs(opening, CONTEXT)
    assert _raw_prediction_digest(list(secret["offset_scores"]), 2, opening.prediction_salt) == public[3]  # type: ignore[arg-type]
    # An offset score of 2**32 (int32 overflow) or a "negative" field element: the digest is made
    # consistent with it, so only the 32-bit range checks can reject.
    for forged_scores, cls in (([1, 2, 2**32], 2), ([R - 1, 0, 5], 2), ([2**33 + 9, 0, 5], 0)):
        forged_public = list(public)
        forged_public[3] = _raw_prediction_digest(forged_scores, cls, opening.prediction_salt)
        forged_public[4] = cls
        with pytest.raises(UnsatisfiedConstraint):
            _solve(opening, forged_public, {**secret, "offset_scores": forged_scores})


@pytest.mark.slow
def test_a_proof_is_bound_to_its_context() -> None:
    """The circuit only carries the context, yet a real proof made for one context verifies for no other (the
    builder's p*1=p row gives it its own point in the verifying key): the registry's recomputed context
    (chain, registry, sender) is what makes a copied proof useless elsewhere."""
    import random

    from prover.prove import prove
    from prover.setup import setup
    from prover.verify import verify

    opening = _opening(scores=(3, 9, 1, 2), predicted_class=1)
    circuit = commitment_circuit(4)
    pk, vk = setup(circuit.r1cs, rng=random.Random(7))
    proof = prove(pk, circuit.r1cs, commitment_witness(opening, CONTEXT), rng=random.Random(8))
    public = public_inputs(opening, CONTEXT)
    assert verify(vk, public, proof)
    for other in (CONTEXT + 1, 0, R - 1):
        assert not verify(vk, public[:-1] + [other], proof)
