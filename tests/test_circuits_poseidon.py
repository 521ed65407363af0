"""Poseidon: regenerated parameters and native hash against circomlibjs; gadget against native."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from circuits.builder import Api, compile
from circuits.errors import CircuitError, FieldRangeError, UnsatisfiedConstraint
from circuits.field import R
from circuits.poseidon import poseidon, poseidon_gadget
from circuits.poseidon_constants import (
    MAX_WIDTH,
    MIN_WIDTH,
    FastGrainLfsr,
    GrainLfsr,
    UnsupportedWidth,
    poseidon_params,
    reference_poseidon_params,
)

REPO = Path(__file__).resolve().parents[1]
CIRCOMLIBJS = REPO / "node_modules" / "circomlibjs"

INPUT_SETS: list[list[int]] = [
    [1, 2],
    [0],
    [R - 1],
    [0, 0],
    [R - 1, R - 2],
    [123456789, 2**200 + 17, 3],
    [5, 4, 3, 2, 1],
    list(range(1, 17)),
]


def _circomlibjs_constants() -> dict[str, list]:
    path = CIRCOMLIBJS / "src" / "poseidon_constants.json"
    assert path.is_file(), f"circomlibjs missing at {CIRCOMLIBJS}: run npm ci in the repo root"
    return json.loads(path.read_text())


def test_known_vector() -> None:
    assert poseidon([1, 2]) == 7853200120776062878684798364095072458815029376092732009249414926327459813530


def test_regenerated_parameters_equal_circomlibjs_tables() -> None:
    tables = _circomlibjs_constants()
    for t in range(MIN_WIDTH, MAX_WIDTH + 1):
        params = poseidon_params(t)
        assert list(params.round_constants) == [int(c, 16) for c in tables["C"][t - 2]], t
        assert [list(row) for row in params.mds] == [[int(x, 16) for x in row] for row in tables["M"][t - 2]], t


def test_batched_lfsr_equals_bitwise_reference() -> None:
    for args in ((1, 0, 254, 3, 8, 57), (1, 0, 254, 2, 8, 56), (0, 1, 64, 5, 8, 60)):
        slow, fast = GrainLfsr(*args), FastGrainLfsr(*args)
        for width in (1, 7, 254, 13, 254, 300):
            assert slow.random_bits(width) == fast.random_bits(width)
    assert reference_poseidon_params(3) == poseidon_params(3)


def test_widths_outside_circomlib_are_refused() -> None:
    for t in (1, 18, 0):
        with pytest.raises(UnsupportedWidth):
            poseidon_params(t)
    with pytest.raises(CircuitError):
        poseidon([])
    with pytest.raises(CircuitError):
        poseidon(list(range(17)))
    with pytest.raises(FieldRangeError):
        poseidon([R])


def test_native_equals_circomlibjs() -> None:
    node = shutil.which("node")
    assert node is not None, "node is required (CI installs it)"
    assert CIRCOMLIBJS.is_dir(), f"circomlibjs missing at {CIRCOMLIBJS}: run npm ci in the repo root"
    script = """
const {buildPoseidon, buildPoseidonReference} = require('circomlibjs');
(async () => {
  const sets = JSON.parse(process.argv[1]).map(s => s.map(BigInt));
  const fast = await buildPoseidon(), ref = await buildPoseidonReference();
  const out = sets.map(s => [fast.F.toString(fast(s)), ref.F.toString(ref(s))]);
  console.log(JSON.stringify(out));
})();
"""
    sets = json.dumps([[str(x) for x in s] for s in INPUT_SETS])
    result = subprocess.run(
        [node, "-e", script, sets], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    outputs = json.loads(result.stdout)
    assert len(outputs) == len(INPUT_SETS)
    for inputs, (fast, ref) in zip(INPUT_SETS, outputs):
        assert poseidon(inputs) == int(fast) == int(ref), inputs


def _hash_circuit(n_inputs: int):  # type: ignore[no-untyped-def]
    def define(api: Api) -> None:
        xs = api.secret_vector("xs", n_inputs)
        api.assert_equal(poseidon_gadget(api, xs), api.public("digest"))

    return compile(define)


@pytest.mark.parametrize("inputs", INPUT_SETS[:7], ids=lambda s: f"n{len(s)}")
def test_gadget_equals_native(inputs: list[int]) -> None:
    circuit = _hash_circuit(len(inputs))
    digest = poseidon(inputs)
    witness = circuit.solve({"digest": digest}, {"xs": inputs})
    assert circuit.r1cs.is_satisfied(witness)
    with pytest.raises(UnsatisfiedConstraint):
        circuit.solve({"digest": (digest + 1) % R}, {"xs": inputs})
    tampered = list(inputs)
    tampered[0] = (tampered[0] + 1) % R
    with pytest.raises(UnsatisfiedConstraint):
        circuit.solve({"digest": digest}, {"xs": tampered})


def test_gadget_cost() -> None:
    # t=3: 8 full rounds * 3 S-boxes + 57 partial rounds, 3 constraints per S-box, minus the
    # first round's S-box on the constant cell 0 (free) = 240, as circomlib's Poseidon(2).
    assert _hash_circuit(2).n_constraints == 240 + 1 + 1


def test_gadget_with_constant_inputs_matches_native() -> None:
    def define(api: Api) -> None:
        api.assert_equal(poseidon_gadget(api, [api.secret("x"), 9]), api.public("digest"))

    circuit = compile(define)
    circuit.solve({"digest": poseidon([4, 9])}, {"x": 4})
    with pytest.raises(UnsatisfiedConstraint):
        circuit.solve({"digest": poseidon([4, 8])}, {"x": 4})
