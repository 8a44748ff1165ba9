"""Hostile-mail benchmark: peak memory and time of `mailroom poll --once` per hostile mail.

    .venv/bin/python benchmarks/hostile.py                      # every case, SQLite and PostgreSQL
    .venv/bin/python benchmarks/hostile.py --database sqlite --case zip_bomb_docx

Each case is one mail APPENDed to a private Dovecot on 127.0.0.1 (a fresh mailbox a case);
`mailroom --config … poll --once` then runs as a child process, and its peak resident memory
is measured from outside by `/usr/bin/time` (the largest of the process and the worker
processes it waited for). Printed per case and database:
peak RSS, wall time, and what was recorded (kind, status, reason, the notes on unread
attachments and parse warnings). Targets (issue 14): peak RSS ≤ 300 MB and ≤ 10 s a case;
exit 1 when one is missed or a mail stays in the inbox.

The first case, `plain` (one ordinary mail), is the reference: what starting `poll --once`,
checking the schema, talking IMAP and writing the receipt cost on this machine as loaded
now; "net" is a case's time minus that (the target applies to it). The cases are full size
(tests/test_bounded.py runs small versions): a .docx zip bomb (word/document.xml inflating
to 400 MiB), a .docx of 100,000 tiny XML members, a PDF with a 600 MiB FlateDecode stream,
a PDF whose references loop, a .doc that crashes antiword,
mails of 50 MB and 100 MB, and a mail of 10,000 MIME parts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sqlalchemy import create_engine, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from mailroom.store.models import Message  # noqa: E402
from support import bombs, hostile  # noqa: E402
from support.dovecot import DovecotServer, ImapUser, find_dovecot  # noqa: E402
from support.postgres import PostgresServer  # noqa: E402

TARGET_RSS_MB = 300
TARGET_SECONDS = 10.0
RECEIVED = datetime(2019, 5, 8, 2, 0, tzinfo=UTC)
MAILROOM = str(Path(sys.executable).with_name("mailroom"))


def _attached(name: str, filename: str, content_type: str, title: str,
              payload: Callable[[], bytes]) -> Callable[[], bytes]:
    return lambda: bombs.mail_with(name, filename, payload(), content_type, title)


CASES: dict[str, Callable[[], bytes]] = {
    # the reference: what any `poll --once` costs here (start, schema check, IMAP, receipt)
    "plain": lambda: hostile.simple("recipients"),
    "zip_bomb_docx": _attached("zipbomb", "情况汇报.docx", "application/octet-stream",
                               "森林防火检查情况汇报", bombs.zip_bomb_docx),
    "docx_100k_members": _attached("members", "通报.docx", "application/octet-stream",
                                   "乡镇森林防火检查情况通报", bombs.docx_many_members),
    "pdf_flate_600mb": _attached("flate", "扫描件.pdf", "application/pdf",
                                 "耕地保护专项检查扫描件", bombs.pdf_flate_bomb),
    "pdf_object_loop": _attached("loop", "报告.pdf", "application/pdf",
                                 "地质灾害隐患点排查报告", bombs.pdf_object_loop),
    "doc_antiword_crash": _attached("spin", "信息.doc", "application/msword",
                                   "矿产资源执法检查信息", bombs.doc_antiword_crash),
    "mail_50mb": lambda: hostile.big(50 * 2**20),
    "mail_100mb": lambda: hostile.big(100 * 2**20),
    "mime_10000_parts": lambda: hostile.many_attachments(10_000),
}


@dataclass
class Result:
    case: str
    database: str
    size: int
    peak_mb: float
    seconds: float
    exit_code: int
    recorded: str
    left_in_inbox: int

    net: float = 0.0  # seconds minus the plain mail's

    @property
    def ok(self) -> bool:
        return (self.peak_mb <= TARGET_RSS_MB and self.net <= TARGET_SECONDS
                and self.exit_code == 0 and self.left_in_inbox == 0)


def _config(work: Path, database_url: str, port: int, user: ImapUser, limits: str) -> Path:
    path = work / "mailroom.toml"
    path.write_text(f"""
