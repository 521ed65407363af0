"""PyTorch models through the SDK and the node: a module exported to .pt2, attested, and checked by `zkxai verify
--model model.pt2` in a separate process with torch unimportable (the light verifier's canonical hash); a changed weight
fails it; hostile archives get a 4xx and the node keeps serving; the quickstart example runs end to end."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from explainers.pt2 import export_pt2
from node.sdk import ModelRejected, wrap

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


class SimpleNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.relu = nn.Linear(12, 16), nn.Linear(16, 3), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.relu(self.fc1(x)))


@pytest.fixture(scope="module")
def net() -> SimpleNet:
    torch.manual_seed(7)
    return SimpleNet().eval()


@pytest.fixture(scope="module")
def wrapped(net, tmp_path_factory):
    return wrap(net, name="simplenet", example_input=torch.rand(12), methods=["lrp_epsilon_0_1", "gradient"],
                data_dir=tmp_path_factory.mktemp("sdk-torch"))


def _cli_verify(rpc: str, bundle: Path, model: Path, info: dict) -> tuple[int, dict]:
    """`zkxai verify` as the light install runs it: every node-extra package (torch included) unimportable."""
    from tests.test_node_api import HEAVY

    block = "; ".join(f"sys.modules[{name!r}] = None" for name in HEAVY)
    argv = ["verify", "--rpc-url", rpc, "--disclosure", str(bundle), "--model", str(model),
            "--registry", info["registry"], "--attester", info["attester"], "--json"]
    code = f"import sys; {block}; from node.cli.main import main; sys.exit(main({argv!r}))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    return proc.returncode, json.loads(proc.stdout)


def test_a_module_is_attested_and_verified_by_its_pt2_file(wrapped, net, tmp_path: Path) -> None:
    x = np.random.default_rng(0).uniform(size=12).astype(np.float32)
    result = wrapped.predict(x)
    with torch.no_grad():
        assert result.prediction == int(net(torch.from_numpy(x)[None]).argmax())
    assert wrapped.model["kind"] == "pt2" and result.verify().ok

    bundle = result.save_disclosure(tmp_path / "bundle.json")
    model_file = tmp_path / "model.pt2"
    model_file.write_bytes(export_pt2(net, torch.from_numpy(x)[None]))  # exported again: same canonical hash
    rpc = wrapped.node_url + wrapped.info["rpc_path"]
    code, report = _cli_verify(rpc, bundle, model_file, wrapped.info)
    assert code == 0 and report["verdict"] == "VALID", report
    model_check = next(c for c in report["checks"] if c["name"] == "model")
    assert model_check["ok"] and "pt2 hash(model.pt2)" in model_check["detail"]

    changed = SimpleNet()
    changed.load_state_dict(net.state_dict())
    with torch.no_grad():
        changed.fc2.bias[0] += 1e-3  # one weight
    model_file.write_bytes(export_pt2(changed.eval(), torch.from_numpy(x)[None]))
    code, report = _cli_verify(rpc, bundle, model_file, wrapped.info)
    assert code != 0 and report["verdict"] == "INVALID"
    assert [c["name"] for c in report["checks"] if not c["ok"]] == ["model"]


def test_hostile_archives_are_refused_and_the_node_keeps_serving(wrapped, net) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("model/data/weights/w0", b"\0" * (300 << 20))  # 300 MiB of zeros, ~300 kB compressed
    for hostile in (bomb.getvalue(), b"PK\x03\x04 not really a zip"):
        with pytest.raises(ModelRejected) as refused:
            wrap(hostile, node=wrapped.node_url)
        assert 400 <= refused.value.status < 500
    assert wrapped.predict(np.zeros(12, dtype=np.float32), method="gradient").verify().ok


def test_token_ids_out_of_the_vocabulary_get_a_400(tmp_path_factory) -> None:
    from node.sdk import RequestRejected

    class Text(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed, self.head = nn.Embedding(20, 8), nn.Linear(8, 2)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.head(self.embed(tokens).mean(dim=1))

    torch.manual_seed(0)
    text = wrap(Text().eval(), name="bag", example_input=torch.arange(6), methods=["gradient_x_input"])
    result = text.predict([1, 2, 3, 4, 5, 6])
    assert result.explanation.shape == (6,) and result.verify().ok
    for bad in ([1, 2, 3, 4, 5, 20], [1, 2, 3, 4, 5, 2.5], [1, 2, 3, 4, 5, -1]):
        with pytest.raises(RequestRejected) as refused:
            text.predict(bad)
        assert refused.value.status == 400


def test_the_quickstart_example_runs(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "scripts/examples/quickstart.py", "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, env={"PYTHONPATH": str(ROOT),
                                                                                        "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "every attestation verified" in proc.stdout
    for png in ("resnet18-grad_cam.png", "resnet18-lrp_epsilon_0_1.png", "text-tokens.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
