"""What is new since the last digest sent, read from the database in a few set-based
queries (no query per item) and returned as plain values (digest/values.py's records).

"New" is kept in the `digests` table (store/models.DigestSent): each digest sent records the
high-water marks of the rows it *read* — the highest message pk and decision id — never a
time from the clock, so a mail recorded while a digest is built is simply above the mark
and shown in the next one. On PostgreSQL ids come from a sequence and a transaction may
commit after one with a higher id: the ids below a new mark that were not seen are kept as
*gaps* and read by the next digest too; a gap still empty after `GAP_HOURS` is an id whose
transaction rolled back and is forgotten. Verdict changes are marked one by one instead
(`VerdictChange.reported`, set by the digest that shows them). Every later query keeps only
what belongs to the messages the first one read, so the rows of one digest agree even
under READ COMMITTED.

Each item's text is its mail's body, read from the raw mail in the file store and parsed
again (as `submissions show` does); when the body is only a cover note ("详见附件", a
greeting and a signature: under `COVER_NOTE` characters of content) and dedupe compared the
attachments' text, that text as dedupe keeps it (its sentences, compacted: no punctuation
inside a sentence), so the office sees what was matched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from mailroom.dedupe.normalize import clean_text, compact
from mailroom.digest.build import text_wanted
from mailroom.digest.values import ChangeRow, DecisionRow, ItemRow, MailRow, Records
from mailroom.outbox.outgoing import COMMAND_PURPOSE
from mailroom.parsing.letter import parse_letter
from mailroom.rules.confirmation import REQUEST_PURPOSE
from mailroom.store.files import FileStore
from mailroom.store.models import (
    Decision,
    DedupeText,
    DigestSent,
    Message,
    OutgoingMail,
    StoredAttachment,
    Submission,
    VerdictChange,
)
from mailroom.vocabulary import Kind, local_minute

GAP_HOURS = 6  # a gap no row filled for this long is a rolled-back id
MAX_GAPS = 1000
MAX_TEXT = 5000  # characters of a body kept (the excerpt and the matched passages)
RECEIPT_PURPOSE = "receipt"
COVER_NOTE = 60  # compacted characters of content a body needs not to be a cover note

# what templates/_words.j2 `done` reads of a decision's detail: a row written by older code
# (or by hand) without one of them must not stop the digest
_DECISION_DEFAULTS = {"channel": "", "note": "", "leader": "", "text": "", "status": "",
                      "previous_status": "", "duplicate_of": None}

Gaps = tuple[tuple[int, str], ...]  # (id, first seen, ISO 8601)


@dataclass(frozen=True)
class Marks:
    """Where the last digest sent left off (all zero: no digest yet)."""

    sequence: int = 0
    sent_at: datetime | None = None
    message_pk: int = 0
    decision_id: int = 0
    message_gaps: Gaps = ()
    decision_gaps: Gaps = ()


@dataclass(frozen=True)
class Read:
    """The records, and what a digest of them marks as shown."""

    records: Records
    marks: Marks  # the marks after these records (sequence and sent_at still the last's)
    change_ids: tuple[int, ...]


def last_marks(session: Session) -> Marks:
    last = session.scalars(select(DigestSent).order_by(DigestSent.sequence.desc()).limit(1)).first()
    if last is None:
        return Marks()
    return Marks(last.sequence, last.sent_at, last.last_message_pk, last.last_decision_id,
                 _gaps(last.message_gaps), _gaps(last.decision_gaps))


def _gaps(value: Any) -> Gaps:
    return tuple((int(pk), str(seen)) for pk, seen in value or ())


def _after(column: InstrumentedAttribute[Any], mark: int, gaps: Gaps) -> ColumnElement[bool]:
    if gaps:
        return or_(column > mark, column.in_([pk for pk, _ in gaps]))
    return column > mark


def _next_gaps(mark: int, gaps: Gaps, seen: set[int], now: datetime) -> tuple[int, Gaps]:
    """The new mark and the gaps below it still to be read."""
    new_mark = max(seen | {mark})
    oldest = (now - timedelta(hours=GAP_HOURS)).isoformat()
    kept = [(pk, at) for pk, at in gaps if pk not in seen and at >= oldest]
    fresh = [(pk, now.isoformat()) for pk in range(mark + 1, new_mark) if pk not in seen]
    return new_mark, tuple((kept + fresh)[-MAX_GAPS:])


def read_new(session: Session, files: FileStore, zone: ZoneInfo, now: datetime) -> Read:
    """Everything new since the last digest sent."""
    marks = last_marks(session)
    local = LocalTimes(zone)
    after_mail = _after(Message.id, marks.message_pk, marks.message_gaps)
    mails = session.execute(
        select(Message.id, Message.kind, Message.sender, Message.subject,
               Message.received_at, Message.reason)
        .where(after_mail).order_by(Message.id)).all()
    mail_pks = {row.id for row in mails}
    details: dict[int, Any] = {  # only command mails' detail is shown
        pk: detail for pk, detail in session.execute(
            select(Message.id, Message.detail)
            .where(after_mail, Message.kind == Kind.COMMAND))}
    replies = _replies(session, _after(OutgoingMail.source_pk, marks.message_pk,
                                       marks.message_gaps), mail_pks)
    sources: dict[int, RawSource] = {}
    items = [row for row in item_rows(session, after_mail, local, sources)
             if row[0] in mail_pks]
    changes = session.execute(
        select(VerdictChange).where(VerdictChange.reported == false())
        .order_by(VerdictChange.id)).scalars().all()
    decisions = session.execute(
        select(Decision.id, Decision.action, Decision.detail, Decision.by, Decision.at,
               Decision.source, Submission.number, Submission.title, Submission.unit,
               Message.subject)
        .join(Submission, Submission.id == Decision.submission_id)
        .outerjoin(Message, Message.id == Decision.message_pk)
        .where(_after(Decision.id, marks.decision_id, marks.decision_gaps))
        .order_by(Decision.id)).all()
    new_items = tuple(item for _, item in items)
    others = _others(session, local, new_items, changes, sources)
    receipts = sum(1 for pk, purpose, _ in replies if purpose == RECEIPT_PURPOSE)
    reply_subjects = {pk: subject for pk, purpose, subject in replies
                      if purpose in (COMMAND_PURPOSE, REQUEST_PURPOSE)}
    records = Records(
        since=local(marks.sent_at) if marks.sent_at else None,
        mails=tuple(MailRow(row.id, row.kind, row.sender, row.subject,
                            local(row.received_at), row.reason,
                            dict(details.get(row.id) or {}),
                            reply_subjects.get(row.id)) for row in mails),
        items=tuple(sorted(new_items, key=lambda item: item.number)),
        others=others,
        changes=tuple(ChangeRow(c.id, c.submission_id, c.caused_by_id, c.previous_status,
                                c.previous_duplicate_of_id, c.status, c.duplicate_of_id)
                      for c in changes),
        decisions=tuple(DecisionRow(d.id, d.number, d.title, d.unit, d.action,
                                    {**_DECISION_DEFAULTS, "title": d.title, "unit": d.unit,
                                     **dict(d.detail or {})},
                                    d.by, local(d.at), d.source, d.subject)
                        for d in decisions),
        receipts=receipts)
    records = with_texts(session, records, files, sources)
    message_pk, message_gaps = _next_gaps(marks.message_pk, marks.message_gaps, mail_pks, now)
    decision_id, decision_gaps = _next_gaps(
        marks.decision_id, marks.decision_gaps, {row.id for row in decisions}, now)
    after = Marks(marks.sequence, marks.sent_at, message_pk, decision_id, message_gaps,
                  decision_gaps)
    return Read(records, after, tuple(c.id for c in changes))


class LocalTimes:
    """Instants as the office reads them: local, to the minute (also for /decide)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def __call__(self, instant: datetime) -> str:
        return local_minute(instant, self.zone)


