"""torch.export (.pt2) intake: ResNets load, predict like the module, convert to wiring-only layers that LRP explains
like zennit's ResNetCanonizer on the original; the model hash is canonical; hostile archives are refused."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from zennit.attribution import Gradient
from zennit.composites import EpsilonPlusFlat
from zennit.torchvision import ResNetCanonizer

from explainers.attribution import explain
from explainers.errors import ModelLoadError, UnsupportedModel
from explainers.graph_layers import Add, is_wiring_only
from explainers.pt2 import export_pt2, load_pt2
from explainers.pt2_hash import Pt2Limits, pt2_model_hash

ROOT = Path(__file__).resolve().parents[1]
SHAPE = (3, 64, 64)


def _resnet18(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torchvision.models.resnet18(num_classes=10).eval()


@pytest.fixture(scope="module")
def resnet() -> tuple[torch.nn.Module, bytes]:
    module = _resnet18()
    return module, export_pt2(module, torch.rand(1, *SHAPE))


@pytest.fixture(scope="module")
def loaded(resnet):
    return load_pt2(resnet[1])


def _inputs(n: int = 2) -> np.ndarray:
    return np.random.default_rng(7).uniform(0.0, 1.0, size=(n, *SHAPE)).astype(np.float32)


def _rewrite(data: bytes, edit) -> bytes:
    """A copy of the archive with ``edit(name, content) -> content | None`` applied (None drops the entry)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = edit(info.filename, src.read(info))
            if content is not None:
                dst.writestr(info.filename, content)
    return out.getvalue()


def test_predictions_equal_the_module(resnet, loaded) -> None:
    module, _ = resnet
    x = _inputs()
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    assert loaded.kind == "pt2" and loaded.input_shape == SHAPE and loaded.num_classes == 10
    assert loaded.input_dtype == "float32"
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(loaded.reference_logits(x), expected, rtol=0, atol=1e-4)


def test_converted_graph_is_wiring_only_with_batch_norm_folded(loaded) -> None:
    graph = loaded.torch_module
    assert is_wiring_only(graph)
    kinds = [type(m) for m in graph.modules()]
    assert torch.nn.BatchNorm2d not in kinds and kinds.count(Add) == 8
    assert all(p.dtype == torch.float64 for p in graph.parameters())


def test_lrp_agrees_with_zennit_resnet_canonizer_on_the_original(resnet, loaded) -> None:
    original = _resnet18().double().eval()
    x = _inputs(1)
    target = int(np.argmax(loaded.reference_logits(x)[0]))
    ours = explain(loaded, x[0], "epsilon_plus_flat", target)
    batch = torch.from_numpy(x.astype(np.float64))
    with Gradient(model=original, composite=EpsilonPlusFlat(canonizers=[ResNetCanonizer()])) as attributor:
        out, ref = attributor(batch, lambda y: torch.nn.functional.one_hot(torch.tensor([target]), 10).double() * y)
    ref = ref[0].numpy()
    r = np.corrcoef(ours.ravel(), ref.ravel())[0, 1]
    deviation = np.max(np.abs(ours - ref)) / np.max(np.abs(ref))
    print(f"LRP epsilon_plus_flat vs zennit ResNetCanonizer: r={r:.8f}, max deviation {deviation:.2e} of max |R|")
    assert r > 0.9999 and deviation < 1e-3, (r, deviation)


