"""Committed contract artifacts: reproducible from the sources with the pinned solc-js, and loadable from Python."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import contracts

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = (
    "AttestationRegistry",
    "AttestedLending",
    "Groth16Verifier",
    "IAttestationRegistry",
    "IGroth16Verifier",
    "ZkxaiEASResolver",
)


def _node() -> str:
    node = shutil.which("node")
    assert node is not None, "node is required to compile the contracts"
    assert (ROOT / "node_modules" / "solc").is_dir(), "solc-js missing: run npm ci"
    return node


@pytest.mark.npm
def test_committed_artifacts_match_a_fresh_compile() -> None:
    result = subprocess.run(
        [_node(), str(ROOT / "scripts" / "check_contracts.js")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.npm
def test_check_fails_when_a_source_changes(tmp_path: Path) -> None:
    """The check must notice a source edit that was not recompiled (otherwise the test above proves nothing)."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "compile_contracts.js", tmp_path / "scripts")
    shutil.copy(ROOT / "scripts" / "check_contracts.js", tmp_path / "scripts")
    shutil.copytree(ROOT / "contracts" / "src", tmp_path / "contracts" / "src")
    shutil.copytree(ROOT / "contracts" / "build", tmp_path / "contracts" / "build")
    os.symlink(ROOT / "node_modules", tmp_path / "node_modules")
    source = tmp_path / "contracts" / "src" / "AttestationRegistry.sol"
    source.write_text(source.read_text().replace("PUBLIC_INPUTS = 7", "PUBLIC_INPUTS = 8"))
    result = subprocess.run(
        [_node(), str(tmp_path / "scripts" / "check_contracts.js")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "stale: contracts/build/AttestationRegistry.json" in result.stderr
    assert "Groth16Verifier.json" not in result.stderr


def test_artifacts_record_source_hash_and_settings() -> None:
    for name in CONTRACTS:
        art = contracts.artifact(name)
        source = ROOT / "contracts" / art["sourceName"]
        assert art["contractName"] == name
        assert art["sourceHash"] == hashlib.sha256(source.read_bytes()).hexdigest()
        assert art["compiler"]["version"].startswith("0.8.28+")
        assert art["compiler"]["settings"] == {"evmVersion": "cancun", "optimizer": {"enabled": True, "runs": 200}}
        text = (contracts.BUILD_DIR / f"{name}.json").read_text()
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n", "artifact is not canonical JSON"
    for deployable in ("AttestationRegistry", "AttestedLending", "Groth16Verifier", "ZkxaiEASResolver"):
        assert len(contracts.artifact(deployable)["bytecode"]) > 1000


@pytest.mark.npm
def test_imports_resolve_from_node_modules_only(tmp_path: Path) -> None:
    """EAS interfaces come from node_modules through the import callback, and get no artifact of their own; an
    import that is not in node_modules fails the build (no silent fallback)."""
    names = contracts.artifact_names()
    assert "ISchemaResolver" not in names and "IEAS" not in names
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "compile_contracts.js", tmp_path / "scripts")
    shutil.copytree(ROOT / "contracts" / "src", tmp_path / "contracts" / "src")
    os.symlink(ROOT / "node_modules", tmp_path / "node_modules")
    source = tmp_path / "contracts" / "src" / "ZkxaiEASResolver.sol"
    source.write_text(source.read_text().replace("eas-contracts/contracts/IEAS.sol", "eas-contracts/contracts/NoSuch.sol"))
    result = subprocess.run(
        [_node(), str(tmp_path / "scripts" / "compile_contracts.js")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "NoSuch.sol" in result.stderr


def test_loader() -> None:
    names = contracts.artifact_names()
    assert set(CONTRACTS) <= set(names), set(CONTRACTS) - set(names)
    for name in names:  # compiled from a source under contracts/src, or generated (see compile_contracts.js)
        art = contracts.artifact(name)
        assert "generator" in art or (ROOT / "contracts" / art["sourceName"]).is_file(), name
    events = [i["name"] for i in contracts.abi("IAttestationRegistry") if i["type"] == "event"]
    assert events == ["Attested", "ModelRevoked", "OwnershipTransferred", "Revoked"]
    assert contracts.artifact("AttestedLending")["sourceName"] == "src/examples/AttestedLending.sol"
    first = contracts.artifact("Groth16Verifier")
    first["abi"].clear()
    assert contracts.artifact("Groth16Verifier")["abi"], "artifact() must hand out independent copies"
    with pytest.raises(contracts.ArtifactNotFound):
        contracts.artifact("NoSuchContract")
    with pytest.raises(contracts.ArtifactNotFound):
        contracts.artifact("../pyproject")
