"""Cross-check with snarkjs: our vk / proof / public JSON must verify with
``snarkjs groth16 verify``, a tampered proof must not, and our vk_alphabeta_12 must equal
ffjavascript's pairing. Needs the npm tools (fails, does not skip, if they are missing)."""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from circuits.r1cs import R1CS, Constraint
from prover import prove, setup
from prover.curve import G1_GEN, g1_mul, g1_to_affine
from prover.serialize import proof_to_snarkjs, public_to_snarkjs, save_json, vk_to_snarkjs

pytestmark = pytest.mark.npm

ROOT = Path(__file__).resolve().parents[1]
SNARKJS = ROOT / "node_modules" / ".bin" / "snarkjs"

ALPHABETA_JS = """
const {buildBn128, utils} = require("ffjavascript");
const fs = require("fs");
(async () => {
  const vk = utils.unstringifyBigInts(JSON.parse(fs.readFileSync(process.argv[1])));
  const curve = await buildBn128(true);
  const ab = curve.pairing(curve.G1.fromObject(vk.vk_alpha_1), curve.G2.fromObject(vk.vk_beta_2));
  process.stdout.write(JSON.stringify(utils.stringifyBigInts(curve.Gt.toObject(ab))));
  await curve.terminate();
})();
"""


def snarkjs_verify(tmp: Path, vk: dict, public: list[str], proof: dict) -> subprocess.CompletedProcess[str]:
    assert SNARKJS.exists(), f"snarkjs missing at {SNARKJS}: run npm ci"
    save_json(vk, tmp / "vk.json")
    save_json(public, tmp / "public.json")
    save_json(proof, tmp / "proof.json")
    return subprocess.run(
        [str(SNARKJS), "groth16", "verify", str(tmp / "vk.json"), str(tmp / "public.json"), str(tmp / "proof.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def artefacts():  # type: ignore[no-untyped-def]
    # out = x * y + x, with public out and public y
    r1 = R1CS(
        n_wires=5,
        n_public=2,
        constraints=(Constraint({3: 1}, {2: 1}, {4: 1}), Constraint({4: 1, 3: 1}, {0: 1}, {1: 1})),
        public_names=("out", "y"),
        wire_names={},
    )
    w = [1, 6 * 7 + 6, 7, 6, 42]
    pk, vk = setup(r1, rng=random.Random(5))
    proof = prove(pk, r1, w)
    return vk, proof, r1.public_values(w)


def test_snarkjs_accepts_our_proof(artefacts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vk, proof, public = artefacts
    res = snarkjs_verify(tmp_path, vk_to_snarkjs(vk), public_to_snarkjs(public), proof_to_snarkjs(proof))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "OK" in res.stdout


def test_snarkjs_rejects_tampered(artefacts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vk, proof, public = artefacts
    bad = replace(proof, c=g1_to_affine(g1_mul(G1_GEN, 7)))
    res = snarkjs_verify(tmp_path, vk_to_snarkjs(vk), public_to_snarkjs(public), proof_to_snarkjs(bad))
    assert res.returncode != 0
    assert "Invalid proof" in res.stdout + res.stderr
    res = snarkjs_verify(
        tmp_path, vk_to_snarkjs(vk), public_to_snarkjs([public[0] + 1, public[1]]), proof_to_snarkjs(proof)
    )
    assert res.returncode != 0


def test_alphabeta_matches_ffjavascript(artefacts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vk, _, _ = artefacts
    vkd = vk_to_snarkjs(vk)
    save_json(vkd, tmp_path / "vk.json")
    res = subprocess.run(
        ["node", "-e", ALPHABETA_JS, str(tmp_path / "vk.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == vkd["vk_alphabeta_12"]