def _export_in_subprocess(tmp: Path, tag: str) -> subprocess.Popen:
    code = (
        "import io, sys, torch, torchvision\n"
        "from explainers.pt2 import export_pt2\n"
        "torch.manual_seed(0)\n"
        "m = torchvision.models.resnet18(num_classes=10).eval()\n"
        "x = torch.rand(1, 3, 64, 64)\n"
        "raw = io.BytesIO(); torch.export.save(torch.export.export(m, (x,), strict=False), raw)\n"
        f"open(r'{tmp}/{tag}.raw.pt2', 'wb').write(raw.getvalue())\n"
        f"open(r'{tmp}/{tag}.pt2', 'wb').write(export_pt2(m, x))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)


def test_hash_is_the_same_across_processes_and_save_load_save(tmp_path: Path) -> None:
    procs = [_export_in_subprocess(tmp_path, tag) for tag in ("a", "b")]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    raw_a, raw_b = (tmp_path / "a.raw.pt2").read_bytes(), (tmp_path / "b.raw.pt2").read_bytes()
    norm_a, norm_b = (tmp_path / "a.pt2").read_bytes(), (tmp_path / "b.pt2").read_bytes()
    assert pt2_model_hash(raw_a) == pt2_model_hash(raw_b) == pt2_model_hash(norm_a)
    assert norm_a == norm_b  # export_pt2 output is byte-for-byte reproducible
    resaved = io.BytesIO()
    torch.export.save(torch.export.load(io.BytesIO(raw_a)), resaved)
    assert pt2_model_hash(resaved.getvalue()) == pt2_model_hash(raw_a)


def test_a_changed_weight_changes_the_hash(resnet, loaded) -> None:
    module, data = resnet
    assert loaded.model_hash == pt2_model_hash(data)
    changed = _resnet18()
    with torch.no_grad():
        changed.fc.bias[3] += 1e-3
    assert pt2_model_hash(export_pt2(changed, torch.rand(1, *SHAPE))) != loaded.model_hash

    def flip(name: str, content: bytes) -> bytes:
        return content[:-1] + bytes([content[-1] ^ 1]) if name.endswith("weights/weight_0") else content

    assert pt2_model_hash(_rewrite(data, flip)) != loaded.model_hash


def test_non_zip_huge_and_zip_bomb_are_refused(resnet) -> None:
    with pytest.raises(ModelLoadError, match="zip"):
        load_pt2(b"\x80\x04definitely not a zip")
    with pytest.raises(ModelLoadError, match="limit"):
        load_pt2(resnet[1], limits=Pt2Limits(max_bytes=1 << 20))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data/weights/weight_0", b"\0" * (64 << 20))
    assert len(bomb.getvalue()) < 200_000
    with pytest.raises(ModelLoadError, match="zip bomb"):
        load_pt2(bomb.getvalue(), limits=Pt2Limits(max_total_uncompressed=16 << 20))
    with pytest.raises(ModelLoadError, match="entries"):
        load_pt2(resnet[1], limits=Pt2Limits(max_entries=10))


def test_an_unknown_operator_is_refused_by_name() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Sigmoid()).eval()
    with pytest.raises(UnsupportedModel, match=r"aten\.sigmoid\.default"):
        load_pt2(export_pt2(model, torch.rand(1, 4)))


def _marker_pickle(marker: Path) -> bytes:
    class Payload:
        def __reduce__(self):
            return (Path.write_text, (marker, "pwned"))

    return pickle.dumps(Payload())


def test_pickles_in_the_archive_are_never_unpickled(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 3)).eval()
    data = export_pt2(model, torch.rand(1, 4))
    marker = tmp_path / "marker"
    # torch would read sample inputs with torch.load, falling back to weights_only=False: we drop them unread
    evil_samples = _rewrite(data, lambda n, c: _marker_pickle(marker) if "sample_inputs" in n else c)
    assert load_pt2(evil_samples).model_hash == pt2_model_hash(data)

    def pickled_weight(name: str, content: bytes) -> bytes:
        if name.endswith("model_weights_config.json"):
            config = json.loads(content)
            config["config"]["0.weight"]["use_pickle"] = True
            return json.dumps(config).encode()
        return _marker_pickle(marker) if name.endswith("weights/weight_0") else content

    with pytest.raises(UnsupportedModel, match="pickled"):
        load_pt2(_rewrite(data, pickled_weight))
    extra = io.BytesIO(data)
    with zipfile.ZipFile(extra, "a") as zf:
        zf.writestr("archive/data/aotinductor/model/model.so", b"\x7fELF")
    with pytest.raises(UnsupportedModel, match="aotinductor"):
        load_pt2(extra.getvalue())
    assert not marker.exists()


@pytest.mark.slow
def test_resnet50_loads_and_predicts_like_the_module() -> None:
    torch.manual_seed(0)
    module = torchvision.models.resnet50(num_classes=10).eval()
    loaded = load_pt2(export_pt2(module, torch.rand(1, *SHAPE)))
    x = _inputs()
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=0, atol=1e-4)
    assert is_wiring_only(loaded.torch_module)
