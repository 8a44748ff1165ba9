"""The bundled sample mailbox: May 2019 at 永宁县自然资源局's ynlyj452@126.com.

`sample_mails()` gives every mail with what mailroom is expected to make of it (kind, unit,
title, priority), so end-to-end tests and the demo read their expectations from here
instead of repeating them. The mails are described in `month.py`, one `Case` each; here
each is written by its client (`clients.CLIENTS`) and delivered, and the one bounce is
written as 126.com's DSN. See `generate.py` for writing them out as a Maildir.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mailroom.sample.clients import CLIENTS, MAILBOX, Draft, delivered
from mailroom.sample.mime import Part, b64, digest, encode_header, rfc5322_date
from mailroom.sample.month import Case, Kind, Priority, at, month_cases

HOST = "mailroom-sample"


@dataclass(frozen=True)
class SampleMail:
    """One mail of the sample and what mailroom should make of it."""

    key: str  # "m01" … in order of delivery
    received_at: datetime  # delivery time (the Maildir file name), +08:00
    sent_at: datetime  # the Date header
    sender: str
    subject: str  # as decoded
    kind: Kind
    unit: str | None  # the unit it belongs to; None: unassigned (or not a submission)
    title: str | None  # subject without prefixes, unit and separator (markers kept)
    priority: Priority | None
    attachments: tuple[str, ...]  # decoded file names, in message order
    client: str
    note: str
    message_id: str
    seen: bool  # cur/ (read in webmail) or new/
    raw: bytes = field(repr=False)

    @property
    def timestamp(self) -> int:
        return int(self.received_at.timestamp())

    @property
    def maildir_name(self) -> str:
        number = int(self.key[1:])
        base = (f"{self.timestamp}.M{(number * 104729) % 1000000}P{2100 + number * 7}"
                f".{HOST},S={len(self.raw)}")
        return base + (":2,S" if self.seen else "")

    @property
    def maildir_path(self) -> str:
        return f"{'cur' if self.seen else 'new'}/{self.maildir_name}"


def _bounce(case: Case, key: str) -> tuple[bytes, str]:
    """A Coremail DSN: explanation, message/delivery-status, the returned message."""
    sent = case.received - timedelta(seconds=3)
    original_sent = sent - timedelta(seconds=4)
    message_id = f"<{digest(key, 8)}.{digest(key + 'b', 4)}.Coremail.MAILER-DAEMON@126.com>"
    boundary = f"----=_Part_{digest(key + 'dsn', 12)}"
    original = Part([
        ("Date", rfc5322_date(original_sent, zone_comment="CST")),
        ("From", f"ynlyj452 <{MAILBOX}>"),
        ("To", "lijun_lzy@126.com"),
        ("Message-ID", "<1f3e5a7c.2b4d.16af6c1e7a0.Coremail.ynlyj452@126.com>"),
        ("Subject", encode_header("关于报送5月份信息的提醒", "GBK", "gbk", limit=998)),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=GBK"),
        ("Content-Transfer-Encoding", "base64"),
    ], b64("各单位信息员：5月份信息报送即将截止，尚未完成2篇的单位请抓紧报送。局办公室"
           .encode("gbk")))
    explanation = (
        "很抱歉您的邮件没能成功发送给以下收件人：\nlijun_lzy@126.com\n"
        "退信原因：收件人邮箱地址不存在（550 User not found）。\n"
        "建议您检查收件人地址是否拼写正确后重新发送。\n"
    )
    status = (
        "Reporting-MTA: dns; 126.com\n"
        f"Arrival-Date: {rfc5322_date(original_sent)}\n\n"
        "Final-Recipient: rfc822; lijun_lzy@126.com\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 User not found: lijun_lzy@126.com\n"
    )
    top = Part([
        ("Return-Path", "<>"),
        ("Received", f"from mta126 (Coremail)\n\tby mx12 (Coremail) with SMTP;\n\t"
                     f"{rfc5322_date(case.received, zone_comment='CST')}"),
        ("Auto-Submitted", "auto-replied"),
        ("From", "MAILER-DAEMON@126.com"),
        ("To", MAILBOX),
        ("Subject", encode_header("系统退信", "GBK", "gbk", limit=998)),
        ("Date", rfc5322_date(sent, zone_comment="CST")),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0"),
        ("Content-Type",
         f'multipart/report; report-type=delivery-status; \n\tboundary="{boundary}"'),
    ], children=[
        Part([("Content-Type", "text/plain; charset=GBK"), ("Content-Transfer-Encoding", "base64")],
             b64(explanation.encode("gbk"))),
        Part([("Content-Type", "message/delivery-status")], status.encode("ascii")),
        Part([("Content-Type", "message/rfc822")], original.render()),
    ], boundary=boundary)
    return top.render(), message_id


def _build(case: Case, key: str) -> SampleMail:
    if case.kind == "bounce":
        raw, message_id = _bounce(case, key)
        sent = case.received - timedelta(seconds=3)
    else:
        delay = case.delay or 4 + int(digest(key + "delay", 4), 16) % 50
        sent = case.received - timedelta(seconds=delay)
        draft = Draft(key=f"sample-{key}", sender=case.sender, sender_name=case.name,
                      subject=case.subject, text=case.text, sent_at=sent,
                      attachments=case.attachments, in_reply_to=case.in_reply_to,
                      references=case.references, extra_headers=case.extra_headers)
        written = CLIENTS[case.client](draft)
        relay = (case.relay, sent + timedelta(seconds=1)) if case.relay else None
        raw = delivered(written.raw, envelope_from=case.sender, received_at=case.received,
                        key=key, relay=relay)
        message_id = written.message_id
    return SampleMail(
        key=key, received_at=case.received, sent_at=sent, sender=case.sender.lower(),
        subject=case.subject, kind=case.kind, unit=case.unit, title=case.title,
        priority=case.priority, attachments=tuple(item.filename for item in case.attachments),
        client=case.client, note=case.note, message_id=message_id,
        seen=case.received < at(5, 21, 0, 0, 0), raw=raw,
    )


def sample_mails() -> list[SampleMail]:
    """Every mail of the sample, in order of delivery, with its expectations."""
    cases = sorted(month_cases(), key=lambda case: case.received)
    return [_build(case, f"m{number:02d}") for number, case in enumerate(cases, start=1)]
