"""Report building, pure: records (records.py) + period + settings -> the report values
(values.py). No session, no clock: `as_of` is passed in.

Counting (SPEC "JSON shapes", R9, R10):
- An item is a unit's when it has a unit and is not `unassigned`; unassigned items are
  nobody's (the report's `unassigned` count, the bureau totals) until `assign`.
- `submitted` = `counted` + `duplicates` + `rejected`; `counted` includes `suspected`.
- `adopted` = the unit's items with at least one adoption, whatever their status (the
  office chose to adopt it); `adoptions` = adoptions per channel; an adoption counts in the
  month the item was received (`ItemRecord.month`), whenever it was decided.
- An item's score: its adoptions' channel scores, summed or the highest (`[scoring]
  mode`), plus `instruction_bonus` per 批示. A channel no longer configured scores 0 but
  its adoptions are still counted and shown: the report's `channels` are the configured
  ones in config order, then any other channel found, by name.
- `quota`: the unit's `quota`, else `[quota] monthly_minimum`; `meets_quota` = counted >=
  quota. A unit found in the records but no longer configured is listed too (after the
  configured ones before ranking), with the default quota: its items are not dropped.
- `rank`: by score, then counted, descending; equal pairs share a rank and the next rank
  skips (competition ranking: 1, 1, 3). Equal units keep config order.
- 零报送 (`zero_report`): units with nothing submitted at all in the period.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from mailroom.config import Settings
from mailroom.errors import InvalidInput
from mailroom.reports.records import ItemRecord, Records, RequestRecord
from mailroom.reports.values import (
    AdoptedItem,
    AnnualReport,
    AnnualUnitLine,
    MonthlyReport,
    ReporterLine,
    RequestLine,
    Tally,
    UnitLine,
)
from mailroom.vocabulary import COUNTING, Status

BEST = 3  # the year's best: ranks 1 .. 3, ties included


@dataclass(frozen=True)
class Scoring:
    """How items score (R8): channel scores, sum or highest, the 批示 bonus."""

    channel_scores: dict[str, float]
    mode: str  # "sum" | "highest"
    instruction_bonus: float

    @classmethod
    def of(cls, settings: Settings) -> Scoring:
        return cls({c.name: c.score for c in settings.adoption_channels},
                   settings.scoring.mode, settings.scoring.instruction_bonus)

    def item(self, item: ItemRecord) -> float:
        scores = [self.channel_scores.get(channel, 0.0) for channel in item.channels]
        adopted = (max(scores) if self.mode == "highest" else sum(scores)) if scores else 0.0
        return adopted + self.instruction_bonus * item.instructions


_UNASSIGNED = str(Status.UNASSIGNED)
_COUNTING = frozenset(str(status) for status in COUNTING)


def is_units(item: ItemRecord) -> bool:
    """Is the item a unit's (credited), not unassigned?"""
    return item.unit is not None and item.status != _UNASSIGNED


def tally(items: Iterable[ItemRecord], channels: Sequence[str], scoring: Scoring) -> Tally:
    """What `items` add up to. Unassigned items count in `submitted` only (the bureau's
    totals); a unit's or a reporter's items never include them."""
    statuses: Counter[str] = Counter()
    adoptions = dict.fromkeys(channels, 0)
    adopted = instructions = 0
    score = 0.0
    for item in items:
        statuses[item.status] += item.size
        if item.channels or item.instructions:
            for channel in item.channels:
                adoptions[channel] = adoptions.get(channel, 0) + 1
            adopted += bool(item.channels)
            instructions += item.instructions
            score += scoring.item(item)
    counted = statuses[Status.COUNTED] + statuses[Status.SUSPECTED]
    return Tally(
        submitted=sum(statuses.values()), counted=counted,
        duplicates=statuses[Status.DUPLICATE], suspected=statuses[Status.SUSPECTED],
        rejected=statuses[Status.REJECTED], adopted=adopted, adoptions=adoptions,
        instructions=instructions, score=score)


T = TypeVar("T")


def competition_ranks(lines: Sequence[T], key: Callable[[T], tuple[float, ...]]) -> list[int]:
    """1-based ranks of `lines`, already sorted by `key` descending: equal keys share a
    rank, and the next rank skips as many (1, 1, 3)."""
    ranks: list[int] = []
    for position, line in enumerate(lines):
        same = position and key(line) == key(lines[position - 1])
        ranks.append(ranks[-1] if same else position + 1)
    return ranks


def _ranked(lines: list[T], key: Callable[[T], tuple[float, ...]]) -> list[tuple[int, T]]:
    ordered = sorted(lines, key=key, reverse=True)  # stable: equal lines keep their order
    return list(zip(competition_ranks(ordered, key), ordered, strict=True))


