"""The dedupe index and verdict rows in the database: what dedupe/engine reads and writes.

Core statements on the hot path (one judged item: two inserts, one indexed look-up, one
read of the candidates), like store/queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from mailroom.dedupe.normalize import Normalized
from mailroom.dedupe.signature import Sketch
from mailroom.dedupe.verdict import Features
from mailroom.store.models import (
    Base,
    DedupeBand,
    DedupeText,
    Submission,
    UTCDateTime,
    VerdictChange,
)


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


_TEXTS, _BANDS, _SUBMISSIONS = _table(DedupeText), _table(DedupeBand), _table(Submission)
PER_KEY = 10  # postings read per band key


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
    """The item's comparable text and its band keys, as driver-level SQL (the hot path: a
    decision's ~46 band rows share one time, converted once, not per row by SQLAlchemy)."""
    connection = session.connection()
    keys = sketch.keys
    at = _bind_time(connection, received_at)
    connection.exec_driver_sql(
        _driver_sql(connection, "INSERT INTO dedupe_texts (submission_id, received_at, title,"
                                " content, source, numbers, minhash) VALUES (?, ?, ?, ?, ?, ?, ?)"),
        (submission_id, at, normalized.title,
         "\n".join(normalized.sentences) if normalized.sentences else normalized.content,
         normalized.source, " ".join(sorted(normalized.numbers)), sketch.minhash))
    if keys:
        connection.exec_driver_sql(
            _driver_sql(connection, "INSERT INTO dedupe_bands (band_key, submission_id, "
                                    "received_at) VALUES (?, ?, ?)"),
            [(key, submission_id, at) for key in dict.fromkeys(keys)])


_TIME_BINDS: dict[str, Any] = {}


def _bind_time(connection: Connection, value: datetime) -> Any:
    """A time as the DBAPI takes it for a UTCDateTime column (naive UTC; SQLite: text)."""
    dialect = connection.dialect
    if dialect.name not in _TIME_BINDS:
        _TIME_BINDS[dialect.name] = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    processor = _TIME_BINDS[dialect.name]
    return processor(value) if processor is not None else value


def _driver_sql(connection: Connection, sql: str) -> str:
    """SQL written with `?` placeholders in the DBAPI's own style (psycopg: `%s`)."""
    return sql if connection.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


_POSTINGS_SQL: dict[tuple[int, str], str] = {}


def _postings_sql(connection: Connection, count: int) -> str:
    """One statement for `count` keys: each key's most recent postings, counted per item in
    SQL (most keys shared first), so only the best few rows come back. Driver-level SQL with
    positional placeholders, built once per key count and paramstyle: a decision runs it
    with ~46 keys, and SQLAlchemy's per-parameter work cost more than the index look-ups."""
    cache_key = (count, connection.dialect.paramstyle)
    sql = _POSTINGS_SQL.get(cache_key)
    if sql is None:
        parts = [f"SELECT * FROM (SELECT submission_id FROM dedupe_bands WHERE band_key = ?"
                 f" AND received_at >= ? AND received_at <= ?"
                 f" ORDER BY received_at DESC LIMIT ?) AS p{i}" for i in range(count)]
        sql = _driver_sql(connection, (
            "SELECT submission_id, count(*) AS shared FROM (" + " UNION ALL ".join(parts) + ")"
            " AS postings WHERE submission_id != ? GROUP BY submission_id"
            " ORDER BY shared DESC, submission_id LIMIT ?"))
        _POSTINGS_SQL[cache_key] = sql
    return sql


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
    low, high = _bind_time(connection, since), _bind_time(connection, until)
    values: list[Any] = []
    for key in distinct:
        values += (key, low, high, per_key)
    values += (exclude, limit)
    rows = connection.exec_driver_sql(_postings_sql(connection, len(distinct)), tuple(values))
    return [row[0] for row in rows]


_STORED_COLUMNS = (
    _SUBMISSIONS.c.id, _SUBMISSIONS.c.number, _SUBMISSIONS.c.received_at,
    _SUBMISSIONS.c.status, _SUBMISSIONS.c.duplicate_of_id, _SUBMISSIONS.c.followup,
    _SUBMISSIONS.c.priority, _SUBMISSIONS.c.review, _TEXTS.c.title, _TEXTS.c.content,
    _TEXTS.c.source, _TEXTS.c.numbers, _TEXTS.c.minhash,
)


def _stored(row: Any, received_at: datetime | None = None) -> Stored:
    received_at = row.received_at if received_at is None else received_at
    sentences = tuple(row.content.split("\n"))  # stored cut at sentence ends
    features = Features(row.title, "".join(sentences), row.source,
                        frozenset(row.numbers.split()) if row.numbers else frozenset(),
                        bytes(row.minhash), sentences)
    return Stored(row.id, row.number, received_at, row.status, row.duplicate_of_id,
                  row.followup, row.priority, row.review, features)


_EMPTY = Features("", "", "", frozenset())


_c = _SUBMISSIONS.c
_LOAD_SUBMISSION_SQL = ("SELECT id, number, received_at, status, duplicate_of_id, followup,"
                        " priority, review FROM submissions WHERE id = ?")


def load_submission(session: Session, pk: int) -> Stored:
    """A submission before it is indexed (its features still empty)."""
    connection = session.connection()
    row = connection.exec_driver_sql(_driver_sql(connection, _LOAD_SUBMISSION_SQL), (pk,)).one()
    return Stored(row.id, row.number, _result_time(connection, row.received_at), row.status,
                  row.duplicate_of_id, row.followup, row.priority, row.review, _EMPTY)


def band_keys_of(session: Session, pk: int) -> list[int]:
    """The band keys a submission was indexed under."""
    c = _BANDS.c
    return list(session.connection().execute(
        select(c.band_key).where(c.submission_id == pk).order_by(c.id)).scalars())


_LOAD_SQL = ("SELECT s.id, s.number, s.received_at, s.status, s.duplicate_of_id, s.followup,"
             " s.priority, s.review, t.title, t.content, t.source, t.numbers, t.minhash"
             " FROM submissions AS s JOIN dedupe_texts AS t ON t.submission_id = s.id"
             " WHERE s.id IN ({})")
_TIME_RESULTS: dict[str, Any] = {}


def load(session: Session, ids: Sequence[int]) -> list[Stored]:
    """The stored items `ids` (a decision's ~8 candidates), read as driver-level SQL: the
    same columns as `_STORED_COLUMNS`, without SQLAlchemy's per-statement work."""
    if not ids:
        return []
    connection = session.connection()
    sql = _driver_sql(connection, _LOAD_SQL.format(", ".join("?" * len(ids))))
    rows = connection.exec_driver_sql(sql, tuple(ids))
    return [_stored(row, _result_time(connection, row.received_at)) for row in rows]


def _result_time(connection: Connection, value: Any) -> datetime:
    """A UTCDateTime column's value as the driver returned it, as SQLAlchemy would return it
    (aware UTC; SQLite keeps text)."""
    dialect = connection.dialect
    if dialect.name not in _TIME_RESULTS:
        _TIME_RESULTS[dialect.name] = UTCDateTime().dialect_impl(dialect).result_processor(
            dialect, None)
    to_time = _TIME_RESULTS[dialect.name]
    return to_time(value) if to_time is not None else value  # type: ignore[no-any-return]


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
