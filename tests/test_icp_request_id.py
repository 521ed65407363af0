"""Request ids (representation-independent hash) against the IC interface specification's example."""

from __future__ import annotations

import hashlib

import pytest

from node.chains.icp.errors import RequestIdError
from node.chains.icp.request_id import (
    REQUEST_DOMAIN,
    hash_value,
    request_id,
    signable,
)

SPEC_CONTENT = {
    "request_type": "call",
    "canister_id": bytes.fromhex("00000000000004D2"),
    "method_name": "hello",
    "arg": b"DIDL\x00\xfd*",
}


def test_interface_spec_example() -> None:
    # IC interface specification, "Request ids": the example content and its id
    assert request_id(SPEC_CONTENT).hex() == "8781291c347db32a9d8c10eb62b710fce5a93be676474c42babc74c51858f94b"


def test_spec_example_field_hashes() -> None:
    assert hash_value("hello").hex() == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert hash_value(b"DIDL\x00\xfd*").hex() == "6c0b2ae49718f6995c02ac5700c9c789d7b7862a0d53e6d40a73f1fcd2f70189"
    assert hash_value(624485) == hashlib.sha256(bytes.fromhex("e58e26")).digest()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # read_state contents (arrays of arrays of blobs); the same ids as aviate-labs/agent-go's tests
        ({"sender": bytes.fromhex("00000000000004D2"), "paths": [[], [b""], [b"hello", b"world"]]},
         "97d6f297aea699aec85d3377c7643ea66db810aba5c4372fbc2082c999f452dc"),
        ({"paths": []}, "99daa8c80a61e87ac1fdf9dd49e39963bfe4dafb2a45095ebf4cad72d916d5be"),
        ({"paths": [[]]}, "ea01a9c3d3830db108e0a87995ea0d4183dc9c6e51324e9818fced5c57aa64f5"),
    ],
)
def test_nested_arrays(content: dict, expected: str) -> None:
    assert request_id(content).hex() == expected


def test_independent_of_field_order_and_of_absent_fields() -> None:
    reordered = dict(reversed(list(SPEC_CONTENT.items())))
    assert request_id(reordered) == request_id(SPEC_CONTENT)
    assert request_id({**SPEC_CONTENT, "nonce": None}) == request_id(SPEC_CONTENT)
    assert request_id({**SPEC_CONTENT, "nonce": b"\x01"}) != request_id(SPEC_CONTENT)
    assert request_id({**SPEC_CONTENT, "arg": b"DIDL\x00\x00"}) != request_id(SPEC_CONTENT)


def test_signable_has_the_request_domain_separator() -> None:
    assert REQUEST_DOMAIN == b"\x0aic-request"
    assert signable(SPEC_CONTENT) == b"\x0aic-request" + request_id(SPEC_CONTENT)


@pytest.mark.parametrize("value", [-1, True, 1.5, object(), {1: b""}])
def test_values_without_a_hash_are_refused(value: object) -> None:
    with pytest.raises(RequestIdError):
        request_id({"x": value})


def test_nesting_is_bounded() -> None:
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(RequestIdError, match="deeper"):
        request_id({"paths": deep})
