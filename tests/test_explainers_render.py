"""Heatmap PNGs decode to the expected size and colours."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from explainers.errors import InvalidInput
from explainers.render import render_bar_chart, render_image_overlay


def _decode(data: bytes) -> np.ndarray:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_image_overlay_colours_follow_sign() -> None:
    x = np.zeros((1, 8, 8))
    a = np.zeros((1, 8, 8))
    a[0, 1, 2], a[0, 5, 6] = 2.0, -2.0
    pixels = _decode(render_image_overlay(x, a, scale=4))
    assert pixels.shape == (32, 32, 3)
    red, blue, plain = pixels[1 * 4 + 1, 2 * 4 + 1], pixels[5 * 4 + 1, 6 * 4 + 1], pixels[0, 0]
    assert red[0] > 150 and red[2] < 60 and blue[2] > 150 and blue[0] < 60
    assert plain.tolist() == [0, 0, 0]
    last = _decode(render_image_overlay(np.moveaxis(np.repeat(x, 3, 0), 0, -1), np.moveaxis(np.repeat(a, 3, 0), 0, -1),
                                        layout="channels_last", scale=4))
    np.testing.assert_array_equal(last, pixels)


def test_bar_chart_top_k() -> None:
    a = np.array([0.1, -3.0, 2.0, 0.0])
    pixels = _decode(render_bar_chart(a, ["a", "b", "c", "d"], top_k=2))
    assert pixels.shape[0] == 18 * 2 + 10
    first_row, second_row = pixels[5 + 9], pixels[5 + 18 + 9]
    assert any(p[2] > 150 and p[0] < 60 for p in first_row.tolist())  # -3.0 first: blue bar
    assert any(p[0] > 150 and p[2] < 60 for p in second_row.tolist())  # 2.0 second: red bar


def test_render_rejects_bad_input() -> None:
    with pytest.raises(InvalidInput):
        render_image_overlay(np.zeros((8, 8)), np.zeros((4, 4)))
    with pytest.raises(InvalidInput):
        render_image_overlay(np.zeros(8), np.zeros(8))
    with pytest.raises(InvalidInput):
        render_bar_chart(np.array([np.nan]))
    with pytest.raises(InvalidInput):
        render_bar_chart(np.ones(3), ["a"])
