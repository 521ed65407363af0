"""Disclosure bundles: round trip, digest recomputation, and each kind of tampering detected (no chain needed)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from circuits.commitment import public_inputs
from node.chains.binding import attestation_context
from node.verify.digests import (
    explanation_hash,
    input_hash,
)
from node.verify.disclosure import Disclosure
from node.errors import DisclosureError
from node.verify.report import (
    Report,
    check_disclosure,
)

MODEL_HASH = bytes(range(32))
CHAIN = {"chain_id": 1, "registry": "0x" + "11" * 20, "attester": "0x" + "33" * 20, "tx_hash": "0x" + "22" * 32,
         "block_number": 5}


def _bundle() -> dict:
    from circuits.commitment import CommitmentOpening

    x = [i * 4096 for i in range(64)]
    scores = [-70000, 5000, 123456, -1, 0, 65536, 9, -2**31, -2**31, -2**31]
    expl = [(-1) ** i * i * 17 for i in range(64)]
    opening = CommitmentOpening(
        model_hash=MODEL_HASH, input_hash=input_hash((64,), x), input_salt=11, scores=tuple(scores), predicted_class=2,
        prediction_salt=22, explanation_hash=explanation_hash("gradient", (64,), expl), explanation_salt=33)
    return {
        "format": "zkxai.disclosure/2",
        "attestation_id": "0x" + "ab" * 32,
        "chain": dict(CHAIN),
        "model_hash": "0x" + MODEL_HASH.hex(),
        "input": {"shape": [64], "values": x, "salt": "11"},
        "prediction": {"predicted_class": 2, "num_classes": 7, "scores": scores, "salt": "22"},
        "explanation": {"method": "gradient", "shape": [64], "values": expl, "salt": "33"},
        "public_inputs": [str(v) for v in public_inputs(
            opening, attestation_context(CHAIN["chain_id"], CHAIN["registry"], CHAIN["attester"]))],
        "proof": {"pi_a": ["1", "2", "1"], "pi_b": [["1", "2"], ["3", "4"], ["1", "0"]], "pi_c": ["1", "2", "1"]},
    }


def test_round_trip_and_recompute(tmp_path: Path) -> None:
    data = _bundle()
    d = Disclosure.from_json(data)
    assert d.to_json() == Disclosure.from_json(d.to_json()).to_json()
    path = tmp_path / "b.json"
    d.save(path)
    loaded = Disclosure.load(path)
    assert loaded == d
    assert [str(v) for v in loaded.recomputed_public_inputs()] == data["public_inputs"]
    report = Report(attestation_id=d.attestation_id)
    assert check_disclosure(report, d, d.attestation_id, d.public_inputs)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["input"]["values"].__setitem__(3, b["input"]["values"][3] + 1), "input_digest"),
        (lambda b: b["input"].__setitem__("salt", "12"), "input_digest"),
        (lambda b: b["input"].__setitem__("shape", [8, 8]), "input_digest"),
        (lambda b: b["prediction"]["scores"].__setitem__(0, -69999), "prediction_digest"),
        (lambda b: b["prediction"].__setitem__("salt", "23"), "prediction_digest"),
        (lambda b: b["explanation"]["values"].__setitem__(0, 1), "explanation_digest"),
        (lambda b: b["explanation"].__setitem__("method", "lrp_epsilon_0_1"), "explanation_digest"),
        (lambda b: b.__setitem__("model_hash", "0x" + "00" * 32), "model_hash_hi"),
        # the statement is the same, but it names another attester, registry or chain than the record's proof
        (lambda b: b["chain"].__setitem__("attester", "0x" + "44" * 20), "context"),
        (lambda b: b["chain"].__setitem__("registry", "0x" + "55" * 20), "context"),
        (lambda b: b["chain"].__setitem__("chain_id", 2), "context"),
    ],
)
def test_tampering_is_named(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    honest = Disclosure.from_json(_bundle())
    data = copy.deepcopy(_bundle())
    mutate(data)
    report = Report(attestation_id=honest.attestation_id)
    assert not check_disclosure(report, Disclosure.from_json(data), honest.attestation_id, honest.public_inputs)
    assert field in report.checks[-1].detail


def test_class_that_is_not_the_argmax_is_not_an_opening() -> None:
    data = _bundle()
    data["prediction"]["predicted_class"] = 5
    with pytest.raises(DisclosureError):
        Disclosure.from_json(data).recomputed_public_inputs()


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"format": "zkxai.disclosure/0"},
        "not an object",
        {**_bundle(), "model_hash": "0x1234"},
        {**_bundle(), "chain": {k: v for k, v in CHAIN.items() if k != "attester"}},  # format 2 names its attester
        {**_bundle(), "chain": None},
        {**_bundle(), "input": {"shape": [64], "values": ["1"], "salt": "1"}},
        {**_bundle(), "input": {"shape": [64], "values": [1], "salt": "salty"}},
    ],
)
def test_malformed_bundles_get_a_clear_error(bad: object) -> None:
    with pytest.raises(DisclosureError):
        Disclosure.from_json(json.loads(json.dumps(bad)))
