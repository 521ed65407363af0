"""The fast witness solver (witness program replay, native blocks) against the reference solver.

The reference (:meth:`CompiledCircuit.solve_reference`) runs ``define`` again with values, as the
builder always did; :meth:`CompiledCircuit.solve` replays the program recorded at compile time. The
constraint systems are pinned by fingerprints computed before the fast solver existed (proving keys
are bound to the R1CS digest), and so are two witnesses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random

import pytest

from circuits.batch import batch_circuit, batch_public_inputs, batch_secret_assignment, batch_witness
from circuits.builder import Api, compile
from circuits.commitment import (
    CommitmentOpening,
    commitment_circuit,
    commitment_witness,
    public_assignment,
    public_inputs,
    secret_assignment,
)
from circuits.errors import CircuitError, OpeningMismatch, UnsatisfiedConstraint
from circuits.field import R
from circuits.poseidon import poseidon, poseidon_gadget
from circuits.r1cs import R1CS


def r1cs_fingerprint(r1cs: R1CS) -> str:
    """SHA-256 over sizes, names and every constraint's (wire, coeff) lists in their dict order."""
    h = hashlib.sha256()
    h.update(
        json.dumps(
            [r1cs.n_wires, r1cs.n_public, list(r1cs.public_names), sorted((int(k), v) for k, v in r1cs.wire_names.items())]
        ).encode()
    )
    for con in r1cs.constraints:
        h.update(json.dumps([[[w, c] for w, c in lc.items()] for lc in (con.a, con.b, con.c)]).encode())
        h.update(b"\n")
    return h.hexdigest()


def witness_digest(witness: list[int]) -> str:
    return hashlib.sha256(b"".join(v.to_bytes(32, "big") for v in witness)).hexdigest()


def random_opening(rng: random.Random, n: int = 10, *, small: bool = False) -> CommitmentOpening:
    if small:  # the node's shape: non-negative fixed-point scores, fields < 2**200
        scores = tuple(rng.randrange(0, 2**20) for _ in range(n))
        field = lambda: rng.randrange(2**200)  # noqa: E731
    else:
        scores = tuple(rng.randrange(-(2**31), 2**31) for _ in range(n))
        field = lambda: rng.randrange(2**253)  # noqa: E731
    if rng.random() < 0.3:  # a tie for the maximum
        scores = (*scores[:-1], max(scores))
    maxima = [i for i, s in enumerate(scores) if s == max(scores)]
    return CommitmentOpening(
        model_hash=bytes(rng.randrange(256) for _ in range(32)),
        input_hash=field(),
        input_salt=field(),
        scores=scores,
        predicted_class=rng.choice(maxima),
        prediction_salt=field(),
        explanation_hash=field(),
        explanation_salt=field(),
    )


# --------------------------------------------------------------------------- pinned constraint systems
#: (constraints, wires, fingerprint) computed with the builder before the fast solver was added.
PINNED_R1CS = {
    "commitment_circuit(10)": (1891, 1882, "666a2865b599db6a170df2b5403a3ea848ed0ee66ef347cae8843a89e550c9e1"),
    "commitment_circuit(3)": (1175, 1173, "2779f40be1c12ade20e3b1aba8b4d61561bb309ae6634f347d9245889b970184"),
    "batch_circuit(4, 10)": (9683, 9662, "74b56661e3c6bd0c786c9b5d4c685a036b24bc99f3fb81fc591fd1830a952580"),
    "batch_circuit(2, 2)": (3155, 3160, "41304138b56854752ab82a4e8196916e31081f0486a531354017e210cfa7a106"),
}


@pytest.mark.parametrize("expr", sorted(PINNED_R1CS))
def test_constraint_systems_are_pinned(expr: str) -> None:
    circuit = eval(expr, {"commitment_circuit": commitment_circuit, "batch_circuit": batch_circuit})  # noqa: S307
    n_constraints, n_wires, fingerprint = PINNED_R1CS[expr]
    assert (circuit.r1cs.n_constraints, circuit.r1cs.n_wires) == (n_constraints, n_wires)
    assert r1cs_fingerprint(circuit.r1cs) == fingerprint


