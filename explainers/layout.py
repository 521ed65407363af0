"""Input layout conventions: channel-first (the models' own, NCHW) and channel-last (NHWC) arrays.

Loaded models take ``input_shape = (C, *spatial)`` (channel-first, as torch and ONNX convolutions do).
Callers holding channel-last data (``(*spatial, C)``, e.g. decoded images) pass ``layout="channels_last"``;
the array is moved to channel-first for the model and results are moved back, so an attribution always
has the caller's layout. ``"model"`` and ``"channels_first"`` leave the array untouched.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from explainers.errors import InvalidInput

Layout = Literal["model", "channels_first", "channels_last"]
LAYOUTS: tuple[str, ...] = ("model", "channels_first", "channels_last")

__all__ = ["LAYOUTS", "Layout", "from_model_layout", "to_model_layout"]


def _check(layout: str, input_shape: tuple[int, ...]) -> bool:
    """True when a move is needed."""
    if layout not in LAYOUTS:
        raise InvalidInput(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if layout != "channels_last":
        return False
    if len(input_shape) < 2:
        raise InvalidInput(f"channels_last needs a model input with channels and spatial dims, got {input_shape}")
    return True


def to_model_layout(x: object, input_shape: tuple[int, ...], layout: str) -> object:
    """Move a channel-last sample ``(*spatial, C)`` or batch ``(n, *spatial, C)`` to channel-first."""
    if not _check(layout, input_shape):
        return x
    if not isinstance(x, np.ndarray):
        raise InvalidInput(f"expected a numpy.ndarray, got {type(x).__name__}")
    rank = len(input_shape)
    lead = x.ndim - rank
    if lead not in (0, 1):
        raise InvalidInput(f"channels_last input must have rank {rank} or {rank + 1}, got shape {x.shape}")
    expected = (*input_shape[1:], input_shape[0])
    if x.shape[lead:] != expected:
        raise InvalidInput(f"channels_last input must end in {expected}, got shape {x.shape}")
    return np.moveaxis(x, -1, lead)


def from_model_layout(a: np.ndarray, input_shape: tuple[int, ...], layout: str) -> np.ndarray:
    """Inverse of :func:`to_model_layout` for results shaped like the model input."""
    if not _check(layout, input_shape):
        return a
    lead = a.ndim - len(input_shape)
    return np.ascontiguousarray(np.moveaxis(a, lead, -1))
