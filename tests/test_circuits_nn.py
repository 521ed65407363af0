"""NN and explanation gadgets, each against the native oracle of circuits.qnet: accept honest, reject tampered."""

from __future__ import annotations

import random

import pytest

from circuits.builder import Api, CompiledCircuit, compile
from circuits.errors import FixedPointOverflow, UnsatisfiedConstraint
from circuits.explain_gadgets import lrp_ratio
from circuits.field import R
from circuits.nn import (
    argmax,
    dense,
    div_floor_const,
    max_one_hot,
    native_rescale,
    positive_mask,
    relu,
    rescale,
)
from circuits.qnet.fixed_point import floor_div


def _accepts(circuit: CompiledCircuit, public: dict[str, int], secret: dict | None = None) -> bool:
    try:
        circuit.solve(public, secret or {})
    except UnsatisfiedConstraint:
        return False
    return True


def _violated(circuit: CompiledCircuit, witness: list[int]) -> list[int]:
    return [i for i in range(circuit.n_constraints) if not _row_ok(circuit, witness, i)]


def _row_ok(circuit: CompiledCircuit, witness: list[int], i: int) -> bool:
    try:
        circuit.r1cs.check_rows(witness, [i])
    except UnsatisfiedConstraint:
        return False
    return True


def _rescale_circuit() -> CompiledCircuit:
    def define(api: Api) -> None:
        out = rescale(api, api.secret("acc"))
        api.assert_equal(out.value, api.public("q"))
        api.assert_equal(out.sign, api.public("sign"))

    return compile(define)


def test_rescale_matches_oracle_at_boundaries() -> None:
    circuit = _rescale_circuit()
    rng = random.Random(1)
    cases = [0, 1, -1, 2**16 - 1, 2**16, -(2**16), -(2**16) - 1, 2**47 - 1, -(2**47), 2**47, -(2**47) - 1]
    cases += [rng.randint(-(2**48), 2**48) for _ in range(30)]
    for acc in cases:
        try:
            q = native_rescale(acc)
        except ValueError:
            q = None
        if q is None:
            assert not _accepts(circuit, {"q": (acc >> 16) % R, "sign": int(acc >= 0)}, {"acc": acc % R}), acc
        else:
            assert _accepts(circuit, {"q": q % R, "sign": int(q >= 0)}, {"acc": acc % R}), acc
            # any other quotient is rejected
            assert not _accepts(circuit, {"q": (q + 1) % R, "sign": int(q + 1 >= 0)}, {"acc": acc % R})
            assert not _accepts(circuit, {"q": (q - 1) % R, "sign": int(q - 1 >= 0)}, {"acc": acc % R})


def test_rescale_remainder_out_of_range_is_caught_by_the_range_check() -> None:
    """q + 1 with remainder r - 2**16 recomposes acc exactly; only the remainder's booleanity rows fail."""
    circuit = _rescale_circuit()
    acc = 5 * 2**16 + 1234
    witness = circuit.solve({"q": 5, "sign": 1}, {"acc": acc})
    # the private wires after acc are the 48 bits (low 16 = remainder, then 32 of q + 2**31)
    acc_wire = next(w for w, n in circuit.r1cs.wire_names.items() if n == "acc")
    bits = list(range(acc_wire + 1, acc_wire + 49))
    forged = list(witness)
    u = 6 + 2**31
    for i in range(32):
        forged[bits[16 + i]] = (u >> i) & 1
    forged[bits[0]] = (forged[bits[0]] - 2**16) % R  # remainder 1234 - 2**16 < 0
    forged[1] = 6  # public q
    bad = _violated(circuit, forged)
    assert bad and all(circuit.r1cs.constraints[i].c == {} for i in bad)  # booleanity rows b*(1-b)=0 only
    assert len(bad) == 1


def test_relu_and_division_against_oracle() -> None:
    def define(api: Api) -> None:
        y, m = relu(api, api.secret("x"))
        api.assert_equal(y, api.public("y"))
        api.assert_equal(m, api.public("m"))

    circuit = compile(define)
    for x in (0, 1, -1, 2**31 - 1, -(2**31), 77777, -5):
        assert _accepts(circuit, {"y": max(x, 0), "m": int(x >= 0)}, {"x": x % R})
        assert not _accepts(circuit, {"y": max(x, 0) + 1, "m": int(x >= 0)}, {"x": x % R})
        assert not _accepts(circuit, {"y": max(x, 0), "m": 1 - int(x >= 0)}, {"x": x % R})
    assert not _accepts(circuit, {"y": 2**31, "m": 1}, {"x": 2**31})

    for d in (1, 3, 4, 9):
        def define_div(api: Api, d: int = d) -> None:
            api.assert_equal(div_floor_const(api, api.secret("x"), d), api.public("q"))

        div = compile(define_div)
        for x in (0, 1, -1, 8, -8, 10**6, -(10**6) - 7):
            q = floor_div(x, d)
            assert _accepts(div, {"q": q % R}, {"x": x % R})
            assert not _accepts(div, {"q": (q + 1) % R}, {"x": x % R})
            assert not _accepts(div, {"q": (q - 1) % R}, {"x": x % R})


