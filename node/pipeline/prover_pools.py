"""Which prover pool a node runs (``prover.backend``): local processes or threads, or Ray actors."""

from __future__ import annotations

from node.pipeline.proving import KeyPaths, ProverPool


def prover_pool(paths: KeyPaths, workers: int = 1, batch_paths: KeyPaths | None = None, backend: str = "processes",
                ray_address: str | None = None) -> ProverPool:
    """The pool of ``prover.backend``: local processes or threads (:class:`ProverPool`), or Ray actors
    (:class:`node.pipeline.ray_prover.RayProverPool`, the same interface)."""
    if backend == "ray":  # imported here: Ray is an optional extra
        from node.pipeline.ray_prover import RayProverPool

        return RayProverPool(paths.proving_key.read_bytes(), workers,  # type: ignore[return-value]
                             batch_paths.proving_key.read_bytes() if batch_paths else None, ray_address)
    return ProverPool(paths, workers, batch_paths, backend)
