"""PyTorch model intake without pickle: ``torch.export`` programs saved as ``.pt2``.

* :func:`export_pt2` exports an eval-mode ``nn.Module`` for one example input of batch size 1 (static shapes,
  ``strict=False`` by default: torch's non-strict tracer, measured faster than strict on ResNet-18 and works for
  torchvision ResNets and ``nn.TransformerEncoder``), and returns the *normalized* archive
  (:func:`explainers.pt2_hash.normalized_pt2_bytes`): deterministic bytes, no stack traces or sample inputs.
* :func:`load_pt2` loads untrusted ``.pt2`` bytes (any ``torch.export.save`` output): bounded zip parsing and the
  hash (:mod:`explainers.pt2_hash`), content checks (:mod:`explainers.pt2_guard`: no pickle, static shapes,
  operator whitelist), ``torch.export.load`` of the normalized archive only, conversion to a wiring-only float64
  graph (:mod:`explainers.pt2_convert`) cross-checked against the exported program on a probe.

``model_hash = pt2_model_hash(data)`` (stdlib only, so ``zkxai verify --model model.pt2`` needs no torch).
The program is specialised to batch size 1: :meth:`LoadedModel.predict` runs it per sample, and the attribution
graph is batched when the conversion is batch-agnostic (checked on the probe), else wrapped in
:class:`explainers.pt2_layers.PerSample` (then composite methods such as LRP are refused).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch

from explainers.errors import InvalidInput, ModelLoadError, UnsupportedModel
from explainers.model import _CROSS_CHECK_TOL, _PROBE_SEED, LoadedModel, _reference_copy, default_device
from explainers.pt2_convert import convert_exported
from explainers.pt2_guard import SUPPORTED_OPS, check_pt2_content, op_name
from explainers.pt2_hash import DEFAULT_LIMITS, Pt2Limits, normalized_pt2_bytes, read_pt2_archive
from explainers.pt2_layers import PerSample

__all__ = ["export_pt2", "load_pt2"]

_DTYPES = {torch.float32: "float32", torch.int64: "int64"}


def export_pt2(module: torch.nn.Module, example_input: torch.Tensor | np.ndarray, *, strict: bool = False) -> bytes:
    """``.pt2`` bytes of ``module`` (put in eval mode) exported for ``example_input`` of shape ``(1, *input_shape)``.

    ``example_input`` is float32 features or int64 token ids. Raises ModelLoadError when ``torch.export`` fails.
    """
    if not isinstance(module, torch.nn.Module):
        raise ModelLoadError(f"expected a torch.nn.Module, got {type(module).__name__}")
    x = torch.from_numpy(np.ascontiguousarray(example_input)) if isinstance(example_input, np.ndarray) else example_input
    if not isinstance(x, torch.Tensor) or x.dim() < 2 or x.shape[0] != 1 or x.dtype not in _DTYPES:
        raise InvalidInput("example_input must be a float32 or int64 tensor of shape (1, *input_shape)")
    module.eval()
    try:
        program = torch.export.export(module, (x,), strict=strict)
        buffer = io.BytesIO()
        torch.export.save(program, buffer)
    except Exception as exc:
        raise ModelLoadError(f"torch.export failed: {exc}") from exc
    return normalized_pt2_bytes(read_pt2_archive(buffer.getvalue()))


def _check_loaded_graph(program: torch.export.ExportedProgram) -> None:
    for node in program.graph.nodes:
        if node.op in ("placeholder", "output"):
            continue
        if node.op != "call_function" or op_name(str(node.target)) not in SUPPORTED_OPS:
            raise UnsupportedModel(f"operator {node.target!s} ({node.op}) is not supported")


def _input_spec(program: torch.export.ExportedProgram) -> tuple[tuple[int, ...], str]:
    name = program.graph_signature.user_inputs[0]
    node = next(n for n in program.graph.nodes if n.op == "placeholder" and n.name == name)
    val = node.meta.get("val")
    if not isinstance(val, torch.Tensor) or val.dim() < 2 or val.shape[0] != 1:
        raise UnsupportedModel("the program input must be one tensor of shape (1, *input_shape): export at batch 1")
    if val.dtype not in _DTYPES:
        raise UnsupportedModel(f"the program input must be float32 or int64, got {val.dtype}")
    return tuple(int(d) for d in val.shape[1:]), _DTYPES[val.dtype]


def _vocab_size(module: torch.nn.Module) -> int:
    sizes = {m.num_embeddings for m in module.modules() if isinstance(m, torch.nn.Embedding)}
    if len(sizes) != 1:
        raise UnsupportedModel(f"an int64 (token id) input needs exactly one embedding table, found {len(sizes)}")
    return int(sizes.pop())


def _probe(shape: tuple[int, ...], dtype: str, vocab: int) -> np.ndarray:
    rng = np.random.default_rng(_PROBE_SEED)
    if dtype == "int64":
        return rng.integers(0, vocab, size=(2, *shape), dtype=np.int64)
    return rng.uniform(0.0, 1.0, size=(2, *shape)).astype(np.float32)


def _close(got: np.ndarray, expected: np.ndarray) -> bool:
    scale = max(1.0, float(np.max(np.abs(expected))))
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=0.0, atol=_CROSS_CHECK_TOL * scale))


def _batched_or_per_sample(converted: torch.nn.Module, probe: torch.Tensor) -> torch.nn.Module:
    """``converted`` when it runs a batch as it runs each sample, else :class:`PerSample` of it."""
    with torch.no_grad():
        single = torch.cat([converted(probe[i : i + 1]) for i in range(probe.shape[0])]).numpy()
        try:
            batched = converted(probe).numpy()
        except Exception:  # static shapes of batch 1 (e.g. attention's head reshapes): run per sample
            return PerSample(converted)
    return converted if _close(batched, single) else PerSample(converted)


def load_pt2(data: bytes, *, limits: Pt2Limits = DEFAULT_LIMITS) -> LoadedModel:
    """Load untrusted ``.pt2`` bytes (kind ``"pt2"``); ``model_hash`` is :func:`explainers.pt2_hash.pt2_model_hash`.

    Raises ModelLoadError (malformed, over ``limits``) or UnsupportedModel (pickled tensors, symbolic shapes, an
    operator outside :data:`explainers.pt2_guard.SUPPORTED_OPS` -- named -- or a conversion that disagrees with
    the exported program on a probe).
    """
    archive = read_pt2_archive(data, limits)
    check_pt2_content(archive)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.export.load(io.BytesIO(normalized_pt2_bytes(archive)))
    except Exception as exc:
        raise ModelLoadError(f"torch.export.load refused the program: {exc}") from exc
    _check_loaded_graph(program)
    input_shape, input_dtype = _input_spec(program)
    converted = convert_exported(program)
    vocab = _vocab_size(converted) if input_dtype == "int64" else 0
    device = default_device()
    fast_module = program.module().to(device)

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            rows = [fast_module(torch.from_numpy(batch[i : i + 1]).to(device)) for i in range(batch.shape[0])]
            return torch.cat(rows).float().cpu().numpy()

    probe = _probe(input_shape, input_dtype, vocab)
    try:
        expected = run(probe)
    except Exception as exc:
        raise ModelLoadError(f"the exported program fails on a probe input: {exc}") from exc
    if expected.ndim != 2 or expected.shape[1] < 1:
        raise UnsupportedModel(f"the program must output logits of shape (batch, classes), got {expected.shape}")
    probe_t = torch.from_numpy(probe if input_dtype == "int64" else probe.astype(np.float64))
    with torch.no_grad():
        got = torch.cat([converted(probe_t[i : i + 1]) for i in range(len(probe))]).numpy()
    if not _close(got, expected):
        raise UnsupportedModel("the converted layers disagree with the exported program; refusing to explain it")
    reference = _batched_or_per_sample(converted, probe_t)
    return LoadedModel(
        model_hash=archive.digest(),
        input_shape=input_shape,
        num_classes=int(expected.shape[1]),
        kind="pt2",
        torch_module=_reference_copy(reference, device),
        device=device,
        _fast=run,
        input_dtype=input_dtype,  # type: ignore[arg-type]
        vocab_size=vocab,
    )
