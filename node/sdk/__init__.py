"""The Python SDK: wrap a PyTorch (or ONNX) model, predict, get the explanation, the trust figures and a verified
attestation, from a notebook or a service.

    from node.sdk import wrap
    wrapped = wrap(model, name="simplenet", example_input=x)
    result = wrapped.predict(x)          # result.prediction, .confidence, .explanation, .attestation_id ...
    result.verify()                      # the checks of `zkxai verify`, with this node pinned

With ``node=None`` an embedded node starts in this process (in-process EVM, SQLite under a temporary directory,
as ``zkxai demo`` does); with ``node="http://..."`` the SDK talks to a running node over its HTTP API.

Owns the client side only: it may import :mod:`node.api` (to start an embedded node), :mod:`node.verify`,
:mod:`node.config`, the shared leaves and :mod:`explainers` (to export a module); nothing imports it.
"""

from __future__ import annotations

from node.sdk.errors import (
    AttestationFailed,
    ModelRejected,
    NodeUnavailable,
    RequestRejected,
    SdkError,
)
from node.sdk.results import Explanation, Prediction, Verification
from node.sdk.wrap import Wrapped, wrap

__all__ = [
    "AttestationFailed",
    "Explanation",
    "ModelRejected",
    "NodeUnavailable",
    "Prediction",
    "RequestRejected",
    "SdkError",
    "Verification",
    "Wrapped",
    "wrap",
]
