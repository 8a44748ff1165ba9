"""`submissions list` and `messages list`: rows in the SPEC's JSON shapes, and text tables."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from mailroom.store import queries
from mailroom.store.models import Message, Submission
from mailroom.vocabulary import LINKED, local_iso

Row = dict[str, Any]


def submission_row(submission: Submission, zone: ZoneInfo) -> Row:
    first = submission.duplicate_of
    linked = submission.status in LINKED and first is not None
    return {
        "number": submission.number,
        "unit": submission.unit,
        "title": submission.title,
        "sender": submission.sender,
        "received_at": local_iso(submission.received_at, zone),
        "status": submission.status,
        "duplicate_of": first.number if linked and first else None,
        "score": submission.score if linked else None,
        "priority": submission.priority,
        "attachments": [part.filename for part in submission.message.attachments],
        "warnings": list(submission.warnings),
    }


def message_row(message: Message, zone: ZoneInfo) -> Row:
    return {
        "received_at": local_iso(message.received_at, zone),
        "sender": message.sender,
        "subject": message.subject,
        "kind": message.kind,
        "number": message.submission.number if message.submission else None,
        "reason": message.reason if message.kind == "failed" else None,
        "message_id": message.message_id,
    }


def submission_rows(session: Session, month: str | None, zone: ZoneInfo) -> list[Row]:
    return [submission_row(s, zone) for s in queries.submissions(session, month)]


def message_rows(session: Session, month: str | None, zone: ZoneInfo) -> list[Row]:
    return [message_row(m, zone) for m in queries.messages(session, month, zone)]


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """`text` in exactly `width` terminal columns (CJK characters take two): cut or padded."""
    if display_width(text) > width:
        kept, used = [], 0
        for ch in text:
            if used + display_width(ch) > width - 1:
                break
            kept.append(ch)
            used += display_width(ch)
        text = "".join(kept) + "…"
    return text + " " * max(0, width - display_width(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]) -> str:
    lines = ["  ".join(_fit(h, w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(_fit(c, w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    return "\n".join(lines)


def submissions_table(rows: Sequence[Row]) -> str:
    body = [
        [r["number"], r["received_at"][:16].replace("T", " "), r["unit"] or "-", r["status"],
         r["duplicate_of"] or "-", "-" if r["score"] is None else f"{r['score']:.0f}",
         r["priority"], r["title"], str(len(r["attachments"]))]
        for r in rows
    ]
    headers = ["number", "received", "unit", "status", "dup of", "score", "priority", "title",
               "att"]
    footer = f"\n{len(rows)} submissions"
    return table(headers, body, [11, 16, 22, 10, 11, 5, 9, 50, 3]) + footer


def messages_table(rows: Sequence[Row]) -> str:
    body = [
        [r["received_at"][:16].replace("T", " "), r["kind"], r["number"] or "-",
         r["sender"], r["subject"] if r["kind"] != "failed" else f"{r['reason']}"]
        for r in rows
    ]
    headers = ["received", "kind", "number", "sender", "subject / reason"]
    return table(headers, body, [16, 10, 11, 28, 60]) + f"\n{len(rows)} messages"
