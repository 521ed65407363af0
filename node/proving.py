"""Circuit keys and the proving pool.

Proving is CPU-bound (seconds per proof), so it runs in a process pool that never blocks the event
loop. Workers are started with ``spawn`` (no forked torch/event-loop state) and load the proving key
once, in their initializer, instead of receiving it with every job.

Keys: ``ensure_keys`` runs a local development Groth16 setup the first time and stores the keys in the
keys folder (``commitment-<classes>.pk.json`` and the snarkjs ``commitment-<classes>.vk.json``). The
toxic waste of that setup is discarded, but the operator generated it: it is a development setup, not
a ceremony (see README).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from circuits.commitment import CommitmentOpening, commitment_circuit, commitment_witness
from prover.keys import Proof, ProvingKey, VerifyingKey
from prover.prove import prove
from prover.serialize import load_proving_key, save_proving_key, vk_from_snarkjs, vk_to_snarkjs
from prover.setup import setup


@dataclass(frozen=True)
class KeyPaths:
    proving_key: Path
    verifying_key: Path


def key_paths(keys_dir: Path, num_classes: int) -> KeyPaths:
    return KeyPaths(
        proving_key=keys_dir / f"commitment-{num_classes}.pk.json",
        verifying_key=keys_dir / f"commitment-{num_classes}.vk.json",
    )


def ensure_keys(keys_dir: Path, num_classes: int) -> tuple[KeyPaths, VerifyingKey]:
    """Load the commitment circuit's keys, running a development setup if there are none yet."""
    paths = key_paths(keys_dir, num_classes)
    if paths.proving_key.exists() and paths.verifying_key.exists():
        return paths, vk_from_snarkjs(json.loads(paths.verifying_key.read_text()))
    keys_dir.mkdir(parents=True, exist_ok=True)
    pk, vk = setup(commitment_circuit(num_classes).r1cs)
    tmp = paths.proving_key.with_suffix(".tmp")
    save_proving_key(pk, tmp)
    os.replace(tmp, paths.proving_key)
    paths.verifying_key.write_text(json.dumps(vk_to_snarkjs(vk), indent=1) + "\n")
    return paths, vk


_worker_pk: ProvingKey | None = None


def _init_worker(pk_path: str) -> None:
    global _worker_pk
    _worker_pk = load_proving_key(pk_path)


def prove_opening(pk: ProvingKey, opening: CommitmentOpening) -> Proof:
    """Solve the commitment circuit for ``opening`` and prove it (runs in the caller's process)."""
    circuit = commitment_circuit(len(opening.scores))
    return prove(pk, circuit.r1cs, commitment_witness(opening))


def _prove_in_worker(opening: CommitmentOpening) -> Proof:
    assert _worker_pk is not None, "worker not initialised"
    return prove_opening(_worker_pk, opening)


class ProverPool:
    """A pool of prover processes sharing one proving key."""

    def __init__(self, paths: KeyPaths, workers: int = 1) -> None:
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(str(paths.proving_key),),
        )

    async def prove(self, opening: CommitmentOpening) -> Proof:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _prove_in_worker, opening)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
