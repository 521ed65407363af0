"""The disclosure bundle format is stable across releases: a bundle written by an earlier node (committed under
tests/data, with its verifying key and model) must keep loading and verifying offline, and tampering with it must
keep failing."""

from __future__ import annotations

import json
from pathlib import Path

from node.verify.disclosure import (
    FORMAT_V1,
    Disclosure,
)
from tests.node_harness import ROOT, zkxai

DATA = ROOT / "tests" / "data"


def test_v1_bundle_still_loads_with_the_same_fields() -> None:
    raw = json.loads((DATA / "disclosure-v1.json").read_text())
    assert raw["format"] == FORMAT_V1 == "zkxai.disclosure/1"
    assert set(raw) >= {"format", "attestation_id", "chain", "model_hash", "input", "prediction", "explanation",
                        "public_inputs", "proof"}
    d = Disclosure.from_json(raw)
    assert not d.bound  # made before proofs were bound to attester, chain and registry: six public inputs
    assert [str(v) for v in d.recomputed_public_inputs()] == raw["public_inputs"]
    assert d.to_json() == raw  # writing it back loses nothing and adds nothing


def test_v1_bundle_still_verifies_offline(tmp_path: Path) -> None:
    args = ["verify", "--disclosure", str(DATA / "disclosure-v1.json"), "--vkey", str(DATA / "commitment-10.vk.json"),
            "--model", str(DATA / "digits_mlp.onnx"), "--json"]
    out = zkxai(*args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["verdict"] == "VALID"

    raw = json.loads((DATA / "disclosure-v1.json").read_text())
    raw["input"]["values"][10] += 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    args[2] = str(bad)
    tampered = zkxai(*args)
    assert tampered.returncode == 4 and json.loads(tampered.stdout)["verdict"] == "INVALID"
