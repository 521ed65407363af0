"""The reference model of zkxai: a small MLP (64 -> 32 -> 10, ReLU) on scikit-learn's bundled digits.

``load_digits`` ships with scikit-learn (no download). Pixels (0..16) are scaled to [0, 1]. The split is a
fixed stratified 75/25 train/test split, and training is deterministic: fixed seed, one CPU thread, fixed
mini-batch order, so the same seed reproduces the same weights and therefore the same model hash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from explainers.errors import InvalidInput
from explainers.onnx_export import export_onnx

__all__ = ["DIGITS_CNN_INPUT_SHAPE", "DIGITS_INPUT_SHAPE", "digits_cnn", "digits_mlp", "digits_samples", "export_onnx",
           "train_digits_cnn", "train_digits_mlp"]

DIGITS_INPUT_SHAPE: tuple[int, ...] = (64,)
#: The same pixels as a 1-channel 8x8 image (a row-major reshape of the 64 features) for :func:`digits_cnn`.
DIGITS_CNN_INPUT_SHAPE: tuple[int, ...] = (1, 8, 8)
_SPLIT_SEED = 0
_EPOCHS = 40
_BATCH = 64
_LR = 1e-2


def _split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=_SPLIT_SEED, stratify=y)
    return x_tr, x_te, y_tr, y_te


def digits_samples(n: int, split: Literal["train", "test"] = "test") -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` samples of a split: ``(X float32 (n, 64) in [0, 1], y int64 (n,))``."""
    x_tr, x_te, y_tr, y_te = _split()
    x, y = (x_tr, y_tr) if split == "train" else (x_te, y_te) if split == "test" else (None, None)
    if x is None or y is None:
        raise InvalidInput(f"split must be 'train' or 'test', got {split!r}")
    if not 1 <= n <= len(x):
        raise InvalidInput(f"n must be in [1, {len(x)}] for split {split!r}, got {n}")
    return x[:n].copy(), y[:n].copy()


def digits_mlp() -> torch.nn.Sequential:
    """The untrained architecture: Linear(64, 32) -> ReLU -> Linear(32, 10)."""
    return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))


def digits_cnn() -> torch.nn.Sequential:
    """A small untrained CNN on 1x8x8 digits: Conv2d(1, 4, 3, padding 1) -> ReLU -> MaxPool2d(2) -> Flatten ->
    Linear(64, 10)."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(64, 10),
    )


def train_digits_mlp(seed: int = 0) -> tuple[torch.nn.Sequential, float]:
    """Train the digits MLP deterministically on CPU; returns ``(module in eval mode, test accuracy)``."""
    return _train(digits_mlp, DIGITS_INPUT_SHAPE, seed, _EPOCHS)


def train_digits_cnn(seed: int = 0, epochs: int = 15) -> tuple[torch.nn.Sequential, float]:
    """Train :func:`digits_cnn` on 1x8x8 images like the MLP (deterministic, CPU); ``(module, test accuracy)``."""
    return _train(digits_cnn, DIGITS_CNN_INPUT_SHAPE, seed, epochs)


def _train(factory: Callable[[], torch.nn.Sequential], shape: tuple[int, ...], seed: int, epochs: int
           ) -> tuple[torch.nn.Sequential, float]:
    x_tr, x_te, y_tr, y_te = _split()
    x_tr, x_te = x_tr.reshape(-1, *shape), x_te.reshape(-1, *shape)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        model = factory()
        optimizer = torch.optim.Adam(model.parameters(), lr=_LR)
        generator = torch.Generator().manual_seed(seed)
        xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(xt), generator=generator)
            for start in range(0, len(xt), _BATCH):
                idx = order[start : start + _BATCH]
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
                loss.backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            predicted = model(torch.from_numpy(x_te)).argmax(dim=1).numpy()
    finally:
        torch.set_num_threads(threads)
    for p in model.parameters():
        p.requires_grad_(False)
    return model, float(np.mean(predicted == y_te))
