"""Explanation quality metrics: faithful explanations beat random ones, Gini sparseness, randomisation check."""

from __future__ import annotations

import numpy as np
import pytest

from explainers.attribution import explain
from explainers.digits import DIGITS_INPUT_SHAPE, digits_samples, train_digits_mlp
from explainers.errors import InvalidInput
from explainers.model import LoadedModel, load_torch
from explainers.quality import (
    deletion_auc,
    evaluate_explanations,
    faithfulness_correlation,
    insertion_auc,
    randomisation_similarity,
    sparseness,
)


@pytest.fixture(scope="module")
def setup() -> tuple[LoadedModel, np.ndarray, np.ndarray]:
    module, _ = train_digits_mlp(seed=0)
    model = load_torch(module, DIGITS_INPUT_SHAPE)
    x, _ = digits_samples(12)
    return model, x, np.random.default_rng(3).normal(size=x.shape)


def test_faithful_attribution_beats_random(setup: tuple) -> None:
    model, x, noise = setup
    lrp = explain(model, x, "lrp_epsilon_0_1")
    assert deletion_auc(model, x, lrp).mean() < deletion_auc(model, x, noise).mean() - 0.2
    assert insertion_auc(model, x, lrp).mean() > insertion_auc(model, x, noise).mean() + 0.2
    assert faithfulness_correlation(model, x, lrp).mean() > 0.8
    assert abs(faithfulness_correlation(model, x, noise).mean()) < 0.3
    # reversing the ranking flips deletion and insertion
    assert deletion_auc(model, x, -lrp).mean() > deletion_auc(model, x, lrp).mean()


def test_sparseness_gini() -> None:
    np.testing.assert_allclose(sparseness(np.ones((1, 10))), [0.0], atol=1e-12)
    one_hot = np.zeros(10)
    one_hot[3] = -5.0
    np.testing.assert_allclose(sparseness(one_hot), [0.9], atol=1e-12)  # (n - 1) / n for a single feature
    assert sparseness(np.zeros((2, 4))).tolist() == [0.0, 0.0]


def test_randomisation_sanity_check(setup: tuple) -> None:
    model, x, _ = setup
    similarity = randomisation_similarity(model, x, "gradient")
    assert similarity.shape == (len(x),) and similarity.mean() < 0.5
    np.testing.assert_array_equal(similarity, randomisation_similarity(model, x, "gradient"))  # seeded


def test_batch_report_and_validation(setup: tuple) -> None:
    model, x, _ = setup
    report = evaluate_explanations(model, x[:4], "gradient_x_input", runs=8)
    summary = report.summary()
    assert set(summary) == {"deletion_auc", "insertion_auc", "faithfulness", "sparseness", "randomisation_similarity"}
    assert report.deletion_auc.shape == (4,) and summary["insertion_auc"] > summary["deletion_auc"]
    with pytest.raises(InvalidInput):
        deletion_auc(model, x, np.zeros((len(x), 3)))
    with pytest.raises(InvalidInput):
        faithfulness_correlation(model, x, np.full(x.shape, np.nan))
