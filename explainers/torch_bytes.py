"""Deterministic canonical bytes of a ``torch.nn.Module`` (the preimage of its model hash).

Layout (all integers big-endian, every variable-length field length-prefixed with a 4-byte length so the
encoding is unambiguous)::

    b"zkxai.torch.v1"
    field(repr(module))                      # architecture, including the class names
    u32(number of state_dict entries)
    for name in sorted(state_dict):
        field(name) field(dtype name) u32(ndim) u64(dim)*ndim field(raw little-endian C-order bytes)

Raw bytes come from the CPU copy of each tensor, so the hash does not depend on the device the module lives on.
"""

from __future__ import annotations

import struct

import torch

from explainers.errors import ModelLoadError

TORCH_MAGIC = b"zkxai.torch.v1"


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _tensor_bytes(t: torch.Tensor) -> bytes:
    cpu = t.detach().to("cpu").contiguous()
    if cpu.dtype == torch.bfloat16:
        raw = cpu.view(torch.int16).numpy().astype("<i2").tobytes()
    else:
        arr = cpu.numpy()
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
    return raw


def canonical_torch_bytes(module: torch.nn.Module) -> bytes:
    """Serialize ``module``'s architecture repr and its state_dict (sorted by name) deterministically."""
    try:
        state = module.state_dict()
    except Exception as exc:  # pragma: no cover - defensive, arbitrary user modules
        raise ModelLoadError(f"cannot read state_dict: {exc}") from exc
    parts = [TORCH_MAGIC, _field(repr(module).encode("utf-8")), struct.pack(">I", len(state))]
    for name in sorted(state):
        value = state[name]
        if not isinstance(value, torch.Tensor):
            raise ModelLoadError(f"state_dict entry {name!r} is not a tensor")
        parts.append(_field(name.encode("utf-8")))
        parts.append(_field(str(value.dtype).encode("ascii")))
        parts.append(struct.pack(">I", value.dim()))
        parts.extend(struct.pack(">Q", int(d)) for d in value.shape)
        parts.append(_field(_tensor_bytes(value)))
    return b"".join(parts)


__all__ = ["TORCH_MAGIC", "canonical_torch_bytes"]
