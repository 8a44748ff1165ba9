"""The console's items (blueprint `items`): the list with its filters (`GET /items`), one
item with everything the office may ask about it (`GET /items/<number>`), its attachments
(`GET /items/<number>/attachments/<id>`) and the text of each mail sent about it (`GET
/items/<number>/replies/<id>`). The office's actions on an item are in item_actions.py.

An attachment is served only when it belongs to the item named in the URL, from the file
store by the path stored for it (never a path taken from the URL). What it is, is decided
by its bytes: an image (PNG, JPEG, GIF, WebP) may be shown inline with its true type;
anything else — and an image asked for with `?download=1` — goes out as an
`application/octet-stream` download (the sender's declared type is not trusted).
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from mailroom.errors import InvalidInput
from mailroom.store.models import OutgoingMail, StoredAttachment, Submission
from mailroom.vocabulary import Priority, Status, local_minute, parse_number
from mailroom.web import item_actions
from mailroom.web.context import core, this_month, user
from mailroom.web.item_files import DOWNLOAD_TYPE, SNIFF_BYTES, disposition, image_type
from mailroom.web.item_list import NO_UNIT, ItemQuery, find_items
from mailroom.web.item_page import item_page

bp = Blueprint("items", __name__)
for rule, endpoint, view in item_actions.RULES:
    bp.add_url_rule(rule, endpoint, view, methods=["POST"])


def _canonical(number: str) -> str:
    canonical = parse_number(number)
    if canonical is None:
        abort(404)
    return canonical


@bp.get("/items")
def items() -> ResponseReturnValue:
    query = ItemQuery.parse(request.args, this_month())
    app = core()
    with app.sessions() as session:
        page = find_items(session, query, app.settings.zone,
                          tuple(unit.name for unit in app.settings.units))
    return render_template("web/items_list.html", page=page, statuses=list(Status),
                           priorities=list(Priority), no_unit=NO_UNIT)


@bp.get("/items/<number>")
def item(number: str) -> ResponseReturnValue:
    canonical = _canonical(number)
    if canonical != number:
        return redirect(url_for("items.item", number=canonical))
    app = core()
    with app.sessions() as session:
        try:
            page = item_page(session, canonical, app.files, app.settings.zone)
        except InvalidInput:
            abort(404)
    return render_template(
        "web/items_item.html", page=page, item=page.view, office=user().office,
        channels=[channel.name for channel in app.settings.adoption_channels],
        units=[unit.name for unit in app.settings.units])


@bp.get("/items/<number>/attachments/<int:attachment_id>")
def attachment(number: str, attachment_id: int) -> ResponseReturnValue:
    app = core()
    with app.sessions() as session:
        found = session.execute(
            select(StoredAttachment.filename, StoredAttachment.stored_path)
            .join(Submission, Submission.message_pk == StoredAttachment.message_pk)
            .where(Submission.number == _canonical(number),
                   StoredAttachment.id == attachment_id)).first()
    if found is None:
        abort(404)
    try:
        path = app.files.path_of(found.stored_path)
        with path.open("rb") as handle:
            kind = image_type(handle.read(SNIFF_BYTES))
    except (OSError, ValueError):
        abort(404)
    inline = kind is not None and "download" not in request.args
    response = send_file(path, mimetype=kind if inline else DOWNLOAD_TYPE, conditional=True,
                         max_age=0)
    response.headers["Content-Disposition"] = disposition(found.filename, inline=inline)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/items/<number>/replies/<int:reply_id>")
def reply(number: str, reply_id: int) -> ResponseReturnValue:
    """The text of a mail sent about the item (its receipt, a command's reply…)."""
    app = core()
    with app.sessions() as session:
        found = session.execute(
            select(OutgoingMail, Submission.title)
            .join(Submission, Submission.message_pk == OutgoingMail.source_pk)
            .where(Submission.number == _canonical(number), OutgoingMail.id == reply_id)
        ).first()
        if found is None:
            abort(404)
        mail, title = found
        shown = {"subject": mail.subject, "to": list(mail.recipients), "status": mail.status,
                 "purpose": mail.purpose, "last_error": mail.last_error,
                 "sent_at": local_minute(mail.sent_at, app.settings.zone)
                 if mail.sent_at else None, "text": _plain_text(mail.raw)}
    return render_template("web/items_reply.html", number=_canonical(number), title=title,
                           mail=shown)


def _plain_text(raw: bytes) -> str | None:
    """The plain-text part of a mail as sent; None before it is rendered (still pending)."""
    if not raw:
        return None
    parsed = message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
    part = parsed.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # a charset Python does not know: nothing to show
        return ""
    return content if isinstance(content, str) else ""
