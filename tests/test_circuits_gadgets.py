"""Range checks, comparisons and one-hot selection, each against a native oracle (accept and reject)."""

from __future__ import annotations

import pytest

from circuits.builder import Api, CompiledCircuit, compile
from circuits.errors import CircuitError, UnsatisfiedConstraint
from circuits.field import R
from circuits.gadgets import assert_geq, assert_less_equal, select_by_one_hot, select_one_hot, to_bits
from circuits.gadgets.bits import native_to_bits


def _accepts(circuit: CompiledCircuit, public: dict[str, int], secret: dict[str, int]) -> bool:
    try:
        witness = circuit.solve(public, secret)
    except UnsatisfiedConstraint:
        return False
    assert circuit.r1cs.is_satisfied(witness)
    return True


def _bits_circuit(n: int) -> CompiledCircuit:
    def define(api: Api) -> None:
        bits = to_bits(api, api.secret("x"), n)
        api.assert_equal(bits[-1], api.public("top"))

    return compile(define)


def _native_fits(x: int, n: int) -> bool:
    try:
        native_to_bits(x, n)
    except ValueError:
        return False
    return True


def test_to_bits_exhaustive_small_width() -> None:
    n = 4
    circuit = _bits_circuit(n)
    assert circuit.n_constraints == n + 1 + 1 + 1  # booleanity, recomposition, equality, binding
    for x in [*range(0, 40), R - 1, R - 16, 2**253]:
        fits = _native_fits(x, n)
        top = (x >> (n - 1)) & 1
        assert _accepts(circuit, {"top": top}, {"x": x}) == fits, x


def test_to_bits_wide_boundaries() -> None:
    n = 32
    circuit = _bits_circuit(n)
    for x, fits in ((0, True), (2**32 - 1, True), (2**31, True), (2**32, False), (R - 1, False), (2**64, False)):
        assert _native_fits(x, n) == fits
        assert _accepts(circuit, {"top": (x >> 31) & 1}, {"x": x}) == fits, x
    # bits come out little-endian
    def define(api: Api) -> None:
        for i, bit in enumerate(to_bits(api, api.secret("x"), 8)):
            api.assert_equal(bit, api.public(f"b{i}"))

    value = 0b10110010
    compile(define).solve({f"b{i}": b for i, b in enumerate(native_to_bits(value, 8))}, {"x": value})


def test_tampered_bit_witness_is_rejected() -> None:
    circuit = _bits_circuit(8)
    witness = circuit.solve({"top": 1}, {"x": 200})
    # bit wires are the private wires after x; flipping any one of them breaks the R1CS
    x_wire = next(w for w, name in circuit.r1cs.wire_names.items() if name == "x")
    for wire in range(x_wire + 1, circuit.r1cs.n_wires):
        forged = list(witness)
        forged[wire] = (forged[wire] + 1) % R
        assert not circuit.r1cs.is_satisfied(forged)


def test_width_limits() -> None:
    for n in (0, 254, -1):
        with pytest.raises(CircuitError):
            compile(lambda api, n=n: to_bits(api, api.secret("x"), n))
    with pytest.raises(CircuitError):
        compile(lambda api: assert_less_equal(api, api.secret("a"), api.secret("b"), 253))


@pytest.mark.parametrize("gadget,oracle", [(assert_less_equal, lambda a, b: a <= b), (assert_geq, lambda a, b: a >= b)])
def test_comparisons_exhaustive(gadget, oracle) -> None:  # type: ignore[no-untyped-def]
    n = 3

    def define(api: Api) -> None:
        a, b = api.secret("a"), api.secret("b")
        to_bits(api, a, n)
        to_bits(api, b, n)
        gadget(api, a, b, n)

    circuit = compile(define)
    for a in range(2**n):
        for b in range(2**n):
            assert _accepts(circuit, {}, {"a": a, "b": b}) == oracle(a, b), (a, b)


def test_comparison_at_32_bits() -> None:
    def define(api: Api) -> None:
        assert_less_equal(api, api.secret("a"), api.secret("b"), 32)

    circuit = compile(define)
    for a, b in ((0, 2**32 - 1), (2**32 - 1, 2**32 - 1), (7, 7), (2**31, 2**31 + 1)):
        assert _accepts(circuit, {}, {"a": a, "b": b})
    for a, b in ((2**32 - 1, 0), (1, 0), (2**31 + 1, 2**31)):
        assert not _accepts(circuit, {}, {"a": a, "b": b})


def test_one_hot_selection() -> None:
    n = 5
    values = [11, 7, 42, 0, R - 1]

    def define(api: Api) -> None:
        indicators = select_one_hot(api, api.public("index"), n)
        api.assert_equal(select_by_one_hot(api, indicators, values), api.public("picked"))
        for i, e in enumerate(indicators):
            api.assert_equal(e, api.public(f"e{i}"))

    circuit = compile(define)

    def public(index: int, picked: int, one_hot: list[int]) -> dict[str, int]:
        return {"index": index, "picked": picked, **{f"e{i}": e for i, e in enumerate(one_hot)}}

    for index in range(n):
        one_hot = [int(i == index) for i in range(n)]  # native oracle
        assert _accepts(circuit, public(index, values[index], one_hot), {})
        assert not _accepts(circuit, public(index, (values[index] + 1) % R, one_hot), {})
    for index in (n, n + 1, R - 1):  # out of range: no valid indicator vector exists
        assert not _accepts(circuit, public(index, 0, [0] * n), {})


def test_select_by_one_hot_length_mismatch() -> None:
    with pytest.raises(CircuitError):
        compile(lambda api: select_by_one_hot(api, select_one_hot(api, api.secret("i"), 3), [1, 2]))
