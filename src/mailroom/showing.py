"""`submissions show NUMBER`: one item with all the office may ask about it — its text,
attachments, first-report verdict, every decision on it, its adoptions and 批示, its
follow-up links, the 约稿 requests it answers (R14) and the replies sent to its mail (SPEC
"Command line"); as a JSON object
(`submission_view`) and as text (`submission_text`).

The text is the body of the raw mail as kept in the file store, parsed again
(parsing.letter.parse_letter): the database keeps only the normalised copy dedupe compares.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailroom.errors import InvalidInput
from mailroom.parsing.letter import parse_letter
from mailroom.requests.links import links_of
from mailroom.store.files import FileStore
from mailroom.store.models import (
    Adoption,
    Decision,
    DedupeReview,
    Instruction,
    Message,
    OutgoingMail,
    Submission,
)
from mailroom.vocabulary import LINKED, local_iso, parse_number

View = dict[str, Any]


def find(session: Session, number: str) -> Submission:
    canonical = parse_number(number) or number
    found = session.scalars(select(Submission).where(Submission.number == canonical)).first()
    if found is None:
        raise InvalidInput(f"no submission numbered {canonical}")
    return found


def submission_view(session: Session, number: str, files: FileStore, zone: ZoneInfo) -> View:
    """The item `number` as one JSON-ready object (the shape is in the README)."""
    item = find(session, number)
    message = item.message
    text, text_error = _text(files, message)
    return {
        "number": item.number, "unit": item.unit, "unit_source": item.unit_source,
        "title": item.title, "subject": message.subject, "sender": item.sender,
        "message_id": message.message_id, "received_at": local_iso(item.received_at, zone),
        "month": item.month, "status": item.status, "priority": item.priority,
        "warnings": list(item.warnings), "text": text, "text_error": text_error,
        "attachments": [{"filename": part.filename, "content_type": part.content_type,
                         "size": part.size, "path": str(files.path_of(part.stored_path))}
                        for part in message.attachments],
        "verdict": _verdict(session, item, zone),
        "adoptions": [{"channel": a.channel, "note": a.note, "by": a.by,
                       "at": local_iso(a.at, zone)} for a in session.scalars(
            select(Adoption).where(Adoption.submission_id == item.id)
            .order_by(Adoption.at, Adoption.id))],
        "instructions": [{"leader": i.leader, "text": i.text, "by": i.by,
                          "at": local_iso(i.at, zone)} for i in session.scalars(
            select(Instruction).where(Instruction.submission_id == item.id)
            .order_by(Instruction.at, Instruction.id))],
        "decisions": _decisions(session, item, zone),
        "followup": item.followup,
        "followup_of": _number(session, item.followup_of_id),
        "followups": list(session.scalars(select(Submission.number).where(
            Submission.followup_of_id == item.id).order_by(Submission.received_at,
                                                           Submission.id))),
        "requests": [{"code": link.code, "title": link.title, "how": link.how,
                      "asked": link.asked} for link in links_of(session, item.id, item.unit)],
        "replies": [{"purpose": r.purpose, "to": list(r.recipients), "subject": r.subject,
                     "status": r.status, "sent_at": local_iso(r.sent_at, zone)
                     if r.sent_at else None} for r in session.scalars(
            select(OutgoingMail).where(OutgoingMail.source_pk == message.id)
            .order_by(OutgoingMail.id))],
    }


def _number(session: Session, pk: int | None) -> str | None:
    if pk is None:
        return None
    return session.scalar(select(Submission.number).where(Submission.id == pk))


def _text(files: FileStore, message: Message) -> tuple[str | None, str | None]:
    try:
        raw = files.read(message.raw_path)
    except (OSError, ValueError) as exc:
        return None, f"the raw mail {message.raw_path} cannot be read: {exc}"
    return parse_letter(raw, message.received_at).body, None


def _verdict(session: Session, item: Submission, zone: ZoneInfo) -> View:
    linked = item.status in LINKED and item.duplicate_of_id is not None
    last = session.scalars(select(DedupeReview).where(DedupeReview.submission_id == item.id)
                           .order_by(DedupeReview.id.desc())).first()
    return {
        "status": item.status,
        "duplicate_of": _number(session, item.duplicate_of_id) if linked else None,
        "score": item.score,
        "matched": _number(session, item.matched_id),
        "part": item.match_part,
        "match_detail": item.match_detail,
        "review": None if last is None else {
            "decision": last.decision, "by": last.by, "at": local_iso(last.at, zone),
            "previous_status": last.previous_status},
    }


def _decisions(session: Session, item: Submission, zone: ZoneInfo) -> list[View]:
    rows = session.execute(
        select(Decision, Message).outerjoin(Message, Message.id == Decision.message_pk)
        .where(Decision.submission_id == item.id).order_by(Decision.at, Decision.id))
    return [{"action": d.action, "detail": d.detail, "by": d.by, "at": local_iso(d.at, zone),
             "source": d.source,
             "message": None if m is None else {
                 "message_id": m.message_id, "sender": m.sender, "subject": m.subject,
                 "received_at": local_iso(m.received_at, zone)}}
            for d, m in rows]


# --- as text ---------------------------------------------------------------------------


def decision_summary(action: str, detail: dict[str, Any]) -> str:
    """One decision's facts in a few words (English, the values as recorded)."""
    if action in ("adopt", "unadopt"):
        note = f" ({detail['note']})" if detail.get("note") else ""
        return f"{detail.get('channel', '')}{note}"
    if action == "instruct":
        text = f": {detail['text']}" if detail.get("text") else ""
        return f"批示 of {detail.get('leader', '')}{text}"
    status = str(detail.get("status", ""))
    of = f" of {detail['duplicate_of']}" if detail.get("duplicate_of") else ""
    unit = f"to {detail['unit']}: " if action == "assign" else ""
    return f"{unit}{detail.get('previous_status', '')} -> {status}{of}"