def test_max_one_hot_picks_the_first_maximum() -> None:
    def define(api: Api) -> None:
        y, e = max_one_hot(api, api.secret_vector("v", 4))
        api.assert_equal(y, api.public("y"))
        api.assert_equal(api.linear_combination([0, 1, 2, 3], e), api.public("i"))

    circuit = compile(define)
    for values in ([1, 5, 5, 2], [-3, -3, -3, -3], [0, -1, 7, 7], [2**31 - 1, -(2**31), 0, 2**31 - 1]):
        best = max(values)
        first = values.index(best)
        assert _accepts(circuit, {"y": best % R, "i": first}, {"v": [v % R for v in values]})
        for other in range(4):
            if other != first:
                assert not _accepts(circuit, {"y": values[other] % R, "i": other}, {"v": [v % R for v in values]})


def test_argmax_allows_ties_and_rejects_non_maxima() -> None:
    def define(api: Api) -> None:
        argmax(api, api.secret_vector("u", 3), api.public("c"))

    circuit = compile(define)
    for c, ok in ((0, False), (1, True), (2, True)):
        assert _accepts(circuit, {"c": c}, {"u": [4, 9, 9]}) == ok


def test_dense_against_oracle() -> None:
    rng = random.Random(2)
    w = [[rng.randint(-50000, 50000) for _ in range(4)] for _ in range(3)]
    b = [rng.randint(-9000, 9000) for _ in range(3)]

    def define(api: Api) -> None:
        for j, out in enumerate(dense(api, api.secret_vector("x", 4), w, b)):
            api.assert_equal(out.value, api.public(f"y{j}"))

    circuit = compile(define)
    assert circuit.n_constraints == 3 * 49 + 3 + 3
    for _ in range(10):
        x = [rng.randint(-(2**20), 2**20) for _ in range(4)]
        y = [native_rescale(sum(wi * xi for wi, xi in zip(row, x)) + bj * 2**16) for row, bj in zip(w, b)]
        assert _accepts(circuit, {f"y{j}": v % R for j, v in enumerate(y)}, {"x": [v % R for v in x]})
        y[rng.randrange(3)] += rng.choice((1, -1))
        assert not _accepts(circuit, {f"y{j}": v % R for j, v in enumerate(y)}, {"x": [v % R for v in x]})


@pytest.mark.parametrize("eps", [1, 6554, 65536])
def test_lrp_ratio_against_oracle(eps: int) -> None:
    def define(api: Api) -> None:
        z = api.secret("z")
        sign = rescale(api, z, 0).sign
        api.assert_equal(lrp_ratio(api, api.secret("r"), z, sign, eps), api.public("s"))

    circuit = compile(define)
    rng = random.Random(eps)
    cases = [(0, 0), (65536, 0), (-65536, 0), (123, -1), (-5000, 7), (2**20, -(2**20))]
    cases += [(rng.randint(-(2**24), 2**24), rng.randint(-(2**24), 2**24)) for _ in range(20)]
    for r, z in cases:
        den = z + eps if z >= 0 else z - eps
        try:
            s = floor_div(r * 2**16, den)
        except FixedPointOverflow:
            assert not _accepts(circuit, {"s": ((r * 2**16) // den) % R}, {"r": r % R, "z": z % R})
            continue
        assert _accepts(circuit, {"s": s % R}, {"r": r % R, "z": z % R}), (r, z)
        for wrong in (s + 1, s - 1):
            assert not _accepts(circuit, {"s": wrong % R}, {"r": r % R, "z": z % R})


def test_positive_mask_is_torchs_relu_derivative() -> None:
    """[x > 0] (0 at exactly 0, as torch's ReLU backward) from the sign bit [x >= 0] and an is-zero flag: honest
    values accepted, the other mask refused, and every private wire bound by a row (except the inverse hint at x = 0,
    which no output depends on: z = 1 - x * inv is 1 for any inverse there)."""
    def define(api: Api) -> None:
        x = api.secret("x")
        api.assert_equal(positive_mask(api, x, rescale(api, x, 0).sign), api.public("m"))

    circuit = compile(define)
    assert circuit.n_constraints == 35 + 2  # the sign bit alone: 35
    r1cs = circuit.r1cs
    rows_of: dict[int, set[int]] = {}
    for i, con in enumerate(r1cs.constraints):
        for lc in (con.a, con.b, con.c):
            for w in lc:
                rows_of.setdefault(w, set()).add(i)
    for x in (0, 1, -1, 7, -7, 2**31 - 1, -(2**31)):
        m = int(x > 0)
        assert _accepts(circuit, {"m": m}, {"x": x % R})
        assert not _accepts(circuit, {"m": 1 - m}, {"x": x % R})
        witness = circuit.solve({"m": m}, {"x": x % R})
        free = []
        for w in range(1 + r1cs.n_public, r1cs.n_wires):
            forged = list(witness)
            forged[w] = (forged[w] + 1) % R
            try:
                r1cs.check_rows(forged, sorted(rows_of.get(w, ())))
                free.append(w)
            except UnsatisfiedConstraint:
                pass
        assert len(free) == (1 if x == 0 else 0), (x, free)
