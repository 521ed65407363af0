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

from circuits.batch import BATCH_PUBLIC_INPUTS, batch_circuit, batch_public_inputs, batch_secret_assignment, batch_witness
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


#: The context public input (any field element: the circuits carry it).
CONTEXT = 0xC0FFEE << 200


# --------------------------------------------------------------------------- pinned constraint systems
#: (constraints, wires, fingerprint) computed with the builder before the fast solver was added, and pinned again
#: when the context public input was added (one more public wire and binding row in each circuit).
PINNED_R1CS = {
    "commitment_circuit(10)": (1892, 1883, "9e4a726f0bc0858346a893c448e8cef07bdc55fbba61f382f75f06c3beb72f09"),
    "commitment_circuit(3)": (1176, 1174, "b7c7f99282401ff73c096a1bd89a2e72230c4fc79a92879e2122159dd4fb736a"),
    "batch_circuit(4, 10)": (9684, 9663, "28139b67768fc2b8c0dc4a38257ab7cf66410389ee8d81f78b60a6ecc49e4501"),
    "batch_circuit(2, 2)": (3156, 3161, "fd7b50cf9f1231f045d2c3170cf714534abc6e28b65a264d961fb8c2bd98fb37"),
}


@pytest.mark.parametrize("expr", sorted(PINNED_R1CS))
def test_constraint_systems_are_pinned(expr: str) -> None:
    circuit = eval(expr, {"commitment_circuit": commitment_circuit, "batch_circuit": batch_circuit})  # noqa: S307
    n_constraints, n_wires, fingerprint = PINNED_R1CS[expr]
    assert (circuit.r1cs.n_constraints, circuit.r1cs.n_wires) == (n_constraints, n_wires)
    assert r1cs_fingerprint(circuit.r1cs) == fingerprint


def test_witnesses_are_pinned() -> None:
    """Witness digests of fixed inputs, computed with the reference solver (``solve_reference``; first before the
    fast one existed, again when the context public input was added)."""
    rng = random.Random(20261125)
    openings = [random_opening_v0(rng) for _ in range(3)]
    commit = "9b0ba9476e293799c7ba836fa62c7bd437a00c720ec736dfbde42167359a935f"
    batch = "f14554f9aac005cf4bec33f4e1cf05fb50c2af9f8187388c3219622883aa1b0e"
    assert witness_digest(commitment_witness(openings[0], CONTEXT)) == commit
    assert witness_digest(commitment_witness(openings[0], CONTEXT, check=False)) == commit
    assert witness_digest(batch_witness(openings, 4, CONTEXT)) == batch
    assert witness_digest(batch_witness(openings, 4, CONTEXT, check=False)) == batch


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
        public, secret = public_assignment(public_inputs(opening, CONTEXT)), secret_assignment(opening)
        reference = circuit.solve_reference(public, secret)
        assert circuit.solve(public, secret) == reference
        assert circuit.solve(public, secret, check=False) == reference
        assert commitment_witness(opening, CONTEXT) == reference
        assert commitment_witness(opening, CONTEXT, check=False) == reference
        assert circuit.r1cs.is_satisfied(reference)


@pytest.mark.parametrize(("size", "num_classes"), [(2, 2), (4, 10), (8, 3)])
def test_batch_fast_equals_reference(size: int, num_classes: int) -> None:
    rng = random.Random(size * 100 + num_classes)
    circuit = batch_circuit(size, num_classes)
    for count in sorted({1, size}):
        openings = [random_opening(rng, num_classes, small=count % 2 == 1) for _ in range(count)]
        public = dict(zip(BATCH_PUBLIC_INPUTS, batch_public_inputs(openings, size, CONTEXT)))
        secret = batch_secret_assignment(openings, size, num_classes)
        reference = circuit.solve_reference(public, secret)
        assert circuit.solve(public, secret) == reference
        assert batch_witness(openings, size, CONTEXT) == reference
        assert batch_witness(openings, size, CONTEXT, [public["root"], count, CONTEXT], check=False) == reference


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
        commitment_witness(bad, CONTEXT)
    with pytest.raises(OpeningMismatch):
        commitment_witness(bad, CONTEXT, check=False)
    with pytest.raises(OpeningMismatch):
        batch_witness([opening, bad], 2, CONTEXT, check=False)
    # consistent digests, only the in-circuit argmax fails: same first violated constraint everywhere
    circuit = commitment_circuit(10)
    public, secret = public_assignment(public_inputs(bad, CONTEXT)), secret_assignment(bad)
    index = _index_of(lambda: circuit.solve_reference(public, secret))
    assert _index_of(lambda: circuit.solve(public, secret)) == index
    assert _index_of(lambda: circuit.solve(public, secret, check=False)) == index


def test_out_of_range_scores_and_forged_claims_are_rejected_alike() -> None:
    rng = random.Random(4)
    opening = random_opening(rng, 3)
    circuit = commitment_circuit(3)
    secret = secret_assignment(opening)
    public = public_inputs(opening, CONTEXT)
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
    root, count, _ = batch_public_inputs(openings, 4, CONTEXT)
    for claim in ([root + 1, count, CONTEXT], [root, count - 1, CONTEXT], [root, 4, CONTEXT], [root, 0, CONTEXT]):
        index = _index_of(lambda: batch_circuit(4, 3).solve_reference(
            dict(zip(BATCH_PUBLIC_INPUTS, claim)), batch_secret_assignment(openings, 4, 3)))
        assert _index_of(lambda: batch_witness(openings, 4, CONTEXT, claim)) == index
        assert _index_of(lambda: batch_witness(openings, 4, CONTEXT, claim, check=False)) == index


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
