"""Circuit keys and the proving pool.

Proving is CPU-bound (seconds per proof), so it runs in a process pool that never blocks the event
loop. Workers are started with ``spawn`` (no forked torch/event-loop state) and load the proving key
once, in their initializer, instead of receiving it with every job.

Keys: ``ensure_keys`` runs a local development Groth16 setup the first time and stores the keys in the
keys folder (``commitment-<classes>.pk.json`` and the snarkjs ``commitment-<classes>.vk.json``). The
toxic waste of that setup is discarded, but the operator generated it: it is a development setup, not
a ceremony (see README). Batch mode adds the batch circuit's keys (``batch-<size>-<classes>.pk.json`` /
``.vk.json``, :func:`ensure_batch_keys`); the pool's workers then load both proving keys at start.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from circuits.batch import batch_circuit
from circuits.commitment import CommitmentOpening, commitment_circuit, commitment_witness
from circuits.r1cs import R1CS
from prover.keys import Proof, ProvingKey, VerifyingKey
from prover.prove import prove
from prover.serialize import load_proving_key, save_proving_key, vk_from_snarkjs, vk_to_snarkjs
from prover.setup import setup

from .batching import BatchError, BatchOpening, BatchProof, prove_batch


@dataclass(frozen=True)
class KeyPaths:
    proving_key: Path
    verifying_key: Path


def key_paths(keys_dir: Path, num_classes: int) -> KeyPaths:
    return KeyPaths(
        proving_key=keys_dir / f"commitment-{num_classes}.pk.json",
        verifying_key=keys_dir / f"commitment-{num_classes}.vk.json",
    )


def batch_key_paths(keys_dir: Path, size: int, num_classes: int) -> KeyPaths:
    return KeyPaths(
        proving_key=keys_dir / f"batch-{size}-{num_classes}.pk.json",
        verifying_key=keys_dir / f"batch-{size}-{num_classes}.vk.json",
    )


def ensure_keys(keys_dir: Path, num_classes: int) -> tuple[KeyPaths, VerifyingKey]:
    """Load the commitment circuit's keys, running a development setup if there are none yet."""
    return _ensure(key_paths(keys_dir, num_classes), lambda: commitment_circuit(num_classes).r1cs)


def ensure_batch_keys(keys_dir: Path, size: int, num_classes: int) -> tuple[KeyPaths, VerifyingKey]:
    """Load the keys of ``batch_circuit(size, num_classes)`` (public inputs [root, count]), running a development
    setup if there are none yet (size 8, 10 classes: ~20k constraints, about a minute)."""
    return _ensure(batch_key_paths(keys_dir, size, num_classes), lambda: batch_circuit(size, num_classes).r1cs)


def _ensure(paths: KeyPaths, r1cs: Callable[[], R1CS]) -> tuple[KeyPaths, VerifyingKey]:
    if paths.proving_key.exists() and paths.verifying_key.exists():
        return paths, vk_from_snarkjs(json.loads(paths.verifying_key.read_text()))
    paths.proving_key.parent.mkdir(parents=True, exist_ok=True)
    pk, vk = setup(r1cs())
    # the vk is written first and the pk renamed into place last: a crash in between leaves no pk, so the
    # pair is regenerated together at the next start
    paths.verifying_key.write_text(json.dumps(vk_to_snarkjs(vk), indent=1) + "\n")
    tmp = paths.proving_key.with_suffix(".tmp")
    save_proving_key(pk, tmp)
    os.replace(tmp, paths.proving_key)
    return paths, vk


_worker_pk: ProvingKey | None = None
_worker_batch_pk: ProvingKey | None = None


def _init_worker(pk_path: str, batch_pk_path: str | None = None) -> None:
    global _worker_pk, _worker_batch_pk
    _worker_pk = load_proving_key(pk_path)
    _worker_batch_pk = load_proving_key(batch_pk_path) if batch_pk_path else None


def prove_opening(pk: ProvingKey, opening: CommitmentOpening) -> Proof:
    """Solve the commitment circuit for ``opening`` and prove it (runs in the caller's process)."""
    circuit = commitment_circuit(len(opening.scores))
    return prove(pk, circuit.r1cs, commitment_witness(opening))


def _prove_in_worker(opening: CommitmentOpening) -> Proof:
    assert _worker_pk is not None, "worker not initialised"
    return prove_opening(_worker_pk, opening)


def _prove_batch_in_worker(batch: BatchOpening) -> BatchProof:
    assert _worker_batch_pk is not None, "worker has no batch proving key (pool started without batch keys)"
    return prove_batch(_worker_batch_pk, batch)


class ProverPool:
    """A pool of prover processes sharing the commitment proving key (and, in batch mode, the batch one)."""

    def __init__(self, paths: KeyPaths, workers: int = 1, batch_paths: KeyPaths | None = None) -> None:
        self.batching = batch_paths is not None
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(str(paths.proving_key), str(batch_paths.proving_key) if batch_paths else None),
        )

    async def prove(self, opening: CommitmentOpening) -> Proof:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _prove_in_worker, opening)

    async def prove_batch(self, batch: BatchOpening) -> BatchProof:
        """One batch proof (public inputs [root, count]) in a worker process."""
        if not self.batching:
            raise BatchError("this prover pool was started without batch keys")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _prove_batch_in_worker, batch)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
