"""The circuit builder: constraint accounting, wire layout, public binding, solver input checks."""

from __future__ import annotations

import pytest

from circuits.builder import Api, StructureMismatch, compile
from circuits.errors import CircuitError, UnsatisfiedConstraint, WitnessError
from circuits.field import R


def _cube_circuit(api: Api) -> None:
    """Public y = x^3 + 2x + 5 for private x (2 products)."""
    x = api.secret("x")
    y = api.public("y")
    api.assert_equal(x * x * x + 2 * x + 5, y)


def test_only_products_and_assertions_cost_constraints() -> None:
    def linear(api: Api) -> None:
        a, b = api.secret("a"), api.secret("b")
        s = api.scale(api.add(a, b), 7) - api.sub(b, 3) + api.constant(11)
        t = api.mul(s, api.constant(5))  # product by a constant: free
        api.assert_equal(t, api.public("out"))

    circuit = compile(linear)
    # one assert_equal + one p*1=p binding, no product constraint
    assert circuit.n_constraints == 2
    witness = circuit.solve({"out": ((7 * (3 + 4) - (4 - 3) + 11) * 5) % R}, {"a": 3, "b": 4})
    circuit.r1cs.check(witness)
    with pytest.raises(UnsatisfiedConstraint):
        circuit.solve({"out": 1}, {"a": 3, "b": 4})


def test_cube_accepts_and_rejects() -> None:
    circuit = compile(_cube_circuit)
    assert circuit.n_constraints == 2 + 1 + 1  # two products, the equality, the public binding
    for x in (0, 1, 3, R - 1, 2**200):
        y = (x**3 + 2 * x + 5) % R
        witness = circuit.solve({"y": y}, {"x": x})
        assert circuit.r1cs.is_satisfied(witness)
        assert circuit.r1cs.public_values(witness) == [y]
        with pytest.raises(UnsatisfiedConstraint):
            circuit.solve({"y": (y + 1) % R}, {"x": x})


def test_public_wires_come_first_and_all_are_bound() -> None:
    def define(api: Api) -> None:
        x = api.secret("x")
        sq = api.mul(x, x)
        api.public("unused")  # declared after private wires, used by nothing
        api.assert_equal(sq, api.public("square"))

    circuit = compile(define)
    r1cs = circuit.r1cs
    assert r1cs.n_public == 2 and r1cs.public_names == ("unused", "square")
    witness = circuit.solve({"unused": 42, "square": 49}, {"x": 7})
    assert witness[:3] == [1, 42, 49]
    assert r1cs.wire_names[3] == "x"
    for wire in range(1, 1 + r1cs.n_public):
        # the p*1=p constraint: without it Groth16 would not bind an unused public input
        assert any(con.a == {wire: 1} and con.b == {0: 1} and con.c == {wire: 1} for con in r1cs.constraints)


def test_boolean_assertion() -> None:
    def define(api: Api) -> None:
        api.assert_boolean(api.public("b"))

    circuit = compile(define)
    for b in (0, 1):
        circuit.solve({"b": b}, {})
    for b in (2, R - 1):
        with pytest.raises(UnsatisfiedConstraint):
            circuit.solve({"b": b}, {})


def test_hint_is_unconstrained_until_the_caller_constrains_it() -> None:
    def define(api: Api) -> None:
        x = api.secret("x")
        inverse = api.hint(lambda v: pow(v, R - 2, R), x)
        api.assert_equal(api.mul(x, inverse), 1)

    circuit = compile(define)
    assert circuit.n_constraints == 2
    circuit.solve({}, {"x": 12345})
    with pytest.raises(UnsatisfiedConstraint):
        circuit.solve({}, {"x": 0})  # 0 has no inverse: the hint's 0 fails x * inv = 1


def test_solver_rejects_bad_inputs() -> None:
    def define(api: Api) -> None:
        v = api.secret_vector("v", 3)
        api.assert_equal(api.sum(v), api.public("total"))

    circuit = compile(define)
    assert circuit.solve({"total": 6}, {"v": [1, 2, 3]})[1] == 6
    bad = [
        ({}, {"v": [1, 2, 3]}),  # missing public
        ({"total": 6, "extra": 1}, {"v": [1, 2, 3]}),  # extra public
        ({"total": 6}, {}),  # missing secret
        ({"total": 6}, {"v": [1, 2, 3], "w": 0}),  # extra secret
        ({"total": 6}, {"v": [1, 2]}),  # short vector
        ({"total": 6}, {"v": 6}),  # scalar for a vector
        ({"total": R}, {"v": [1, 2, 3]}),  # out of field
        ({"total": -1}, {"v": [1, 2, 3]}),  # negative
        ({"total": 6}, {"v": [1, 2, R + 3]}),
        ({"total": True}, {"v": [1, 2, 3]}),  # bool is not a field element
        ({"total": 6.0}, {"v": [1, 2, 3]}),
    ]
    for public, secret in bad:
        with pytest.raises(WitnessError):
            circuit.solve(public, secret)  # type: ignore[arg-type]


def test_value_dependent_structure_is_detected() -> None:
    def define(api: Api) -> None:
        x = api.secret("x")
        if x.value is not None and x.value > 10:  # forbidden: structure depends on a value
            api.mul(x, x)
        api.assert_equal(x, x + 0)

    circuit = compile(define)
    circuit.solve_reference({}, {"x": 3})
    with pytest.raises(StructureMismatch):
        circuit.solve_reference({}, {"x": 11})
    # the fast solver never runs define again: it solves the compiled circuit, whatever define does
    assert circuit.solve({}, {"x": 11}) == [1, 11]


def test_misuse_is_rejected_at_compile_time() -> None:
    def twice(api: Api) -> None:
        api.secret("x")
        api.public("x")

    with pytest.raises(CircuitError):
        compile(twice)

    def constant_mismatch(api: Api) -> None:
        api.assert_equal(api.constant(1), 2)

    with pytest.raises(CircuitError):
        compile(constant_mismatch)


def test_linear_combination_equals_chained_adds() -> None:
    coeffs = [3, R - 1, 0, 2**200, 1]

    def fast(api: Api) -> None:
        xs = api.secret_vector("xs", len(coeffs))
        api.assert_equal(api.linear_combination(coeffs, [*xs[:-1], 7]), api.public("out"))

    def slow(api: Api) -> None:
        xs = api.secret_vector("xs", len(coeffs))
        acc = api.constant(0)
        for k, term in zip(coeffs, [*xs[:-1], 7]):
            acc = api.add(acc, api.scale(term, k))
        api.assert_equal(acc, api.public("out"))

    fast_circuit, slow_circuit = compile(fast), compile(slow)
    assert fast_circuit.r1cs.constraints == slow_circuit.r1cs.constraints
    xs = [5, 6, 7, 8, 9]
    out = (sum(k * x for k, x in zip(coeffs[:-1], xs[:-1])) + 7) % R
    assert fast_circuit.solve({"out": out}, {"xs": xs}) == slow_circuit.solve({"out": out}, {"xs": xs})
    with pytest.raises(UnsatisfiedConstraint):
        fast_circuit.solve({"out": out + 1}, {"xs": xs})
