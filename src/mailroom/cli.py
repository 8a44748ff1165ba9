"""The `mailroom` command line: parse arguments, call a use case, print. No logic of its own.

Exit codes (SPEC): 0 success, 2 usage or config error (one line on stderr), 1 other failures.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

from mailroom import (
    __version__,
    cli_decisions,
    cli_web,
    daemon,
    health,
    importing,
    listing,
    officers,
)
from mailroom.app import App
from mailroom.cli_args import Parser as _Parser
from mailroom.cli_args import UsageError
from mailroom.cli_args import month as _month
from mailroom.cli_remind import COMMANDS as REMIND_COMMANDS
from mailroom.cli_remind import add_commands as add_remind_commands
from mailroom.cli_requests import REQUEST_COMMANDS, add_request_commands
from mailroom.config import config_path, load_settings
from mailroom.errors import ConfigError, InvalidInput, MailroomError
from mailroom.reports.commands import add_report_commands, cmd_report
from mailroom.schedule import commands as schedule_commands
from mailroom.store.database import require_current_schema, upgrade
from mailroom.store.instance import InstanceBusy

log = logging.getLogger("mailroom")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mailroom", description="Turns a submission mailbox into a system of "
                     "record: fetch, classify, number, store, list.")
    parser.add_argument("--config", help="config file (default: $MAILROOM_CONFIG, else "
                        "./mailroom.toml)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log debug detail")
    parser.add_argument("--version", action="version", version=f"mailroom {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("run", help="the daemon: fetch mail (IDLE where the server has it) "
                        "until SIGTERM")
    poll = commands.add_parser("poll", help="one pass: fetch and process all new mail, exit")
    poll.add_argument("--once", action="store_true", required=True,
                      help="required: process what is waiting and exit")
    commands.add_parser("check", help="validate the config and connect to the mailbox, the "
                        "database and SMTP")
    database = commands.add_parser("db", help="database schema")
    database_commands = database.add_subparsers(dest="db_command", required=True,
                                                parser_class=_Parser)
    database_commands.add_parser("upgrade", help="create or migrate the schema")
    for name, what in (("submissions", "submissions only"), ("messages", "every mail "
                                                                           "processed")):
        group = commands.add_parser(name, help=f"list {what}")
        sub = group.add_subparsers(dest="list_command", required=True, parser_class=_Parser)
        listed = sub.add_parser("list", help=f"list {what}")
        listed.add_argument("--month", type=_month, help="YYYY-MM (default: all)")
        listed.add_argument("--format", choices=("text", "json"), default="text")
        if name == "submissions":
            cli_decisions.add_show(sub)
    _add_officer_commands(commands)
    cli_decisions.add_commands(commands)  # adopt, unadopt, instruct, assign, review
    add_request_commands(commands)  # request add | list | close (约稿, R14)
    _add_import_command(commands)
    add_report_commands(commands, _Parser)  # reports/commands.py
    add_remind_commands(commands)  # cli_remind.py: remind (R12)
    schedule_commands.add_commands(commands)  # jobs list
    cli_web.add_commands(commands, _Parser)  # web, web user add | remove | list
    return parser


def _add_import_command(commands: Any) -> None:
    backlog = commands.add_parser(
        "import", help="record a backlog of old mail like new mail (no receipts unless "
        "--receipts); the source is only read; run it again to resume")
    source = backlog.add_mutually_exclusive_group(required=True)
    source.add_argument("--maildir", metavar="PATH", help="a Maildir (its cur/ and new/)")
    source.add_argument("--mbox", metavar="FILE", help="an mbox file (e.g. a Foxmail export)")
    source.add_argument("--from-folder", metavar="NAME",
                        help="a folder of the [imap] mailbox, opened read-only")
    backlog.add_argument("--receipts", action="store_true",
                         help="queue receipts and urgent alerts as for new mail, and send them")


def _add_officer_commands(commands: Any) -> None:
    group = commands.add_parser("officers", help="the roster of officers (信息员), R7")
    sub = group.add_subparsers(dest="officers_command", required=True, parser_class=_Parser)
    listed = sub.add_parser("list", help="every registered officer and unit")
    listed.add_argument("--format", choices=("text", "json"), default="text")
    add = sub.add_parser("add", help="register ADDRESS for a unit (moves it if registered)")
    add.add_argument("address")
    add.add_argument("--unit", required=True, help="a configured unit's name or alias")
    add.add_argument("--name", default="", help="the officer's name")
    remove = sub.add_parser("remove", help="unregister ADDRESS")
    remove.add_argument("address")


# Per-mail lines (at INFO): the daemon's journal wants one a mail; a `poll --once` (and the
# demo) prints its summary instead, unless --verbose
_PER_MAIL = {"mailroom.pipeline": re.compile("recorded uid "),
             "mailroom.mailbox.imap": re.compile("filed "),
             "mailroom.outbox.sender": re.compile(r"outbox: (sent |\d+ sent, )")}
_SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
                    logging.CRITICAL: 2}


class _SummaryOnly(logging.Filter):
    """Drops the per-mail INFO lines (the command prints a summary of them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        pattern = _PER_MAIL.get(record.name)
        return not (pattern and record.levelno == logging.INFO
                    and pattern.match(record.getMessage()))


class _JournalFormatter(logging.Formatter):
    """Under systemd (stderr is the journal: $JOURNAL_STREAM), each line starts with its
    syslog priority, `<3>` for an error, so `journalctl -p err -u mailroom` finds it."""

    def format(self, record: logging.LogRecord) -> str:
        priority = f"<{_SYSLOG_PRIORITY.get(record.levelno, 6)}>"
        lines = super().format(record).splitlines() or [""]
        return "\n".join([priority + lines[0], *(f"{priority}  {line}" for line in lines[1:])])


def _configure_logging(verbose: bool, command: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    layout = "%(levelname)s %(name)s: %(message)s"
    handler.setFormatter(_JournalFormatter(layout) if os.environ.get("JOURNAL_STREAM")
                         else logging.Formatter(layout))
    if command == "poll" and not verbose:
        handler.addFilter(_SummaryOnly())
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    logging.getLogger("mailparser").setLevel(logging.CRITICAL)
    logging.getLogger("imapclient").setLevel(logging.WARNING)
    # "Context impl SQLiteImpl." on every schema look-up; `db upgrade` prints the revision
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed PDFs are noted per mail


def cmd_db(app: App, args: argparse.Namespace) -> int:
    revision = upgrade(app.engine)
    print(f"database schema is at revision {revision}")
    return 0


def cmd_poll(app: App, args: argparse.Namespace) -> int:
    stopper = daemon.Stopper()  # SIGTERM / SIGINT: as for `run`
    stopper.install()
    try:
        report = daemon.poll_once(app, stopper)
    except daemon.MailboxBusy as exc:
        print(exc)
        return 0
    except daemon.Aborted:
        return 1
    finally:
        stopper.uninstall()
    stopped = "; stopped by a signal: the rest waits for the next pass" \
        if stopper.requested else ""
    print(report.summary() + stopped)
    return 0


def cmd_run(app: App, args: argparse.Namespace) -> int:
    try:
        daemon.run_forever(app)
    except InstanceBusy as exc:
        print(f"mailroom: {exc}", file=sys.stderr)
        return 2
    except daemon.Aborted:
        return 1
    return 0


def cmd_check(app: App, args: argparse.Namespace) -> int:
    failures = 0
    for label, probe in health.probes(app):
        try:
            detail = probe()
        except (MailroomError, OperationalError) as exc:
            failures += 1
            print(f"FAIL {label}: {_reason(exc)}")
        else:
            print(f"ok   {label}: {detail}")
    return 1 if failures else 0


def cmd_list(app: App, args: argparse.Namespace) -> int:
    if args.list_command == "show":
        return cli_decisions.cmd_show(app, args)
    require_current_schema(app.engine)
    with app.sessions() as session:
        if args.command == "submissions":
            rows = listing.submission_rows(session, args.month, app.settings.zone)
            text = listing.submissions_table
        else:
            rows = listing.message_rows(session, args.month, app.settings.zone)
            text = listing.messages_table
    _print(rows, args.format, text)
    return 0


def cmd_officers(app: App, args: argparse.Namespace) -> int:
    require_current_schema(app.engine)
    with app.sessions.begin() as session:  # list the config's officers before a first poll
        officers.sync_from_config(session, app.settings, app.clock.now())
    if args.officers_command == "list":
        with app.sessions() as session:
            rows = officers.officer_rows(session, app.settings.zone)
        _print(rows, args.format, officers.officers_table)
        return 0
    with app.sessions.begin() as session:
        if args.officers_command == "add":
            officer = officers.add_officer(session, app.settings, args.address, args.unit,
                                           args.name, app.clock.now(), by=getpass.getuser())
            print(f"registered {officer.address} for {officer.unit}")
        else:
            officer = officers.remove_officer(session, app.settings, args.address)
            print(f"removed {officer.address} (was registered for {officer.unit})")
    return 0


def _print(rows: list[dict[str, Any]], format: str, text: Callable[[Any], str]) -> None:
    if format == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(text(rows))


def cmd_import(app: App, args: argparse.Namespace) -> int:
    if not args.verbose:  # the progress display says how far it is; no line per mail
        logging.getLogger("mailroom.pipeline").setLevel(logging.WARNING)
    source = importing.open_backlog(app, maildir=args.maildir, mbox=args.mbox,
                                    folder=args.from_folder)
    stopper = daemon.Stopper()  # Ctrl-C / SIGTERM: stop after the mail in hand
    stopper.install()
    try:
        report = importing.run_import(app, source, args.receipts, stopper,
                                      importing.progress_for(sys.stderr),
                                      lambda text: print(text, file=sys.stderr))
    except InstanceBusy as exc:
        print(f"mailroom: {exc}", file=sys.stderr)
        return 2
    except daemon.Aborted:
        return 1
    finally:
        stopper.uninstall()
        source.close()
    if report is None:
        print("import: stopped while waiting for the other process; nothing imported")
        return 1
    print(importing.summary(report, source.name, stopper.requested))
    return 1 if stopper.requested else 0


COMMANDS: dict[str, Callable[[App, argparse.Namespace], int]] = {
    "db": cmd_db, "poll": cmd_poll, "run": cmd_run, "check": cmd_check,
    "submissions": cmd_list, "messages": cmd_list, "officers": cmd_officers,
    "import": cmd_import, "report": cmd_report, **cli_decisions.COMMANDS,
    **REMIND_COMMANDS,
    **schedule_commands.COMMANDS,
    **REQUEST_COMMANDS,
    **cli_web.COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        return _failed(exc)
    _configure_logging(args.verbose, args.command)
    try:
        app = App.build(load_settings(config_path(args.config)))
    except MailroomError as exc:
        return _failed(exc)
    try:
        return COMMANDS[args.command](app, args)
    except (UsageError, MailroomError, OperationalError, IntegrityError, OSError) as exc:
        return _failed(exc, app)
    except KeyboardInterrupt:
        return 1
    finally:
        app.close()


def _failed(exc: Exception, app: App | None = None) -> int:
    """One line on stderr; the exit code (SPEC): 2 for a usage or config error (an argument
    naming what does not exist is one), 1 for any other failure."""
    if isinstance(exc, UsageError):
        print(exc, file=sys.stderr)
        return 2
    if isinstance(exc, OperationalError):  # unreachable server, unopenable file, locked
        where = app.engine.url.render_as_string(hide_password=True) if app else "the database"
        print(f"mailroom: cannot use {where}: {_reason(exc)}", file=sys.stderr)
        return 1
    if isinstance(exc, IntegrityError):  # a check passed here, another process won the race
        print(f"mailroom: the database refused the change (another process made a conflicting "
              f"one at the same moment; look again and retry): {_reason(exc)}", file=sys.stderr)
        return 1
    if isinstance(exc, ConfigError):
        print(f"mailroom: config error: {exc}", file=sys.stderr)
        return 2
    print(f"mailroom: {_reason(exc)}", file=sys.stderr)
    return 2 if isinstance(exc, InvalidInput) else 1


def _reason(exc: Exception) -> str:
    """What went wrong, in one line: a driver's message without SQLAlchemy's SQL and
    background lines; a file system error with its path."""
    if isinstance(exc, (OperationalError, IntegrityError)):
        return (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

