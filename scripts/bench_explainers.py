"""Benchmark: per-image time of ``explainers.explain`` vs calling zennit directly (same method, model, run).

Usage: python scripts/bench_explainers.py [--repeats N] [--threads N]

For the digits MLP and a VGG-style CNN (1x8x8 and 3x32x32), batch 1 and 16, and the methods gradient,
lrp_epsilon_0_1, epsilon_plus and integrated_gradients_steps_32, it times

* ``ours``: ``explain(model, x, method, targets)`` (validation, parsing, support check, composite, float64), and
* ``zennit``: the same float64 module, composite and output function driven by zennit's attributor directly,

interleaved and best-of-``repeats`` per batch, and prints the per-image times and their ratio (target <= 1.10).
Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import numpy as np
import torch
from zennit.attribution import Gradient, IntegratedGradients
from zennit.composites import EpsilonPlus, LayerMapComposite
from zennit.rules import Epsilon, Norm, Pass
from zennit.types import AvgPool, Convolution

from explainers.attribution import explain
from explainers.digits import DIGITS_INPUT_SHAPE, digits_samples, train_digits_mlp
from explainers.model import LoadedModel, load_torch


def vgg_style(channels: int, size: int) -> torch.nn.Sequential:
    torch.manual_seed(0)
    flat = 32 * (size // 4) ** 2
    return torch.nn.Sequential(
        torch.nn.Conv2d(channels, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(flat, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10),
    ).eval()


def _direct(model: LoadedModel, method: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The zennit-only equivalent of ``method`` (what a user of zennit would write)."""
    module = model.torch_module

    def out_fn(targets: torch.Tensor, scaled: bool) -> Callable[[torch.Tensor], torch.Tensor]:
        def fn(out: torch.Tensor) -> torch.Tensor:
            one_hot = torch.nn.functional.one_hot(targets.repeat(out.shape[0] // len(targets)), out.shape[1]).to(out)
            return one_hot * out.detach() if scaled else one_hot

        return fn

    def run(x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if method == "integrated_gradients_steps_32":
            return IntegratedGradients(module, n_iter=32)(x, out_fn(targets, False))[1]
        composite = None
        if method == "lrp_epsilon_0_1":
            composite = LayerMapComposite([(torch.nn.ReLU, Pass()), (AvgPool, Norm()), (Convolution, Epsilon(0.1)),
                                           (torch.nn.Linear, Epsilon(0.1))])
        elif method == "epsilon_plus":
            composite = EpsilonPlus()
        with Gradient(module, composite=composite) as attributor:
            return attributor(x, out_fn(targets, composite is not None))[1]

    return run


def _best(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1: stable timings)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    mlp, _ = train_digits_mlp(seed=0)
    digits = digits_samples(16)[0].astype(np.float64)
    rng = np.random.default_rng(0)
    models = {
        "mlp 64": (load_torch(mlp, DIGITS_INPUT_SHAPE), digits),
        "cnn 1x8x8": (load_torch(vgg_style(1, 8), (1, 8, 8)), digits.reshape(16, 1, 8, 8)),
        "cnn 3x32x32": (load_torch(vgg_style(3, 32), (3, 32, 32)), rng.uniform(size=(16, 3, 32, 32))),
    }
    methods = ["gradient", "lrp_epsilon_0_1", "epsilon_plus", "integrated_gradients_steps_32"]
    print(f"device={next(iter(models.values()))[0].device} threads={args.threads} repeats={args.repeats} (best of)")
    print(f"{'model':<12} {'method':<30} {'batch':>5} {'ours us/img':>12} {'zennit us/img':>14} {'ratio':>6}")
    for label, (model, data) in models.items():
        for method in methods:
            direct = _direct(model, method)
            for batch in (1, 16):
                x = np.ascontiguousarray(data[:batch])
                targets = [int(t) for t in np.argmax(model.reference_logits(x), axis=1)]
                tensor = torch.from_numpy(x).to(model.device)
                target_tensor = torch.tensor(targets, device=model.device)
                ours_result = explain(model, x, method, targets)
                zennit_result = direct(tensor, target_tensor).detach().cpu().numpy()
                if not np.allclose(ours_result, zennit_result, rtol=1e-9, atol=1e-12):
                    raise SystemExit(f"{label} {method}: results differ; the comparison would be meaningless")
                ours = zen = float("inf")
                for _ in range(args.repeats):  # interleaved so drift affects both equally
                    ours = min(ours, _best(lambda: explain(model, x, method, targets), 1))
                    zen = min(zen, _best(lambda: direct(tensor, target_tensor).detach().cpu().numpy(), 1))
                print(f"{label:<12} {method:<30} {batch:>5} {ours / batch * 1e6:>12.1f} {zen / batch * 1e6:>14.1f} "
                      f"{ours / zen:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
