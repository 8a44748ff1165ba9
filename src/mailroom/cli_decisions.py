"""The office's decisions from the command line — `adopt`, `unadopt`, `instruct` (R8),
`assign` (R1), `review` (R3) — and `submissions show`, which shows them: argument parsing
→ use case (decisions.py, showing.py) → print. Registered by cli.py.

Who decided: `--by`, else the login name (getpass.getuser()). For `instruct`, `--by` is
the leader who gave the 批示 (批示人, SPEC), so that decision is recorded as entered by the
login name. Each decision prints one line saying what changed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from mailroom import showing
from mailroom.app import App
from mailroom.cli_args import UsageError, number
from mailroom.decisions import Actor, Decisions, Outcome
from mailroom.dedupe.engine import Dedupe
from mailroom.store.database import require_current_schema
from mailroom.vocabulary import DecisionAction, DecisionSource

_NUMBER_HELP = "the submission, YYYYMM-NNNN (or YYYYMMNNNN)"
_BY_HELP = "who decided (default: the login name)"


def add_commands(commands: Any) -> None:
    """The decision commands, on the top-level subparsers."""
    adopt = commands.add_parser("adopt", help="mark an item adopted (采用) by a channel (R8)")
    adopt.add_argument("number", type=number, help=_NUMBER_HELP)
    adopt.add_argument("--channel", required=True,
                       help="an [[adoption_channels]] name, or a unique part of one")
    adopt.add_argument("--by", help=_BY_HELP)
    adopt.add_argument("--note", default="", help="a note kept with the adoption")
    unadopt = commands.add_parser("unadopt", help="undo an adoption (撤销采用)")
    unadopt.add_argument("number", type=number, help=_NUMBER_HELP)
    unadopt.add_argument("--channel", required=True, help="the channel that adopted it")
    unadopt.add_argument("--by", help=_BY_HELP)
    instruct = commands.add_parser("instruct", help="record a leader's instruction (批示) on "
                                   "an item (R8; a bonus per [scoring])")
    instruct.add_argument("number", type=number, help=_NUMBER_HELP)
    instruct.add_argument("--by", required=True, metavar="LEADER",
                          help="the leader who gave it (批示人); the login name is recorded as "
                          "who entered it")
    instruct.add_argument("--text", default="", help="what the leader wrote")
    assign = commands.add_parser("assign", help="give an unassigned item to a unit; it is then "
                                 "judged for first report (R1, R3)")
    assign.add_argument("number", type=number, help=_NUMBER_HELP)
    assign.add_argument("--unit", required=True, help="a configured unit's name or alias")
    assign.add_argument("--by", help=_BY_HELP)
    review = commands.add_parser("review", help="the office's decision on a duplicate verdict "
                                 "(R3)")
    review.add_argument("number", type=number, help=_NUMBER_HELP)
    decision = review.add_mutually_exclusive_group(required=True)
    decision.add_argument("--duplicate", action="store_true",
                          help="a duplicate: not counted (of its matched first report, or --of)")
    decision.add_argument("--distinct", action="store_true",
                          help="not a duplicate: counted")
    review.add_argument("--of", metavar="NUMBER", type=number,
                        help="with --duplicate: the earlier item it repeats")
    review.add_argument("--by", help=_BY_HELP)


def add_show(submissions: Any) -> None:
    """`submissions show`, on the `submissions` subparsers."""
    show = submissions.add_parser("show", help="one item: text, attachments, verdict, "
                                  "decisions, links, replies")
    show.add_argument("number", type=number, help=_NUMBER_HELP)
    show.add_argument("--format", choices=("text", "json"), default="text")


Act = Callable[[Decisions, Session, argparse.Namespace, Actor], Outcome]

ACTIONS: dict[str, Act] = {
    "adopt": lambda core, session, args, actor: core.adopt(
        session, args.number, args.channel, actor, note=args.note),
    "unadopt": lambda core, session, args, actor: core.unadopt(
        session, args.number, args.channel, actor),
    "instruct": lambda core, session, args, actor: core.instruct(
        session, args.number, args.by, args.text, actor),
    "assign": lambda core, session, args, actor: core.assign(
        session, args.number, args.unit, actor),
    "review": lambda core, session, args, actor: core.review(
        session, args.number, duplicate=args.duplicate, of=args.of, actor=actor),
}


def cmd_decide(app: App, args: argparse.Namespace) -> int:
    if args.command == "review" and args.of is not None and not args.duplicate:
        raise UsageError("mailroom review: --of goes with --duplicate")
    recorder = getpass.getuser() if args.command == "instruct" else args.by
    actor = Actor(recorder or getpass.getuser(), DecisionSource.CLI, app.clock.now())
    require_current_schema(app.engine)
    core = Decisions(app.settings, Dedupe(app.settings.dedupe))
    with app.sessions.begin() as session:
        outcome = ACTIONS[args.command](core, session, args, actor)
    print(describe(outcome, actor.by))
    return 0


def describe(outcome: Outcome, by: str) -> str:
    """The one line saying what a decision changed."""
    detail, action = outcome.detail, outcome.action
    if action == DecisionAction.ADOPT:
        note = f" ({detail['note']})" if detail["note"] else ""
        said = f"adopted by {detail['channel']}{note} (recorded by {by})"
    elif action == DecisionAction.UNADOPT:
        said = (f"no longer adopted by {detail['channel']} (adoption recorded by "
                f"{detail['adopted_by']}; undone by {by})")
    elif action == DecisionAction.INSTRUCT:
        text = f": {detail['text']}" if detail["text"] else ""
        said = f"instruction (批示) of {detail['leader']}{text} (entered by {by})"
    else:
        first = f" of {detail['duplicate_of']}" if detail["duplicate_of"] else ""
        change = f"{detail['previous_status']} -> {detail['status']}{first}"
        said = (f"{change}, unit {detail['unit']} (assigned by {by})"
                if action == DecisionAction.ASSIGN else f"{change} (reviewed by {by})")
    return f"{outcome.number}: {said}"


def cmd_show(app: App, args: argparse.Namespace) -> int:
    require_current_schema(app.engine)
    with app.sessions() as session:
        view = showing.submission_view(session, args.number, app.files, app.settings.zone)
    if args.format == "json":
        json.dump(view, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(showing.submission_text(view))
    return 0


COMMANDS: dict[str, Callable[[App, argparse.Namespace], int]] = {
    name: cmd_decide for name in ACTIONS}
