"""The strict CBOR codec and LEB128 of the ICP package: known encodings, round trips, hostile input."""

from __future__ import annotations

import pytest

from node.chains.icp import cbor
from node.chains.icp.errors import (
    CborError,
    LebError,
)
from node.chains.icp.leb128 import (
    decode_uleb128,
    encode_uleb128,
)


def test_encodes_rfc8949_heads_and_self_describe_tag() -> None:
    # hand-assembled: tag 55799, map(4) "a":1 "b":"x" "c":h'09' "d":[23, 24, 256, 65536]
    value = {"a": 1, "b": "x", "c": b"\x09", "d": [23, 24, 256, 65536]}
    expected = "d9d9f7" "a4" "616101" "61626178" "616341" "09" "6164" "84" "17" "1818" "190100" "1a00010000"
    assert cbor.encode(value).hex() == expected
    assert cbor.decode(bytes.fromhex(expected)) == value


@pytest.mark.parametrize("n", [0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1])
def test_uint_round_trip_at_every_head_width(n: int) -> None:
    assert cbor.decode(cbor.encode(n, self_describe=False)) == n


def test_round_trip_of_nested_values() -> None:
    value = {"content": {"request_type": "query", "arg": b"DIDL\x00\x00", "ingress_expiry": 1_700_000_000_000_000_000,
                         "paths": [[b"time"], [b"subnet", b"\x01" * 29]], "ok": True, "none": None}}
    assert cbor.decode(cbor.encode(value)) == value


def test_self_describe_tag_is_transparent_anywhere() -> None:
    assert cbor.decode(bytes.fromhex("d9d9f782d9d9f701d9d9f74161")) == [1, b"a"]


@pytest.mark.parametrize(
    ("hex_input", "reason"),
    [
        ("", "empty"),
        ("83010203ff", "trailing"),
        ("830102", "truncated"),
        ("5a00000010aa", "truncated"),  # byte string announcing 16 bytes, one present
        ("9bffffffffffffffff00", "truncated"),  # array announcing 2^64-1 elements
        ("bbffffffffffffffff", "truncated"),  # map announcing 2^64-1 entries
        ("9f01ff", "indefinite"),
        ("5f4101ff", "indefinite"),
        ("20", "negative"),
        ("f93c00", "float"),
        ("f7", "simple"),
        ("c24101", "tag 2"),
        ("1c", "reserved"),
        ("a2616101616102", "duplicate"),
        ("a10101", "not a text"),
        ("62c328", "UTF-8"),
    ],
)
def test_malformed_input_raises_typed_error(hex_input: str, reason: str) -> None:
    with pytest.raises(CborError, match=reason):
        cbor.decode(bytes.fromhex(hex_input))


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    hostile = b"\x81" * 100_000 + b"\x00"  # [[[[...0...]]]]
    with pytest.raises(CborError, match="deeper"):
        cbor.decode(hostile)
    hostile_tags = b"\xd9\xd9\xf7" * 1000 + b"\x00"
    with pytest.raises(CborError, match="deeper"):
        cbor.decode(hostile_tags)
    assert cbor.decode(b"\x81" * 10 + b"\x00", max_depth=10) == [[[[[[[[[[0]]]]]]]]]]


def test_size_limit_is_checked_before_decoding() -> None:
    with pytest.raises(CborError, match="exceeds"):
        cbor.decode(b"\x40" * 11, max_size=10)


def test_encoder_refuses_what_the_ic_does_not_use() -> None:
    for value in (-1, 1.5, {1: 2}, object(), 2**64):
        with pytest.raises(CborError):
            cbor.encode(value)


def test_leb128_known_values() -> None:
    assert encode_uleb128(0) == b"\x00"
    assert encode_uleb128(624485) == bytes.fromhex("e58e26")
    assert decode_uleb128(bytes.fromhex("e58e26")) == 624485
    for n in (1, 127, 128, 2**63, 2**64 - 1, 1645601880652705378):
        assert decode_uleb128(encode_uleb128(n)) == n


@pytest.mark.parametrize("raw", ["", "80", "e58e2600", "ffffffffffffffffff7f", "8080808080808080808000"])
def test_leb128_malformed(raw: str) -> None:
    with pytest.raises(LebError):
        decode_uleb128(bytes.fromhex(raw))
