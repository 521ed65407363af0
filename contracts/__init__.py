"""zkxai's Solidity contracts, shipped as committed build artifacts.

``contracts/src/*.sol`` are compiled by ``scripts/compile_contracts.js`` (pinned solc-js) into
``contracts/build/<Name>.json``; this module only reads those files, so the light verifier install needs
neither a compiler nor node.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

#: Folder holding the committed artifacts.
BUILD_DIR = Path(__file__).resolve().parent / "build"


class ArtifactNotFound(LookupError):
    """No compiled artifact with the requested contract name exists."""


def artifact_names() -> list[str]:
    """Names of all available artifacts, sorted."""
    return sorted(p.stem for p in BUILD_DIR.glob("*.json"))


@lru_cache(maxsize=None)
def _load(name: str) -> str:
    path = BUILD_DIR / f"{name}.json"
    if not name.isidentifier() or not path.is_file():
        raise ArtifactNotFound(f"no contract artifact {name!r} in {BUILD_DIR} (have: {', '.join(artifact_names())})")
    return path.read_text(encoding="utf-8")


def artifact(name: str) -> dict[str, Any]:
    """The artifact of contract ``name``: ``{contractName, sourceName, abi, bytecode, deployedBytecode, compiler,
    sourceHash}`` (a fresh dict each call, so callers may mutate it)."""
    data: dict[str, Any] = json.loads(_load(name))
    return data


def abi(name: str) -> list[dict[str, Any]]:
    """Just the ABI of contract ``name``."""
    result: list[dict[str, Any]] = artifact(name)["abi"]
    return result
