"""Proof levels on the verifier side (no chain, no torch): bundle format 3 round trip, formats 1/2 loading as level
commitment, trust entries pinning a level, and the ``level`` check (a proven level counts only when pinned)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node.errors import DisclosureError
from node.verify.anchors import Anchors, check_level, pinned_levels
from node.verify.disclosure import FORMAT, Disclosure
from node.verify.levels import Level
from node.verify.report import EXIT_LEVEL_MISMATCH, Report, Status
from node.verify.trust import TrustError, entry_toml, parse_trust, proven_entries_from_info
from tests.test_node_disclosure import _bundle

REGISTRY = "0x" + "11" * 20
ATTESTER = "0x" + "33" * 20


def test_v2_bundle_loads_as_commitment_and_v3_round_trips() -> None:
    d = Disclosure.from_json(_bundle())
    assert d.level == "commitment" and d.format == "zkxai.disclosure/2"
    assert "level" not in d.to_json()  # an old bundle is written back as it was
    v3 = _bundle() | {"format": FORMAT, "level": "commitment"}
    d3 = Disclosure.from_json(v3)
    assert d3.to_json() == v3 and d3.recomputed_public_inputs() == d.recomputed_public_inputs()


@pytest.mark.parametrize("change", [{"level": "proven"}, {"level": None}, {"level": "explanation"}])
def test_v3_bundle_must_name_a_level_and_its_digests(change: dict) -> None:
    with pytest.raises(DisclosureError):
        Disclosure.from_json(_bundle() | {"format": FORMAT} | change)


def test_trust_entry_level() -> None:
    base = {"name": "n", "registry": REGISTRY, "attesters": [ATTESTER]}
    (plain,) = parse_trust({"node": [base]}, "t")
    assert (plain.level, plain.method) == ("commitment", None)
    (entry,) = parse_trust({"node": [base | {"level": "explanation", "method": "gradient"}]}, "t")
    assert (entry.level, entry.method) == ("explanation", "gradient")
    assert parse_trust({"node": [json.loads(json.dumps(base))]}, "t")
    assert 'level = "explanation"' in entry_toml(entry)
    for bad in ({"level": "magic"}, {"level": "inference", "method": "gradient"}, {"level": 3}):
        with pytest.raises(TrustError):
            parse_trust({"node": [base | bad]}, "t")


def test_proven_entries_from_info() -> None:
    """What `zkxai trust show` prints for a node's level registries: one pinnable entry each (level, method, key)."""
    vk = "0x" + "ab" * 32
    info = {"chain_id": 31337, "registry": REGISTRY, "attester": ATTESTER, "proven": [
        {"model_hash": "0x" + "cd" * 32, "level": "explanation", "method": "lrp_epsilon_0_1",
         "registry": "0x" + "22" * 20, "vk_sha256": vk},
        {"model_hash": "0x" + "ef" * 32, "level": "inference", "method": None, "registry": "0x" + "44" * 20,
         "vk_sha256": vk}]}
    expl, inf = proven_entries_from_info(info, "acme")
    assert (expl.name, expl.level, expl.method, expl.vk_sha256, expl.chain_id) == (
        "acme-explanation-lrp_epsilon_0_1-cdcdcdcd", "explanation", "lrp_epsilon_0_1", vk, 31337)
    assert (inf.name, inf.level, inf.method, inf.attesters) == ("acme-inference-efefefef", "inference", None,
                                                                (expl.attesters[0],))
    text = entry_toml(expl) + entry_toml(inf)
    import tomllib

    assert parse_trust(tomllib.loads(text), "shown") == tuple(
        e.__class__(**{**e.__dict__, "source": f"shown#{e.name}"}) for e in (expl, inf))
    assert proven_entries_from_info({k: v for k, v in info.items() if k != "proven"}, "acme") == ()
    for bad in ({"proven": "x"}, {"proven": [{"level": "inference"}]},
                {"proven": [info["proven"][0] | {"level": "magic"}]}, {"proven": [info["proven"][0] | {"registry": None}]}):
        with pytest.raises(TrustError):
            proven_entries_from_info(info | bad, "acme")


def _status(claimed: str, method: str, pinned: dict) -> Status:
    report = Report("0x")
    check_level(report, claimed, method, pinned)
    (check,) = report.checks
    if check.status is Status.FAIL:
        assert report.exit_code == EXIT_LEVEL_MISMATCH
    return check.status


def test_level_check() -> None:
    # a bundle's claim alone is never believed
    assert _status("explanation", "gradient", {}) is Status.UNPINNED
    assert _status("commitment", "gradient", {}) is Status.PASS
    assert _status("explanation", "gradient", {Level("explanation", "gradient"): "--level"}) is Status.PASS
    assert _status("explanation", "gradient", {Level("explanation"): "--level"}) is Status.PASS
    # claiming explanation for a commitment-level registry, another method, or understating the level fails
    assert _status("explanation", "gradient", {Level("commitment"): "trust"}) is Status.FAIL
    assert _status("explanation", "gradient", {Level("explanation", "lrp_epsilon_0_1"): "trust"}) is Status.FAIL
    assert _status("commitment", "gradient", {Level("explanation", "gradient"): "trust"}) is Status.FAIL


def test_pinned_levels_online_and_offline(tmp_path: Path) -> None:
    (entry,) = parse_trust({"node": [{"name": "n", "registry": REGISTRY, "attesters": [ATTESTER],
                                      "vk_sha256": "0x" + "ab" * 32, "level": "inference"}]}, "t")
    anchors = Anchors(nodes=(entry,), level=Level("explanation"), registries=(REGISTRY,))
    online = pinned_levels(anchors, (entry,), registry_pinned_by_flag=True, vk_digest=None)
    assert online == {Level("explanation"): "--level", Level("inference"): "trust entry t#n"}
    # offline only entries naming the pinned key count, and --level only qualifies a --vkey
    assert pinned_levels(anchors, (entry,), registry_pinned_by_flag=False, vk_digest="0x" + "cd" * 32) == {}
