"""A Maildir whose files move while a pass runs: a mail client marking a mail read renames
`new/X` to `cur/X:2,S`. mailroom follows the file by its unique name, when it reads it and
when it files it away; a file gone altogether is logged once and left out, never a
traceback, and the rest of the pass completes."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailroom.app import App
from mailroom.mailbox.base import FetchedMail, MailKey
from mailroom.mailbox.maildir import MaildirSource, unique_name
from support.mail import deliver, maildir_files, make_mail

CST = timezone(timedelta(hours=8))
AT = datetime(2019, 5, 13, 9, tzinfo=CST)


def inbox(app: App) -> Path:
    assert app.settings.maildir is not None
    return Path(app.settings.maildir.path)


def three_mails(maildir: Path) -> list[Path]:
    return [deliver(maildir, make_mail(f"执法大队+第{n}条信息"), AT + timedelta(minutes=n))
            for n in range(3)]


def mark_read(path: Path) -> Path:
    """What a mail client does when the mail is opened: new/X -> cur/X:2,S."""
    moved = path.parent.parent / "cur" / f"{unique_name(path.name)}:2,S"
    os.rename(path, moved)
    return moved


def take_away(path: Path) -> None:
    """Another program moves the mail out of the inbox altogether (say, to its Trash)."""
    trash = path.parent.parent / ".Trash" / "cur"
    trash.mkdir(parents=True, exist_ok=True)
    os.rename(path, trash / path.name)


class ClientBetweenListingAndReading(MaildirSource):
    """The inbox is listed and the first mail read; then a client touches the second."""

    def __init__(self, path: Path, touch: Callable[[Path], object], victim: Path) -> None:
        super().__init__(path, "mailroom/processed", "mailroom/failed")
        self.touch, self.victim = touch, victim

    def fetch(self, batch_size: int = 50) -> Iterator[list[FetchedMail]]:
        batches = super().fetch(batch_size)
        yield next(batches)
        self.touch(self.victim)
        yield from batches


class ClientBetweenReadingAndFiling(MaildirSource):
    """Every mail is read; then, before each batch is filed away, a client touches one."""

    def __init__(self, path: Path, touch: Callable[[Path], object], victim: Path) -> None:
        super().__init__(path, "mailroom/processed", "mailroom/failed")
        self.touch, self.victim = touch, victim

    def mark_processed(self, keys: Sequence[MailKey]) -> None:
        if self.victim.exists():
            self.touch(self.victim)
        super().mark_processed(keys)


def processed_names(maildir: Path) -> list[str]:
    return sorted(p.name for p in maildir_files(maildir, ".mailroom.processed"))


def test_a_mail_marked_read_between_listing_and_reading_is_read_from_cur(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    first, second, third = three_mails(inbox(app))
    source = ClientBetweenListingAndReading(inbox(app), mark_read, second)
    report = app.pipeline().run_pass(source, batch_size=1)
    assert [o.disposition for o in report.outcomes] == ["processed"] * 3
    assert [o.number for o in report.outcomes] == ["201905-0001", "201905-0002", "201905-0003"]
    assert maildir_files(inbox(app)) == []
    assert processed_names(inbox(app)) == sorted(
        [f"{first.name}:2,", f"{unique_name(second.name)}:2,S", f"{third.name}:2,"])


def test_a_mail_marked_read_between_reading_and_filing_is_filed_with_its_flags(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    first, second, third = three_mails(inbox(app))
    source = ClientBetweenReadingAndFiling(inbox(app), mark_read, second)
    report = app.pipeline().run_pass(source)
    assert [o.disposition for o in report.outcomes] == ["processed"] * 3
    assert maildir_files(inbox(app)) == []
    assert f"{unique_name(second.name)}:2,S" in processed_names(inbox(app))
    assert len(processed_names(inbox(app))) == 3


def test_a_mail_taken_away_before_it_is_read_is_left_out_and_logged_once(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    first, second, third = three_mails(inbox(app))
    source = ClientBetweenListingAndReading(inbox(app), take_away, second)
    with caplog.at_level(logging.WARNING, logger="mailroom"):
        report = app.pipeline().run_pass(source, batch_size=1)
    assert [o.key.uid for o in report.outcomes] == [first.name, third.name]
    assert processed_names(inbox(app)) == sorted([f"{first.name}:2,", f"{third.name}:2,"])
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [f"maildir: {second.name} vanished before it was read (moved by "
                        "another program?); skipped in this pass"]
    assert not any(r.exc_info for r in caplog.records)


def test_a_mail_taken_away_before_it_is_filed_is_recorded_and_logged_once(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    first, second, third = three_mails(inbox(app))
    source = ClientBetweenReadingAndFiling(inbox(app), take_away, second)
    with caplog.at_level(logging.WARNING, logger="mailroom"):
        report = app.pipeline().run_pass(source)
    assert [o.disposition for o in report.outcomes] == ["processed"] * 3
    assert processed_names(inbox(app)) == sorted([f"{first.name}:2,", f"{third.name}:2,"])
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [f"maildir: {second.name} is gone from the inbox (moved by another "
                        "program?); nothing to file away"]


def test_a_moved_mail_is_found_by_its_whole_unique_name_not_a_prefix(tmp_path: Path) -> None:
    maildir = tmp_path / "inbox"
    earliest = deliver(maildir, make_mail("执法大队+最早的"), AT - timedelta(hours=1))
    short = make_mail("执法大队+一条信息")
    deliver(maildir, short, AT, name="1557709200.M1P1.ho")
    deliver(maildir, make_mail("执法大队+另一条"), AT, name="1557709200.M1P1.host")
    source = MaildirSource(maildir, "mailroom/processed", "mailroom/failed")
    batches = source.fetch(batch_size=1)
    [first] = next(batches)
    assert first.key.uid == earliest.name
    for name, flags in (("1557709200.M1P1.ho", "S"), ("1557709200.M1P1.host", "RS")):
        os.rename(maildir / "new" / name, maildir / "cur" / f"{name}:2,{flags}")
    [second] = next(batches)  # "…ho*" matches both files in cur/: only one is this mail
    assert (second.key.uid, second.raw) == ("1557709200.M1P1.ho", short)
    [third] = next(batches)
    source.mark_processed([first.key, second.key, third.key])
    assert processed_names(maildir) == sorted(
        [f"{earliest.name}:2,", "1557709200.M1P1.ho:2,S", "1557709200.M1P1.host:2,RS"])
