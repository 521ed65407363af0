"""Deterministic ONNX export of a torch module (opset 17, symbolic batch dimension).

Uses torch's TorchScript-based exporter (``dynamo=False``: the dynamo exporter needs onnxscript, which
is not a dependency). The result is canonicalized so two exports of the same module are byte-identical:
producer fields are fixed and every doc string (which may hold source locations) is cleared.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence

import onnx
import torch

from explainers.errors import ModelLoadError

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
PRODUCER_NAME = "zkxai"
PRODUCER_VERSION = "1"


def _clear_doc_strings(graph: onnx.GraphProto) -> None:
    graph.doc_string = ""
    for node in graph.node:
        node.doc_string = ""
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                _clear_doc_strings(attr.g)
            for sub in attr.graphs:
                _clear_doc_strings(sub)
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        value.doc_string = ""
    for init in graph.initializer:
        init.doc_string = ""


def canonicalize(model: onnx.ModelProto) -> bytes:
    """Fixed producer fields, no doc strings, deterministic protobuf serialization."""
    model.producer_name = PRODUCER_NAME
    model.producer_version = PRODUCER_VERSION
    model.doc_string = ""
    del model.metadata_props[:]
    _clear_doc_strings(model.graph)
    return model.SerializeToString(deterministic=True)


def export_onnx(module: torch.nn.Module, input_shape: Sequence[int], *, constant_folding: bool = True) -> bytes:
    """Export ``module`` (eval mode, on CPU, float32) to canonical ONNX bytes with a symbolic batch axis.

    With ``constant_folding`` (the default) the exporter folds constants, BatchNorm into the preceding Conv included
    (in float32); without it ``BatchNormalization`` nodes stay in the graph (:mod:`explainers.onnx_graph` folds them
    in float64).
    """
    shape = tuple(int(d) for d in input_shape)
    cpu = module.to("cpu").eval()
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                cpu,
                (torch.zeros((1, *shape), dtype=torch.float32),),
                buffer,
                opset_version=OPSET,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                do_constant_folding=constant_folding,
                dynamo=False,
            )
    except Exception as exc:
        raise ModelLoadError(f"ONNX export failed: {exc}") from exc
    model = onnx.load_model_from_string(buffer.getvalue())
    onnx.checker.check_model(model)
    return canonicalize(model)
