"""The node's native statement at each proven level equals the proven circuit's public inputs (what the worker checks
before proving), and its disclosure bundle recomputes them: the digits MLP, levels inference and explanation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from circuits.proven import proven_circuit, proven_witness
from circuits.qnet import QNet
from node.pipeline.prepared import Prepared
from node.pipeline.proven import oracle
from node.verify.disclosure import ChainRef, Disclosure

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("level", "method"), [("inference", "gradient"), ("explanation", "gradient_x_input")])
def test_native_statement_equals_the_circuits(level: str, method: str) -> None:
    from explainers.attribution import explain
    from explainers.digits import digits_samples, export_onnx, train_digits_mlp
    from explainers.model import load_onnx
    from explainers.quantize import quantize, quantize_input

    module, _ = train_digits_mlp(seed=0)
    model = load_onnx(export_onnx(module, (64,)))
    qnet = json.dumps(quantize(model))
    x, _ = digits_samples(1)
    result = oracle(qnet, level, method, tuple(quantize_input(model, x[0])))
    float_attr = explain(model, x[:1], method, [result.predicted_class])[0] if level == "inference" else None
    prepared = Prepared.encode_proven(model.model_hash, level, method, "7", (64,), result, float_attr)
    chain = ChainRef(1, "0x" + "11" * 20, "0x" + "22" * 32, 5, attester="0x" + "33" * 20)
    job = prepared.proven_job("unused.pk.json", qnet, chain.context())
    pc = proven_circuit(QNet.from_json(json.loads(qnet)), level, method if level == "explanation" else None,
                        model.model_hash)
    _, public, opening = proven_witness(pc, list(job.x), input_salt=job.input_salt,
                                        prediction_salt=job.prediction_salt, explanation_salt=job.explanation_salt,
                                        context=job.context, explanation_hash=job.explanation_hash)
    assert tuple(public) == job.expected_public
    assert opening.scores == prepared.scores and opening.predicted_class == prepared.predicted_class
    bundle = Disclosure.from_json(prepared.disclosure("0x" + "ab" * 32, chain, {}).to_json())
    assert bundle.level == level and bundle.recomputed_public_inputs() == list(public)
    tampered = Disclosure.from_json(bundle.to_json() | {"explanation": bundle.to_json()["explanation"]
                                                        | {"values": [v + 1 for v in bundle.explanation_values]}})
    assert tampered.recomputed_public_inputs()[5] != public[5]
    assert np.argmax(model.reference_logits(x[:1])[0]) == prepared.predicted_class  # this sample agrees
