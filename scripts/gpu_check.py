"""GPU readiness check: same committed digests on CUDA and CPU, and a ResNet-50 throughput/memory sweep.

Usage: PYTHONPATH=. python scripts/gpu_check.py --out gpu_check.json [--quick]

Device "auto" (:func:`explainers.model.default_device`): CUDA when present. Without CUDA it says so, runs the
CPU side only (digests, batch invariance, a small CPU sweep) and exits 0, so CI never depends on a GPU.

(a) Digests. The digits MLP is registered as the node does (ONNX bytes, :func:`explainers.model.load_onnx`); its
    float64 reference module is copied to each device and, for every method in ``METHODS``, the committed
    fixed-point arrays (logits via ``logits_to_fixed``, attributions via ``to_fixed``) and the digests
    (``node.verify.digests.input_hash`` / ``explanation_hash``) are compared CPU vs CUDA, and a whole batch vs one
    sample at a time. ``--quick`` uses the untrained MLP (seed 0) instead of training it.
(b) Sweep. torchvision ResNet-50 (random weights) at 224x224: predictions/s (float32 forward) and attributions/s
    (``explain`` on the float64 reference module: ``gradient`` and ``grad_cam``) per batch size, with peak memory:
    ``torch.cuda.max_memory_allocated`` on CUDA; on CPU the process's peak RSS so far (``ru_maxrss``, a high-water
    mark, so batches run in ascending order). GPU batches 1, 8, 32, 64; CPU 1, 8. ``--quick``: 64x64, CPU 1, 2.

Prints a table; writes JSON ``{"date", "torch", "cuda", "device_name", "quick", "digests": {...}, "sweep": [...]}``
to ``--out``. Exit status 1 when a digest differs between devices or batch compositions.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime
import hashlib
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import numpy as np
import torch
import torchvision

from explainers.attribution import explain
from explainers.digits import DIGITS_INPUT_SHAPE, digits_mlp, digits_samples, export_onnx, train_digits_mlp
from explainers.encoding import logits_to_fixed, to_fixed
from explainers.model import LoadedModel, default_device, load_onnx, load_torch
from node.verify.digests import explanation_hash, input_hash

METHODS = ("gradient", "gradient_x_input", "integrated_gradients_steps_32", "smoothgrad_samples_8", "occlusion",
           "lrp_epsilon_0_1", "epsilon_plus")
SWEEP_METHODS = ("gradient", "grad_cam")


def on_device(model: LoadedModel, device: torch.device) -> LoadedModel:
    """The same loaded model with its float64 reference module on ``device``."""
    return dataclasses.replace(model, torch_module=copy.deepcopy(model.torch_module).to(device), device=device)


def committed(model: LoadedModel, x: np.ndarray, one_by_one: bool = False) -> dict[str, list[list[int]]]:
    """Per method: each sample's committed integers (scores, then explanation) as the node encodes them."""
    rows = [x[i : i + 1] for i in range(len(x))] if one_by_one else [x]
    logits = np.concatenate([model.reference_logits(r) for r in rows])
    out = {"logits": [logits_to_fixed(v) for v in logits]}
    for method in METHODS:
        attribution = np.concatenate([explain(model, r, method) for r in rows])
        out[method] = [to_fixed(a) for a in attribution]
    return out


def digests(x: np.ndarray, fixed: dict[str, list[list[int]]]) -> dict[str, str]:
    """One SHA-256 per method over every sample's field digests (input, scores, explanation)."""
    result = {}
    for method in METHODS:
        h = hashlib.sha256()
        for i in range(len(x)):
            h.update(input_hash(x[i].shape, to_fixed(x[i])).to_bytes(32, "big"))
            h.update(json.dumps(fixed["logits"][i]).encode())
            h.update(explanation_hash(method, x[i].shape, fixed[method][i]).to_bytes(32, "big"))
        result[method] = h.hexdigest()
    return result


def _differences(a: dict[str, list[list[int]]], b: dict[str, list[list[int]]]) -> dict[str, int]:
    """Per array: the largest difference in 2^-16 units (0 = identical)."""
    return {k: int(np.max(np.abs(np.array(a[k], dtype=np.int64) - np.array(b[k], dtype=np.int64)))) for k in a}