def _replies(session: Session, where: ColumnElement[bool], mail_pks: set[int]
             ) -> list[tuple[int, str, str]]:
    rows = session.execute(
        select(OutgoingMail.source_pk, OutgoingMail.purpose, OutgoingMail.subject)
        .where(where, OutgoingMail.purpose.in_((RECEIPT_PURPOSE, COMMAND_PURPOSE,
                                                REQUEST_PURPOSE)))
        .order_by(OutgoingMail.id)).all()
    return [(int(pk), purpose, subject) for pk, purpose, subject in rows if pk in mail_pks]


@dataclass(frozen=True)
class RawSource:
    """Where an item's text comes from (read only for the items the digest shows)."""

    raw_path: str
    received_at: datetime


_ITEM_COLUMNS = (Submission.id, Submission.message_pk, Submission.number, Submission.unit,
                 Submission.title, Submission.sender, Submission.received_at,
                 Submission.status, Submission.priority, Submission.warnings,
                 Submission.followup, Submission.duplicate_of_id, Submission.score,
                 Submission.match_part, Submission.match_detail, Message.raw_path)


def item_rows(session: Session, where: ColumnElement[bool], local: LocalTimes,
              sources: dict[int, RawSource]) -> list[tuple[int, ItemRow]]:
    """(message pk, item, text not read yet) of the submissions whose message matches
    `where`; where each one's text is, in `sources`. Plain rows, not ORM objects: a first
    digest may read a whole backlog."""
    rows = session.execute(
        select(*_ITEM_COLUMNS).join(Message, Message.id == Submission.message_pk)
        .where(where).order_by(Submission.id)).all()
    names = _attachment_names(session, [row.message_pk for row in rows])
    for row in rows:
        sources[row.id] = RawSource(row.raw_path, row.received_at)
    return [(row.message_pk, _item(row, names.get(row.message_pk, ()), local)) for row in rows]


