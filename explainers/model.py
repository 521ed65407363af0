"""Loaded, hashed models: one ``LoadedModel`` per registered ONNX file or PyTorch module.

Model hash contract (what the attestation commits to):

* ONNX: ``model_hash = SHA-256(the ONNX file bytes exactly as registered)``. No re-serialization is
  applied, so anyone holding the file can recompute the hash with ``sha256sum``.
* PyTorch: ``model_hash = SHA-256(canonical_torch_bytes(module))``, see :mod:`explainers.torch_bytes`.

Two evaluation paths exist on purpose:

* :meth:`LoadedModel.predict` is the fast inference path (onnxruntime for ONNX, the float32 module for
  torch); it returns float32 logits.
* :meth:`LoadedModel.reference_logits` evaluates the float64 torch module that attributions are computed on.
  Float64 evaluation followed by rounding to 2**-16 (:mod:`explainers.encoding`) makes committed values
  independent of batch size, device and thread count in practice; digests should be built from it.

Softmax is never part of a model: logits are what is predicted and explained.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import onnx
import onnxruntime as ort
import torch

from explainers.errors import InvalidInput, ModelLoadError, UnsupportedModel
from explainers.locking import MODULE_LOCK
from explainers.onnx_graph import onnx_to_module
from explainers.onnx_guard import check_onnx_model
from explainers.softmax import strip_softmax_onnx, strip_softmax_torch
from explainers.torch_bytes import canonical_torch_bytes
from explainers.validation import as_batch, as_token_batch

ModelKind = Literal["onnx", "torch", "pt2"]
InputDtype = Literal["float32", "int64"]
_PROBE_SEED = 1234
_CROSS_CHECK_TOL = 1e-4


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model ready for inference and attribution. Construct with :func:`load_onnx` or :func:`load_torch`.

    ``torch_module`` is a private float64 copy (eval mode, on ``device``) used for attribution and
    :meth:`reference_logits`; it is never the caller's module object.

    ``input_dtype`` is ``"float32"`` (features, the default) or ``"int64"`` (token ids of a text model, each in
    ``[0, vocab_size)``; :meth:`batch` validates them).
    """

    model_hash: bytes
    input_shape: tuple[int, ...]
    num_classes: int
    kind: ModelKind
    torch_module: torch.nn.Module
    device: torch.device
    _fast: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    input_dtype: InputDtype = "float32"
    vocab_size: int = 0

    def batch(self, x: np.ndarray) -> tuple[np.ndarray, bool]:
        """``(batch, was_single)``: float64 features, or int64 token ids when ``input_dtype`` is ``"int64"``."""
        if self.input_dtype == "int64":
            return as_token_batch(x, self.input_shape, self.vocab_size)
        return as_batch(x, self.input_shape)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Logits of shape ``(n, num_classes)`` (float32) for one sample or a batch, via the fast path."""
        batch, _ = self.batch(x)
        return self._fast(batch if self.input_dtype == "int64" else batch.astype(np.float32))

    def reference_logits(self, x: np.ndarray) -> np.ndarray:
        """Logits of shape ``(n, num_classes)`` (float64) from the float64 attribution module."""
        batch, _ = self.batch(x)
        with MODULE_LOCK, torch.no_grad():
            t = torch.from_numpy(batch).to(self.device)
            return self.torch_module(t).cpu().numpy()


def _reference_copy(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    ref = copy.deepcopy(module).to(dtype=torch.float64, device=device).eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


def _reject_softmax(module: torch.nn.Module) -> None:
    for name, sub in module.named_modules():
        if isinstance(sub, (torch.nn.Softmax, torch.nn.LogSoftmax, torch.nn.Softmin)):
            raise UnsupportedModel(
                f"module {name!r} is a {type(sub).__name__}: explanations are of logits, remove the softmax"
            )


def _probe(input_shape: Sequence[int]) -> np.ndarray:
    return np.random.default_rng(_PROBE_SEED).uniform(0.0, 1.0, size=(2, *input_shape)).astype(np.float32)


def _logit_count(out: np.ndarray, what: str) -> int:
    if out.ndim != 2 or out.shape[1] < 1:
        raise UnsupportedModel(f"{what} must output logits of shape (batch, classes), got {out.shape}")
    return int(out.shape[1])


def _onnx_shape(model: onnx.ModelProto) -> tuple[tuple[int, ...], int | None]:
    inits = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1:
        raise UnsupportedModel(f"expected one data input, got {[i.name for i in inputs]}")
    ttype = inputs[0].type.tensor_type
    if ttype.elem_type != onnx.TensorProto.FLOAT:
        raise UnsupportedModel("the model input must be float32")
    dims = list(ttype.shape.dim)
    if len(dims) < 2:
        raise UnsupportedModel("the model input must have a batch dimension and at least one feature dimension")
    per_sample: list[int] = []
    for d in dims[1:]:
        if not d.HasField("dim_value") or d.dim_value <= 0:
            raise UnsupportedModel("all non-batch input dimensions must be fixed")
        per_sample.append(int(d.dim_value))
    fixed_batch = int(dims[0].dim_value) if dims[0].HasField("dim_value") else None
    return tuple(per_sample), fixed_batch


def _ort_providers() -> list[str]:
    available = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


def load_onnx(data: bytes, *, strip_softmax: bool = False) -> LoadedModel:
    """Load an ONNX model from its file bytes; ``model_hash`` is SHA-256 of exactly ``data``.

    With ``strip_softmax`` a final Softmax/LogSoftmax node is removed before inference and attribution
    (logits are predicted and explained); the hash still commits to ``data`` as registered.

    The graph is checked first (:func:`explainers.onnx_guard.check_onnx_model`: operators, sizes, inferred shapes)
    and converted to torch (:func:`explainers.onnx_graph.onnx_to_module`: a chain or a DAG of standard layers), so only
    an explainable graph of bounded layers reaches onnxruntime, whose session is
    built without graph optimisations (no constant folding of anything an upload holds).

    Inference uses onnxruntime (CUDA provider first when available). Attribution uses a float64 torch
    module converted from the graph; the conversion is cross-checked against onnxruntime on a probe input
    and any mismatch or unsupported operator raises :class:`UnsupportedModel`.
    """
    if not isinstance(data, (bytes, bytearray)) or len(data) == 0:
        raise ModelLoadError("ONNX model must be given as non-empty bytes")
    registered = bytes(data)
    data = strip_softmax_onnx(registered) if strip_softmax else registered
    try:
        proto = onnx.load_model_from_string(data)
        onnx.checker.check_model(proto)
    except Exception as exc:
        raise ModelLoadError(f"invalid ONNX model: {exc}") from exc
    check_onnx_model(proto)  # operators, sizes, shapes: before onnxruntime (constant folding) sees the graph
    input_shape, fixed_batch = _onnx_shape(proto)
    if fixed_batch is not None and fixed_batch != 1:
        raise UnsupportedModel(f"fixed batch size {fixed_batch} is not supported (use 1 or a symbolic batch)")
    converted = onnx_to_module(proto)  # float64; refuses any graph it cannot represent with standard layers
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        session = ort.InferenceSession(data, options, providers=_ort_providers())
    except Exception as exc:
        raise ModelLoadError(f"onnxruntime cannot load the model: {exc}") from exc
    input_name = session.get_inputs()[0].name

    def run(batch: np.ndarray) -> np.ndarray:
        if fixed_batch == 1:
            outs = [session.run(None, {input_name: batch[i : i + 1]})[0] for i in range(batch.shape[0])]
            return np.concatenate(outs, axis=0).astype(np.float32)
        return np.asarray(session.run(None, {input_name: batch})[0], dtype=np.float32)

    probe = _probe(input_shape)
    expected = run(probe)
    num_classes = _logit_count(expected, "the ONNX model")
    device = default_device()
    reference = _reference_copy(converted, device)
    with torch.no_grad():
        probe64 = torch.from_numpy(probe.astype(np.float64)).to(device)
        got = np.concatenate([reference(probe64[i : i + 1]).cpu().numpy() for i in range(len(probe))])
    scale = max(1.0, float(np.max(np.abs(expected))))
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=0.0, atol=_CROSS_CHECK_TOL * scale):
        raise UnsupportedModel("converted torch module disagrees with onnxruntime; refusing to explain this graph")
    return LoadedModel(
        model_hash=hashlib.sha256(registered).digest(),
        input_shape=input_shape,
        num_classes=num_classes,
        kind="onnx",
        torch_module=reference,
        device=device,
        _fast=run,
    )


def load_torch(module: torch.nn.Module, input_shape: Sequence[int], *, strip_softmax: bool = False) -> LoadedModel:
    """Wrap a PyTorch module; ``model_hash`` is SHA-256 of :func:`canonical_torch_bytes` of the module.

    With ``strip_softmax`` a trailing Softmax/LogSoftmax is removed first (the hash is of the stripped module,
    i.e. of what is actually run).

    The module is deep-copied (later changes to the caller's object do not affect the loaded model) and put
    on CUDA when available. ``input_shape`` is the per-sample shape (no batch dimension).
    """
    if not isinstance(module, torch.nn.Module):
        raise ModelLoadError(f"expected a torch.nn.Module, got {type(module).__name__}")
    shape = tuple(int(d) for d in input_shape)
    if not shape or any(d <= 0 for d in shape):
        raise InvalidInput(f"input_shape must be non-empty positive dims, got {tuple(input_shape)}")
    if strip_softmax:
        module = strip_softmax_torch(module)
    _reject_softmax(module)
    canonical = canonical_torch_bytes(module)
    device = default_device()
    fast_module = copy.deepcopy(module).to(device).eval()
    for p in fast_module.parameters():
        p.requires_grad_(False)

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return fast_module(torch.from_numpy(batch).to(device)).float().cpu().numpy()

    try:
        probe_out = run(_probe(shape))
    except Exception as exc:
        raise ModelLoadError(f"module fails on an input of shape (2, {shape}): {exc}") from exc
    return LoadedModel(
        model_hash=hashlib.sha256(canonical).digest(),
        input_shape=shape,
        num_classes=_logit_count(probe_out, "the torch module"),
        kind="torch",
        torch_module=_reference_copy(module, device),
        device=device,
        _fast=run,
    )