def check_digests(quick: bool, cuda: bool) -> dict[str, object]:
    if quick:
        torch.manual_seed(0)
        module, what = digits_mlp().eval(), "digits MLP, untrained (seed 0)"
    else:
        module, what = train_digits_mlp(seed=0)[0], "digits MLP, trained (seed 0)"
    data = export_onnx(module, DIGITS_INPUT_SHAPE)
    x = digits_samples(4 if quick else 16)[0].astype(np.float64)
    cpu_model = on_device(load_onnx(data), torch.device("cpu"))
    cpu = committed(cpu_model, x)
    single = committed(cpu_model, x, one_by_one=True)
    report: dict[str, object] = {
        "model": what, "model_hash": hashlib.sha256(data).hexdigest(), "samples": len(x), "methods": list(METHODS),
        "cpu": digests(x, cpu), "batch_invariant": _differences(cpu, single), "cuda": None, "cpu_vs_cuda": None,
    }
    if cuda:
        gpu = committed(on_device(cpu_model, torch.device("cuda")), x)
        report["cuda"], report["cpu_vs_cuda"] = digests(x, gpu), _differences(cpu, gpu)
    diffs = [report["batch_invariant"], report["cpu_vs_cuda"] or {}]
    report["status"] = "match" if all(v == 0 for d in diffs for v in d.values()) else "mismatch"  # type: ignore[union-attr]
    return report


def _timed(fn, device: torch.device, repeats: int) -> tuple[float, int]:
    """(seconds per call, peak bytes) after one warm-up call."""
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
        peak = int(torch.cuda.max_memory_allocated())
    else:
        peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
    return (time.perf_counter() - start) / repeats, peak


def sweep(device: torch.device, batches: tuple[int, ...], size: int, repeats: int) -> list[dict[str, object]]:
    torch.manual_seed(0)
    module = torchvision.models.resnet50(weights=None).eval()
    model = on_device(load_torch(module, (3, size, size)), device)
    fast = copy.deepcopy(module).to(device)
    rows = []
    for batch in batches:
        x = np.random.default_rng(batch).uniform(0.0, 1.0, size=(batch, 3, size, size))
        xt = torch.from_numpy(x).float().to(device)

        def predict() -> None:
            with torch.no_grad():
                fast(xt).cpu()

        seconds, peak = _timed(predict, device, repeats)
        row: dict[str, object] = {"device": device.type, "batch": batch, "size": size,
                                  "predict_per_s": batch / seconds, "predict_peak_bytes": peak}
        for method in SWEEP_METHODS:
            seconds, peak = _timed(lambda m=method: explain(model, x, m), device, repeats)
            row[f"{method}_per_s"], row[f"{method}_peak_bytes"] = batch / seconds, peak
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def _line(row: dict[str, object]) -> str:
    cells = [f"{row['device']:>5}", f"{row['batch']:>5}", f"{row['predict_per_s']:>10.1f}"]
    for method in SWEEP_METHODS:
        cells.append(f"{row[f'{method}_per_s']:>10.2f}")
    cells += [f"{int(row['predict_peak_bytes']) / 2**20:>10.0f}", f"{int(row['grad_cam_peak_bytes']) / 2**20:>10.0f}"]
    return " ".join(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON report")
    parser.add_argument("--quick", action="store_true", help="small CPU-friendly sizes (CI)")
    args = parser.parse_args(argv)
    device = default_device()
    cuda = device.type == "cuda"
    name = torch.cuda.get_device_name(device) if cuda else None
    print(f"device: {name}" if cuda else "no CUDA device: GPU checks skipped, running the CPU side only")
    report: dict[str, object] = {
        "date": datetime.date.today().isoformat(), "torch": torch.__version__, "cuda": cuda, "device_name": name,
        "quick": args.quick,
    }
    report["digests"] = check_digests(args.quick, cuda)
    print(f"digests: {report['digests']['status']}")  # type: ignore[index]
    size = 64 if args.quick else 224
    print(" dev  batch  predict/s gradient/s grad_cam/s  pred MiB   cam MiB")
    rows = sweep(device, (1, 8, 32, 64), size, 3) if cuda else []
    rows += sweep(torch.device("cpu"), (1, 2) if args.quick else (1, 8), size, 1 if args.quick else 2)
    report["sweep"] = rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")
    return 0 if report["digests"]["status"] == "match" else 1  # type: ignore[index]


if __name__ == "__main__":
    sys.exit(main())
