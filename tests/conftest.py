"""Shared fixtures: repository paths and the npm tools CI installs (tests fail, not skip, when they are missing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.node_harness import running_anvil

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def anvil_bin() -> Path:
    path = NODE_MODULES / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    assert path.exists(), f"anvil missing at {path}: run scripts/bootstrap (npm ci)"
    return path


@pytest.fixture(scope="session")
def snarkjs_bin() -> Path:
    path = NODE_MODULES / ".bin" / "snarkjs"
    assert path.exists(), f"snarkjs missing at {path}: run scripts/bootstrap (npm ci)"
    return path


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    """A fresh anvil (npm @foundry-rs/anvil) on 127.0.0.1 for one test module, stopped by its PID afterwards."""
    with running_anvil() as url:
        yield url
