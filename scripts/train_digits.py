"""Train the reference digits MLP and write it as ONNX.

Usage: python scripts/train_digits.py OUT.onnx [--seed N]

Prints the test accuracy, training time and the model hash (SHA-256 of the written bytes).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from explainers.digits import DIGITS_INPUT_SHAPE, export_onnx, train_digits_mlp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="path of the ONNX file to write (e.g. digits_mlp.onnx)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    module, accuracy = train_digits_mlp(seed=args.seed)
    elapsed = time.perf_counter() - start
    data = export_onnx(module, DIGITS_INPUT_SHAPE)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"test accuracy: {accuracy:.4f}")
    print(f"training time: {elapsed:.2f} s")
    print(f"wrote {args.out} ({len(data)} bytes)")
    print(f"model hash (sha256): {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
