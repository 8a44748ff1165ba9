"""`mailroom remind [--month YYYY-MM] [--send] [--force]`: the 催报 reminders (R12) of a
month (default: the current month in `timezone`), kept apart from cli.py, which registers
it. Without `--send`: what would go out, unit by unit, and the units at quota that get
none. With `--send`: queue one mail per unit below quota (reminders/sending.py) and send
what is due in the outbox at once (as `poll --once` would)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from mailroom.app import App
from mailroom.cli_args import month
from mailroom.errors import InvalidInput
from mailroom.reminders import records, sending
from mailroom.reminders.build import Reminders, UnitReminder
from mailroom.store.database import require_current_schema
from mailroom.vocabulary import local_minute, month_of

SEND_WAIT = 60.0  # seconds the SMTP throttle may hold `--send` up, as for `poll --once`


def add_commands(commands: Any) -> None:
    remind = commands.add_parser(
        "remind", help="the 催报 reminders (R12): to the officers and heads of each unit "
        "below its quota this month (without --send: show them)")
    remind.add_argument("--month", type=month,
                        help="YYYY-MM (default: the current month in `timezone`)")
    remind.add_argument("--send", action="store_true",
                        help="queue and send one reminder per unit below quota")
    remind.add_argument("--force", action="store_true",
                        help="with --send: remind again units already reminded this month")


def cmd_remind(app: App, args: argparse.Namespace) -> int:
    if args.force and not args.send:
        raise InvalidInput("--force goes with --send")
    require_current_schema(app.engine)
    now = app.clock.now()
    wanted = args.month or month_of(now, app.settings.zone)
    if not args.send:
        with app.sessions() as session:
            reminders = records.load(session, app.settings, wanted, now)
        print("\n".join(preview(reminders, app)))
        return 0
    with app.sessions.begin() as session:
        reminders = records.load(session, app.settings, wanted, now)
        outcome = sending.queue_reminders(session, app.settings, app.clock, reminders,
                                          origin=sending.CLI, force=args.force)
    if outcome.already and not outcome.queued:  # nothing new to send: refused as a whole
        nobody = "".join(f"; {unit.unit}: nobody to mail" for unit in outcome.unreachable)
        raise InvalidInput(
            f"every unit below quota in {reminders.month} was reminded already: "
            + "; ".join(f"{unit.unit} {_reminded(before, app.settings.zone)}"
                        for unit, before in outcome.already)
            + f"{nobody}; --force sends them again")
    lines = sent_lines(reminders, outcome, app)
    print("\n".join(lines))
    if outcome.queued:
        print(app.outbox().drain(max_wait=SEND_WAIT).summary())
    return 0


def _headline(reminders: Reminders, app: App) -> str:
    d = reminders.deadline
    if d.over:
        left = f"{reminders.month} is over"
    else:
        left = f"{d.days_left} days left to {d.month_end:%Y-%m-%d}"
    bulletin = f"; bulletin {local_minute(d.bulletin, app.settings.zone)}" \
        if d.bulletin is not None else ""
    return (f"reminders for {reminders.month} as of "
            f"{local_minute(reminders.as_of, app.settings.zone)} ({app.settings.timezone}): "
            f"{left}{bulletin}")


def _standing(unit: UnitReminder) -> str:
    submitted = f"{unit.submitted} submitted" if unit.submitted else "nothing submitted"
    suspected = f", {unit.suspected} of them suspected" if unit.suspected else ""
    return f"counted {unit.counted} of {unit.quota}{suspected}; {submitted}"


def preview(reminders: Reminders, app: App) -> list[str]:
    """What `remind` without --send prints: each reminder that would go out, then the units
    at quota."""
    lines = [_headline(reminders, app),
             f"below quota: {len(reminders.due)} units" if reminders.due
             else "below quota: none (no reminders)"]
    for unit in reminders.due:
        lines.append(f"  {unit.unit}: {_standing(unit)}, {unit.short} short")
        lines.append("    to: " + (", ".join(unit.recipients) if unit.recipients else
                                  "nobody (no officer or head registered): chase it by "
                                  "phone"))
        for item in unit.items:
            first = f" (of {item.duplicate_of})" if item.duplicate_of else ""
            lines.append(f"    {item.number}  {item.received_at}  {item.status}{first}  "
                         f"{item.title}")
    at_quota = ", ".join(f"{unit.unit} {unit.counted}/{unit.quota}"
                         for unit in reminders.at_quota)
    lines.append(f"at quota (no reminder): {at_quota or 'none'}")
    return lines


def sent_lines(reminders: Reminders, outcome: sending.Outcome, app: App) -> list[str]:
    """What `remind --send` did, unit by unit."""
    zone = app.settings.zone
    lines = [_headline(reminders, app)]
    if not reminders.due:
        lines.append("every unit is at quota: no reminders")
    for queued in outcome.queued:
        lines.append(f"queued the reminder to {queued.unit} for {len(queued.recipients)} "
                     f"recipients ({', '.join(queued.recipients)}) as outbox "
                     f"#{queued.outbox_id}")
    for unit, before in outcome.already:
        lines.append(f"not sent to {unit.unit}: {_reminded(before, zone)}; --force sends it "
                     "again")
    for unit in outcome.unreachable:
        lines.append(f"not sent to {unit.unit} ({_standing(unit)}): no officer or head "
                     "registered; chase it by phone")
    if reminders.at_quota:
        lines.append("at quota (no reminder): "
                     + ", ".join(unit.unit for unit in reminders.at_quota))
    return lines


def _reminded(before: list[sending.Earlier], zone: ZoneInfo) -> str:
    """When a unit was reminded this month, and by what."""
    return "reminded at " + ", ".join(
        f"{local_minute(e.at, zone)} by "
        f"{'the schedule' if e.origin == sending.SCHEDULE else 'remind --send'} ({e.status})"
        for e in before)


COMMANDS: dict[str, Callable[[App, argparse.Namespace], int]] = {"remind": cmd_remind}
