"""The quantized network: JSON validation, and the native forward pass against independent integer arithmetic."""

from __future__ import annotations

import random

import numpy as np
import pytest

from circuits.errors import FixedPointOverflow, QNetError, UnknownMethod, UnsupportedLayer
from circuits.qnet import QNet, explain, first_argmax, forward, model_commitment, parse_method
from tests.qnet_samples import cnn, mlp, rand_input


def _numpy_forward(net_json: dict, x: list[int]) -> list[int]:
    """Independent exact integer forward pass (numpy object arrays, shapes as torch)."""
    a = np.array(x, dtype=object).reshape(net_json["input_shape"])
    for layer in net_json["layers"]:
        op = layer["op"]
        if op == "dense":
            w, b = np.array(layer["weight"], dtype=object), np.array(layer["bias"], dtype=object)
            a = (w.dot(a) + b * 2**16) // 2**16
        elif op == "conv2d":
            w, b = np.array(layer["weight"], dtype=object), layer["bias"]
            (sh, sw), (ph, pw) = layer["stride"], layer["padding"]
            c, h, wd = a.shape
            padded = np.zeros((c, h + 2 * ph, wd + 2 * pw), dtype=object)
            padded[:, ph : ph + h, pw : pw + wd] = a
            kh, kw = w.shape[2], w.shape[3]
            ho, wo = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
            out = np.zeros((w.shape[0], ho, wo), dtype=object)
            for o in range(w.shape[0]):
                for y in range(ho):
                    for xx in range(wo):
                        patch = padded[:, y * sh : y * sh + kh, xx * sw : xx * sw + kw]
                        out[o, y, xx] = ((patch * w[o]).sum() + b[o] * 2**16) // 2**16
            a = out
        elif op == "relu":
            a = np.where(a >= 0, a, 0).astype(object)
        elif op == "flatten":
            a = a.reshape(-1)
        else:
            k = layer["kernel"][0]
            c, h, wd = a.shape
            blocks = a[:, : h // k * k, : wd // k * k].reshape(c, h // k, k, wd // k, k)
            if op == "maxpool2d":
                a = blocks.max(axis=(2, 4))
            else:
                a = blocks.sum(axis=(2, 4)) // (k * k)
    return [int(v) for v in a.reshape(-1)]


@pytest.mark.parametrize("seed", range(6))
def test_forward_equals_independent_integer_arithmetic(seed: int) -> None:
    for net in (mlp([8, 6, 5, 3], seed), cnn(seed), cnn(seed, "avgpool2d")):
        x = rand_input(net, seed)
        assert list(forward(net, x).scores) == _numpy_forward(net.to_json(), x)


def test_json_round_trip_and_validation() -> None:
    net = cnn(1)
    assert QNet.from_json(net.to_json()) == net
    good = mlp([4, 3, 2]).to_json()
    bad_cases = [
        {**good, "format": "zkxai.qnet/2"},
        {**good, "scale_bits": 8},
        {**good, "input_shape": [5]},  # dense expects 4 inputs
        {**good, "layers": [{**good["layers"][0], "weight": [[1, 2, 3, 2**24]] * 3}, *good["layers"][1:]]},
        {**good, "layers": [{**good["layers"][0], "bias": [1, 2]}, *good["layers"][1:]]},
        {**good, "layers": [{**good["layers"][0], "weight": [[1.5] * 4] * 3}, *good["layers"][1:]]},
        {**good, "layers": [{**good["layers"][0], "weight": [[True] * 4] * 3}, *good["layers"][1:]]},
        {**good, "layers": good["layers"][:2]},  # output not... still 1-D: fine, so make it non-1-D below
        {**good, "extra": 1},
    ]
    bad_cases[7] = {**good, "input_shape": [1, 2, 2], "layers": [{"op": "relu"}]}  # 3-D output
    for case in bad_cases:
        with pytest.raises(QNetError):
            QNet.from_json(case)
    with pytest.raises(UnsupportedLayer, match="sigmoid"):
        QNet.from_json({**good, "layers": [{"op": "sigmoid"}]})
    with pytest.raises(UnsupportedLayer):
        QNet.from_json({**good, "input_shape": [1, 4, 4], "layers": [{"op": "maxpool2d", "kernel": [2, 2], "stride": [1, 1]}, {"op": "flatten"}]})


def test_overflow_is_typed() -> None:
    net = mlp([2, 1], bound=2**23)
    big = QNet.from_json({**net.to_json(), "layers": [{"op": "dense", "weight": [[2**23, 2**23]], "bias": [0]}]})
    with pytest.raises(FixedPointOverflow):
        forward(big, [2**31 - 1, 2**31 - 1])
    with pytest.raises(FixedPointOverflow):
        forward(net, [2**31, 0])


def test_methods_parse_and_epsilon_fixed_point() -> None:
    assert parse_method("lrp_epsilon_0_1").epsilon == 6554  # floor(0.1 * 65536 + 1/2)
    assert parse_method("lrp_epsilon_1").epsilon == 65536
    assert parse_method("lrp_epsilon_0_10").canonical == parse_method("lrp_epsilon_0_1").canonical
    for bad in ("lrp_epsilon_0", "lrp_epsilon_0_000001", "lrp_z", "saliency", "lrp_epsilon_-1"):
        with pytest.raises(UnknownMethod):
            parse_method(bad)
    with pytest.raises(UnsupportedLayer):
        explain(cnn(0, "avgpool2d"), forward(cnn(0, "avgpool2d"), [0] * 16), "lrp_epsilon_0_1", 0)


def test_gradient_of_a_linear_net_is_the_weight_row() -> None:
    net = mlp([5, 3], seed=3)
    trace = forward(net, rand_input(net, 3))
    for target in range(3):
        assert explain(net, trace, "gradient", target) == list(net.layers[0].weight[target])


def test_lrp_matches_a_float_reference_within_rounding() -> None:
    """Fixed-point LRP-epsilon vs the same recursion in exact rationals (bound: a few ulps per layer)."""
    from fractions import Fraction

    net = mlp([6, 5, 3], seed=4)
    x = rand_input(net, 4)
    trace = forward(net, x)
    target = first_argmax(trace.scores)
    eps = Fraction(1, 10)
    fixed = explain(net, trace, "lrp_epsilon_0_1", target)
    # exact-rational recursion on the fixed-point forward values, from zennit's seed one_hot * logit
    r = [Fraction(trace.scores[j], 2**16) * int(j == target) for j in range(3)]
    for k in (2, 0):
        layer, a, z = net.layers[k], trace.layer_input(k), trace.activations[k]
        s = [rj / (Fraction(zj, 2**16) + (eps if zj >= 0 else -eps)) for rj, zj in zip(r, z)]
        r = [Fraction(a[i], 2**16) * sum(Fraction(layer.weight[j][i], 2**16) * s[j] for j in range(len(s))) for i in range(len(a))]
        if k == 2:
            r = [m * v for m, v in zip(trace.choices[1], r)]
    for got, want in zip(fixed, r):
        assert abs(got / 2**16 - float(want)) < 0.01


def test_model_commitment_names_exactly_the_weights() -> None:
    net = mlp([4, 3, 2], seed=5)
    doc = net.to_json()
    doc["layers"][0]["weight"][1][2] += 1
    assert model_commitment(net) == model_commitment(mlp([4, 3, 2], seed=5))
    assert model_commitment(QNet.from_json(doc)) != model_commitment(net)
    doc = net.to_json()
    doc["layers"][2]["bias"][0] += 1
    assert model_commitment(QNet.from_json(doc)) != model_commitment(net)


def test_random_nets_forward_property() -> None:
    rng = random.Random(9)
    for _ in range(20):
        sizes = [rng.randint(1, 7) for _ in range(rng.randint(2, 4))]
        net = mlp(sizes, rng.randint(0, 10**6))
        x = rand_input(net, rng.randint(0, 10**6))
        assert list(forward(net, x).scores) == _numpy_forward(net.to_json(), x)