def _tally_key(tally: Tally) -> tuple[float, ...]:
    return (round(tally.score, 6), tally.counted)


def report_channels(settings: Settings, items: Iterable[ItemRecord]) -> tuple[str, ...]:
    configured = [channel.name for channel in settings.adoption_channels]
    other = sorted({c for item in items for c in item.channels} - set(configured))
    return (*configured, *other)


def unit_names(settings: Settings, items: Iterable[ItemRecord]) -> list[str]:
    """The configured units in config order, then any other unit the items name."""
    configured = [unit.name for unit in settings.units]
    other = sorted({item.unit for item in items if is_units(item)} - set(configured),
                   key=lambda name: name or "")
    return [*configured, *(name for name in other if name is not None)]


def quotas(settings: Settings) -> dict[str, int]:
    return {unit.name: settings.quota_of(unit) for unit in settings.units}


def _by_unit(items: Iterable[ItemRecord]) -> dict[str, list[ItemRecord]]:
    grouped: dict[str, list[ItemRecord]] = defaultdict(list)
    for item in items:
        if item.unit is not None and item.status != _UNASSIGNED:
            grouped[item.unit].append(item)
    return grouped


# -- the monthly bulletin (R9) -------------------------------------------------------------


def build_monthly(records: Records, period: str, settings: Settings,
                  as_of: datetime) -> MonthlyReport:
    """The bulletin of `period` ("YYYY-MM"). `records` hold the period in full and the
    year's earlier scored items (records.load(session, year, period, period))."""
    year = int(period[:4])
    scoring = Scoring.of(settings)
    month_items = [item for item in records.items if item.month == period]
    year_items = [item for item in records.items
                  if item.month.startswith(f"{year:04d}-") and item.month <= period]
    channels = report_channels(settings, month_items)
    names = unit_names(settings, month_items)
    month_by_unit, year_by_unit = _by_unit(month_items), _by_unit(year_items)
    quota_of = quotas(settings)
    default_quota = settings.quota.monthly_minimum
    lines = []
    for name in names:
        unit_tally = tally(month_by_unit.get(name, ()), channels, scoring)
        quota = quota_of.get(name, default_quota)
        cumulative = sum(scoring.item(item) for item in year_by_unit.get(name, ()))
        lines.append(UnitLine(unit=name, tally=unit_tally, quota=quota,
                              meets_quota=unit_tally.counted >= quota, rank=0,
                              cumulative_score=cumulative))
    ranked = [UnitLine(unit=line.unit, tally=line.tally, quota=line.quota,
                       meets_quota=line.meets_quota, rank=rank,
                       cumulative_score=line.cumulative_score)
              for rank, line in _ranked(lines, lambda line: _tally_key(line.tally))]
    order = {line.unit: position for position, line in enumerate(ranked)}
    return MonthlyReport(
        period=period, bureau=settings.office.name, as_of=as_of.astimezone(settings.zone),
        channels=channels, units=tuple(ranked),
        totals=tally(month_items, channels, scoring),
        below_quota=tuple(line.unit for line in ranked if not line.meets_quota),
        zero_report=tuple(line.unit for line in ranked if line.tally.submitted == 0),
        unassigned=sum(item.size for item in month_items if not is_units(item)),
        adopted_items=adopted_items(month_items, order, settings, scoring),
        requests=request_lines(records.requests, period))


def request_lines(requests: Iterable[RequestRecord], period: str) -> tuple[RequestLine, ...]:
    """The 约稿 of `period` — created in it, due in it, or answered by an item of it — each
    with the units that answered (asked units in the order named, then units that answered
    unasked, by name) and those that did not."""
    lines = []
    prefix = period.replace("-", "")  # an item's number starts with its month: 201905-0012
    for request in requests:
        if not (request.month == period or request.due[:7] == period
                or any(number.startswith(prefix) for _, number in request.linked)):
            continue
        numbers: dict[str, list[str]] = defaultdict(list)
        for unit, number in request.linked:
            numbers[unit].append(number)
        order = [*(u for u in request.units if u in numbers),
                 *sorted(u for u in numbers if u not in request.units)]
        lines.append(RequestLine(
            code=request.code, title=request.title, due=request.due, status=request.status,
            units=request.units, answered=tuple((u, tuple(numbers[u])) for u in order),
            missing=tuple(u for u in request.units if u not in numbers)))
    return tuple(lines)


