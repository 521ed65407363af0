"""scripts/gpu_check.py runs without a GPU (--quick), exits 0 and writes the documented JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from tests.node_harness import ROOT


def test_quick_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report" / "gpu.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text())
    cuda = torch.cuda.is_available()
    assert report["cuda"] is cuda and report["quick"] is True and report["date"]
    if not cuda:
        assert "no CUDA device" in done.stdout
    digests = report["digests"]
    assert digests["status"] == "match"
    assert set(digests["cpu"]) == set(digests["methods"]) and all(len(h) == 64 for h in digests["cpu"].values())
    assert set(digests["batch_invariant"]) == {"logits", *digests["methods"]}
    assert all(v == 0 for v in digests["batch_invariant"].values())
    assert (digests["cuda"] == digests["cpu"]) if cuda else (digests["cuda"] is None and digests["cpu_vs_cuda"] is None)
    rows = report["sweep"]
    assert [(r["device"], r["batch"]) for r in rows if r["device"] == "cpu"] == [("cpu", 1), ("cpu", 2)]
    for row in rows:
        for key in ("predict", "gradient", "grad_cam"):
            assert row[f"{key}_per_s"] > 0 and row[f"{key}_peak_bytes"] > 0
