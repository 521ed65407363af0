"""Trust metrics move the right way: digits test samples vs noise, shuffled pixels and constant images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explainers.digits import DIGITS_INPUT_SHAPE, digits_samples, train_digits_mlp
from explainers.errors import InvalidInput
from explainers.model import LoadedModel, load_torch
from explainers.ood import OodCalibration, fit_ood_calibration, score_ood
from explainers.trust import assess_trust, mc_dropout_uncertainty, ood_risk


@pytest.fixture(scope="module")
def fitted() -> tuple[LoadedModel, OodCalibration, dict[str, np.ndarray]]:
    module, _ = train_digits_mlp(seed=0)
    model = load_torch(module, DIGITS_INPUT_SHAPE)
    x_train, y_train = digits_samples(1347, split="train")
    test, _ = digits_samples(100)
    rng = np.random.default_rng(0)
    sets = {
        "test": test,
        "noise": rng.uniform(0.0, 1.0, size=(50, 64)),
        "shuffled": np.stack([rng.permutation(row) for row in test[:50]]),
        "constant": np.stack([np.full(64, v) for v in (0.0, 0.25, 0.5, 0.75, 1.0)]),
    }
    return model, fit_ood_calibration(model, x_train, y_train), sets


def test_ood_percentile_separates_in_from_out_of_distribution(fitted: tuple) -> None:
    model, calibration, sets = fitted
    test = score_ood(model, sets["test"], calibration).distance_percentile
    assert 0.3 < test.mean() < 0.7  # held-out in-distribution data is spread over the reference percentiles
    for name in ("noise", "shuffled", "constant"):
        out = score_ood(model, sets[name], calibration).distance_percentile
        assert out.mean() > 0.95 and np.median(out) == 1.0, name


def test_trust_and_hallucination_risk_move_the_right_way(fitted: tuple) -> None:
    model, calibration, sets = fitted
    reports = {k: assess_trust(model, v, calibration) for k, v in sets.items()}
    trust = {k: np.mean([r.trust_score for r in v]) for k, v in reports.items()}
    risk = {k: np.mean([r.hallucination_risk for r in v]) for k, v in reports.items()}
    for name in ("noise", "shuffled", "constant"):
        assert trust[name] < 0.5 * trust["test"], (name, trust)
        assert risk[name] > risk["test"] + 0.5, (name, risk)
    for r in reports["test"] + reports["noise"]:
        assert 0.0 <= r.trust_score <= 1.0 and 0.0 <= r.hallucination_risk <= 1.0
        assert r.uncertainty_method == "none" and r.epistemic is None  # the digits MLP has no dropout
        assert 0.0 <= r.margin <= r.confidence <= 1.0 and 0.0 <= r.entropy <= 1.0
    # confidence alone does not reveal the noise: the network is still fairly confident on it
    assert np.mean([r.confidence for r in reports["noise"]]) > 0.3


def test_confidence_margin_entropy_match_their_definitions(fitted: tuple) -> None:
    model, calibration, sets = fitted
    x = sets["test"][:10]
    logits = model.reference_logits(x)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    top = np.sort(p, axis=1)
    for i, r in enumerate(assess_trust(model, x, calibration)):
        assert r.predicted == int(np.argmax(logits[i]))
        assert r.confidence == pytest.approx(top[i, -1]) and r.margin == pytest.approx(top[i, -1] - top[i, -2])
        assert r.entropy == pytest.approx(-(p[i] * np.log(p[i])).sum() / np.log(10))
        assert r.trust_score == pytest.approx((1 - r.hallucination_risk) * (1 - r.entropy))


def test_ood_risk_mapping_and_calibration_checks(fitted: tuple) -> None:
    model, calibration, _ = fitted
    np.testing.assert_allclose(ood_risk(np.array([0.0, 0.9, 0.95, 1.0])), [0.0, 0.0, 0.5, 1.0])
    other = load_torch(torch.nn.Sequential(torch.nn.Linear(64, 10)), (64,))
    with pytest.raises(InvalidInput):
        score_ood(other, np.zeros(64), calibration)
    with pytest.raises(InvalidInput):
        fit_ood_calibration(model, np.zeros((10, 64)))


def test_mc_dropout_uncertainty_is_seeded_and_grows_off_distribution(fitted: tuple) -> None:
    _, calibration, sets = fitted
    x_train, y_train = digits_samples(1347, split="train")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(64, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for _ in range(60):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(xt), yt).backward()
        optimizer.step()
    model = load_torch(net.eval(), (64,))
    test = mc_dropout_uncertainty(model, sets["test"][:40], seed=1)
    noise = mc_dropout_uncertainty(model, sets["noise"][:40], seed=1)
    assert test is not None and noise is not None
    assert noise.mean() > 2.0 * test.mean()
    np.testing.assert_array_equal(mc_dropout_uncertainty(model, sets["test"][:3], seed=1), test[:3])
    assert not np.array_equal(mc_dropout_uncertainty(model, sets["test"][:3], seed=2), test[:3])
    np.testing.assert_array_equal(model.reference_logits(sets["test"][:3]), model.reference_logits(sets["test"][:3]))
    report = assess_trust(model, sets["noise"][:2], fit_ood_calibration(model, x_train, y_train))[0]
    assert report.uncertainty_method == "mc_dropout" and report.epistemic is not None
    assert calibration.model_hash != model.model_hash
