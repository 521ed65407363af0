"""zkxai explainers: model loading/hashing, zennit attributions and the fixed-point encoding contract.

Imports nothing else from zkxai (dependency direction: node -> explainers).
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> defining module. Imported lazily (PEP 562) so that light users of a submodule that needs
#: no torch (``explainers.render``, ``explainers.encoding``) don't pay for, or need, torch and zennit.
_EXPORTS = {
    "available_methods": "attribution", "explain": "attribution",
    "SCALE_BITS": "encoding", "from_fixed": "encoding", "logits_to_fixed": "encoding", "to_fixed": "encoding",
    "ExplainerError": "errors", "InvalidInput": "errors", "ModelLoadError": "errors", "UnknownMethod": "errors",
    "UnsupportedModel": "errors",
    "LoadedModel": "model", "load_onnx": "model", "load_torch": "model",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'explainers' has no attribute {name!r}")
    return getattr(importlib.import_module(f"explainers.{_EXPORTS[name]}"), name)


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
