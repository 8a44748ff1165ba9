"""`mailroom import`: a backlog (mbox, Maildir, IMAP folder) recorded like new mail, in order
of receipt, without receipts unless asked; the source never modified; an import killed
mid-way and run again gives what an uninterrupted one gives. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import mailbox
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from mailroom.cli import main
from mailroom.importing import QUIET, LineProgress
from mailroom.mailbox.backlog import from_line_time
from support.dovecot import ImapAccount
from support.mail import deliver, make_mail
from support.process import AT, Mailroom, query, wait_until, write_config

Rows = Callable[[str], list[tuple[object, ...]]]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str | None, Rows]:
    """The database a test's config names (None: SQLite below tmp_path) and a query on it."""
    if request.param == "sqlite":
        return None, lambda sql: query(tmp_path, sql)
    url: str = request.getfixturevalue("postgres_url")
    dsn = url.replace("postgresql+psycopg://", "postgresql://")

    def rows(sql: str) -> list[tuple[object, ...]]:
        with psycopg.connect(dsn) as connection:
            try:
                return list(connection.execute(sql).fetchall())
            except psycopg.errors.UndefinedTable:  # no schema yet, as query() on SQLite
                return []

    return url, rows


def write_mbox(path: Path, count: int, *, shuffled: bool = True) -> list[datetime]:
    """`count` submissions in an mbox, written out of order (as an export may be); the From_
    lines carry the delivery time (Shanghai, no zone), the Date headers a day earlier."""
    box = mailbox.mbox(path)
    times = [AT + timedelta(days=index * 7) for index in range(count)]  # across months
    order = list(range(count))
    if shuffled:
        order = order[1::2] + order[0::2]
    for index in order:
        message = mailbox.mboxMessage(make_mail(
            f"执法大队+第{index}条往年信息", sender=f"old{index}@example.cn",
            date=times[index] - timedelta(days=1)))
        local = times[index].astimezone(SHANGHAI)
        message.set_from(f"old{index}@example.cn", local.timetuple())
        box.add(message)
    box.close()
    return times


