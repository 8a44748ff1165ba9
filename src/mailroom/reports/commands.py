"""The `report monthly` and `report annual` commands (R9, R10), kept apart from cli.py,
which registers them: parse, build, render, write or send.

Output: `--out FILE` gets the bytes; without it text, JSON and CSV go to stdout, and a
binary format (XLSX, DOCX) too when stdout is a pipe or a file, but on a terminal it is
refused (exit 2) rather than dumped. `--send` queues the mail (reports/sending.py) and
sends what is due in the outbox at once (as `poll --once` would).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mailroom.app import App
from mailroom.digest.commands import add_digest_command, cmd_digest
from mailroom.errors import InvalidInput, MailroomError
from mailroom.reports import sending, service
from mailroom.reports.render import RENDERERS
from mailroom.reports.values import AnnualReport, MonthlyReport
from mailroom.store.database import require_current_schema
from mailroom.vocabulary import is_month

FORMATS = ("text", "json", "csv", "html", "xlsx", "docx")
BINARY = frozenset({"xlsx", "docx"})
SEND_WAIT = 60.0  # seconds the SMTP throttle may hold `--send` up, as for `poll --once`


def _month(value: str) -> str:
    if not is_month(value):
        raise argparse.ArgumentTypeError(f"month must be YYYY-MM, got {value!r}")
    return value


def _year(value: str) -> int:
    if not (len(value) == 4 and value.isdigit() and value >= "1970"):
        raise argparse.ArgumentTypeError(f"year must be YYYY, got {value!r}")
    return int(value)


def add_report_commands(commands: Any, parser_class: type[argparse.ArgumentParser]) -> Any:
    """`report monthly|annual`; returns the `report` subcommands for other reports."""
    group = commands.add_parser("report", help="the monthly bulletin (R9), the annual "
                                "summary (R10) and the office digest (R11)")
    sub = group.add_subparsers(dest="report_command", required=True, parser_class=parser_class)
    monthly = sub.add_parser("monthly", help="the monthly bulletin (通报) of one month")
    monthly.add_argument("--month", type=_month, required=True, help="YYYY-MM")
    annual = sub.add_parser("annual", help="the annual summary of one year, up to today")
    annual.add_argument("--year", type=_year, required=True, help="YYYY")
    for command in (monthly, annual):
        command.add_argument("--format", choices=FORMATS, default="text")
        command.add_argument("--out", metavar="FILE", help="write to FILE (default: stdout)")
        command.add_argument("--send", action="store_true", help="mail it to the office and "
                             "the units' heads: HTML + text, CSV, XLSX and DOCX attached")
        command.add_argument("--force", action="store_true", help="with --send: send it "
                             "again for a period already sent")
    add_digest_command(sub)  # digest/commands.py
    return sub


def cmd_report(app: App, args: argparse.Namespace) -> int:
    if args.report_command == "digest":
        return cmd_digest(app, args)
    if args.force and not args.send:
        raise InvalidInput("--force goes with --send")
    renderer = RENDERERS.get(args.format)
    if renderer is None:
        raise MailroomError(f"format {args.format} is not available in this build "
                            f"(available: {', '.join(sorted(RENDERERS))})")
    if args.format in BINARY and not args.out and not args.send and sys.stdout.isatty():
        raise InvalidInput(f"{args.format} is binary: give --out FILE or redirect stdout")
    require_current_schema(app.engine)
    now = app.clock.now()
    report: MonthlyReport | AnnualReport
    with app.sessions() as session:
        if args.report_command == "monthly":
            report = service.monthly(session, app.settings, args.month, now)
        else:
            report = service.annual(session, app.settings, args.year, now)
    if args.send:
        return _send(app, report, args.force, args.out, renderer)
    _write(renderer(report), args.out)
    return 0


def _write(data: bytes, out: str | None) -> None:
    if out:
        Path(out).write_bytes(data)
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _send(app: App, report: MonthlyReport | AnnualReport, force: bool, out: str | None,
          renderer: sending.Renderer) -> int:
    with app.sessions.begin() as session:
        queued = sending.queue_report(session, app.settings, app.clock, report, RENDERERS,
                                      force=force)
    print(f"queued {queued.subject} for {len(queued.recipients)} recipients "
          f"({', '.join(queued.recipients)}) as outbox #{queued.outbox_id}")
    if out:
        _write(renderer(report), out)
    print(app.outbox().drain(max_wait=SEND_WAIT).summary())
    return 0
