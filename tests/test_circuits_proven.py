"""Proven levels: the circuit accepts exactly the oracle's values (red-team tamper tests, single-wire perturbation)."""

from __future__ import annotations

import dataclasses

import pytest

from circuits.builder import _run_program
from circuits.commitment import PUBLIC_INPUTS, explanation_digest, prediction_digest
from circuits.errors import InvalidOpening, QNetError, UnsatisfiedConstraint, UnsupportedLayer
from circuits.field import R
from circuits.proven import LEVELS, ProvenCircuit, proven_circuit, proven_witness
from circuits.qnet import QNet, explain, forward, proven_explanation_digest, proven_input_digest
from tests.qnet_samples import cnn, mlp, rand_input

MODEL_HASH = bytes(range(32))
SALTS = {"input_salt": 11, "prediction_salt": 22, "explanation_salt": 33, "context": 44}
CONFIGS = [("inference", None), ("explanation", "gradient"), ("explanation", "gradient_x_input"), ("explanation", "lrp_epsilon_0_1")]
NET = mlp([8, 6, 3], seed=7)
X = rand_input(NET, 7)


def _witness(pc: ProvenCircuit, x: list[int]) -> tuple[list[int], list[int], object]:
    extra = {"explanation_hash": 55} if pc.level == "inference" else {}
    return proven_witness(pc, x, **SALTS, **extra)


def _secret(pc: ProvenCircuit, x: list[int]) -> dict:
    out: dict = {"offset_input": [v + 2**31 for v in x], "input_salt": 11, "prediction_salt": 22, "explanation_salt": 33}
    if pc.level == "inference":
        out["explanation_hash"] = 55
    return out


def _accepts(pc: ProvenCircuit, public: list[int], x: list[int]) -> bool:
    try:
        pc.circuit.solve(dict(zip(PUBLIC_INPUTS, public)), _secret(pc, x))
    except UnsatisfiedConstraint:
        return False
    return True


def _public(pc: ProvenCircuit, x: list[int], scores, cls: int, expl) -> list[int]:
    hi, lo = int.from_bytes(MODEL_HASH[:16], "big"), int.from_bytes(MODEL_HASH[16:], "big")
    e_digest = explanation_digest(55, 33) if pc.level == "inference" else proven_explanation_digest(pc.method, pc.net.input_shape, expl, 33)
    return [hi, lo, proven_input_digest(pc.net.input_shape, x, 11), prediction_digest(scores, cls, 22), cls, e_digest, 44]


@pytest.mark.parametrize(("level", "method"), CONFIGS)
def test_honest_witness_matches_the_oracle(level: str, method: str | None) -> None:
    pc = proven_circuit(NET, level, method, MODEL_HASH)
    witness, public, opening = _witness(pc, X)
    assert pc.circuit.r1cs.is_satisfied(witness)
    trace = forward(NET, X)
    assert opening.scores == trace.scores and opening.predicted_class == max(range(3), key=lambda i: (trace.scores[i], -i))
    if level == "explanation":
        assert list(opening.explanation) == explain(NET, trace, method, opening.predicted_class)
    assert public == _public(pc, X, trace.scores, opening.predicted_class, opening.explanation)
    assert pc.circuit.r1cs.public_values(witness) == public
    assert proven_circuit(NET, level, method, MODEL_HASH) is pc  # cached by content


