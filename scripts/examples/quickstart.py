"""The SDK in a notebook's words: wrap a PyTorch model, predict, get an explanation, verify the attestation.

Runs three models on one embedded node (in-process EVM, real Groth16 proofs, nothing else running):

1. SimpleNet (the user's-guide MLP), trained here on scikit-learn's digits, with LRP explanations;
2. a torchvision ResNet-18 (random weights: nothing is downloaded) with Grad-CAM and LRP, heatmap PNGs written;
3. a small transformer text classifier with integrated gradients over token embeddings (one score per token).

    python scripts/examples/quickstart.py [--out DIR] [--quick]

Each prediction is verified with the same checks as ``zkxai verify`` (the node's registry and attester pinned,
the model file's hash checked); the script exits non-zero if any verdict is not VALID.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from node.sdk import wrap


class SimpleNet(nn.Module):
    """The user's-guide network: two hidden layers, dropout, logits out (8x8 digits here: 64 inputs)."""

    def __init__(self, inputs: int = 64, classes: int = 10) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(inputs, 48), nn.Linear(48, 32), nn.Linear(32, classes)
        self.relu, self.dropout = nn.ReLU(), nn.Dropout(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.relu(self.fc1(x.flatten(1))))
        return self.fc3(self.relu(self.fc2(x)))


class TextClassifier(nn.Module):
    """Token ids -> embeddings -> one transformer encoder layer -> mean pooling -> class logits."""

    def __init__(self, vocab: int = 100, dim: int = 32, classes: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.encoder = nn.TransformerEncoderLayer(dim, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(tokens)).mean(dim=1))


def train_simplenet(seed: int = 0) -> tuple[SimpleNet, np.ndarray, np.ndarray]:
    from explainers.digits import digits_samples

    torch.manual_seed(seed)
    x, y = digits_samples(1200, split="train")
    net, xt, yt = SimpleNet(), torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(net(xt), yt).backward()
        opt.step()
    return net.eval(), x, y


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("var/quickstart"), help="where heatmaps and bundles go")
    parser.add_argument("--quick", action="store_true", help="smaller images (CI)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0

    def report(label: str, result, verdict) -> None:  # noqa: ANN001 - a notebook-style helper
        nonlocal failures
        failures += not verdict.ok
        print(f"  {label}: class {result.prediction}  confidence {result.confidence:.3f}  "
              f"explanation {result.explanation.method} {result.explanation.shape}  "
              f"attestation {result.attestation_id[:18]}...  tx {str(result.transaction)[:18]}...  -> {verdict.verdict}")

    # 1. SimpleNet: the three lines of the README.
    t0 = time.perf_counter()
    net, x_train, y_train = train_simplenet()
    from explainers.digits import digits_samples

    x_test, y_test = digits_samples(4, split="test")
    wrapped = wrap(net, name="simplenet", example_input=x_test[0].astype(np.float32), calibration=(x_train[:200], y_train[:200]))
    result = wrapped.predict(x_test[0].astype(np.float32))
    print(f"[1/3] SimpleNet on digits ({time.perf_counter() - t0:.1f} s incl. the embedded node's start)")
    report(f"digit labelled {y_test[0]}", result, result.verify())
    print(f"        trust score {result.trust_score:.3f}, hallucination risk {result.hallucination_risk:.3f} "
          "(measured by the node, not proven)")
    batch = wrapped.predict_batch(x_test[1:].astype(np.float32), progress=False)
    print(f"        predict_batch: {[r.prediction for r in batch]} for labels {[int(v) for v in y_test[1:]]}")

    # 2. ResNet-18 (random weights), Grad-CAM and LRP heatmaps.
    t0 = time.perf_counter()
    import torchvision

    side = 32 if args.quick else 64
    torch.manual_seed(0)
    resnet = torchvision.models.resnet18(weights=None, num_classes=10).eval()
    image = torch.rand(3, side, side)
    wrapped = wrap(resnet, name="resnet18", example_input=image, methods=["grad_cam", "lrp_epsilon_0_1"])
    for method in wrapped.methods:
        result = wrapped.predict(image, method=method)
        png = result.explanation.save_png(args.out / f"resnet18-{method}.png")
        report(f"ResNet-18 {side}x{side} {method}", result, result.verify())
        print(f"        heatmap -> {png}")
    print(f"[2/3] ResNet-18 done ({time.perf_counter() - t0:.1f} s)")

    # 3. A transformer text classifier: token-level integrated gradients.
    t0 = time.perf_counter()
    torch.manual_seed(0)
    text = TextClassifier().eval()
    tokens = torch.randint(1, 100, (16,))
    wrapped = wrap(text, name="text-clf", example_input=tokens, methods=["integrated_gradients"])
    result = wrapped.predict(tokens)
    report("text classifier", result, result.verify())
    top = np.argsort(-np.abs(result.explanation.values))[:3]
    print(f"        most relevant tokens: positions {top.tolist()}, ids {tokens[top].tolist()}")
    result.explanation.save_png(args.out / "text-tokens.png")
    print(f"[3/3] text classifier done ({time.perf_counter() - t0:.1f} s)")

    print("quickstart: " + ("every attestation verified" if failures == 0 else f"{failures} verdict(s) not VALID"))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
