"""Random quantized networks for the proven-circuit tests (ints at scale 2**16)."""

from __future__ import annotations

import random

from circuits.qnet import QNet


def rand_matrix(rng: random.Random, rows: int, cols: int, bound: int = 40000) -> list[list[int]]:
    return [[rng.randint(-bound, bound) for _ in range(cols)] for _ in range(rows)]


def mlp(sizes: list[int], seed: int = 0, bound: int = 40000) -> QNet:
    """dense/relu layers of the given sizes (no ReLU after the last)."""
    rng = random.Random(seed)
    layers: list[dict[str, object]] = []
    for k in range(len(sizes) - 1):
        layers.append({
            "op": "dense",
            "weight": rand_matrix(rng, sizes[k + 1], sizes[k], bound),
            "bias": [rng.randint(-9000, 9000) for _ in range(sizes[k + 1])],
        })
        if k < len(sizes) - 2:
            layers.append({"op": "relu"})
    return QNet.from_json({"format": "zkxai.qnet/1", "input_shape": [sizes[0]], "scale_bits": 16, "layers": layers})


def cnn(seed: int = 0, pool: str = "maxpool2d") -> QNet:
    """conv(1->2, 3x3, pad 1) relu pool(2) flatten dense(2*2*2 -> 3) on a 1x4x4 input."""
    rng = random.Random(seed)
    return QNet.from_json({
        "format": "zkxai.qnet/1",
        "input_shape": [1, 4, 4],
        "scale_bits": 16,
        "layers": [
            {"op": "conv2d", "weight": [[rand_matrix(rng, 3, 3)] for _ in range(2)], "bias": [rng.randint(-9000, 9000) for _ in range(2)],
             "stride": [1, 1], "padding": [1, 1]},
            {"op": "relu"},
            {"op": pool, "kernel": [2, 2], "stride": [2, 2]},
            {"op": "flatten"},
            {"op": "dense", "weight": rand_matrix(rng, 3, 8), "bias": [rng.randint(-9000, 9000) for _ in range(3)]},
        ],
    })


def rand_input(net: QNet, seed: int = 0, bound: int = 70000) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(-bound, bound) for _ in range(net.input_size)]
