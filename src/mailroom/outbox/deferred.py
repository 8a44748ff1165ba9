"""Outgoing mail rendered when it is sent, from what was fixed when it was decided.

Rendering a receipt (jinja2, text + HTML, MIME) cost the recording process as much as the
first-report decision (benchmarks/ingest.py). So the decision's transaction writes only
what the mail will say: the template, its facts (read from the rows as decided then), the
envelope with its Date and deterministic Message-ID; `render` turns that into bytes at
send time. The same payload always gives the same bytes, so a row resent after a crash is
the very same message; the bytes sent are then kept in the row (`raw`).

Pure: JSON in, bytes out; no session, no clock.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from mailroom.outbox import compose
from mailroom.outbox.facts import ItemRef, ReceiptFacts, RequestRef, RosterFacts

FACTS = {"receipt": ReceiptFacts, "roster": RosterFacts}
_TUPLES = ("attachments", "warnings", "rejected_by", "missing_elements")


def payload(envelope: compose.Envelope | None, template: str,
            facts: ReceiptFacts | RosterFacts, **extra: str) -> dict[str, Any]:
    """What the row stores: enough to render the mail (a robot call: no envelope), as
    JSON values."""
    data: dict[str, Any] = {
        "template": template,
        "facts_type": "receipt" if isinstance(facts, ReceiptFacts) else "roster",
        "facts": asdict(facts),
        "extra": extra,
        "envelope": None,
    }
    if envelope is None:
        return data
    thread = envelope.thread
    data["envelope"] = {
        "sender": envelope.sender, "recipients": list(envelope.recipients),
        "subject": envelope.subject, "message_id": envelope.message_id,
        "date": envelope.date.isoformat(), "auto_submitted": envelope.auto_submitted,
        "purpose": envelope.purpose,
        "thread": [thread.message_id, thread.references] if thread else None,
    }
    return data


def facts_of(data: dict[str, Any]) -> ReceiptFacts | RosterFacts:
    values = dict(data["facts"])
    if data["facts_type"] == "roster":
        return RosterFacts(**values)
    for name in _TUPLES:
        values[name] = tuple(values[name])
    for name in ("duplicate_of", "followup_of"):
        values[name] = ItemRef(**values[name]) if values[name] else None
    values["requests"] = tuple(RequestRef(**ref) for ref in values.get("requests", ()))
    return ReceiptFacts(**values)


def envelope_of(data: dict[str, Any]) -> compose.Envelope:
    env = data["envelope"]
    thread = compose.Thread(*env["thread"]) if env["thread"] else None
    return compose.Envelope(
        sender=env["sender"], recipients=tuple(env["recipients"]), subject=env["subject"],
        message_id=env["message_id"], date=datetime.fromisoformat(env["date"]),
        auto_submitted=env["auto_submitted"], purpose=env["purpose"], thread=thread)


def render(data: dict[str, Any]) -> bytes:
    """The bytes to send: a MIME message, or for the group robot its markdown."""
    facts = facts_of(data)
    template = data["template"]
    if template == "webhook":
        markdown = compose.environment().get_template("webhook.md").render(facts=facts)
        return markdown.encode("utf-8")
    text, html = compose.render(template, facts=facts, **data["extra"])
    return compose.compose(envelope_of(data), text, html)
