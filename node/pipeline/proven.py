"""Proven levels (``inference`` / ``explanation``) as pure steps: the quantized oracle that predicts (and explains),
and the proof a prover worker makes with the model's own circuit and key.

At a proven level the committed scores are the quantized model's, exactly as the circuit computes them (fixed point,
2**16): the float model's prediction is not what is proven, and the result says so. At ``explanation`` the
attribution committed is the oracle's (``circuits.qnet.explain``), the one the proof covers; at ``inference`` the
float explainer's attribution is committed as at ``commitment`` (not proven).

Workers build a model's circuit from its QNet JSON and load its proving key once, on first use, and keep both
(:func:`prove_in_worker`): one process serves every registered model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from prover.keys import Proof, ProvingKey

from node.errors import NodeError
from node.verify.levels import EXPLANATION, PROVEN_LEVELS


class ProvenLevelError(NodeError):
    """A proven-level step failed for a reason the request caused (input out of the fixed-point range, ...)."""

    status = 422
    code = "unprovable_input"


@dataclass(frozen=True)
class OracleResult:
    """What the quantized model computed for one input: scores (2**16), the class (first argmax) and, at level
    explanation, the attribution (flat, 2**16) in the input's shape."""

    input_values: tuple[int, ...]
    scores: tuple[int, ...]
    predicted_class: int
    attribution: tuple[int, ...] | None


@lru_cache(maxsize=32)
def qnet_of(qnet_json: str) -> Any:
    """The :class:`circuits.qnet.QNet` of a stored QNet JSON (parsed once per process)."""
    from circuits.qnet import QNet

    return QNet.from_json(json.loads(qnet_json))


def oracle(qnet_json: str, level: str, method: str, x: tuple[int, ...]) -> OracleResult:
    """Run the quantized model (and at ``explanation`` its fixed-point explainer) on the fixed-point input ``x``."""
    from circuits.errors import CircuitError
    from circuits.qnet import explain, first_argmax, forward

    net = qnet_of(qnet_json)
    try:
        trace = forward(net, x)
        scores = tuple(int(s) for s in trace.scores)
        target = first_argmax(scores)
        attribution = (tuple(int(v) for v in explain(net, trace, method, target)) if level == EXPLANATION
                       else None)
    except CircuitError as exc:
        raise ProvenLevelError(f"the quantized model cannot compute this input: {exc}") from exc
    return OracleResult(tuple(x), scores, target, attribution)


@dataclass(frozen=True)
class ProvenJob:
    """Everything a worker needs to prove one prediction at a proven level (picklable)."""

    pk_path: str
    qnet_json: str
    level: str
    method: str
    model_hash: bytes
    x: tuple[int, ...]
    input_salt: int
    prediction_salt: int
    explanation_salt: int
    context: int
    #: Level inference: the committed (not proven) explanation's hash (node.verify.digests.explanation_hash).
    explanation_hash: int | None
    #: The public inputs the node computed natively: the witness must give exactly these.
    expected_public: tuple[int, ...]


@lru_cache(maxsize=8)
def _circuit(qnet_json: str, level: str, method: str | None, model_hash: bytes) -> Any:
    from circuits.proven import proven_circuit

    return proven_circuit(qnet_of(qnet_json), level, method, model_hash)


_keys: dict[str, ProvingKey] = {}


def _key(path: str) -> ProvingKey:
    if path not in _keys:
        from prover.serialize import load_proving_key

        if len(_keys) >= 8:  # a few models' keys per worker; the oldest goes
            _keys.pop(next(iter(_keys)))
        _keys[path] = load_proving_key(path)
    return _keys[path]


def prove_job(job: ProvenJob) -> Proof:
    """Solve the model's circuit for ``job`` and prove it (in a worker: circuit and key cached per model)."""
    from circuits.proven import proven_witness
    from prover.prove import prove

    if job.level not in PROVEN_LEVELS:
        raise ValueError(f"not a proven level: {job.level}")
    pc = _circuit(job.qnet_json, job.level, job.method if job.level == EXPLANATION else None, job.model_hash)
    witness, public, _ = proven_witness(pc, list(job.x), input_salt=job.input_salt,
                                        prediction_salt=job.prediction_salt, explanation_salt=job.explanation_salt,
                                        context=job.context, explanation_hash=job.explanation_hash,
                                        check=False)  # prove() checks every row
    if tuple(int(v) for v in public) != job.expected_public:
        raise ProvenLevelError("the circuit's public inputs differ from the node's native computation "
                               f"({list(public)} != {list(job.expected_public)})")
    return prove(_key(job.pk_path), pc.circuit.r1cs, witness)


__all__ = ["OracleResult", "ProvenJob", "ProvenLevelError", "oracle", "prove_job", "qnet_of"]
