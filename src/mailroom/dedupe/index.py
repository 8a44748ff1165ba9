"""The dedupe index and verdict rows in the database: what dedupe/engine reads and writes.

Core statements on the hot path (one judged item: two inserts, one indexed look-up, one
read of the candidates), like store/queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Table, TextClause, bindparam, insert, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from mailroom.dedupe.normalize import Normalized
from mailroom.dedupe.signature import Sketch
from mailroom.dedupe.verdict import Features
from mailroom.store.models import (
    Base,
    DedupeBand,
    DedupeText,
    Submission,
    VerdictChange,
)


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


_TEXTS, _BANDS, _SUBMISSIONS = _table(DedupeText), _table(DedupeBand), _table(Submission)
PER_KEY = 10  # postings read per band key
_POSTINGS: dict[int, TextClause] = {}
_INSERT_TEXT = insert(_TEXTS)


@dataclass(frozen=True)
class Stored:
    """A stored submission as dedupe sees it."""

    id: int
    number: str
    received_at: datetime
    status: str
    duplicate_of_id: int | None
    followup: str | None
    priority: str
    review: str | None
    features: Features

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.received_at, self.id)

    @property
    def root(self) -> int:
        """The first report of this item's cluster (itself when it is one)."""
        if self.status == "counted" or self.duplicate_of_id is None:
            return self.id
        return self.duplicate_of_id


def save_index(session: Session, submission_id: int, received_at: datetime,
               normalized: Normalized, sketch: Sketch) -> None:
    connection = session.connection()
    keys = sketch.keys
    connection.execute(_INSERT_TEXT, {
        "submission_id": submission_id, "received_at": received_at,
        "title": normalized.title,
        "content": "\n".join(normalized.sentences) if normalized.sentences
        else normalized.content,
        "source": normalized.source, "numbers": " ".join(sorted(normalized.numbers)),
        "minhash": sketch.minhash})
    if keys:
        dialect = connection.dialect
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        stored_at = _as_stored(dialect, received_at)
        connection.exec_driver_sql(
            f"INSERT INTO {_BANDS.name} (band_key, submission_id, received_at)"
            f" VALUES ({marker}, {marker}, {marker})",
            [(key, submission_id, stored_at) for key in dict.fromkeys(keys)])


def _as_stored(dialect: Dialect, moment: datetime) -> Any:
    """An instant as the driver takes it for `dedupe_bands.received_at`: converted once
    for the item's hundred-odd band rows (or the postings statement's hundred-odd uses of
    :since and :until, each a parameter of its own on SQLite), not once a use; that
    conversion cost more than the statements themselves (benchmarks/ingest.py --profile)."""
    convert = _BANDS.c.received_at.type.dialect_impl(dialect).bind_processor(dialect)
    return convert(moment) if convert is not None else moment


def _postings_statement(count: int) -> TextClause:
    """One statement for `count` keys: each key's most recent postings, counted per item in
    SQL (most keys shared first), so only the best few rows come back (built once per key
    count: building it per decision cost more than running it)."""
    statement = _POSTINGS.get(count)
    if statement is None:
        parts = [f"SELECT * FROM (SELECT submission_id FROM dedupe_bands WHERE band_key = :k{i}"
                 f" AND received_at >= :since AND received_at <= :until"
                 f" ORDER BY received_at DESC LIMIT :per_key) AS p{i}" for i in range(count)]
        statement = text(
            "SELECT submission_id, count(*) AS shared FROM (" + " UNION ALL ".join(parts) + ")"
            " AS postings WHERE submission_id != :exclude GROUP BY submission_id"
            " ORDER BY shared DESC, submission_id LIMIT :limit"
        ).bindparams(*(bindparam(f"k{i}", type_=BigInteger()) for i in range(count)))
        _POSTINGS[count] = statement
    return statement


def candidate_ids(session: Session, keys: Sequence[int], since: datetime, until: datetime,
                  exclude: int, limit: int, per_key: int = PER_KEY) -> list[int]:
    """Stored items sharing band keys with these, in a time range, most keys shared first.

    Each key contributes at most its `per_key` most recent postings (one index range scan
    each): a key shared by hundreds of items (a template's boilerplate) says little, and
    must not make a decision cost more as the store grows."""
    distinct = list(dict.fromkeys(keys))
    if not distinct:
        return []
    connection = session.connection()
    values: dict[str, Any] = {f"k{i}": key for i, key in enumerate(distinct)}
    values.update(since=_as_stored(connection.dialect, since),  # converted once, see there
                  until=_as_stored(connection.dialect, until),
                  per_key=per_key, exclude=exclude, limit=limit)
    rows = connection.execute(_postings_statement(len(distinct)), values)
    return list(rows.scalars())


_STORED_COLUMNS = (
    _SUBMISSIONS.c.id, _SUBMISSIONS.c.number, _SUBMISSIONS.c.received_at,
    _SUBMISSIONS.c.status, _SUBMISSIONS.c.duplicate_of_id, _SUBMISSIONS.c.followup,
    _SUBMISSIONS.c.priority, _SUBMISSIONS.c.review, _TEXTS.c.title, _TEXTS.c.content,
    _TEXTS.c.source, _TEXTS.c.numbers, _TEXTS.c.minhash,
)