def adopted_items(items: Iterable[ItemRecord], order: dict[str, int], settings: Settings,
                  scoring: Scoring) -> tuple[AdoptedItem, ...]:
    """The adopted items, by unit in `order` (rank order; unassigned last), then number."""
    configured = [channel.name for channel in settings.adoption_channels]
    position = {name: index for index, name in enumerate(configured)}
    adopted = [item for item in items if item.channels]
    adopted.sort(key=lambda item: (order.get(item.unit or "", len(order))
                                   if is_units(item) else len(order) + 1, item.number))
    return tuple(
        AdoptedItem(number=item.number, unit=item.unit if is_units(item) else None,
                    title=item.title,
                    channels=tuple(sorted(item.channels,
                                          key=lambda c: (position.get(c, len(position)), c))),
                    instructed=item.instructions > 0, score=scoring.item(item))
        for item in adopted)


# -- the annual summary (R10) ----------------------------------------------------------------


def year_months(year: int, as_of: datetime) -> tuple[str, ...]:
    """The months of `year` up to `as_of` (local), its month in progress included: all
    twelve for a past year."""
    if as_of.year < year:
        raise InvalidInput(f"the year {year} has not begun (today is {as_of:%Y-%m-%d})")
    last = 12 if as_of.year > year else as_of.month
    return tuple(f"{year:04d}-{month:02d}" for month in range(1, last + 1))


def build_annual(records: Records, year: int, settings: Settings,
                 as_of: datetime) -> AnnualReport:
    """The summary of `year` (records.load(session, year, "YYYY-01", last month)) as of
    `as_of`: the months counted are the year's up to the report's date.

    A unit's `quota` for the year is the sum of its monthly quotas over the months counted;
    it meets it when no month of them was below its quota (`months_below_quota` empty):
    the rule is a monthly minimum, so 24 items in January do not make up for 11 empty
    months."""
    local = as_of.astimezone(settings.zone)
    months = year_months(year, local)
    scoring = Scoring.of(settings)
    counted_months = set(months)
    items = [item for item in records.items if item.month in counted_months]
    channels = report_channels(settings, items)
    by_unit = _by_unit(items)
    quota_of = quotas(settings)
    lines = []
    for name in unit_names(settings, items):
        mine = by_unit.get(name, [])
        monthly = quota_of.get(name, settings.quota.monthly_minimum)
        counted: dict[str, int] = defaultdict(int)
        for item in mine:
            if item.status in _COUNTING:
                counted[item.month] += item.size
        below = tuple(month for month in months if counted[month] < monthly)
        lines.append(AnnualUnitLine(unit=name, tally=tally(mine, channels, scoring),
                                    quota=monthly * len(months), rank=0,
                                    months_below_quota=below, meets_quota=not below))
    units = tuple(
        AnnualUnitLine(unit=line.unit, tally=line.tally, quota=line.quota, rank=rank,
                       months_below_quota=line.months_below_quota,
                       meets_quota=line.meets_quota)
        for rank, line in _ranked(lines, lambda line: _tally_key(line.tally)))
    reporters = reporter_lines(items, records, channels, scoring)
    return AnnualReport(
        year=year, bureau=settings.office.name, as_of=local, channels=channels,
        months=months, units=units, reporters=reporters,
        totals=tally(items, channels, scoring),
        best_units=_best((line.unit, line.rank, line.tally) for line in units),
        best_reporters=_best((line.reporter, line.rank, line.tally) for line in reporters),
        unassigned=sum(item.size for item in items if not is_units(item)))


def reporter_lines(items: Sequence[ItemRecord], records: Records, channels: Sequence[str],
                   scoring: Scoring) -> tuple[ReporterLine, ...]:
    """One line per sender of credited items (信息员): named by the registered officer's
    name, else the address; their unit is the officer's, else the unit most of their
    items went to. Unassigned items are nobody's here too."""
    officers = {officer.address: officer for officer in records.officers}
    by_sender: dict[str, list[ItemRecord]] = defaultdict(list)
    for item in items:
        if is_units(item) and item.sender:
            by_sender[item.sender].append(item)
    lines = []
    for address in sorted(by_sender):
        mine = by_sender[address]
        officer = officers.get(address)
        units: dict[str | None, int] = defaultdict(int)
        for item in mine:
            units[item.unit] += item.size
        unit = officer.unit if officer else max(units, key=lambda name: units[name])
        lines.append(ReporterLine(reporter=(officer.name if officer else "") or address,
                                  address=address, unit=unit,
                                  tally=tally(mine, channels, scoring), rank=0))
    return tuple(
        ReporterLine(reporter=line.reporter, address=line.address, unit=line.unit,
                     tally=line.tally, rank=rank)
        for rank, line in _ranked(lines, lambda line: _tally_key(line.tally)))


def _best(lines: Iterable[tuple[str, int, Tally]]) -> tuple[str, ...]:
    """Ranks 1 .. BEST, ties included, among those who did something (score or counted):
    in a year with nothing, nobody is best."""
    return tuple(name for name, rank, line in lines
                 if rank <= BEST and (line.score > 0 or line.counted > 0))
