"""What the console's item page shows (`GET /items/<number>`), read from the database:
everything `submissions show` gives (showing.submission_view, reused as it is), plus what
a page needs besides — each attachment's id and whether its bytes are an image, the id of
each reply (to open its text), the item the verdict matched with both texts side by side
(web/highlight.py), and which of the office's actions apply to the item as it stands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailroom import showing
from mailroom.dedupe.extract import TextLimits, extract_text, kind_of
from mailroom.digest.records import MAX_TEXT
from mailroom.store.files import FileStore
from mailroom.store.models import DedupeText, OutgoingMail, StoredAttachment, Submission
from mailroom.vocabulary import COUNTING, JUDGED, LINKED, Status
from mailroom.web.highlight import SideBySide, compared_text, is_cover_note, side_by_side
from mailroom.web.item_files import SNIFF_BYTES, image_type

View = dict[str, Any]
READ_LIMITS = TextLimits(max_bytes=5_000_000, max_inflated=20_000_000, max_chars=MAX_TEXT)
_IN_PROCESS = frozenset({"docx", "txt"})


@dataclass(frozen=True)
class Matched:
    """The item the verdict measured this one against, and the two texts side by side."""

    view: View  # its submission_view
    pair: SideBySide


@dataclass(frozen=True)
class ItemPage:
    view: View  # showing.submission_view, with "id" and "image" added to each attachment
    replies: list[View]  # the view's replies, each with its outbox "id"
    matched: Matched | None
    can_credit: bool  # adoption and 批示 apply (the item counts)
    can_assign: bool  # unassigned
    can_review: bool  # judged: may be confirmed a duplicate or not
    review_of: str | None  # the item a "duplicate" review names (its first report)
    attachment_text: str = ""  # the .docx / .txt text when the body is only a cover note


def item_page(session: Session, number: str, files: FileStore, zone: ZoneInfo) -> ItemPage:
    """The page of item `number`; showing.find's InvalidInput when there is none."""
    item = showing.find(session, number)
    view = showing.submission_view(session, item.number, files, zone)
    rows = session.scalars(select(StoredAttachment).where(
        StoredAttachment.message_pk == item.message_pk).order_by(StoredAttachment.position))
    view["attachments"] = [dict(shown, id=row.id, image=_image(files, row.stored_path))
                           for shown, row in zip(view["attachments"], rows, strict=False)]
    ids = session.scalars(select(OutgoingMail.id).where(
        OutgoingMail.source_pk == item.message_pk).order_by(OutgoingMail.id))
    replies = [dict(reply, id=pk) for reply, pk in zip(view["replies"], ids, strict=False)]
    status = item.status
    first = view["verdict"]["duplicate_of"] or view["verdict"]["matched"]
    return ItemPage(
        view, replies, _matched(session, item, view["text"], files, zone),
        can_credit=status in COUNTING, can_assign=status == Status.UNASSIGNED,
        can_review=status in JUDGED and first is not None,
        review_of=first if status in LINKED or first else None,
        attachment_text=_readable(session, files, item.id) if is_cover_note(view["text"])
        else "")


def _image(files: FileStore, stored_path: str) -> str | None:
    try:
        with files.path_of(stored_path).open("rb") as handle:
            return image_type(handle.read(SNIFF_BYTES))
    except (OSError, ValueError):
        return None


def _readable(session: Session, files: FileStore, submission_pk: int) -> str:
    """The text of an item's .docx / .txt attachments, read as dedupe reads them (bounded:
    READ_LIMITS); what would need a subprocess or a PDF parser in a web request (.doc,
    .wps, .pdf) is left to the compacted copy dedupe keeps."""
    rows = session.execute(
        select(StoredAttachment.filename, StoredAttachment.content_type,
               StoredAttachment.stored_path)
        .join(Submission, Submission.message_pk == StoredAttachment.message_pk)
        .where(Submission.id == submission_pk).order_by(StoredAttachment.position)).all()
    texts = []
    for filename, content_type, stored_path in rows:
        if kind_of(filename, content_type) not in _IN_PROCESS:
            continue
        try:
            payload = files.read(stored_path)
        except (OSError, ValueError):
            continue
        texts.append(extract_text(filename, content_type, payload, READ_LIMITS).text.strip())
    return "\n".join(text for text in texts if text)


def _matched(session: Session, item: Submission, text: str | None, files: FileStore,
             zone: ZoneInfo) -> Matched | None:
    other_pk = item.matched_id or (item.duplicate_of_id if item.status in LINKED else None)
    other = session.get(Submission, other_pk) if other_pk else None
    if other is None:
        return None
    other_view = showing.submission_view(session, other.number, files, zone)
    attached = dict(session.execute(select(DedupeText.submission_id, DedupeText.content).where(
        DedupeText.submission_id.in_([item.id, other.id]),
        DedupeText.source.like("%attachment%"))).all())
    readable = {pk: _readable(session, files, pk) for pk in attached}
    detail = item.match_detail or {}
    stored = [(str(p[0]), str(p[1])) for p in detail.get("passages", ()) or ()
              if isinstance(p, list | tuple) and len(p) >= 2]
    pair = side_by_side(
        compared_text(text, attached.get(item.id), readable.get(item.id, "")),
        compared_text(other_view["text"], attached.get(other.id), readable.get(other.id, "")),
        stored)
    return Matched(other_view, pair)
