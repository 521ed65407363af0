"""Fixed-point encoding contract and its batch/thread invariance on the digits model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explainers.attribution import explain
from explainers.digits import DIGITS_INPUT_SHAPE, digits_samples, export_onnx, train_digits_mlp
from explainers.encoding import SCALE_BITS, from_fixed, logits_to_fixed, to_fixed
from explainers.errors import InvalidInput
from explainers.model import LoadedModel, load_onnx, load_torch


@pytest.fixture(scope="module")
def models() -> tuple[LoadedModel, LoadedModel]:
    module, _ = train_digits_mlp(seed=0)
    return load_torch(module, DIGITS_INPUT_SHAPE), load_onnx(export_onnx(module, DIGITS_INPUT_SHAPE))


def test_scale_and_round_half_to_even() -> None:
    assert SCALE_BITS == 16
    step = 2.0**-16
    assert to_fixed(np.array([0.5 * step, 1.5 * step, 2.5 * step, -0.5 * step, -1.5 * step])) == [0, 2, 2, 0, -2]
    assert to_fixed(np.array([1.0, -1.0, 0.25])) == [65536, -65536, 16384]


def test_c_order_and_roundtrip() -> None:
    x = np.arange(6, dtype=np.float64).reshape(2, 3) / 4.0
    ints = to_fixed(x)
    assert ints == [0, 16384, 32768, 49152, 65536, 81920]
    np.testing.assert_array_equal(from_fixed(ints, (2, 3)), x)
    assert to_fixed(np.asfortranarray(x)) == ints
    with pytest.raises(InvalidInput):
        from_fixed(ints, (4, 2))
    with pytest.raises(InvalidInput):
        from_fixed([2**31], (1,))


def test_range_clamps_attributions_and_rejects_logits() -> None:
    big = np.array([40000.0, -40000.0, 1.0])
    assert to_fixed(big) == [2**31 - 1, -(2**31), 65536]
    with pytest.raises(InvalidInput):
        logits_to_fixed(big)
    assert logits_to_fixed(np.array([32767.0])) == [32767 * 65536]


@pytest.mark.parametrize("bad", [np.array([np.nan]), np.array([np.inf]), np.array(["1"]), np.array([True])])
def test_non_finite_or_non_numeric_rejected(bad: np.ndarray) -> None:
    with pytest.raises(InvalidInput):
        to_fixed(bad)


def test_encoding_is_batch_invariant(models: tuple[LoadedModel, LoadedModel]) -> None:
    x, _ = digits_samples(16)
    for model in models:
        logits = model.reference_logits(x)
        relevance = explain(model, x, "lrp_epsilon_0_1")
        gradient = explain(model, x, "gradient")
        for i in range(len(x)):
            assert logits_to_fixed(model.reference_logits(x[i])) == logits_to_fixed(logits[i])
            assert to_fixed(explain(model, x[i], "lrp_epsilon_0_1")) == to_fixed(relevance[i])
            assert to_fixed(explain(model, x[i], "gradient")) == to_fixed(gradient[i])
    onnx_model = models[1]
    batch_logits = onnx_model.predict(x)
    for i in range(len(x)):
        assert logits_to_fixed(onnx_model.predict(x[i])) == logits_to_fixed(batch_logits[i])


def test_encoding_is_thread_count_invariant(models: tuple[LoadedModel, LoadedModel]) -> None:
    x, _ = digits_samples(64, split="train")
    model = models[0]
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = (logits_to_fixed(model.reference_logits(x)), to_fixed(explain(model, x, "lrp_z")))
        torch.set_num_threads(max(2, threads))
        many = (logits_to_fixed(model.reference_logits(x)), to_fixed(explain(model, x, "lrp_z")))
    finally:
        torch.set_num_threads(threads)
    assert one == many
