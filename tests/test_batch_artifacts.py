"""The generated Poseidon hasher artifacts (circomlibjs poseidon_gencontract): reproducible and well-formed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import contracts

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.npm
def test_generated_hashers_are_reproducible() -> None:
    node = shutil.which("node")
    assert node is not None, "node is required to generate the Poseidon contracts"
    assert (ROOT / "node_modules" / "circomlibjs").is_dir(), "circomlibjs missing: run npm ci"
    result = subprocess.run(
        [node, str(ROOT / "scripts" / "gen_poseidon_contract.js"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_hasher_artifacts() -> None:
    for name, inputs in (("PoseidonT3", 2), ("PoseidonT7", 6)):
        art = contracts.artifact(name)
        assert art["contractName"] == name
        assert art["generator"]["package"] == "circomlibjs" and art["generator"]["inputs"] == inputs
        assert art["bytecode"].startswith("0x") and len(art["bytecode"]) > 10_000
        overloads = sorted(i["inputs"][0]["type"] for i in art["abi"] if i.get("name") == "poseidon")
        assert overloads == [f"bytes32[{inputs}]", f"uint256[{inputs}]"]
    # the deployed code must fit EIP-170 (24,576 bytes): the creation code is only a short prefix longer
    assert (len(contracts.artifact("PoseidonT7")["bytecode"]) - 2) // 2 < 24_576
