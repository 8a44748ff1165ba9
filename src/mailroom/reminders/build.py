"""Who gets a 催报 reminder (R12) and what it says, pure: the month's bulletin values
(reports.build, so a reminder and the bulletin never disagree), the units' items, the
registered roster and the settings in; the reminders out. No session, no clock: `as_of`
is passed in.

- A unit is *due* when it is below its quota in the bulletin of the month as of now
  (`UnitLine.meets_quota` false: counted + suspected < the unit's `quota`, else `[quota]
  monthly_minimum`). Units at quota get none.
- Recipients: the unit's officers — `[[units]] officers` and the roster registered by roster
  mails and the CLI (table `officers`) — and its `[[units]] heads`, each address once
  (lower-cased), in that order. A due unit with nobody to mail is still listed: the office
  must chase it by phone.
- Days left: whole days after today (in `timezone`) to the month's last day: 11 on 20 May,
  0 on 31 May (the last day); a month already over is `over`. The bulletin's day: the next
  time `[schedule] monthly_report` fires within the month after `as_of`, if it does.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from mailroom.config import Settings
from mailroom.errors import InvalidInput
from mailroom.reports.build import unit_names
from mailroom.reports.values import MonthlyReport
from mailroom.schedule import cron


@dataclass(frozen=True)
class ItemLine:
    """One of the unit's items this month, as the reminder lists it."""

    number: str
    title: str
    status: str  # vocabulary.Status
    received_at: str  # "YYYY-MM-DD HH:MM" in `timezone`
    duplicate_of: str | None = None  # the first report's number (duplicate, suspected)
    rejected_by: tuple[str, ...] = ()  # warning codes that made it rejected


@dataclass(frozen=True)
class Deadline:
    """How long the month still runs, as of the reminder."""

    month_end: date  # the month's last day
    days_left: int  # whole days after today to month_end: 0 on the last day and after
    over: bool  # the month had ended at as_of
    bulletin: datetime | None  # when the month's bulletin is made (monthly_report), if ahead


@dataclass(frozen=True)
class UnitReminder:
    """One unit's standing this month: what its reminder says, to whom."""

    unit: str
    submitted: int  # every item of the month: counted, suspected, duplicates, rejected
    counted: int  # counted + suspected: what counts toward the quota
    suspected: int
    quota: int
    items: tuple[ItemLine, ...]  # by time received
    officers: tuple[str, ...]
    heads: tuple[str, ...]

    @property
    def short(self) -> int:
        """How many more counted items the quota needs."""
        return max(self.quota - self.counted, 0)

    @property
    def recipients(self) -> tuple[str, ...]:
        """The officers, then the heads, each address once."""
        return tuple(dict.fromkeys(a.strip().lower() for a in (*self.officers, *self.heads)
                                   if "@" in a))


@dataclass(frozen=True)
class Reminders:
    """The month's reminders as of `as_of`: the units due one, and those at quota."""

    month: str  # "YYYY-MM"
    as_of: datetime  # aware, in `timezone`
    bureau: str  # [office] name
    mailbox: str  # where submissions go: [imap] username, else [smtp] sender; "" unknown
    deadline: Deadline
    due: tuple[UnitReminder, ...]  # below quota, in config order
    at_quota: tuple[UnitReminder, ...]  # no reminder, in config order

    @property
    def unreachable(self) -> tuple[UnitReminder, ...]:
        """Units due a reminder that have no address to mail it to."""
        return tuple(unit for unit in self.due if not unit.recipients)


def month_end(month: str) -> date:
    """The last day of `month` ("YYYY-MM"): 28 or 29 February, 30, 31."""
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, calendar.monthrange(year, number)[1])


def deadline(month: str, as_of: datetime, zone: ZoneInfo,
             bulletin_cron: str | None = None) -> Deadline:
    """How long `month` still runs at `as_of` (read in `zone`); refuses a month not begun."""
    local = as_of.astimezone(zone)
    today = local.date()
    last = month_end(month)
    if today < last.replace(day=1):
        raise InvalidInput(f"{month} has not begun (today is {today:%Y-%m-%d})")
    bulletin = next_firing(bulletin_cron, local, last, zone) if bulletin_cron else None
    return Deadline(month_end=last, days_left=max((last - today).days, 0),
                    over=today > last, bulletin=bulletin)


def next_firing(cron_text: str, after: datetime, last: date, zone: ZoneInfo) -> datetime | None:
    """The first time `cron_text` fires after `after` and on or before the day `last`, on
    `zone`'s wall clock; None when it does not fire in that span."""
    schedule = cron.parse(cron_text)
    first_hour, first_minute = min(schedule.hours), min(schedule.minutes)
    day = after.date()
    while day <= last:
        if schedule.matches(datetime(day.year, day.month, day.day, first_hour, first_minute)):
            for hour in sorted(schedule.hours):
                for minute in sorted(schedule.minutes):
                    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                    if moment > after:
                        return moment
        day += timedelta(days=1)
    return None


def mailbox_of(settings: Settings) -> str:
    """The submission mailbox's address: [imap] username, else [smtp] sender, else ""."""
    if settings.imap is not None and "@" in settings.imap.username:
        return settings.imap.username
    if settings.smtp is not None and "@" in settings.smtp.sender:
        return settings.smtp.sender
    return ""


def plan(report: MonthlyReport, items: Mapping[str, Sequence[ItemLine]],
         roster: Mapping[str, Sequence[str]], settings: Settings,
         as_of: datetime) -> Reminders:
    """The reminders of `report.period` as of `as_of`. `items`: each unit's items of the
    month (ItemLine, by time received); `roster`: the addresses registered per unit (table
    `officers`); `report`: the month's bulletin as of `as_of` (reports.service.monthly)."""
    configured = {unit.name: unit for unit in settings.units}
    lines = {line.unit: line for line in report.units}
    due: list[UnitReminder] = []
    at_quota: list[UnitReminder] = []
    for name in unit_names(settings, ()) + sorted(set(lines) - set(configured)):
        line = lines.get(name)
        if line is None:
            continue
        unit = configured.get(name)
        reminder = UnitReminder(
            unit=name, submitted=line.tally.submitted, counted=line.tally.counted,
            suspected=line.tally.suspected, quota=line.quota,
            items=tuple(items.get(name, ())),
            officers=(*(unit.officers if unit else ()), *roster.get(name, ())),
            heads=tuple(unit.heads) if unit else ())
        (at_quota if line.meets_quota else due).append(reminder)
    zone = settings.zone
    return Reminders(
        month=report.period, as_of=as_of.astimezone(zone), bureau=settings.office.name,
        mailbox=mailbox_of(settings),
        deadline=deadline(report.period, as_of, zone, settings.schedule.monthly_report),
        due=tuple(due), at_quota=tuple(at_quota))