def _stored(row: Any) -> Stored:
    received_at = row.received_at
    sentences = tuple(row.content.split("\n"))  # stored cut at sentence ends
    features = Features(row.title, "".join(sentences), row.source,
                        frozenset(row.numbers.split()) if row.numbers else frozenset(),
                        bytes(row.minhash), sentences)
    return Stored(row.id, row.number, received_at, row.status, row.duplicate_of_id,
                  row.followup, row.priority, row.review, features)


_EMPTY = Features("", "", "", frozenset())


_c = _SUBMISSIONS.c
_LOAD_SUBMISSION = select(_c.id, _c.number, _c.received_at, _c.status, _c.duplicate_of_id,
                          _c.followup, _c.priority, _c.review).where(_c.id == bindparam("pk"))
_LOAD = (select(*_STORED_COLUMNS)
         .join(_TEXTS, _TEXTS.c.submission_id == _c.id)
         .where(_c.id.in_(bindparam("ids", expanding=True))))


def load_submission(session: Session, pk: int) -> Stored:
    """A submission before it is indexed (its features still empty)."""
    row = session.connection().execute(_LOAD_SUBMISSION, {"pk": pk}).one()
    return Stored(row.id, row.number, row.received_at, row.status, row.duplicate_of_id,
                  row.followup, row.priority, row.review, _EMPTY)


def band_keys_of(session: Session, pk: int) -> list[int]:
    """The band keys a submission was indexed under."""
    c = _BANDS.c
    return list(session.connection().execute(
        select(c.band_key).where(c.submission_id == pk).order_by(c.id)).scalars())


def load(session: Session, ids: Sequence[int]) -> list[Stored]:
    if not ids:
        return []
    return [_stored(row) for row in session.connection().execute(_LOAD, {"ids": list(ids)})]


def recent_initial_reports(session: Session, since: datetime, before: datetime,
                           limit: int = 500) -> list[Stored]:
    """Urgent, not follow-up items received in [since, before): where a 续报's 初报 is."""
    statement = (select(*_STORED_COLUMNS)
                 .join(_TEXTS, _TEXTS.c.submission_id == _SUBMISSIONS.c.id)
                 .where(_SUBMISSIONS.c.priority == "urgent",
                        _SUBMISSIONS.c.followup.is_(None),
                        _SUBMISSIONS.c.received_at >= since,
                        _SUBMISSIONS.c.received_at <= before)
                 .order_by(_SUBMISSIONS.c.received_at.desc())
                 .limit(limit))
    return [_stored(row) for row in session.connection().execute(statement)]


_SET_VERDICT = (update(_SUBMISSIONS).where(_SUBMISSIONS.c.id == bindparam("pk"))
                .values(status=bindparam("status"),
                        duplicate_of_id=bindparam("duplicate_of_id"),
                        score=bindparam("score"), matched_id=bindparam("matched_id"),
                        match_part=bindparam("match_part"),
                        match_detail=bindparam("match_detail")))


def set_verdict(session: Session, pk: int, *, status: str, duplicate_of_id: int | None,
                score: float | None, matched_id: int | None, match_part: str | None,
                match_detail: dict[str, Any] | None) -> None:
    session.connection().execute(_SET_VERDICT, {
        "pk": pk, "status": status, "duplicate_of_id": duplicate_of_id, "score": score,
        "matched_id": matched_id, "match_part": match_part, "match_detail": match_detail})


def set_followup_of(session: Session, pk: int, initial_id: int) -> None:
    session.connection().execute(
        update(_SUBMISSIONS).where(_SUBMISSIONS.c.id == pk).values(followup_of_id=initial_id))


def repoint_cluster(session: Session, old_root: int, new_root: int) -> list[Stored]:
    """Items whose first report was `old_root` now have `new_root` (the office's reviews
    excepted); returns them as they were."""
    c = _SUBMISSIONS.c
    moved = [row.id for row in session.connection().execute(
        select(c.id).where(c.duplicate_of_id == old_root, c.review.is_(None),
                           c.id != new_root))]
    before = [load_submission(session, pk) for pk in moved]
    if moved:
        session.connection().execute(
            update(_SUBMISSIONS).where(c.id.in_(moved)).values(duplicate_of_id=new_root))
    return before


_INSERT_CHANGE = insert(_table(VerdictChange))


def record_change(session: Session, before: Stored, *, status: str,
                  duplicate_of_id: int | None, caused_by: int) -> None:
    """Keep a re-evaluated verdict for the office's next digest."""
    if (before.status, before.duplicate_of_id) == (status, duplicate_of_id):
        return
    session.connection().execute(_INSERT_CHANGE, {
        "submission_id": before.id, "caused_by_id": caused_by,
        "previous_status": before.status, "previous_duplicate_of_id": before.duplicate_of_id,
        "status": status, "duplicate_of_id": duplicate_of_id, "reported": False})