def test_witnesses_are_pinned() -> None:
    """Witness digests of fixed inputs, computed with the reference solver before the fast one existed."""
    rng = random.Random(20261125)
    openings = [random_opening_v0(rng) for _ in range(3)]
    commit = "81581e82670ed38508ace6b7e009dd48f7b0c0d48bf7b26668a37487122289b5"
    batch = "3c30fa29e66dbbb6513931e74b0cf2d3c4c38830b18f7ce7f3cc74e386bcc399"
    assert witness_digest(commitment_witness(openings[0])) == commit
    assert witness_digest(commitment_witness(openings[0], check=False)) == commit
    assert witness_digest(batch_witness(openings, 4)) == batch
    assert witness_digest(batch_witness(openings, 4, check=False)) == batch


def random_opening_v0(rng: random.Random, n: int = 10) -> CommitmentOpening:
    """The generator the pinned witnesses were made with (kept verbatim)."""
    scores = tuple(rng.randrange(-(2**31), 2**31) for _ in range(n))
    return CommitmentOpening(
        model_hash=bytes(rng.randrange(256) for _ in range(32)),
        input_hash=rng.randrange(2**248),
        input_salt=rng.randrange(2**253),
        scores=scores,
        predicted_class=scores.index(max(scores)),
        prediction_salt=rng.randrange(2**253),
        explanation_hash=rng.randrange(2**248),
        explanation_salt=rng.randrange(2**253),
    )


# --------------------------------------------------------------------------- fast == reference
@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 10, 15])
def test_commitment_fast_equals_reference(n: int) -> None:
    rng = random.Random(n)
    circuit = commitment_circuit(n)
    for k in range(4):
        opening = random_opening(rng, n, small=k % 2 == 0)
        public, secret = public_assignment(public_inputs(opening)), secret_assignment(opening)
        reference = circuit.solve_reference(public, secret)
        assert circuit.solve(public, secret) == reference
        assert circuit.solve(public, secret, check=False) == reference
        assert commitment_witness(opening) == reference
        assert commitment_witness(opening, check=False) == reference
        assert circuit.r1cs.is_satisfied(reference)


@pytest.mark.parametrize(("size", "num_classes"), [(2, 2), (4, 10), (8, 3)])
def test_batch_fast_equals_reference(size: int, num_classes: int) -> None:
    rng = random.Random(size * 100 + num_classes)
    circuit = batch_circuit(size, num_classes)
    for count in sorted({1, size}):
        openings = [random_opening(rng, num_classes, small=count % 2 == 1) for _ in range(count)]
        public = dict(zip(("root", "count"), batch_public_inputs(openings, size)))
        secret = batch_secret_assignment(openings, size, num_classes)
        reference = circuit.solve_reference(public, secret)
        assert circuit.solve(public, secret) == reference
        assert batch_witness(openings, size) == reference
        assert batch_witness(openings, size, [public["root"], count], check=False) == reference


# --------------------------------------------------------------------------- rejection, same errors
def _index_of(solve) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsatisfiedConstraint) as info:
        solve()
    return info.value.index


def test_non_argmax_is_rejected_alike() -> None:
    rng = random.Random(3)
    opening = random_opening(rng, 10)
    wrong = next(i for i, s in enumerate(opening.scores) if s != max(opening.scores))
    bad = dataclasses.replace(opening, predicted_class=wrong)
    with pytest.raises(OpeningMismatch):
        commitment_witness(bad)
    with pytest.raises(OpeningMismatch):
        commitment_witness(bad, check=False)
    with pytest.raises(OpeningMismatch):
        batch_witness([opening, bad], 2, check=False)
    # consistent digests, only the in-circuit argmax fails: same first violated constraint everywhere
    circuit = commitment_circuit(10)
    public, secret = public_assignment(public_inputs(bad)), secret_assignment(bad)
    index = _index_of(lambda: circuit.solve_reference(public, secret))
    assert _index_of(lambda: circuit.solve(public, secret)) == index
    assert _index_of(lambda: circuit.solve(public, secret, check=False)) == index


