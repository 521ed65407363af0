"""The model formats a node registers, told apart by their first bytes: ONNX (a protobuf) and ``torch.export``
programs (``.pt2``, a zip archive). The model hash is each format's (see :mod:`node.verify.model_hash`)."""

from __future__ import annotations

from explainers.model import LoadedModel

from node.verify.model_hash import is_pt2


def model_kind(data: bytes) -> str:
    return "pt2" if is_pt2(data) else "onnx"


def load_model(data: bytes) -> LoadedModel:
    """Check and load a registered model (the format's guard runs before its runtime sees the bytes)."""
    if is_pt2(data):
        from explainers.pt2 import load_pt2

        return load_pt2(data)
    from explainers.model import load_onnx

    return load_onnx(data)