[database]
url = "{database_url}"
[storage]
path = "{work / 'store'}"
[outbox]
path = "{work / 'sent'}"
[imap]
host = "127.0.0.1"
port = {port}
security = "plain"
username = "{user.username}"
password = "{user.password}"
[[units]]
name = "{hostile.UNIT}"
aliases = ["执法大队"]
officers = ["{hostile.SENDER}"]
{limits}
""", encoding="utf-8")
    return path


def _poll(config: Path) -> tuple[float, float, int, str]:
    """Run `poll --once` under /usr/bin/time; (peak RSS in MB, seconds, exit code, stderr
    tail). Measured by `time`, not by this process's rusage of its child: Linux counts a
    child's peak from the memory of the process that forked it, this one holds the mails."""
    report = config.with_name("time.txt")
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(report), MAILROOM,
                           "--config", str(config), "poll", "--once"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - started
    peak_kb = int(report.read_text().split()[-1])
    return peak_kb / 1024, seconds, done.returncode, done.stderr.decode()[-600:]


def _recorded(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            rows = session.scalars(select(Message)).all()
            return "; ".join(_describe(message) for message in rows) or "nothing recorded"
    finally:
        engine.dispose()


def _describe(message: Message) -> str:
    parts = [message.kind]
    if message.submission is not None:
        parts.append(message.submission.status)
    if message.reason:
        parts.append(f"reason: {message.reason[:160]}")
    detail = message.detail or {}
    for key in ("unread_attachments", "parse_warnings"):
        if detail.get(key):
            parts.append(f"{key}: {json.dumps(detail[key][:3], ensure_ascii=False)[:240]}")
    return ", ".join(parts)


def run_case(case: str, raw: bytes, database: str, dovecot: DovecotServer,
             postgres: PostgresServer | None, limits: str) -> Result:
    work = Path(tempfile.mkdtemp(prefix=f"mailroom-hostile-{case}-"))
    try:
        user = dovecot.user()
        with dovecot.client(user) as client:
            client.append("INBOX", raw, msg_time=RECEIVED)
        if database == "postgresql":
            assert postgres is not None
            url = postgres.create_database(f"h{int(time.time() * 1000) % 10**9}")
        else:
            url = f"sqlite:///{work / 'mailroom.db'}"
        config = _config(work, url, dovecot.port, user, limits)
        peak, seconds, code, stderr = _poll(config)
        with dovecot.client(user) as client:
            left = client.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"]
        recorded = _recorded(url) if code == 0 else f"exit {code}: {stderr.strip()}"
        return Result(case, database, len(raw), peak, seconds, code, recorded, int(left))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", choices=list(CASES),
                        help="run only this case (repeatable); default: all")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--limits", default="",
                        help="TOML text added to the config, e.g. '[limits]\\nmax_mail_bytes = 1'")
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    work = Path(tempfile.mkdtemp(prefix="mailroom-hostile-"))
    work.chmod(0o711)
    (work / "dovecot").mkdir()
    (work / "dovecot").chmod(0o711)
    dovecot = DovecotServer(find_dovecot(), work / "dovecot")
    postgres = PostgresServer() if "postgresql" in databases else None
    results: list[Result] = []
    reference: dict[str, float] = {}
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    try:
        dovecot.start()
        if postgres is not None:
            postgres.start()
        for case in ["plain", *[c for c in args.case or CASES if c != "plain"]]:
            raw = CASES[case]()
            for database in databases:
                result = run_case(case, raw, database, dovecot, postgres, args.limits)
                reference.setdefault(database, result.seconds)
                result.net = result.seconds - reference[database]
                results.append(result)
                _print(result)
            del raw
    finally:
        dovecot.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(work, ignore_errors=True)
    missed = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(missed)} of {len(results)} within the targets "
          f"(peak RSS ≤ {TARGET_RSS_MB} MB, ≤ {TARGET_SECONDS:.0f} s net, inbox emptied)")
    return 1 if missed else 0


def _print(result: Result) -> None:
    mark = "ok  " if result.ok else "MISS"
    print(f"{mark} {result.case:18s} {result.database:10s} mail {result.size / 2**20:7.1f} MiB"
          f"  peak RSS {result.peak_mb:7.1f} MB  {result.seconds:6.1f} s ({result.net:5.1f} net)"
          f"  inbox left {result.left_in_inbox}", flush=True)
    print(f"     recorded: {result.recorded}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
