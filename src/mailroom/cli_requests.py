"""约稿 (R14) from the command line: `request add`, `request list`, `request close`.
Argument parsing → use case (requests/service.py) → print. Registered by cli.py.

Who: `--by`, else the login name. `request add` prints the code, what it asks and to whom
its mail was queued (a unit with nobody to mail is said); the mails are sent by the next
`poll --once` or the daemon's outbox pass, like every outgoing mail.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

from mailroom.app import App
from mailroom.cli_args import Parser
from mailroom.decisions import Actor
from mailroom.requests import service
from mailroom.store.database import require_current_schema
from mailroom.vocabulary import DecisionSource


def _due(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"a due date is YYYY-MM-DD, got {value!r}") from None


def add_request_commands(commands: Any) -> None:
    request = commands.add_parser("request", help="约稿: commission items from units (R14)")
    sub = request.add_subparsers(dest="request_command", required=True, parser_class=Parser)
    add = sub.add_parser("add", help="record a request and mail it to the units asked")
    add.add_argument("--title", required=True, help="what is asked (约稿题目)")
    add.add_argument("--units", required=True,
                     help="the units asked, comma-separated (names or aliases)")
    add.add_argument("--due", required=True, type=_due, help="the due date, YYYY-MM-DD")
    add.add_argument("--note", default="", help="requirements (约稿要求), put in the mail")
    add.add_argument("--by", help="who asks (default: the login name)")
    listed = sub.add_parser("list", help="every request: who answered, who did not")
    listed.add_argument("--format", choices=("text", "json"), default="text")
    close = sub.add_parser("close", help="close a request: no more links, no reminders")
    close.add_argument("code", metavar="ID", help="the code, 约稿YYYYMM-NN (or YYYYMM-NN)")
    close.add_argument("--by", help="who closes it (default: the login name)")


def cmd_request(app: App, args: argparse.Namespace) -> int:
    require_current_schema(app.engine)
    actor = Actor(getattr(args, "by", None) or getpass.getuser(), DecisionSource.CLI,
                  app.clock.now())
    if args.request_command == "add":
        units = [unit for unit in args.units.replace("，", ",").replace("、", ",").split(",")
                 if unit.strip()]
        with app.sessions.begin() as session:
            added = service.add_request(session, app.settings, title=args.title, units=units,
                                        due=args.due, note=args.note, actor=actor)
        print(describe_added(added))
        return 0
    if args.request_command == "close":
        with app.sessions.begin() as session:
            closed = service.close_request(session, args.code, actor)
            print(f"{closed.code}: open -> closed (《{closed.title}》, closed by "
                  f"{closed.closed_by})")
        return 0
    with app.sessions() as session:
        rows = service.request_objects(session, service.all_requests(session))
    if args.format == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(requests_text(rows))
    return 0


def describe_added(added: service.Added) -> str:
    lines = [f"{added.code}: request 《{added.title}》 recorded, due {added.due}, units "
             f"{'、'.join(added.units)}"]
    for unit, to in added.sent_to.items():
        lines.append(f"  mail queued to {unit}: {', '.join(to)}")
    for unit in added.nobody:
        lines.append(f"  {unit}: nobody to mail (no officer nor head); tell them another way")
    return "\n".join(lines)


def requests_text(rows: list[dict[str, Any]]) -> str:
    """Each request on a line, then who answered (with the numbers) and who did not."""
    lines = []
    for row in rows:
        answered = "; ".join(f"{unit} {', '.join(numbers)}"
                             + ("" if unit in row["units"] else " (not asked)")
                             for unit, numbers in row["answered"].items())
        lines += [f"{row['code']}  《{row['title']}》  due {row['due']}  {row['status']}",
                  f"  asked:    {'、'.join(row['units'])}",
                  f"  answered: {answered or '-'}",
                  f"  missing:  {'、'.join(row['missing']) or '-'}"]
    return "\n".join([*lines, f"{len(rows)} requests"])


REQUEST_COMMANDS: dict[str, Callable[[App, argparse.Namespace], int]] = {
    "request": cmd_request}