@pytest.mark.parametrize(("level", "method"), CONFIGS)
def test_tampered_statements_are_unsatisfiable(level: str, method: str | None) -> None:
    pc = proven_circuit(NET, level, method, MODEL_HASH)
    _, public, opening = _witness(pc, X)
    scores, cls, expl = list(opening.scores), opening.predicted_class, opening.explanation
    assert _accepts(pc, public, X)
    # a wrong weight: the circuit of a network differing in one weight rejects the honest values
    doc = NET.to_json()
    doc["layers"][0]["weight"][2][3] += 2**14
    changed = QNet.from_json(doc)
    assert forward(changed, X).scores != opening.scores  # (a change below the rounding would be no change)
    other = proven_circuit(changed, level, method, MODEL_HASH)
    assert not _accepts(other, public, X)
    # a wrong model hash
    assert not _accepts(pc, [public[0] ^ 1, *public[1:]], X)
    # a wrong input: the private input differs from the committed one (or the digest from the input)
    x2 = list(X)
    x2[0] += 1
    assert not _accepts(pc, public, x2)
    assert not _accepts(pc, [*public[:2], proven_input_digest((8,), x2, 11), *public[3:]], X)
    # a wrong score
    for j in range(3):
        bad = list(scores)
        bad[j] += 1
        assert not _accepts(pc, _public(pc, X, bad, cls, expl), X)
    # a non-argmax class (with its own explanation at level explanation)
    for c in range(3):
        if scores[c] < max(scores):
            e = explain(NET, forward(NET, X), method, c) if level == "explanation" else None
            assert not _accepts(pc, _public(pc, X, scores, c, e), X)
    # a wrong attribution entry
    if level == "explanation":
        for i in range(len(expl)):
            bad = list(expl)
            bad[i] += 1
            assert not _accepts(pc, _public(pc, X, scores, cls, bad), X)


def _rescale_ops(pc: ProvenCircuit) -> list[int]:
    """Indices of witness-program ops that hint the 48 bits of a rescale (dense outputs first)."""
    return [k for k, op in enumerate(pc.circuit._program) if op[0] == 2 and op[2] == 48]


@pytest.mark.parametrize(("level", "method"), [CONFIGS[0], CONFIGS[3]])
def test_rescale_remainder_out_of_range_is_unsatisfiable(level: str, method: str | None) -> None:
    """A prover hinting quotient q + 1 with remainder r - 2**16 (an exact but out-of-range split) fails."""
    pc = proven_circuit(NET, level, method, MODEL_HASH)
    _, public, _ = _witness(pc, X)
    k = _rescale_ops(pc)[0]  # hidden neuron 0
    op = pc.circuit._program[k]
    honest_fn = op[3]

    def cheat(v: int) -> list[int]:
        bits = honest_fn(v)
        high = sum(b << i for i, b in enumerate(bits[16:])) + 1
        return [(bits[0] - 2**16) % R, *bits[1:16], *[(high >> i) & 1 for i in range(32)]]

    program = list(pc.circuit._program)
    program[k] = (*op[:3], cheat, op[4])
    circuit = dataclasses.replace(pc.circuit, _program=tuple(program))
    witness = [0] * circuit.r1cs.n_wires
    witness[0] = 1
    secret = _secret(pc, X)
    for wire, name, index in circuit._inputs:
        value = dict(zip(PUBLIC_INPUTS, public)).get(name, secret.get(name))
        witness[wire] = value if index is None else value[index]
    _run_program(circuit._program, witness)
    assert witness[op[1] + 16 : op[1] + 48] != pc.circuit.solve(dict(zip(PUBLIC_INPUTS, public)), secret)[op[1] + 16 : op[1] + 48]
    assert not circuit.r1cs.is_satisfied(witness)


