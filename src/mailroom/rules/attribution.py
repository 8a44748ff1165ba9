"""Whose item is a submission, and what status does it start with? (R1, R2, R7, spoofing)

Pure policy, decided before anything is written: the unit named in the subject wins; without
one, the unit the sender is registered for (R1: "no unit found → the sender's registered
unit"); without either the item is `unassigned`. A check configured to reject, or a failed
sender authentication, makes it `rejected`. The first-report judgement (R3) comes later and
may turn `counted` into `suspected` or `duplicate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mailroom.vocabulary import Status, WarningCode


@dataclass(frozen=True)
class Attribution:
    unit: str | None
    unit_source: str  # subject | sender | none (the office's `assign` later: office)
    status: Status
    warnings: tuple[str, ...]  # WarningCode values and the failed R2 checks, in order
    flag: str | None  # for the office's digest: why the sender is not believed


def attribute(
    subject_unit: str | None,
    registered_unit: str | None,
    failed_checks: Sequence[str],
    rejecting_checks: Sequence[str],
    authentication_failure: str | None,
) -> Attribution:
    """`failed_checks`: the R2 checks that failed (warnings); `rejecting_checks`: those of
    them configured to reject; `authentication_failure`: why the trusted server says the
    From domain failed, or None."""
    if subject_unit is not None:
        unit, source = subject_unit, "subject"
    elif registered_unit is not None:
        unit, source = registered_unit, "sender"
    else:
        unit, source = None, "none"
    warnings = list(failed_checks)
    if source == "sender":
        warnings.append(WarningCode.UNIT_FROM_SENDER)
    if unit is None:
        warnings.append(WarningCode.NO_UNIT)
    if registered_unit is None:
        warnings.append(WarningCode.UNKNOWN_SENDER)
    flag = None
    if authentication_failure:  # no credit and no receipt: a forger gets nothing back
        warnings.append(WarningCode.SENDER_AUTHENTICATION_FAILED)
        flag = f"{WarningCode.SENDER_AUTHENTICATION_FAILED}: {authentication_failure}"
    if rejecting_checks or authentication_failure:
        status = Status.REJECTED
    else:
        status = Status.COUNTED if unit else Status.UNASSIGNED
    return Attribution(unit, source, status, tuple(str(w) for w in warnings), flag)
