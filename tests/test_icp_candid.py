"""The minimal Candid codec: published vectors, the registry's types round trip, hostile messages refused."""

from __future__ import annotations

import pytest

from node.chains.icp import candid
from node.chains.icp.errors import CandidError
from node.chains.icp.principal import Principal
from node.chains.icp.registry_candid import CERTIFIED, NAMES, RESULT_ID, RESULT_UNIT

# vectors from the Candid implementations' test suites (ic_agent candid_spec.rb, @dfinity/didc README)
VECTORS = [
    (["nat"], [10], "4449444c00017d0a"),
    (["null"], [None], "4449444c00017f"),
    (["bool"], [True], "4449444c00017e01"),
    (["text"], ["TEST_STR"], "4449444c00017108544553545f535452"),
    (["nat32"], [4294967295], "4449444c000179ffffffff"),
    (["nat64"], [10**18], "4449444c000178000064a7b3b6e00d"),
    (["int"], [10], "4449444c00017c0a"),
    ([("record", (("number", "nat64"),))], [{"number": 90}], "4449444c016c01c98dea8b0a7801005a00000000000000"),
]


@pytest.mark.parametrize("types, values, hex_", VECTORS)
def test_vectors(types, values, hex_) -> None:
    assert candid.encode(types, values).hex() == hex_
    assert candid.decode(bytes.fromhex(hex_), ["number"]) == values


def test_field_hashes() -> None:
    assert candid.field_hash("ok") == 24860 and candid.field_hash("err") == 5048165


def test_registry_types_round_trip() -> None:
    attester = Principal(b"\x07" * 29)
    view = {"attestation": {"id": b"\x01" * 32, "statement": {"model_hash": b"\x02" * 32, "input_digest": 2**253,
                                                             "prediction_digest": 0, "predicted_class": 9,
                                                             "explanation_digest": 7},
                            "proof": bytes(256), "attester": attester, "index": 3, "time_ns": 2**63,
                            "revoked": True, "reason": 4},
            "leaf": b"leaf", "witness": b"w", "certificate": None}
    assert candid.decode(candid.encode([("opt", CERTIFIED)], [view]), NAMES) == [view]
    for value in ({"ok": b"\x05" * 32}, {"err": {"duplicate": {"id": b"\x01", "attester": attester}}},
                  {"err": {"invalid": "why"}}):
        assert candid.decode(candid.encode([RESULT_ID], [value]), NAMES) == [value]
    assert candid.decode(candid.encode([RESULT_UNIT], [{"ok": None}]), NAMES) == [{"ok": None}]


@pytest.mark.parametrize("hex_", [
    "",  # no magic
    "4449444c00017d",  # truncated nat
    "4449444c00017d0a00",  # trailing byte
    "4449444c00017e02",  # bool 2
    "4449444c016d7b0101ffffffff0f",  # vec nat8 longer than the message
    "4449444c016d7f0101ffffffffff0f",  # vec null of 2^36 elements
    "4449444c00010500",  # argument type out of the table
    "4449444c016e0501" "00",  # opt of a type out of the table
    "4449444c0001680003",  # opaque principal reference
    "4449444c016c020a7d057d01000000",  # record field ids not increasing
])
def test_hostile_messages_refused(hex_) -> None:
    with pytest.raises(CandidError):
        candid.decode(bytes.fromhex(hex_))


def test_encoder_refuses_out_of_range_values() -> None:
    for types, values in ((["nat8"], [256]), (["nat"], [-1]), (["bool"], [1]), ([("variant", (("a", "null"),))],
                                                                               [{"b": None}])):
        with pytest.raises(CandidError):
            candid.encode(types, values)
