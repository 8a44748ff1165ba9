"""The requests a submission is linked to, as its receipt and `submissions show` say it
(only the store: outbox/outgoing.py reads it when it fixes a receipt's facts)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mailroom.store.models import Base, Request, RequestLink, RequestUnit


@dataclass(frozen=True)
class Linked:
    """A submission's link to a request."""

    code: str
    title: str
    how: str  # code | reply | title
    asked: bool  # the submission's unit is one the request asked


def links_of(session: Session, submission_pk: int, unit: str | None) -> list[Linked]:
    """The requests a submission answers, and whether its unit (as given) was asked."""
    connection = session.connection()
    rows = connection.execute(_LINKS, {"submission": submission_pk}).all()
    if not rows:
        return []
    asked = {(pk, name) for pk, name in connection.execute(
        _ASKED, {"ids": [row.id for row in rows]})}
    return [Linked(row.code, row.title, row.how, (row.id, unit) in asked) for row in rows]


# Built once, run through Core: every receipt queued asks (benchmarks/ingest.py).
_REQUESTS, _LINKED, _UNITS = (Base.metadata.tables[model.__tablename__]
                              for model in (Request, RequestLink, RequestUnit))
_LINKS = select(_REQUESTS.c.id, _REQUESTS.c.code, _REQUESTS.c.title, _LINKED.c.how) \
    .join(_LINKED, _LINKED.c.request_id == _REQUESTS.c.id) \
    .where(_LINKED.c.submission_id == bindparam("submission")).order_by(_REQUESTS.c.code)
_ASKED = select(_UNITS.c.request_id, _UNITS.c.unit) \
    .where(_UNITS.c.request_id.in_(bindparam("ids", expanding=True)))