def test_single_wire_perturbation_leaves_no_private_wire_free() -> None:
    """Every private wire of the MLP circuits (level explanation, LRP: the largest) is bound by some row.

    Changing wire w only changes the rows that mention w, so checking those rows with the builder's R1CS
    checker is the full satisfaction check of the perturbed witness. (The one wire that may be free is an is-zero
    flag's inverse hint when its ReLU input is exactly 0, which no value depends on: tests/test_circuits_nn.py; the
    input here has no such zero.)"""
    for level, method in (CONFIGS[0], CONFIGS[1], CONFIGS[3]):
        pc = proven_circuit(NET, level, method, MODEL_HASH)
        witness, _, _ = _witness(pc, X)
        r1cs = pc.circuit.r1cs
        rows_of: dict[int, list[int]] = {}
        for i, con in enumerate(r1cs.constraints):
            for lc in (con.a, con.b, con.c):
                for w in lc:
                    rows_of.setdefault(w, []).append(i)
        for w in range(1 + r1cs.n_public, r1cs.n_wires):
            for delta in (1, R - 1):
                forged = list(witness)
                forged[w] = (forged[w] + delta) % R
                rows = sorted(set(rows_of.get(w, [])))
                with pytest.raises(UnsatisfiedConstraint):
                    r1cs.check_rows(forged, rows)
        forged = list(witness)
        forged[r1cs.n_wires // 2] += 1
        assert not r1cs.is_satisfied(forged)


@pytest.mark.parametrize("pool", ["maxpool2d", "avgpool2d"])
def test_cnn_levels(pool: str) -> None:
    net = cnn(3, pool)
    x = rand_input(net, 3)
    methods = ["gradient", "gradient_x_input"] + (["lrp_epsilon_0_1"] if pool == "maxpool2d" else [])
    for level, method in [("inference", None), *[("explanation", m) for m in methods]]:
        pc = proven_circuit(net, level, method, MODEL_HASH)
        witness, public, opening = _witness(pc, x)
        assert pc.circuit.r1cs.is_satisfied(witness)
        if level == "explanation":
            bad = list(opening.explanation)
            bad[5] -= 1
            assert not _accepts(pc, _public(pc, x, opening.scores, opening.predicted_class, bad), x)
    with pytest.raises(UnsupportedLayer):
        proven_circuit(cnn(3, "avgpool2d"), "explanation", "lrp_epsilon_0_1", MODEL_HASH)


def test_argument_errors() -> None:
    with pytest.raises(QNetError):
        proven_circuit(NET, "commitment", None, MODEL_HASH)
    with pytest.raises(QNetError):
        proven_circuit(NET, "inference", "gradient", MODEL_HASH)
    with pytest.raises(InvalidOpening):
        proven_circuit(NET, "inference", None, b"short")
    pc = proven_circuit(NET, "explanation", "gradient", MODEL_HASH)
    with pytest.raises(InvalidOpening):
        proven_witness(pc, X, **SALTS, explanation_hash=1)
    assert LEVELS == ("inference", "explanation")


def test_relu_derivative_at_exactly_zero_is_torchs() -> None:
    """A hidden pre-activation of exactly 0: torch's ReLU gradient there is 0, and so are the oracle's and the proven
    circuit's ([x > 0]); with [x >= 0] the gradient would be (5, -2, 0) instead of (3, 0, 0)."""
    import torch

    one = 2**16
    w1, w2 = [[one, -one, 0], [one, 0, 0]], [[2 * one, 3 * one], [one, -one]]
    net = QNet.from_json({"format": "zkxai.qnet/1", "input_shape": [3], "scale_bits": 16, "layers": [
        {"op": "dense", "weight": w1, "bias": [0, 0]}, {"op": "relu"},
        {"op": "dense", "weight": w2, "bias": [0, 0]}]})
    x = [5 * one, 5 * one, 3 * one]
    xt = torch.tensor([v / one for v in x], dtype=torch.float64, requires_grad=True)
    hidden = torch.relu(torch.tensor(w1, dtype=torch.float64) / one @ xt)
    (torch.tensor(w2, dtype=torch.float64) / one @ hidden)[0].backward()
    want = [round(float(v) * one) for v in xt.grad]
    assert want == [3 * one, 0, 0]
    trace = forward(net, x)
    assert trace.activations[0][0] == 0 and trace.choices[1] == (0, 1)
    assert explain(net, trace, "gradient", 0) == want
    for method, expected in (("gradient", want), ("gradient_x_input", [15 * one, 0, 0])):
        pc = proven_circuit(net, "explanation", method, MODEL_HASH)
        witness, public, opening = _witness(pc, x)
        assert pc.circuit.r1cs.is_satisfied(witness) and list(opening.explanation) == expected
        forged = list(opening.explanation)
        forged[:2] = [5 * one, -2 * one] if method == "gradient" else [25 * one, -10 * one]
        assert not _accepts(pc, _public(pc, x, opening.scores, opening.predicted_class, forged), x)
