"""Checks on an uploaded ONNX graph before onnxruntime sees it: operators, opset, sizes and inferred shapes.

Why: onnxruntime optimises a graph when it builds a session, and constant folding evaluates every node whose
inputs are constants. A 2.8 kB file with ``ConstantOfShape([8192, 8192])`` makes it allocate 256 MiB (518 MiB peak
measured) before anything else could refuse the model. :func:`check_onnx_model` accepts only what the explainers
can run (the operators :mod:`explainers.onnx_graph` converts), with bounded tensors:

* opset of the default domain only, in :data:`OPSET_RANGE`; no model-local functions, no sparse initializers,
  no external data (a path an upload could point at any file), no subgraph attributes;
* at most :data:`MAX_NODES` nodes, each of an operator in :data:`ALLOWED_OPS`;
* initializers and ``Constant`` tensors: at most :data:`MAX_TENSOR_ELEMENTS` each, :data:`MAX_TOTAL_ELEMENTS` together;
* ONNX shape inference (strict, with data propagation) succeeds and every inferred tensor, with the batch
  dimension taken as 1, holds at most :data:`MAX_TENSOR_ELEMENTS`; every value's shape is known.

:func:`explainers.model.load_onnx` runs this, then the torch conversion (which refuses any operator or wiring it cannot represent),
and only then an onnxruntime session, built with graph optimisations disabled.
"""

from __future__ import annotations

import math

import onnx

from explainers.errors import ModelLoadError, UnsupportedModel

#: Operators :mod:`explainers.onnx_graph` handles (Softmax / LogSoftmax are refused there with a clear message).
ALLOWED_OPS = frozenset({"Gemm", "MatMul", "Add", "Relu", "Flatten", "Reshape", "Conv", "MaxPool", "Identity",
                         "Dropout", "Constant", "Softmax", "LogSoftmax", "BatchNormalization", "Concat",
                         "GlobalAveragePool", "AveragePool"})
OPSET_RANGE = (7, 23)
MAX_NODES = 1024
#: 2**24 float32 values (64 MiB) per tensor; 2**26 (256 MiB) over all initializers and constants.
MAX_TENSOR_ELEMENTS = 1 << 24
MAX_TOTAL_ELEMENTS = 1 << 26


def _elements(dims: list[int], what: str) -> int:
    if any(d < 0 for d in dims):
        raise ModelLoadError(f"{what} has a negative dimension {dims}")
    count = math.prod(dims)
    if count > MAX_TENSOR_ELEMENTS:
        raise UnsupportedModel(f"{what} has {count} elements, more than {MAX_TENSOR_ELEMENTS}")
    return count


def _tensor(t: onnx.TensorProto, what: str) -> int:
    if t.data_location == onnx.TensorProto.EXTERNAL or t.external_data:
        raise UnsupportedModel(f"{what} {t.name!r} uses external data; upload a self-contained model")
    return _elements(list(t.dims), f"{what} {t.name!r}")


def _check_nodes(graph: onnx.GraphProto) -> int:
    if len(graph.node) > MAX_NODES:
        raise UnsupportedModel(f"graph has {len(graph.node)} nodes, more than {MAX_NODES}")
    total = 0
    for node in graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type not in ALLOWED_OPS:
            domain = f"{node.domain}:" if node.domain else ""
            raise UnsupportedModel(f"ONNX operator {domain}{node.op_type!r} (node {node.name!r}) is not supported; "
                                   f"allowed: {', '.join(sorted(ALLOWED_OPS))}")
        for attr in node.attribute:
            if attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                raise UnsupportedModel(f"node {node.name!r}: subgraph attributes are not supported")
            if attr.type == onnx.AttributeProto.SPARSE_TENSOR:
                raise UnsupportedModel(f"node {node.name!r}: sparse tensor constants are not supported")
            if attr.type == onnx.AttributeProto.TENSOR:
                total += _tensor(attr.t, f"{node.op_type} node {node.name!r} tensor")
            if attr.type == onnx.AttributeProto.TENSORS:
                total += sum(_tensor(t, f"{node.op_type} node {node.name!r} tensor") for t in attr.tensors)
            if len(attr.floats) > MAX_TENSOR_ELEMENTS or len(attr.ints) > MAX_TENSOR_ELEMENTS:
                raise UnsupportedModel(f"node {node.name!r}: attribute {attr.name!r} is too long")
    return total


def _value_elements(value: onnx.ValueInfoProto) -> None:
    if not value.type.HasField("tensor_type") or not value.type.tensor_type.HasField("shape"):
        raise UnsupportedModel(f"tensor {value.name!r}: shape unknown after shape inference")
    dims: list[int] = []
    for i, d in enumerate(value.type.tensor_type.shape.dim):
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif i == 0:  # the (symbolic) batch dimension
            dims.append(1)
        else:
            raise UnsupportedModel(f"tensor {value.name!r}: dimension {i} is not fixed")
    _elements(dims, f"tensor {value.name!r}")


def check_onnx_model(proto: onnx.ModelProto) -> None:
    """Raise :class:`UnsupportedModel` / :class:`ModelLoadError` unless the graph is small and explainable."""
    if proto.functions:
        raise UnsupportedModel("model-local functions are not supported")
    for opset in proto.opset_import:
        if opset.domain not in ("", "ai.onnx"):
            raise UnsupportedModel(f"opset domain {opset.domain!r} is not supported")
        if not OPSET_RANGE[0] <= opset.version <= OPSET_RANGE[1]:
            raise UnsupportedModel(f"opset {opset.version} is outside {OPSET_RANGE[0]}..{OPSET_RANGE[1]}")
    graph = proto.graph
    if graph.sparse_initializer:
        raise UnsupportedModel("sparse initializers are not supported")
    total = sum(_tensor(t, "initializer") for t in graph.initializer) + _check_nodes(graph)
    if total > MAX_TOTAL_ELEMENTS:
        raise UnsupportedModel(f"initializers and constants hold {total} elements, more than {MAX_TOTAL_ELEMENTS}")
    try:
        inferred = onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True, data_prop=True)
    except Exception as exc:  # onnx raises InferenceError / ValidationError / RuntimeError
        raise ModelLoadError(f"ONNX shape inference failed: {exc}") from exc
    inits = {t.name for t in graph.initializer}
    g = inferred.graph
    values = [v for v in (*g.input, *g.value_info, *g.output) if v.name not in inits]
    unknown = {o for n in g.node for o in n.output if o} - {v.name for v in values}
    if unknown:
        raise UnsupportedModel(f"shape inference cannot size {sorted(unknown)[:5]}")
    for value in values:
        _value_elements(value)
