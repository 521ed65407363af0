#!/usr/bin/env python3
"""Witness generation benchmark: the recorded witness program (``CompiledCircuit.solve``) against the reference
solver that re-runs ``define`` (``solve_reference``), same inputs, same run, witnesses compared.

For the commitment circuit (10 classes) and the batch circuit of 4 / 8 / 16 predictions it prints the best of
``--repeat`` times of each solver and the ratio. Not a test; timings go to stdout.

    .venv/bin/python scripts/bench_witness.py [--sizes 4,8,16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from circuits.batch import BATCH_PUBLIC_INPUTS, batch_circuit, batch_public_inputs, batch_secret_assignment  # noqa: E402
from circuits.commitment import (  # noqa: E402
    CommitmentOpening,
    commitment_circuit,
    public_assignment,
    public_inputs,
    secret_assignment,
)


#: Any field element: the solvers only carry the context public input.
CONTEXT = 12345


def opening(rng: random.Random) -> CommitmentOpening:
    scores = tuple(rng.randrange(0, 2**20) for _ in range(10))
    return CommitmentOpening(model_hash=rng.randbytes(32), input_hash=rng.randrange(2**200),
                             input_salt=rng.randrange(2**200), scores=scores, predicted_class=scores.index(max(scores)),
                             prediction_salt=rng.randrange(2**200), explanation_hash=rng.randrange(2**200),
                             explanation_salt=rng.randrange(2**200))


def best(fn: Callable[[], list[int]], repeat: int) -> tuple[float, list[int]]:
    times, out = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="4,8,16")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(1)
    cases = []
    one = opening(rng)
    cases.append(("commitment (10 classes)", commitment_circuit(10),
                  public_assignment(public_inputs(one, CONTEXT)), secret_assignment(one)))
    for size in (int(v) for v in args.sizes.split(",")):
        openings = [opening(rng) for _ in range(size)]
        public = dict(zip(BATCH_PUBLIC_INPUTS, batch_public_inputs(openings, size, CONTEXT)))
        cases.append((f"batch of {size}", batch_circuit(size, 10), public, batch_secret_assignment(openings, size, 10)))
    print(f"{'circuit':<24} {'constraints':>11} {'reference':>10} {'program':>9} {'no check':>9} {'ratio':>6}")
    for name, circuit, public, secret in cases:
        slow, reference = best(lambda: circuit.solve_reference(public, secret), args.repeat)
        fast, witness = best(lambda: circuit.solve(public, secret), args.repeat)
        lean, unchecked = best(lambda: circuit.solve(public, secret, check=False), args.repeat)
        if not witness == unchecked == reference:
            raise SystemExit(f"{name}: the solvers disagree")
        print(f"{name:<24} {circuit.r1cs.n_constraints:>11,} {slow:>9.3f}s {fast:>8.3f}s {lean:>8.3f}s "
              f"{slow / fast:>5.1f}x")
    print("(reference = re-running define(); program = recorded witness program with the full row check;"
          " no check = the node's setting, prove() checks every row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
