"""The IC hash tree and principals, against the interface specification's published examples."""

from __future__ import annotations

import base64
import zlib

import pytest

from node.chains.icp import (
    cbor,
    hashtree,
)
from node.chains.icp.errors import (
    HashTreeError,
    PrincipalError,
)
from node.chains.icp.hashtree import (
    Empty,
    Fork,
    Labeled,
    Leaf,
    LookupStatus,
    Pruned,
)
from node.chains.icp.principal import (
    ANONYMOUS,
    MANAGEMENT_CANISTER,
    CanisterRange,
    Principal,
    parse_canister_ranges,
)

# IC interface specification, Certification > Example: a tree, its CBOR, its root hash, and a pruned version
SPEC_TREE_CBOR = (
    "8301830183024161830183018302417882034568656c6c6f810083024179820345776f726c6483024162820344676f6f64"
    "8301830241638100830241648203476d6f726e696e67"
)
SPEC_PRUNED_CBOR = (
    "83018301830241618301820458201b4feff9bef8131788b0c9dc6dbad6e81e524249c879e9f10f71ce3749f5a638830241"
    "79820345776f726c6483024162820458207b32ac0c6ba8ce35ac82c255fc7906f7fc130dab2a090f80fe12f9c2cae83ba6"
    "830182045820ec8324b8a1f1ac16bd2e806edba78006479c9877fed4eb464a25485465af601d830241648203476d6f726e"
    "696e67"
)
SPEC_ROOT = "eb5c5b2195e62d996b84c9bcc8259d19a83786a2f59e0878cec84c811f669aa0"


def _tree(hex_cbor: str) -> hashtree.HashTree:
    return hashtree.from_cbor(cbor.decode(bytes.fromhex(hex_cbor)))


def test_spec_example_root_hash_full_and_pruned() -> None:
    full, pruned = _tree(SPEC_TREE_CBOR), _tree(SPEC_PRUNED_CBOR)
    assert hashtree.reconstruct(full).hex() == SPEC_ROOT
    assert hashtree.reconstruct(pruned).hex() == SPEC_ROOT
    assert cbor.encode(hashtree.to_cbor(full), self_describe=False).hex() == SPEC_TREE_CBOR


def test_spec_example_lookups_on_the_full_tree() -> None:
    full = _tree(SPEC_TREE_CBOR)
    assert hashtree.lookup_path(["a", "x"], full).value == b"hello"
    assert hashtree.lookup_path(["d"], full).value == b"morning"
    assert hashtree.lookup_path(["c"], full).status is LookupStatus.ABSENT  # labeled Empty
    assert hashtree.lookup_path(["a"], full).status is LookupStatus.ERROR  # an inner node, not a value


@pytest.mark.parametrize(
    ("path", "status", "value"),
    [
        (["a", "a"], LookupStatus.UNKNOWN, None),
        (["a", "y"], LookupStatus.FOUND, b"world"),
        (["aa"], LookupStatus.ABSENT, None),
        (["ax"], LookupStatus.ABSENT, None),
        (["b"], LookupStatus.UNKNOWN, None),
        (["bb"], LookupStatus.UNKNOWN, None),
        (["d"], LookupStatus.FOUND, b"morning"),
        (["e"], LookupStatus.ABSENT, None),
    ],
)
def test_spec_example_lookups_on_the_pruned_tree(path: list[str], status: LookupStatus, value: bytes | None) -> None:
    found = hashtree.lookup_path(path, _tree(SPEC_PRUNED_CBOR))
    assert (found.status, found.value) == (status, value)


def test_lookup_under_a_leaf_is_absent_and_root_of_empty_is_absent() -> None:
    assert hashtree.lookup_path(["x"], Leaf(b"v")).status is LookupStatus.ABSENT
    assert hashtree.lookup_path([], Empty()).status is LookupStatus.ABSENT
    assert hashtree.lookup_path([], Pruned(b"\x00" * 32)).status is LookupStatus.UNKNOWN
    assert hashtree.lookup_path([b"\xff"], Fork(Labeled(b"a", Leaf(b"1")), Pruned(b"\x00" * 32))).status is (
        LookupStatus.UNKNOWN
    )


def test_changing_any_leaf_changes_the_root() -> None:
    full = _tree(SPEC_TREE_CBOR)
    changed = hashtree.from_cbor(cbor.decode(bytes.fromhex(SPEC_TREE_CBOR.replace("68656c6c6f", "68656c6c70"))))
    assert hashtree.reconstruct(changed) != hashtree.reconstruct(full)


@pytest.mark.parametrize(
    "value",
    [[], [5], [0, 1], [1, [0]], [2, "a", [0]], [2, b"a"], [3, "v"], [4, b"\x00" * 31], [True], "x", [3, b"v", b"w"]],
)
def test_malformed_nodes_are_refused(value: object) -> None:
    with pytest.raises(HashTreeError):
        hashtree.from_cbor(value)


def test_principal_text_known_values() -> None:
    assert MANAGEMENT_CANISTER.to_text() == "aaaaa-aa"
    assert ANONYMOUS.to_text() == "2vxsx-fae"
    # the ICP ledger canister
    assert Principal.from_text("ryjl3-tyaaa-aaaaa-aaaba-cai").raw == bytes.fromhex("00000000000000020101")
    raw = bytes(range(29))
    assert Principal.from_text(Principal(raw).to_text()).raw == raw
    # the text is base32 of CRC-32 (big-endian) followed by the raw bytes
    text = Principal(raw).to_text()
    assert base64.b32decode(text.replace("-", "").upper() + "=" * (-len(text.replace("-", "")) % 8))[:4] == (
        zlib.crc32(raw).to_bytes(4, "big")
    )


@pytest.mark.parametrize(
    "text",
    ["ryjl3-tyaaa-aaaaa-aaaba-caa", "RYJL3-TYAAA-AAAAA-AAABA-CAI", "ryjl3tyaaa-aaaaa-aaaba-cai", "ryjl3-tyaaa-aaaaa-aaaba-cai-",
     "", "aa", "ryjl3-tyaaa-aaaaa-aaaba-c1i", "a" * 70],
)
def test_principal_text_is_strict(text: str) -> None:
    with pytest.raises(PrincipalError):
        Principal.from_text(text)


def test_principal_length_is_bounded() -> None:
    with pytest.raises(PrincipalError):
        Principal(b"\x00" * 30)


def test_canister_ranges_closed_intervals_in_byte_order() -> None:
    low, high = bytes.fromhex("00000000002000000101"), bytes.fromhex("00000000002fffff0101")
    ranges = parse_canister_ranges(cbor.encode([[low, high]]))
    assert ranges == (CanisterRange(low, high),)
    assert low in ranges[0] and high in ranges[0]
    assert bytes.fromhex("00000000002000010101") in ranges[0]
    assert bytes.fromhex("00000000001fffff0101") not in ranges[0]
    assert bytes.fromhex("00000000003000000101") not in ranges[0]


@pytest.mark.parametrize("value", [{"a": 1}, [[b"\x01"]], [[b"\x02", b"\x01"]], [[b"\x00" * 30, b"\x01"]], [["a", "b"]]])
def test_malformed_canister_ranges(value: object) -> None:
    with pytest.raises(PrincipalError):
        parse_canister_ranges(cbor.encode(value))
