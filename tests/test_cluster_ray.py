"""Proofs on a real Ray cluster (``prover.backend = "ray"``): a head and a worker node started as separate
processes on 127.0.0.1; each prover actor parses the proving key once (from the object store); proofs verify; a
prover worker process killed with SIGKILL mid-proof is restarted by Ray and the same proof job comes back once."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("ray", reason='the Ray backend needs the optional extra: pip install "zkxai[cluster]"')

from circuits.commitment import CommitmentOpening, hash_to_field, public_inputs, vector_hash  # noqa: E402
from prover import verify  # noqa: E402
from tests.ray_harness import RAY_ENV, RayCluster, running_ray  # noqa: E402

CLASSES, CONTEXT = 10, 424242


def _opening(i: int) -> CommitmentOpening:
    scores = tuple((i * 7 + k * 3) % 11 * 65536 - 5 * 65536 for k in range(CLASSES))
    best = max(range(CLASSES), key=lambda k: (scores[k], -k))
    return CommitmentOpening(model_hash=hashlib.sha256(b"ray %d" % i).digest(), input_hash=hash_to_field(b"in%d" % i),
                             input_salt=101 + i, scores=scores, predicted_class=best, prediction_salt=202,
                             explanation_hash=vector_hash([3, -1, i]), explanation_salt=303)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object]:
    from node.pipeline.proving import ensure_keys

    return ensure_keys(tmp_path_factory.mktemp("keys"), CLASSES)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayCluster]:
    saved = {k: os.environ.get(k) for k in RAY_ENV}
    os.environ.update(RAY_ENV)  # this process joins the cluster too (ray.init in the pool)
    try:
        with running_ray(head_cpus=1, workers=1) as cluster:
            yield cluster
        import ray

        ray.shutdown()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.mark.slow
def test_ray_pool_proves_and_survives_a_killed_worker(keys: tuple[object, object], ray_cluster: RayCluster) -> None:
    from node.pipeline.prover_pools import prover_pool

    paths, vk = keys
    pool = prover_pool(paths, workers=2, backend="ray", ray_address=ray_cluster.address)  # type: ignore[arg-type]

    async def run() -> None:
        pids = await pool.pids()  # type: ignore[attr-defined]
        assert len(set(pids)) == 2  # one process per actor
        first = await pool.prove(_opening(0), CONTEXT)
        assert verify(vk, public_inputs(_opening(0), CONTEXT), first)  # type: ignore[arg-type]
        jobs = [asyncio.create_task(pool.prove(_opening(i), CONTEXT)) for i in range(1, 5)]
        await asyncio.sleep(0.3)  # both actors are proving
        os.kill(pids[0], signal.SIGKILL)
        t0 = time.monotonic()
        proofs = await asyncio.wait_for(asyncio.gather(*jobs), 240)
        assert all(verify(vk, public_inputs(_opening(i), CONTEXT), p)  # type: ignore[arg-type]
                   for i, p in enumerate(proofs, start=1))
        after = await pool.pids()  # type: ignore[attr-defined]
        assert pids[0] not in after and pids[1] in after  # restarted, the other untouched
        print(f"4 proofs with one actor killed: {time.monotonic() - t0:.1f} s")

    try:
        asyncio.run(run())
    finally:
        pool.close()


def test_ray_failures_are_retryable_and_prover_errors_are_not() -> None:
    """Ray's own failures (cluster gone) reach the prove stage as ProverUnavailable (the request is kept and retried);
    anything else is the request's and stays what it is."""
    from ray.exceptions import GetTimeoutError, RaySystemError

    from node.pipeline.proving import ProverUnavailable
    from node.pipeline.ray_prover import _unwrapped
    from prover.errors import ProverError

    assert isinstance(_unwrapped(RaySystemError("head gone")), ProverUnavailable)
    assert isinstance(_unwrapped(GetTimeoutError("no answer")), ProverUnavailable)
    assert isinstance(_unwrapped(ConnectionError("refused")), ProverUnavailable)
    err = ProverError("unsatisfied constraint")
    assert _unwrapped(err) is err
