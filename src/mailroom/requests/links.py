"""The requests a submission is linked to, as its receipt and `submissions show` say it
(only the store: outbox/outgoing.py reads it when it fixes a receipt's facts)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailroom.store.models import Request, RequestLink, RequestUnit


@dataclass(frozen=True)
class Linked:
    """A submission's link to a request."""

    code: str
    title: str
    how: str  # code | reply | title
    asked: bool  # the submission's unit is one the request asked


def links_of(session: Session, submission_pk: int, unit: str | None) -> list[Linked]:
    """The requests a submission answers, and whether its unit (as given) was asked."""
    rows = session.execute(
        select(Request.id, Request.code, Request.title, RequestLink.how)
        .join(RequestLink, RequestLink.request_id == Request.id)
        .where(RequestLink.submission_id == submission_pk).order_by(Request.code)).all()
    if not rows:
        return []
    asked = {(pk, name) for pk, name in session.execute(
        select(RequestUnit.request_id, RequestUnit.unit)
        .where(RequestUnit.request_id.in_([row.id for row in rows])))}
    return [Linked(row.code, row.title, row.how, (row.id, unit) in asked) for row in rows]
