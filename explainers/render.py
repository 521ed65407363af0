"""Heatmap rendering to PNG bytes with Pillow (no matplotlib): image overlays and tabular bar charts.

Colour convention for both: positive relevance red, negative blue, strength = ``|a| / max|a|`` (symmetric
normalisation, so the sign is never flipped by the scaling and zero maps to "no colour").

* :func:`render_image_overlay` — the input (grey scale: channel mean, min-max scaled) is upscaled by an
  integer ``scale`` (nearest neighbour, so pixels stay visible) and blended with the heatmap:
  ``out = (1 - alpha * s) * grey + alpha * s * colour`` where ``s`` is the per-pixel strength.
* :func:`render_bar_chart` — one horizontal bar per feature (the ``top_k`` largest ``|a|``, sorted), left of
  a centre line for negative values, right for positive ones, with the feature name drawn beside it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from explainers.errors import InvalidInput
from explainers.layout import Layout

__all__ = ["render_bar_chart", "render_image_overlay"]

POSITIVE = np.array([220.0, 20.0, 20.0])
NEGATIVE = np.array([20.0, 60.0, 220.0])
_BAR_HEIGHT = 18
_LABEL_WIDTH = 120
_BAR_SPAN = 200


def _finite(a: object, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise InvalidInput(f"{what} must be a real numeric array, got {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise InvalidInput(f"{what} contains NaN or Inf")
    return arr


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _to_2d(arr: np.ndarray, layout: Layout, what: str) -> np.ndarray:
    """(H, W) from (H, W), channel-first (C, H, W) or channel-last (H, W, C) (channel mean)."""
    if arr.ndim == 2:
        return arr
    if arr.ndim == 3:
        return arr.mean(axis=-1) if layout == "channels_last" else arr.mean(axis=0)
    raise InvalidInput(f"{what} must be an image (H, W), (C, H, W) or (H, W, C), got shape {arr.shape}")


def render_image_overlay(
    x: np.ndarray,
    attribution: np.ndarray,
    *,
    layout: Layout = "channels_first",
    scale: int = 16,
    alpha: float = 0.8,
) -> bytes:
    """PNG (RGB, ``H*scale`` x ``W*scale``) of the attribution blended over the grey-scale input image."""
    if not 1 <= scale <= 64 or not 0.0 <= alpha <= 1.0:
        raise InvalidInput("scale must be in [1, 64] and alpha in [0, 1]")
    image = _to_2d(_finite(x, "x"), layout, "x")
    heat = _to_2d(_finite(attribution, "attribution"), layout, "attribution")
    if image.shape != heat.shape:
        raise InvalidInput(f"input {image.shape} and attribution {heat.shape} differ in shape")
    span = float(image.max() - image.min())
    grey = (image - image.min()) / span if span > 0 else np.zeros_like(image)
    peak = float(np.abs(heat).max())
    strength = np.abs(heat) / peak if peak > 0 else np.zeros_like(heat)
    colour = np.where((heat >= 0)[..., None], POSITIVE, NEGATIVE)
    weight = (alpha * strength)[..., None]
    rgb = (1.0 - weight) * (grey[..., None] * 255.0) + weight * colour
    pixels = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    pixels = np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)
    return _png(Image.fromarray(pixels, mode="RGB"))


def render_bar_chart(
    attribution: np.ndarray,
    feature_names: Sequence[str] | None = None,
    *,
    top_k: int = 20,
) -> bytes:
    """PNG bar chart of the ``top_k`` features with the largest ``|attribution|`` (one sample, any shape)."""
    values = _finite(attribution, "attribution").reshape(-1)
    names = [f"x{i}" for i in range(values.size)] if feature_names is None else [str(n) for n in feature_names]
    if len(names) != values.size:
        raise InvalidInput(f"{len(names)} feature names for {values.size} attribution values")
    if top_k < 1:
        raise InvalidInput("top_k must be >= 1")
    order = np.argsort(-np.abs(values), kind="stable")[: min(top_k, values.size)]
    peak = float(np.abs(values[order]).max()) if order.size else 0.0
    width, height = _LABEL_WIDTH + 2 * _BAR_SPAN + 10, _BAR_HEIGHT * len(order) + 10
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    centre = _LABEL_WIDTH + _BAR_SPAN
    draw.line([(centre, 0), (centre, height)], fill=(0, 0, 0), width=1)
    for row, index in enumerate(order):
        top = 5 + row * _BAR_HEIGHT
        length = int(round(_BAR_SPAN * abs(values[index]) / peak)) if peak > 0 else 0
        colour = tuple(int(c) for c in (POSITIVE if values[index] >= 0 else NEGATIVE))
        left, right = (centre, centre + length) if values[index] >= 0 else (centre - length, centre)
        if length > 0:
            draw.rectangle([(left, top + 2), (right, top + _BAR_HEIGHT - 3)], fill=colour)
        draw.text((4, top + 3), names[index][:18], fill=(0, 0, 0))
    return _png(image)
