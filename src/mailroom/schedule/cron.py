"""Standard 5-field cron (SPEC: Schedule), parsed into the values each field allows, and
turned into APScheduler 3 triggers.

`minute hour day-of-month month day-of-week`, each `*`, a value, a range `a-b`, a step
`*/n` or `a-b/n`, or a comma list of those; months and weekdays also by English name
(jan…dec, sun…sat). Weekdays count from Sunday = 0, and 7 is Sunday too.

Two places where APScheduler 3 differs from cron, and why this module exists:

* `CronTrigger.from_crontab` numbers weekdays from Monday = 0 ("0 9 * * 0" would fire on
  Mondays), so weekdays are handed to `CronTrigger` by name;
* when both day-of-month and day-of-week are restricted (neither starts with `*`), cron
  fires on a day matching *either* ("0 9 1 * 1": the 1st and every Monday), while one
  `CronTrigger` needs both; such a schedule becomes two triggers under an `OrTrigger`.

Pure: strings in, values out; no clock, no scheduler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
               "dec")
WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: leap years


class CronError(ValueError):
    """A cron string that is not standard 5-field cron; the message says what is wrong."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i
    star_high: int | None = None  # where `*` ends, when not at `high`

    def value(self, text: str) -> int:
        lowered = text.lower()
        if lowered in self.names:
            return self.low + self.names.index(lowered)
        if not text.isdigit():
            named = f" or a name ({self.names[0]}…{self.names[-1]})" if self.names else ""
            raise CronError(f"{self.name} {text!r} is not a number{named}")
        number = int(text)
        if not self.low <= number <= self.high:
            raise CronError(f"{self.name} {number} is out of range {self.low}-{self.high}")
        return number


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, MONTH_NAMES),
    _Field("day-of-week", 0, 7, WEEKDAY_NAMES, star_high=6),  # 7 = Sunday, folded to 0
)
_ITEM = re.compile(r"^(?:(?P<star>\*)|(?P<first>[0-9a-z]+)(?:-(?P<last>[0-9a-z]+))?)"
                   r"(?:/(?P<step>[0-9]+))?$", re.IGNORECASE)


@dataclass(frozen=True)
class Cron:
    """A parsed schedule: the values each field allows. Weekdays: 0 = Sunday … 6 = Saturday."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    either_day: bool  # day-of-month and day-of-week both restricted: a day matching one fires

    def matches(self, moment: datetime) -> bool:
        """Whether the schedule fires at this minute of `moment`'s wall clock."""
        in_days = moment.day in self.days
        in_weekdays = (moment.weekday() + 1) % 7 in self.weekdays  # Python: Monday = 0
        day = (in_days or in_weekdays) if self.either_day else (in_days and in_weekdays)
        return (day and moment.minute in self.minutes and moment.hour in self.hours
                and moment.month in self.months)


def parse(text: str) -> Cron:
    """Parse a standard 5-field cron string; raises CronError saying what is wrong."""
    parts = text.split()
    if len(parts) != len(_FIELDS):
        raise CronError(f"expected 5 fields (minute hour day-of-month month day-of-week), "
                        f"found {len(parts)}")
    minutes, hours, days, months, weekdays = (
        _parse_field(part, field) for part, field in zip(parts, _FIELDS, strict=True))
    weekdays = frozenset(day % 7 for day in weekdays)
    either_day = not parts[2].startswith("*") and not parts[4].startswith("*")
    cron = Cron(" ".join(parts), minutes, hours, days, months, weekdays, either_day)
    _require_a_day(cron)
    return cron


def _parse_field(text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        match = _ITEM.match(item)
        if match is None:
            raise CronError(f"{field.name} {item!r} is not a value, a range (a-b) or a step "
                            "(*/n, a-b/n)")
        values.update(_expand(match, field))
    return frozenset(values)


def _expand(item: re.Match[str], field: _Field) -> range:
    step = int(item["step"] or 1)
    if step == 0:
        raise CronError(f"{field.name} {item[0]!r}: a step must be at least 1")
    if item["star"]:
        return range(field.low, (field.star_high or field.high) + 1, step)
    first = field.value(item["first"])
    if item["last"] is None:
        if item["step"] is not None:
            raise CronError(f"{field.name} {item[0]!r}: a step goes with * or a range "
                            f"(*/{step} or {first}-{field.high}/{step})")
        return range(first, first + 1)
    last = field.value(item["last"])
    if first > last:
        raise CronError(f"{field.name} range {item[0]!r} runs backwards")
    return range(first, last + 1, step)


def _require_a_day(cron: Cron) -> None:
    """Refuse a schedule that never fires ("0 9 30 2 *": there is no 30 February)."""
    if cron.either_day:
        return  # its weekdays fire in every month
    if not any(day <= _DAYS_IN_MONTH[month - 1] for month in cron.months for day in cron.days):
        days = ",".join(str(day) for day in sorted(cron.days))
        months = ",".join(MONTH_NAMES[month - 1] for month in sorted(cron.months))
        raise CronError(f"never fires: day-of-month {days} does not occur in {months}")


# --- APScheduler 3 --------------------------------------------------------------------


def trigger_arguments(cron: Cron) -> list[dict[str, str]]:
    """`CronTrigger` keyword arguments for `cron` (weekdays by name); two sets, to be
    combined with `OrTrigger`, when cron fires on a day matching either day field."""
    common = {"second": "0", "minute": _listed(cron.minutes, range(60)),
              "hour": _listed(cron.hours, range(24)), "month": _listed(cron.months, range(1, 13))}
    days = _listed(cron.days, range(1, 32))
    weekdays = "*" if len(cron.weekdays) == 7 else ",".join(
        WEEKDAY_NAMES[day] for day in sorted(cron.weekdays))
    if cron.either_day:
        return [{**common, "day": days, "day_of_week": "*"},
                {**common, "day": "*", "day_of_week": weekdays}]
    return [{**common, "day": days, "day_of_week": weekdays}]


def _listed(values: frozenset[int], every: range) -> str:
    return "*" if values == frozenset(every) else ",".join(str(v) for v in sorted(values))


def trigger(cron: Cron, zone: tzinfo) -> Any:
    """The APScheduler 3 trigger firing when `cron` does, on `zone`'s wall clock."""
    triggers = [CronTrigger(timezone=zone, **arguments) for arguments in trigger_arguments(cron)]
    return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)
