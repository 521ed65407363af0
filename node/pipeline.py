"""One attestation, stage by stage: predict -> explain -> encode/commit -> prove -> submit.

Each stage is awaited so the event loop stays free: model and attribution work runs in a thread,
proving in the process pool, chain I/O on AsyncWeb3. Stage timings are returned with the outcome.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from circuits.commitment import CommitmentOpening, new_salt, public_inputs
from explainers.attribution import explain
from explainers.encoding import logits_to_fixed, to_fixed
from explainers.model import LoadedModel
from prover.serialize import proof_to_snarkjs
from prover.solidity import proof_calldata

from .chain.ethereum import EthereumAdapter
from .digests import explanation_hash, input_hash
from .disclosure import ChainRef, Disclosure
from .proving import ProverPool

#: Padding for unused class slots: the smallest int32, so a padded slot can never be the argmax.
PAD_SCORE = -(2**31)


@dataclass(frozen=True)
class Outcome:
    disclosure: Disclosure
    gas_used: int
    timings: dict[str, float] = field(default_factory=dict)


def fixed_scores(logits: np.ndarray, circuit_classes: int) -> tuple[int, ...]:
    scores = logits_to_fixed(logits)
    return tuple(scores) + (PAD_SCORE,) * (circuit_classes - len(scores))


def argmax_first(scores: tuple[int, ...]) -> int:
    """The committed class: the first index holding the largest committed (fixed-point) score."""
    best = max(scores)
    return scores.index(best)


class Attester:
    def __init__(self, *, chain: EthereumAdapter, pool: ProverPool, circuit_classes: int, chain_id: int, registry: str) -> None:
        self._chain = chain
        self._pool = pool
        self._classes = circuit_classes
        self._chain_id = chain_id
        self._registry = registry

    async def attest(self, model: LoadedModel, x: np.ndarray, method: str) -> Outcome:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        # committed scores come from the float64 reference path: float32 serving results can differ in the
        # last fixed-point unit between batch sizes (see explainers.model.LoadedModel.reference_logits)
        logits = (await asyncio.to_thread(model.reference_logits, x[None]))[0]
        scores = fixed_scores(logits, self._classes)
        predicted = argmax_first(scores)
        timings["predict_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        attribution = (await asyncio.to_thread(explain, model, x[None], method, predicted))[0]
        timings["explain_s"] = time.perf_counter() - t0

        input_values = tuple(to_fixed(x))
        expl_values = tuple(to_fixed(attribution))
        shape = tuple(int(d) for d in x.shape)
        opening = CommitmentOpening(
            model_hash=model.model_hash,
            input_hash=input_hash(shape, input_values),
            input_salt=new_salt(),
            scores=scores,
            predicted_class=predicted,
            prediction_salt=new_salt(),
            explanation_hash=explanation_hash(method, tuple(attribution.shape), expl_values),
            explanation_salt=new_salt(),
        )
        public = public_inputs(opening)

        t0 = time.perf_counter()
        proof = await self._pool.prove(opening)
        timings["prove_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        a, b, c = proof_calldata(proof)
        submitted = await self._chain.attest(model.model_hash, public[2], public[3], public[4], public[5], a, b, c)
        timings["submit_s"] = time.perf_counter() - t0

        disclosure = Disclosure(
            attestation_id="0x" + bytes(submitted.id).hex(),
            chain=ChainRef(self._chain_id, self._registry, submitted.tx_hash, submitted.block_number),
            model_hash=model.model_hash,
            input_shape=shape,
            input_values=input_values,
            input_salt=opening.input_salt,
            predicted_class=predicted,
            num_classes=model.num_classes,
            scores=scores,
            prediction_salt=opening.prediction_salt,
            method=method,
            explanation_shape=tuple(attribution.shape),
            explanation_values=expl_values,
            explanation_salt=opening.explanation_salt,
            public_inputs=tuple(public),
            proof=proof_to_snarkjs(proof),
        )
        return Outcome(disclosure=disclosure, gas_used=submitted.gas_used, timings=timings)


def summary(outcome: Outcome) -> dict[str, Any]:
    d = outcome.disclosure
    return {
        "attestation_id": d.attestation_id,
        "model_hash": "0x" + d.model_hash.hex(),
        "predicted_class": d.predicted_class,
        "scores": [s / 65536 for s in d.scores[: d.num_classes]],
        "digests": {
            "input": str(d.public_inputs[2]),
            "prediction": str(d.public_inputs[3]),
            "explanation": str(d.public_inputs[5]),
        },
        "tx_hash": d.chain.tx_hash if d.chain else None,
        "block_number": d.chain.block_number if d.chain else None,
        "gas_used": outcome.gas_used,
        "timings": {k: round(v, 4) for k, v in outcome.timings.items()},
    }