def with_texts(session: Session, records: Records, files: FileStore,
               sources: dict[int, RawSource]) -> Records:
    """`records` with the text of each item the digest shows (build.text_wanted) read."""
    wanted = text_wanted(records)
    from_attachments = _attachment_texts(session, sorted(wanted))

    def read(row: ItemRow) -> ItemRow:
        source = sources.get(row.pk)
        if row.pk not in wanted or source is None:
            return row
        text, text_from = _body(files, source.raw_path, source.received_at), "body"
        attached = from_attachments.get(row.pk)
        if attached and len(compact(clean_text(text))) < COVER_NOTE < len(attached):
            text, text_from = attached, "attachment"
        return replace(row, text=text, text_from=text_from)

    return replace(records, items=tuple(read(row) for row in records.items),
                   others={pk: read(row) for pk, row in records.others.items()})


def _attachment_texts(session: Session, pks: Sequence[int]) -> dict[int, str]:
    """The text dedupe compared, per item (sentences, compacted), for items whose body
    turns out to be a cover note."""
    found: dict[int, str] = {}
    for start in range(0, len(pks), 500):
        for pk, content in session.execute(
                select(DedupeText.submission_id, DedupeText.content)
                .where(DedupeText.submission_id.in_(pks[start:start + 500]),
                       DedupeText.source.like("%attachment%"))):
            found[pk] = "".join(f"{line}。" for line in content.split("\n") if line)
    return found


def _attachment_names(session: Session, message_pks: Sequence[int]
                      ) -> dict[int, tuple[str, ...]]:
    names: dict[int, list[str]] = {}
    for start in range(0, len(message_pks), 500):  # bounded IN lists
        chunk = message_pks[start:start + 500]
        for pk, filename in session.execute(
                select(StoredAttachment.message_pk, StoredAttachment.filename)
                .where(StoredAttachment.message_pk.in_(chunk))
                .order_by(StoredAttachment.message_pk, StoredAttachment.position)):
            names.setdefault(pk, []).append(filename)
    return {pk: tuple(found) for pk, found in names.items()}


def _item(item: Any, attachments: tuple[str, ...], local: LocalTimes) -> ItemRow:
    detail = item.match_detail or {}
    stored = tuple((str(p[0]), str(p[1])) for p in detail.get("passages", ()) or ()
                   if isinstance(p, list | tuple) and len(p) >= 2)
    return ItemRow(
        pk=item.id, number=item.number, unit=item.unit, title=item.title, sender=item.sender,
        received_at=local(item.received_at), status=item.status, priority=item.priority,
        text="", attachments=attachments, warnings=tuple(item.warnings or ()),
        followup=item.followup, duplicate_of_pk=item.duplicate_of_id, score=item.score,
        match_part=item.match_part, stored_passages=stored)


def _body(files: FileStore, raw_path: str, received_at: datetime) -> str:
    try:
        raw = files.read(raw_path)
    except (OSError, ValueError):
        return ""
    return parse_letter(raw, received_at).body[:MAX_TEXT]


def _others(session: Session, local: LocalTimes, items: Iterable[ItemRow],
            changes: Sequence[VerdictChange], sources: dict[int, RawSource]
            ) -> dict[int, ItemRow]:
    """The submissions the new records point to: first reports, changed items (and theirs)."""
    wanted: set[int | None] = {item.duplicate_of_pk for item in items}
    for change in changes:
        wanted |= {change.submission_id, change.caused_by_id, change.previous_duplicate_of_id,
                   change.duplicate_of_id}
    found: dict[int, ItemRow] = {}
    for _ in range(2):  # a changed item's current first report: one step further
        missing = sorted(pk for pk in wanted if pk and pk not in found)
        if not missing:
            break
        for _, row in item_rows(session, Submission.id.in_(missing), local, sources):
            found[row.pk] = row
        wanted = {row.duplicate_of_pk for row in found.values()}
    return found
