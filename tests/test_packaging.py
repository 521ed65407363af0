"""Install profiles: the base install (the verifier) must not pull torch or the node's stack."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

from tests.node_harness import ROOT

NODE_ONLY = {"torch", "torchvision", "zennit", "onnx", "onnxruntime", "aiohttp", "sqlmodel", "eth-tester"}


def _name(requirement: str) -> str:
    for sep in "<>=[;! ":
        requirement = requirement.split(sep)[0]
    return requirement.strip().lower().replace("_", "-")


def test_base_dependencies_are_light_and_node_extra_has_the_stack() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {_name(r) for r in project["dependencies"]}
    assert {"web3", "py-ecc", "eth-account"} <= base
    assert not base & NODE_ONLY
    node = {_name(r) for r in project["optional-dependencies"]["node"]}
    assert NODE_ONLY <= node


def test_resolved_base_install_has_no_torch() -> None:
    """Ask pip what `pip install zkxai` would install (resolution only, nothing installed)."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-", "--ignore-installed", str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    names = {item["metadata"]["name"].lower().replace("_", "-") for item in json.loads(out.stdout)["install"]}
    assert {"web3", "py-ecc", "eth-account", "zkxai"} <= names
    heavy = NODE_ONLY - {"aiohttp"}  # web3 itself depends on aiohttp
    assert not names & heavy, names & heavy