def tree_digest(root: Path) -> str:
    """Every file below `root`: its path, bytes and mtime; and every folder's entries."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes() + str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()


def import_rows(rows: Rows) -> list[tuple[object, ...]]:
    return rows("SELECT s.number, s.title, s.status, m.raw_sha256 FROM submissions s "
                "JOIN messages m ON m.id = s.message_pk ORDER BY s.number")


def test_from_line_times() -> None:
    assert from_line_time("From a@b Thu May  9 10:00:00 2019", SHANGHAI) == \
        datetime(2019, 5, 9, 10, tzinfo=SHANGHAI)
    assert from_line_time("From a@b Thu May  9 10:00:00 2019 +0000", SHANGHAI) == \
        datetime(2019, 5, 9, 18, tzinfo=SHANGHAI)
    assert from_line_time("From MAILER-DAEMON", SHANGHAI) is None


def test_mbox_import_numbers_by_receipt_sends_nothing_and_leaves_the_file(
    tmp_path: Path, database: tuple[str | None, Rows], capsys: pytest.CaptureFixture[str]
) -> None:
    url, rows = database
    config = write_config(tmp_path, database=url)
    export = tmp_path / "foxmail.mbox"
    times = write_mbox(export, 12)
    before = tree_digest(tmp_path / "foxmail.mbox")
    assert main(["--config", str(config), "import", "--mbox", str(export)]) == 0
    out, err = capsys.readouterr()
    assert "12 mails: submission 12" in out and "Traceback" not in err
    assert "import: 12 of 12 mails (100%)" in err  # not a terminal: plain lines
    recorded = import_rows(rows)
    titles = [title for _number, title, _status, _sha in recorded]
    assert titles == [f"第{index}条往年信息" for index in range(12)]  # by From_ line time
    months = [str(number)[:6] for number, *_ in recorded]
    assert months == [t.astimezone(SHANGHAI).strftime("%Y%m") for t in times]
    assert rows("SELECT count(*) FROM outbox") == [(0,)]
    details = rows("SELECT detail FROM messages")
    assert all(QUIET in str(detail) for (detail,) in details)
    assert tree_digest(tmp_path / "foxmail.mbox") == before
    # again: nothing new, nothing doubled
    assert main(["--config", str(config), "import", "--mbox", str(export)]) == 0
    assert "12 already recorded" in capsys.readouterr().out
    assert import_rows(rows) == recorded


def test_maildir_import_is_read_only_and_receipts_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    archive = tmp_path / "archive"
    for index in range(3):
        deliver(archive, make_mail(f"紧急：执法大队+旧信息{index}", sender=f"a{index}@example.cn"),
                AT - timedelta(days=400 - index))
    (archive / "tmp").rmdir()  # a copy without tmp/: the import must not make one
    before = tree_digest(archive)
    assert main(["--config", str(config), "import", "--maildir", str(archive)]) == 0
    assert tree_digest(archive) == before and not (archive / "tmp").exists()
    assert query(tmp_path, "SELECT count(*) FROM outbox") == [(0,)]  # no receipt, no alert
    assert [n for (n,) in query(tmp_path, "SELECT number FROM submissions ORDER BY id")] == \
        ["201804-0001", "201804-0002", "201804-0003"]
    deliver(archive, make_mail("执法大队+补一条", sender="late@example.cn"), AT)
    before = tree_digest(archive)
    assert main(["--config", str(config), "import", "--maildir", str(archive),
                 "--receipts"]) == 0
    assert "outbox: 1 sent" in capsys.readouterr().out
    assert tree_digest(archive) == before
    assert query(tmp_path, "SELECT purpose, status FROM outbox") == [("receipt", "sent")]


def test_bad_sources_are_one_line_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert main(["--config", str(config), "import", "--mbox", str(tmp_path / "none")]) == 2
    assert main(["--config", str(config), "import", "--maildir", str(tmp_path)]) == 2
    assert main(["--config", str(config), "import", "--from-folder", "Archive"]) == 2
    assert main(["--config", str(config), "import"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 4, err


def test_an_import_killed_mid_way_and_run_again_records_what_one_run_does(
    tmp_path: Path, database: tuple[str | None, Rows]
) -> None:
    url, rows = database
    export = tmp_path / "export.mbox"
    write_mbox(export, 80)
    before = tree_digest(export)
    reference = tmp_path / "reference"
    reference.mkdir()
    ref_url = None
    if url is not None:
        ref_url = url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1] + "_ref"
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {ref_url.rsplit('/', 1)[1]}")
    whole = Mailroom(write_config(reference, database=ref_url), "import", "--mbox", str(export))
    killed = Mailroom(write_config(tmp_path, database=url), "import", "--mbox", str(export))
    try:
        assert wait_until(lambda: _count(rows) >= 10, timeout=120, step=0.01)
        killed.signal(signal.SIGKILL, group=True)
        assert killed.wait(timeout=30) == -signal.SIGKILL
        assert whole.wait(timeout=240) == 0, whole.err
    finally:
        whole.kill()
        killed.kill()
    assert _count(rows) < 80
    resumed = Mailroom(write_config(tmp_path, database=url), "import", "--mbox", str(export))
    try:
        assert resumed.wait(timeout=240) == 0, resumed.err
    finally:
        resumed.kill()
    assert "already recorded" in resumed.out
    if ref_url is None:
        expected = import_rows(lambda sql: query(reference, sql))
    else:
        ref_dsn = ref_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(ref_dsn) as connection:
            expected = list(connection.execute(
                "SELECT s.number, s.title, s.status, m.raw_sha256 FROM submissions s "
                "JOIN messages m ON m.id = s.message_pk ORDER BY s.number").fetchall())
    assert len(expected) == 80
    assert import_rows(rows) == expected  # same numbers, statuses, nothing twice
    assert rows("SELECT count(*), count(DISTINCT raw_sha256) FROM messages") == [(80, 80)]
    assert tree_digest(export) == before


def _count(rows: Rows) -> int:
    found = rows("SELECT count(*) FROM messages")
    return int(found[0][0]) if found else 0  # type: ignore[call-overload]


def test_import_from_an_imap_folder_opens_it_read_only(
    tmp_path: Path, imap_account: ImapAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    with imap_account.client() as client:
        client.create_folder("Archive")
    for index in range(4):
        imap_account.append(make_mail(f"执法大队+归档{index}", sender=f"x{index}@example.cn"),
                            AT - timedelta(days=40 * index), folder="Archive")
    before = (imap_account.messages("Archive"), imap_account.flags("Archive"))
    config = write_config(tmp_path)
    settings = imap_account.settings()
    text = config.read_text(encoding="utf-8") + (
        f'[imap]\nhost = "127.0.0.1"\nport = {settings.port}\nsecurity = "plain"\n'
        f'username = "{imap_account.username}"\npassword = "{imap_account.password}"\n')
    config.write_text(text.replace('[maildir]\npath = "inbox"\n', ""), encoding="utf-8")
    assert main(["--config", str(config), "import", "--from-folder", "Archive"]) == 0
    assert "4 mails: submission 4" in capsys.readouterr().out
    assert (imap_account.messages("Archive"), imap_account.flags("Archive")) == before
    assert "mailroom/processed" not in imap_account.folders()
    numbers = [n for (n,) in query(tmp_path, "SELECT number FROM submissions ORDER BY number")]
    assert numbers == ["201901-0001", "201902-0001", "201903-0001", "201905-0001"]


def test_plain_progress_lines_say_rate_and_time_left() -> None:
    lines: list[str] = []
    clock = iter([0.0, 5.0, 10.0, 20.0])

    class Stream:
        def write(self, text: str) -> None:
            lines.append(text)

        def flush(self) -> None:
            pass

    progress = LineProgress(Stream(), interval=10, now=lambda: next(clock))  # type: ignore[arg-type]
    progress.start(1000)
    progress.update(50)  # 5 s: too soon for a line
    progress.update(100)  # 10 s
    progress.update(1000)  # done
    text = "".join(lines)
    assert "import: 1000 mails to go through" in text
    assert "import: 100 of 1000 mails (10%), 10 mails/s, 1 min 30 s left" in text
    assert "import: 1000 of 1000 mails (100%)" in text and "50 of" not in text

