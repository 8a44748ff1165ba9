"""Whose item a submission is and the status it starts with (rules/attribution.py): pure."""

from __future__ import annotations

from mailroom.rules.attribution import attribute
from mailroom.vocabulary import Status, WarningCode


def test_the_subjects_unit_wins_over_the_senders() -> None:
    got = attribute("耕地保护股", "办公室", (), (), None)
    assert (got.unit, got.unit_source, got.status, got.warnings) == (
        "耕地保护股", "subject", Status.COUNTED, ())


def test_without_a_unit_in_the_subject_the_registered_unit_counts_with_a_warning() -> None:
    got = attribute(None, "办公室", (), (), None)
    assert (got.unit, got.unit_source, got.status) == ("办公室", "sender", Status.COUNTED)
    assert got.warnings == (WarningCode.UNIT_FROM_SENDER,)


def test_neither_gives_an_unassigned_item_from_an_unknown_sender() -> None:
    got = attribute(None, None, ("signed_scan",), (), None)
    assert (got.unit, got.unit_source, got.status) == (None, "none", Status.UNASSIGNED)
    assert got.warnings == ("signed_scan", WarningCode.NO_UNIT, WarningCode.UNKNOWN_SENDER)


def test_an_unknown_sender_naming_a_unit_counts_and_is_flagged_unknown() -> None:
    got = attribute("耕地保护股", None, (), (), None)
    assert got.status == Status.COUNTED and got.warnings == (WarningCode.UNKNOWN_SENDER,)


def test_a_rejecting_check_rejects_even_an_item_without_a_unit() -> None:
    got = attribute(None, None, ("signed_scan", "attachment_name"), ("signed_scan",), None)
    assert got.status == Status.REJECTED and got.flag is None


def test_failed_authentication_rejects_and_flags_for_the_office() -> None:
    got = attribute("耕地保护股", "耕地保护股", (), (), "dmarc=fail for example.cn")
    assert got.status == Status.REJECTED
    assert got.warnings == (WarningCode.SENDER_AUTHENTICATION_FAILED,)
    assert got.flag == "sender_authentication_failed: dmarc=fail for example.cn"
    assert all(type(code) is str for code in got.warnings)  # stored as JSON strings