def submission_text(view: View) -> str:
    lines = [f"{view['number']}  {view['title']}"]
    source = {"subject": "from the subject", "sender": "the sender's unit",
              "office": "assigned by the office"}.get(view["unit_source"], "")
    fields = [
        ("unit", f"{view['unit'] or '(unassigned)'}{f'  ({source})' if source else ''}"),
        ("sender", view["sender"]),
        ("received", f"{view['received_at'][:16].replace('T', ' ')}  (month {view['month']})"),
        ("subject", view["subject"]), ("priority", view["priority"]),
        ("verdict", _verdict_line(view["verdict"])),
        ("warnings", ", ".join(view["warnings"]) or "-"),
        ("follow-up of", view["followup_of"] or "-"),
        ("follow-ups", ", ".join(view["followups"]) or "-"),
    ]
    lines += [f"  {label:<13}{value}" for label, value in fields]
    lines += _section("attachments", [
        f"{a['filename']}  ({a['content_type']}, {a['size']} bytes)  {a['path']}"
        for a in view["attachments"]])
    lines += _section("adoptions", [
        f"{a['channel']}  by {a['by']}, {a['at'][:16].replace('T', ' ')}"
        f"{'  ' + a['note'] if a['note'] else ''}" for a in view["adoptions"]])
    lines += _section("instructions (批示)", [
        f"{i['leader']}{'：' + i['text'] if i['text'] else ''}  (recorded by {i['by']}, "
        f"{i['at'][:16].replace('T', ' ')})" for i in view["instructions"]])
    lines += _section("decisions", [
        f"{d['at'][:16].replace('T', ' ')}  {d['action']:<9} "
        f"{decision_summary(d['action'], d['detail'])}  by {d['by']} ({_came(d)})"
        for d in view["decisions"]])
    lines += _section("replies", [
        f"{r['purpose']} to {', '.join(r['to'])}: {r['status']}"
        f"{' ' + r['sent_at'][:16].replace('T', ' ') if r['sent_at'] else ''}"
        for r in view["replies"]])
    lines += _section("requests (约稿)", [
        f"{q['code']}  《{q['title']}》  (by {q['how']}{'' if q['asked'] else '; unit not asked'})"
        for q in view["requests"]])
    body = view["text"] if view["text"] is not None else f"({view['text_error']})"
    lines += ["", "text:", *(f"  {line}" for line in (body.strip() or "(empty)").splitlines())]
    return "\n".join(lines)


def _verdict_line(verdict: View) -> str:
    line = str(verdict["status"])
    if verdict["duplicate_of"]:
        line += f" of {verdict['duplicate_of']}"
    if verdict["score"] is not None and verdict["matched"]:
        against = "" if verdict["matched"] == verdict["duplicate_of"] \
            else f" against {verdict['matched']}"
        line += f", score {verdict['score']:.1f}{against}"
        if verdict["part"]:
            line += f" ({verdict['part']})"
    review = verdict["review"]
    if review:
        line += f"; reviewed {review['decision']} by {review['by']}, " \
                f"{review['at'][:16].replace('T', ' ')}"
    return line


def _came(decision: View) -> str:
    message = decision["message"]
    if message is None:
        return str(decision["source"])
    return f"{decision['source']} from {message['sender']}, <{message['message_id']}>"


def _section(title: str, rows: list[str]) -> list[str]:
    return ["", f"{title}:", *(f"  {row}" for row in rows or ["-"])]
