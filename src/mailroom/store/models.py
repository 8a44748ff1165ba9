"""The database schema (SQLAlchemy 2.x declarative). Migrations live in store/migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants as naive UTC (SQLite keeps no zone) and returns them timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Message(Base):
    """Every mail mailroom has processed, whatever its kind (SPEC: messages list)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_messages_location"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[str] = mapped_column(String(500))
    raw_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    raw_size: Mapped[int] = mapped_column(Integer)
    raw_path: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(Text, default="", index=True)
    sender: Mapped[str] = mapped_column(String(320), default="", index=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    date_header: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    processed_at: Mapped[datetime]

    submission: Mapped[Submission | None] = relationship(back_populates="message")
    attachments: Mapped[list[StoredAttachment]] = relationship(
        back_populates="message", order_by="StoredAttachment.position"
    )


class Submission(Base):
    """A message of kind `submission`: numbered, attributed, given a status."""

    __tablename__ = "submissions"
    __table_args__ = (  # a receipt's "counted this month" for the unit
        Index("ix_submissions_unit_month", "unit", "month"),
        # the reports' GROUP BY and adoption join, read from the index alone (reports/records)
        Index("ix_submissions_report", "month", "unit", "status", "sender", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # "YYYY-MM" in the configured zone
    unit: Mapped[str | None] = mapped_column(String(200), index=True)
    unit_source: Mapped[str] = mapped_column(String(16))  # subject | sender | office | none
    title: Mapped[str] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(String(320), index=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    followup: Mapped[str | None] = mapped_column(String(16))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    # R3: the item the score was measured against (duplicate_of is its cluster's first
    # report), the part that matched (title | content | attachment) and the part scores
    matched_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    match_part: Mapped[str | None] = mapped_column(String(16))
    match_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    followup_of_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    # the office's last review (duplicate | distinct); re-evaluation never overrides it
    review: Mapped[str | None] = mapped_column(String(16))
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]

    message: Mapped[Message] = relationship(back_populates="submission")
    duplicate_of: Mapped[Submission | None] = relationship(
        remote_side="Submission.id", foreign_keys=[duplicate_of_id])
    followup_of: Mapped[Submission | None] = relationship(
        remote_side="Submission.id", foreign_keys=[followup_of_id])


class StoredAttachment(Base):
    """One attachment of a message: its original name as data, its bytes in the file store."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("message_pk", "position", name="uq_attachments_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stored_path: Mapped[str] = mapped_column(String(300))

    message: Mapped[Message] = relationship(back_populates="attachments")


class Officer(Base):
    """An officer (信息员) registered for a unit: from the config, a roster mail or the CLI."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    unit: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(16))  # config | roster | cli | web
    registered_at: Mapped[datetime]
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    # who: the login name (cli), the console user (web); None: the config or a roster mail
    # (its message_pk says who sent it)
    registered_by: Mapped[str | None] = mapped_column(String(200))


class MonthCounter(Base):
    """The last submission number handed out per month; numbers are never reused."""

    __tablename__ = "month_counters"

    month: Mapped[str] = mapped_column(String(6), primary_key=True)  # "YYYYMM"
    last: Mapped[int] = mapped_column(Integer, default=0)


class ProcessingFailure(Base):
    """Failed attempts at one mail, kept outside the rolled-back transaction (R13)."""

    __tablename__ = "processing_failures"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_failures_location"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[str] = mapped_column(String(500))
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]


class OutgoingMail(Base):
    """One mail (or webhook call) to send, written in the transaction of the decision that
    caused it (a transactional outbox); the sender drains it. `raw` is the complete
    message: rendered then, or (receipts, alerts, confirmations) rendered from `render`
    when first sent and kept; either way a retry after a crash sends the very same bytes."""

    __tablename__ = "outbox"
    __table_args__ = (  # the per-sender hourly cap counts by these two
        Index("ix_outbox_reply_to_received", "reply_to", "source_received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), index=True)  # receipt | alert | roster …
    channel: Mapped[str] = mapped_column(String(16))  # mail | webhook
    message_id: Mapped[str] = mapped_column(String(300), unique=True)  # deterministic
    source_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    # the sender replied to (receipts, confirmations) and when their mail arrived:
    # the per-sender rate cap counts by it
    reply_to: Mapped[str] = mapped_column(String(320), default="")
    source_received_at: Mapped[datetime | None]
    sender: Mapped[str] = mapped_column(String(320))  # envelope sender
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # b"" until sent when `render` is set
    # the facts, envelope and template fixed at decision time (outbox/deferred.py): rendered
    # into `raw` when the row is sent, the same bytes whenever that is
    render: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    delivered_to: Mapped[str] = mapped_column(Text, default="")  # server reply / file written


class DedupeText(Base):
    """A submission's comparable form (dedupe/normalize), so that judging a new item never
    re-parses old mail."""

    __tablename__ = "dedupe_texts"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))  # body | attachment | body+attachment | ""
    numbers: Mapped[str] = mapped_column(Text)  # space-separated
    minhash: Mapped[bytes] = mapped_column(LargeBinary)  # dedupe/signature: estimates Jaccard


class DedupeBand(Base):
    """One LSH band key of a submission (dedupe/signature): the candidate index."""

    __tablename__ = "dedupe_bands"
    __table_args__ = (
        Index("ix_dedupe_bands_lookup", "band_key", "received_at", "submission_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    band_key: Mapped[int] = mapped_column(BigInteger)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    received_at: Mapped[datetime]


class DedupeReview(Base):
    """Every office decision on a verdict: who, when, what (the history behind
    Submission.review)."""

    __tablename__ = "dedupe_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))  # duplicate | distinct
    of_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    previous_status: Mapped[str] = mapped_column(String(16))


class VerdictChange(Base):
    """A verdict changed by re-evaluation (R3: a mail received earlier but processed later
    takes the credit), kept for the office: the next digest shows it, then sets `reported`."""

    __tablename__ = "verdict_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    caused_by_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))  # the late mail
    previous_status: Mapped[str] = mapped_column(String(16))
    previous_duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    status: Mapped[str] = mapped_column(String(16))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    reported: Mapped[bool] = mapped_column(default=False, index=True)


class Decision(Base):
    """Every office decision on an item, whatever the way it came (the CLI, a command mail,
    the console): R8 adopt / unadopt / 批示, R1 assign, R3 review. Who, when, what, and
    the mail it came in. The history; the current state is in adoptions, instructions and
    the submission row."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # DecisionAction (vocabulary.py)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # channel, unit, text, of…
    by: Mapped[str] = mapped_column(String(200))  # --by, the OS user, the mail's sender
    at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(8))  # cli | mail | web
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))  # command mail


class Adoption(Base):
    """R8: an item adopted (采用) by one channel. Scored by the channel's current `score`
    in the config; it counts in the month the item was received."""

    __tablename__ = "adoptions"
    __table_args__ = (
        UniqueConstraint("submission_id", "channel", name="uq_adoptions_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    channel: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))


class Instruction(Base):
    """R8: a leader's instruction (批示) on an item; each adds `[scoring]
    instruction_bonus`."""

    __tablename__ = "instructions"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    leader: Mapped[str] = mapped_column(String(200))  # 批示人
    text: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(200))  # who recorded it
    at: Mapped[datetime]
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))


class CommandConfirmation(Base):
    """A command mail held until its sender confirms it (SPEC "Office commands by mail":
    without passing authentication, a one-time code, 72 h, bound to the address)."""

    __tablename__ = "command_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    address: Mapped[str] = mapped_column(String(320), index=True)  # the requesting sender
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"))  # the command mail
    request_message_id: Mapped[str] = mapped_column(String(300), index=True)  # what we sent
    commands: Mapped[list[str]] = mapped_column(JSON)  # the lines held
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))  # the reply


class Outage(Base):
    """A server mailroom could not log in to, from the first refusal until a login worked
    again: the office is told once per outage (its mail's Message-ID here), and `check`
    shows what is still open."""

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(16), index=True)  # imap | smtp
    kind: Mapped[str] = mapped_column(String(16))  # login
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    detail: Mapped[str] = mapped_column(Text, default="")  # the server's words, no secret
    message_id: Mapped[str | None] = mapped_column(String(300))  # the office's mail, if any


# --- schedule (issue 10): the ledger of the scheduled jobs' periods --------------------------


class JobRun(Base):
    """The ledger: one row per scheduled job and period (SPEC: Schedule) — which period of
    which job was sent, for which fire time, when, and what came of it. Written in the job's
    own transaction, with its mail; the unique key is what keeps a period from being sent
    twice, across restarts and by two daemons on one database."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_runs_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))  # the [schedule] key: digest, monthly_report…
    period: Mapped[str] = mapped_column(String(16))  # 2019-05-09 | 2019-05 | 2019, local
    fire_time: Mapped[datetime]  # the scheduled time this run stood for
    ran_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(Text, default="")  # the job's one line
# --- 约稿 requests (R14) ---------------------------------------------------------------------


class Request(Base):
    """A 约稿 (R14): a piece the office commissions from named units by a due date. Its code
    `约稿YYYYMM-NN` (month of creation in `timezone`, the month's `sequence`) is never
    reused. Who, when and how it came (the CLI, or a command mail) are kept here."""

    __tablename__ = "requests"
    __table_args__ = (UniqueConstraint("month", "sequence", name="uq_requests_month_sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # 约稿YYYYMM-NN
    month: Mapped[str] = mapped_column(String(7), index=True)  # "YYYY-MM" it was created in
    sequence: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    due: Mapped[str] = mapped_column(String(10), index=True)  # "YYYY-MM-DD", local date
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8), index=True)  # open | closed
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(8))  # cli | mail
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))  # command mail
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(200))


class RequestUnit(Base):
    """A unit a request asks, in the order named, with the Message-ID of the request mail
    queued to it (None: nobody to mail)."""

    __tablename__ = "request_units"
    __table_args__ = (UniqueConstraint("request_id", "unit", name="uq_request_units_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str | None] = mapped_column(String(300), index=True)


class RequestLink(Base):
    """A submission that answers a request (linked when it was recorded): `how` it was
    recognised (code | reply | title) and the title score."""

    __tablename__ = "request_links"
    __table_args__ = (
        UniqueConstraint("request_id", "submission_id", name="uq_request_links_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    how: Mapped[str] = mapped_column(String(8))  # code | reply | title
    score: Mapped[float | None] = mapped_column(Float)
    linked_at: Mapped[datetime]
# --- the digest (R11, issue 10) ---------------------------------------------------------


class DigestSent(Base):
    """One office digest sent (queued to the outbox): what it covered, as high-water marks
    of the rows it read, so the next one shows exactly what came after. `message_gaps` /
    `decision_gaps`: ids below a mark not seen when it was read ([id, first seen ISO]) —
    on PostgreSQL a row committed later than a higher one; the next digest reads them too.
    Verdict changes are marked one by one (`VerdictChange.reported`)."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, unique=True)  # 1, 2, …: the Message-ID key
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    sent_at: Mapped[datetime]  # queued (the clock), "the last digest sent"
    last_message_pk: Mapped[int] = mapped_column(Integer)
    last_decision_id: Mapped[int] = mapped_column(Integer)
    message_gaps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    decision_gaps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    items: Mapped[int] = mapped_column(Integer)  # entries shown
    recipients: Mapped[list[str]] = mapped_column(JSON)
# --- the web console (issue 12) -----------------------------------------------------------


class WebUser(Base):
    """A person who may open the console (`mailroom web user add`): `office` may decide,
    `viewer` (a leader) may only look. `password_hash` is Argon2id (argon2-cffi's encoded
    form). `session_key` is part of every session cookie: a new one (a new password, the
    user removed) ends the sessions signed with the old."""

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(8))  # office | viewer
    password_hash: Mapped[str] = mapped_column(String(200))
    session_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    password_set_at: Mapped[datetime]
