"""scripts/bench_proven.py --quick runs our side end to end (tiny MLP: quantize, compile, setup, prove, verify at
levels inference and explanation), exits 0 and prints the table (EZKL skipped: CI does not install it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_proven_quick(tmp_path: Path) -> None:
    out = tmp_path / "rows.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_proven.py"), "--quick", "--no-ezkl", "--json", str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "top-1 agreement" in done.stdout and "EZKL skipped" in done.stdout
    rows = json.loads(out.read_text())
    assert [r["side"] for r in rows] == ["ours/inference", "ours/explanation"]
    for row in rows:
        assert row["verified"] is True and row["constraints"] > 0 and row["prove_s"] > 0 and row["peak_mib"] > 0
    assert rows[1]["constraints"] > rows[0]["constraints"]  # the explanation adds its backward pass
