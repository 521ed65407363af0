"""Keys of a proven-level circuit (one per model, level and method), cached on disk by the circuit's R1CS digest.

``proven-<digest[:24]>.pk.json`` / ``.vk.json`` in the keys dir: a development setup (``prover.setup``) the first
time a circuit is seen, reused whenever a circuit with the same constraints comes again (the same model registered
after a restart, or on another chain). As with the commitment keys' development setup, the operator generated the
toxic waste: fine for development; for production export the circuit's R1CS and run a snarkjs ceremony.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prover.keys import VerifyingKey
from prover.r1cs_digest import r1cs_digest
from prover.serialize import vk_from_snarkjs

from node.pipeline.proving import KeyPaths, _ensure


@dataclass(frozen=True)
class ProvenKeys:
    """A proven circuit's keys: where they are, its verifying key, the R1CS digest naming them, its size."""

    paths: KeyPaths
    vk: VerifyingKey
    r1cs_digest: str
    constraints: int


def proven_key_paths(keys_dir: Path, digest: str) -> KeyPaths:
    stem = f"proven-{digest[:24]}"
    return KeyPaths(proving_key=keys_dir / f"{stem}.pk.json", verifying_key=keys_dir / f"{stem}.vk.json")


def ensure_proven_keys(keys_dir: Path, circuit: Any) -> ProvenKeys:
    """The keys of ``circuit`` (a CompiledCircuit): loaded when cached, else a development setup (slow: seconds to
    minutes with the native kernels, by size)."""
    r1cs = circuit.r1cs
    digest = r1cs_digest(r1cs)
    paths, vk = _ensure(proven_key_paths(keys_dir, digest), lambda: r1cs)
    return ProvenKeys(paths, vk, digest, int(r1cs.n_constraints))


def load_proven_keys(keys_dir: Path, digest: str, constraints: int = 0) -> ProvenKeys | None:
    """Cached keys by digest (a registered model's, after a restart); None when they are gone."""
    paths = proven_key_paths(keys_dir, digest)
    if not (paths.proving_key.exists() and paths.verifying_key.exists()):
        return None
    return ProvenKeys(paths, vk_from_snarkjs(json.loads(paths.verifying_key.read_text())), digest, constraints)
