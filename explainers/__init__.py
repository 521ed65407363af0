"""zkxai explainers: model loading/hashing, zennit attributions and the fixed-point encoding contract.

Imports nothing else from zkxai (dependency direction: node -> explainers).
"""

from __future__ import annotations

from explainers.attribution import available_methods, explain
from explainers.encoding import SCALE_BITS, from_fixed, logits_to_fixed, to_fixed
from explainers.errors import ExplainerError, InvalidInput, ModelLoadError, UnknownMethod, UnsupportedModel
from explainers.model import LoadedModel, load_onnx, load_torch

__all__ = [
    "SCALE_BITS",
    "ExplainerError",
    "InvalidInput",
    "LoadedModel",
    "ModelLoadError",
    "UnknownMethod",
    "UnsupportedModel",
    "available_methods",
    "explain",
    "from_fixed",
    "load_onnx",
    "load_torch",
    "logits_to_fixed",
    "to_fixed",
]