def test_out_of_range_scores_and_forged_claims_are_rejected_alike() -> None:
    rng = random.Random(4)
    opening = random_opening(rng, 3)
    circuit = commitment_circuit(3)
    secret = secret_assignment(opening)
    public = public_inputs(opening)
    for forged_scores in ([1, 2, 2**32], [R - 1, 0, 5], [2**33 + 9, 0, 5]):
        forged_secret = {**secret, "offset_scores": forged_scores}
        cases = [public_assignment(public)]
        for name in ("input_digest", "explanation_digest"):
            cases.append({**public_assignment(public), name: (public_assignment(public)[name] + 1) % R})
        for claim in cases:
            index = _index_of(lambda: circuit.solve_reference(claim, forged_secret))
            assert _index_of(lambda: circuit.solve(claim, forged_secret)) == index
            assert _index_of(lambda: circuit.solve(claim, forged_secret, check=False)) == index
    # a wrong batch claim
    openings = [random_opening(rng, 3) for _ in range(3)]
    root, count = batch_public_inputs(openings, 4)
    for claim in ([root + 1, count], [root, count - 1], [root, 4], [root, 0]):
        index = _index_of(lambda: batch_circuit(4, 3).solve_reference(
            dict(zip(("root", "count"), claim)), batch_secret_assignment(openings, 4, 3)))
        assert _index_of(lambda: batch_witness(openings, 4, claim)) == index
        assert _index_of(lambda: batch_witness(openings, 4, claim, check=False)) == index


# --------------------------------------------------------------------------- builder: hints and native blocks
def test_poseidon_block_with_constant_and_repeated_inputs() -> None:
    def define(api: Api) -> None:
        x = api.secret("x")
        a = poseidon_gadget(api, [x, 9])
        b = poseidon_gadget(api, [7, x, x, 0])  # constants in the first full round: fewer wires
        c = poseidon_gadget(api, [a, api.add(b, 1)])
        api.assert_equal(c, api.public("digest"))

    circuit = compile(define)
    for x in (0, 1, 4, R - 1):
        digest = poseidon([poseidon([x, 9]), (poseidon([7, x, x, 0]) + 1) % R])
        assert circuit.solve({"digest": digest}, {"x": x}) == circuit.solve_reference({"digest": digest}, {"x": x})
        with pytest.raises(UnsatisfiedConstraint):
            circuit.solve({"digest": (digest + 1) % R}, {"x": x}, check=False)


def _block_circuit(solver):  # type: ignore[no-untyped-def]
    def define(api: Api) -> None:
        x = api.secret("x")
        with api.native_block(solver, [x]):
            x2 = api.mul(x, x)
            with api.native_block(lambda v: [999], [x2]):  # nested: the outer solver covers it
                x3 = api.mul(x2, x)
        api.assert_equal(api.add(x3, x2), api.public("y"))

    return compile(define)


def test_native_block_solver_and_checks() -> None:
    good = _block_circuit(lambda v: [v * v % R, v * v * v % R])
    assert good.solve({"y": 12}, {"x": 2}) == good.solve_reference({"y": 12}, {"x": 2}) == [1, 12, 2, 4, 8]
    # a wrong solver: the full check catches the product row it breaks; check=False trusts products
    wrong = _block_circuit(lambda v: [v * v % R, 5])
    assert wrong.solve_reference({"y": 12}, {"x": 2})[-1] == 8  # the reference ignores solvers
    with pytest.raises(UnsatisfiedConstraint):
        wrong.solve({"y": 9}, {"x": 2})
    assert wrong.solve({"y": 9}, {"x": 2}, check=False)[-1] == 5
    for bad in (lambda v: [v], lambda v: [1, 2, 3], lambda v: [1, 2.0], lambda v: [True, 1], lambda v: 7):
        with pytest.raises(CircuitError):
            _block_circuit(bad).solve({"y": 12}, {"x": 2})

    def declares_inside(api: Api) -> None:
        with api.native_block(lambda: [], []):
            api.secret("x")

    with pytest.raises(CircuitError):
        compile(declares_inside)


def test_multi_output_hints() -> None:
    def define(api: Api) -> None:
        x = api.secret("x")
        lo, hi = api.hints(lambda v: [v % 256, v // 256], 2, x)
        api.assert_equal(api.add(lo, api.scale(hi, 256)), x)
        api.assert_equal(hi, api.public("hi"))

    circuit = compile(define)
    assert circuit.solve({"hi": 3}, {"x": 777}) == circuit.solve_reference({"hi": 3}, {"x": 777})
    with pytest.raises(UnsatisfiedConstraint):
        circuit.solve({"hi": 4}, {"x": 777}, check=False)
    with pytest.raises(CircuitError):
        compile(lambda api: api.hints(lambda v: [v], 0, api.secret("x")))

    def wrong_type(api: Api) -> None:
        api.hints(lambda v: [v, "1"], 2, api.secret("x"))

    for solve in ("solve", "solve_reference"):
        with pytest.raises(CircuitError):
            getattr(compile(wrong_type), solve)({}, {"x": 1})
