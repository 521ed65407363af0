"""Circuit keys and the proving pool.

Proving is CPU-bound (seconds per proof), so it runs in a process pool that never blocks the event
loop. Workers are started with ``spawn`` (no forked torch/event-loop state) and load the proving key
once, in their initializer, instead of receiving it with every job.

Keys of the commitment circuit live in the keys folder (``commitment-<classes>.pk.json`` and the snarkjs
``commitment-<classes>.vk.json``) and come from one of two places:

* **Development setup** (the default): with no keys and no ``prover.zkey``, ``ensure_keys`` runs a local
  Groth16 setup the first time. Its toxic waste is discarded, but the operator generated it, so whoever
  runs the node could forge proofs: fine for development, not a ceremony (see README).
* **Ceremony zkey**: export the circuit (``zkxai keys export-r1cs commitment.r1cs``), run a multi-party
  snarkjs ceremony on it (``powersoftau`` + ``groth16 setup`` + one ``zkey contribute`` per party; the key
  is sound if any one party destroyed its randomness), then ``zkxai keys import-zkey final.zkey`` or set
  ``prover.zkey`` (``ZKXAI_PROVER_ZKEY``) so ``ensure_keys`` imports it at the first start.
  :func:`import_zkey` reads the zkey against our R1CS (wire counts and every A/B coefficient must match,
  every point is checked), stores it in the node's formats and records where it came from in
  ``commitment-<classes>.source.json`` (path + SHA-256 of the zkey). It does not replay the ceremony
  transcript: run ``snarkjs zkey verify`` on the zkey before trusting it.

Batch mode adds the batch circuit's keys (``batch-<size>-<classes>.pk.json`` /
``.vk.json``, :func:`ensure_batch_keys`); the pool's workers then load both proving keys at start.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from circuits.batch import batch_circuit
from circuits.commitment import CommitmentOpening, commitment_circuit, commitment_witness
from circuits.r1cs import R1CS
from prover.errors import ProverError
from prover.keys import Proof, ProvingKey, VerifyingKey
from prover.prove import prove
from prover.serialize import load_proving_key, save_proving_key, vk_from_snarkjs, vk_to_snarkjs
from prover.setup import setup
from prover.zkey import read_zkey

from node.pipeline.batching import (
    BatchError,
    BatchOpening,
    BatchProof,
    prove_batch,
)
from node.errors import ConfigError, NodeError
from node.pipeline.proven import ProvenJob, prove_job

log = logging.getLogger("zkxai.node")


class ProverUnavailable(NodeError):
    """The provers cannot be reached (a Ray cluster that lost its head, a connection error): not the request's fault;
    the prove stage keeps the request and tries again."""

    status = 503
    code = "prover_unavailable"


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


def source_path(keys_dir: Path, num_classes: int) -> Path:
    """Where :func:`import_zkey` records the origin of the commitment keys."""
    return keys_dir / f"commitment-{num_classes}.source.json"


@dataclass(frozen=True)
class ZkeyImport:
    """What :func:`import_zkey` stored, and from where."""

    paths: KeyPaths
    vk: VerifyingKey
    zkey: Path
    sha256: str
    domain_size: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_zkey(zkey: Path, keys_dir: Path, num_classes: int, *, force: bool = False) -> ZkeyImport:
    """Store a snarkjs ceremony ``.zkey`` of ``commitment_circuit(num_classes)`` as the node's keys.

    Raises :class:`ConfigError` when the file cannot be read, is not a valid Groth16 zkey, is for another
    circuit (e.g. another class count), or when keys already exist and ``force`` is false.
    """
    paths = key_paths(keys_dir, num_classes)
    if not force and (paths.proving_key.exists() or paths.verifying_key.exists()):
        raise ConfigError(f"{paths.proving_key.parent} already holds commitment-{num_classes} keys; refusing to "
                          "overwrite them (use --force to replace them)")
    if not zkey.is_file():
        raise ConfigError(f"zkey {zkey} does not exist")
    r1cs = commitment_circuit(num_classes).r1cs
    try:
        pk = read_zkey(zkey, r1cs)
    except ProverError as exc:
        raise ConfigError(f"{zkey} is not a proving key for the {num_classes}-class commitment circuit "
                          f"({r1cs.n_constraints} constraints, {r1cs.n_wires} wires): {exc}") from exc
    digest = _sha256(zkey)
    keys_dir.mkdir(parents=True, exist_ok=True)
    # the old pk goes first and the new one is renamed into place last: a crash in between leaves no pk,
    # so no start can pair a new vk with an old pk
    paths.proving_key.unlink(missing_ok=True)
    paths.verifying_key.write_text(json.dumps(vk_to_snarkjs(pk.vk), indent=1) + "\n")
    source = {"source": "snarkjs-zkey", "zkey": str(zkey.resolve()), "sha256": digest,
              "domain_size": pk.domain_size, "circuit": f"commitment-{num_classes}"}
    source_path(keys_dir, num_classes).write_text(json.dumps(source, indent=1) + "\n")
    tmp = paths.proving_key.with_suffix(".tmp")
    save_proving_key(pk, tmp)
    os.replace(tmp, paths.proving_key)
    log.info("commitment keys imported from ceremony zkey %s (sha256 %s)", zkey, digest)
    return ZkeyImport(paths=paths, vk=pk.vk, zkey=zkey, sha256=digest, domain_size=pk.domain_size)


def ensure_keys(keys_dir: Path, num_classes: int, zkey: Path | None = None) -> tuple[KeyPaths, VerifyingKey]:
    """Load the commitment circuit's keys. With none yet: import ``zkey`` (``prover.zkey``) when given, else run a
    development setup. With keys and a ``zkey``, the keys must be the ones imported from that zkey."""
    paths = key_paths(keys_dir, num_classes)
    if zkey is None:
        if not (paths.proving_key.exists() and paths.verifying_key.exists()):
            source_path(keys_dir, num_classes).unlink(missing_ok=True)  # a fresh dev setup has no ceremony origin
        return _ensure(paths, lambda: commitment_circuit(num_classes).r1cs)
    if not (paths.proving_key.exists() and paths.verifying_key.exists()):
        imported = import_zkey(zkey, keys_dir, num_classes, force=True)
        return imported.paths, imported.vk
    recorded = source_path(keys_dir, num_classes)
    try:
        origin = json.loads(recorded.read_text()).get("sha256")
    except (OSError, ValueError, AttributeError):
        origin = None
    if not zkey.is_file():
        raise ConfigError(f"prover.zkey {zkey} does not exist")
    if origin != _sha256(zkey):
        raise ConfigError(f"prover.zkey is {zkey}, but {keys_dir} holds other commitment-{num_classes} keys (a "
                          "development setup or another zkey); run `zkxai keys import-zkey --force` to replace them")
    return paths, vk_from_snarkjs(json.loads(paths.verifying_key.read_text()))


def ensure_batch_keys(keys_dir: Path, size: int, num_classes: int) -> tuple[KeyPaths, VerifyingKey]:
    """Load the keys of ``batch_circuit(size, num_classes)`` (public inputs [root, count]), running a development
    setup if there are none yet (size 8, 10 classes: ~20k constraints, a few seconds with the native kernels, minutes on the Python path)."""
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


def prove_opening(pk: ProvingKey, opening: CommitmentOpening, context: int) -> Proof:
    """Solve the commitment circuit for ``opening`` in ``context`` and prove it (runs in the caller's process)."""
    circuit = commitment_circuit(len(opening.scores))
    return prove(pk, circuit.r1cs, commitment_witness(opening, context, check=False))  # prove() checks every row


def _prove_in_worker(opening: CommitmentOpening, context: int) -> Proof:
    assert _worker_pk is not None, "worker not initialised"
    return prove_opening(_worker_pk, opening, context)


def _prove_batch_in_worker(batch: BatchOpening) -> BatchProof:
    assert _worker_batch_pk is not None, "worker has no batch proving key (pool started without batch keys)"
    return prove_batch(_worker_batch_pk, batch)


class ProverPool:
    """A pool of prover processes sharing the commitment proving key (and, in batch mode, the batch one)."""

    def __init__(self, paths: KeyPaths, workers: int = 1, batch_paths: KeyPaths | None = None,
                 backend: str = "processes") -> None:
        self.batching = batch_paths is not None
        initargs = (str(paths.proving_key), str(batch_paths.proving_key) if batch_paths else None)
        self._executor: Executor
        #: threads: this pool's own keys, shared read-only by its threads (never the module's worker globals: two
        #: nodes in one process, e.g. an embedded SDK node and another, would otherwise prove with each other's key)
        self._keys: tuple[ProvingKey, ProvingKey | None] | None = None
        if backend == "threads":
            self._keys = (load_proving_key(initargs[0]), load_proving_key(initargs[1]) if initargs[1] else None)
            self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zkxai-prover")
        else:
            self._executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_init_worker, initargs=initargs)

    async def prove(self, opening: CommitmentOpening, context: int) -> Proof:
        """One proof of ``opening`` bound to ``context`` (:mod:`node.chains.binding`) in a worker process."""
        loop = asyncio.get_running_loop()
        if self._keys is not None:
            return await loop.run_in_executor(self._executor, prove_opening, self._keys[0], opening, context)
        return await loop.run_in_executor(self._executor, _prove_in_worker, opening, context)

    async def prove_batch(self, batch: BatchOpening) -> BatchProof:
        """One batch proof (public inputs [root, count, context]) in a worker process."""
        if not self.batching:
            raise BatchError("this prover pool was started without batch keys")
        loop = asyncio.get_running_loop()
        if self._keys is not None:
            assert self._keys[1] is not None
            return await loop.run_in_executor(self._executor, prove_batch, self._keys[1], batch)
        return await loop.run_in_executor(self._executor, _prove_batch_in_worker, batch)

    async def prove_proven(self, job: ProvenJob) -> Proof:
        """One proof at a proven level with the model's own circuit and key (built / loaded by the worker on first
        use and kept: :func:`node.pipeline.proven.prove_job`)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, prove_job, job)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
