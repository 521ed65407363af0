"""Report semantics of ``zkxai verify``: three-valued checks, FAIL codes take precedence over UNPINNED."""

from __future__ import annotations

import pytest

from node.verify.report import (
    EXIT_ATTESTER_MISMATCH,
    EXIT_MODEL_MISMATCH,
    EXIT_OK,
    EXIT_UNPINNED,
    Check,
    Report,
    Status,
)


def test_all_pass_is_valid() -> None:
    report = Report("0x01")
    report.add("record", True, "in the pinned registry")
    report.add("attester", True, "pinned")
    assert report.ok and report.verdict == "VALID" and report.exit_code == EXIT_OK and report.unpinned == []


def test_unpinned_is_never_valid() -> None:
    report = Report("0x01")
    report.add_unpinned("record", "named by the bundle only")
    report.add("proof", True, "pairing check passed")
    assert not report.ok and report.verdict == "UNPINNED" and report.exit_code == EXIT_UNPINNED
    out = report.to_json()
    assert out["unpinned"] == ["record"]
    assert out["checks"][0] == {"name": "record", "status": "unpinned", "ok": False, "detail": "named by the bundle only"}


@pytest.mark.parametrize("order", ["fail_first", "unpinned_first"])
def test_fail_takes_precedence_over_unpinned(order: str) -> None:
    report = Report("0x01")
    if order == "unpinned_first":
        report.add_unpinned("vk", "read from an unpinned registry")
    report.add("attester", False, "not a pinned attester")
    report.add("model", False, "other model")
    if order == "fail_first":
        report.add_unpinned("vk", "read from an unpinned registry")
    assert report.verdict == "INVALID" and report.exit_code == EXIT_ATTESTER_MISMATCH != EXIT_MODEL_MISMATCH


def test_check_is_frozen_and_typed() -> None:
    check = Check("record", Status.UNPINNED, "x")
    assert not check.ok and Check("record", Status.PASS, "x").ok
    with pytest.raises(AttributeError):
        check.status = Status.PASS  # type: ignore[misc]
