"""The values a report is made of: what build.py computes from the records and every
renderer (text, JSON, CSV, HTML, XLSX, DOCX) reads. Pure data, no behaviour.

Counting follows SPEC "JSON shapes": `submitted` = `counted` + `duplicates` + `rejected`;
`counted` includes `suspected`; `adopted` = items with at least one adoption; `adoptions`
= adoptions per channel; `score` = adoption scores (sum or highest per item) + 批示
bonuses; `rank` by score, then counted, descending, equal pairs sharing a rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Tally:
    """What a unit (or an officer, or the whole bureau) did in a period."""

    submitted: int
    counted: int  # counted + suspected: what counts toward the quota
    duplicates: int
    suspected: int
    rejected: int
    adopted: int  # items with at least one adoption
    adoptions: dict[str, int]  # channel -> adoptions, every configured channel in config order
    instructions: int  # 批示 on the items
    score: float


@dataclass(frozen=True)
class UnitLine:
    """One row of the bulletin's table."""

    unit: str
    tally: Tally
    quota: int  # the unit's quota for the period (a year: the sum over its months)
    meets_quota: bool
    rank: int
    cumulative_score: float  # 累计得分: the year's score up to and including the period


@dataclass(frozen=True)
class AdoptedItem:
    """An adopted item, for the bulletin's list of adopted titles (★ = it has a 批示)."""

    number: str
    unit: str | None
    title: str
    channels: tuple[str, ...]
    instructed: bool
    score: float


@dataclass(frozen=True)
class RequestLine:
    """A 约稿 of the month (R14) with who answered and who did not."""

    code: str  # 约稿YYYYMM-NN
    title: str
    due: str  # "YYYY-MM-DD"
    status: str  # open | closed
    units: tuple[str, ...]  # the units asked, in the order named
    answered: tuple[tuple[str, tuple[str, ...]], ...]  # (unit, numbers): asked units first
    missing: tuple[str, ...]  # units asked that have not answered

    def asked(self, unit: str) -> bool:
        return unit in self.units


@dataclass(frozen=True)
class MonthlyReport:
    period: str  # "YYYY-MM"
    bureau: str  # [office] name
    as_of: datetime  # when it was built (aware, in the configured zone)
    channels: tuple[str, ...]  # the configured adoption channels, in config order
    units: tuple[UnitLine, ...]  # every configured unit, in rank order
    totals: Tally  # the whole bureau, unassigned items included in `submitted`
    below_quota: tuple[str, ...]  # units under their quota, rank order
    zero_report: tuple[str, ...]  # units with no submission at all (零报送)
    unassigned: int  # items of the period nobody has been given yet
    adopted_items: tuple[AdoptedItem, ...]  # by unit (rank order), then number
    requests: tuple[RequestLine, ...] = ()  # the 约稿 created in the month, by code


@dataclass(frozen=True)
class AnnualUnitLine:
    unit: str
    tally: Tally
    quota: int  # the sum of the monthly quotas over the months counted
    rank: int
    months_below_quota: tuple[str, ...]  # "YYYY-MM", months of the year up to the report's date
    # met every month's quota over the months counted (months_below_quota empty): the
    # rule is a monthly minimum (build.build_annual)
    meets_quota: bool = True


@dataclass(frozen=True)
class ReporterLine:
    """One officer (信息员) in the annual summary: the registered officer's name, else the
    address."""

    reporter: str
    address: str
    unit: str | None
    tally: Tally
    rank: int


@dataclass(frozen=True)
class AnnualReport:
    year: int
    bureau: str
    as_of: datetime
    channels: tuple[str, ...]
    months: tuple[str, ...]  # the months counted: the year's, up to the report's date
    units: tuple[AnnualUnitLine, ...]  # rank order
    reporters: tuple[ReporterLine, ...]  # rank order
    totals: Tally
    best_units: tuple[str, ...]  # rank 1 .. 3 (ties included)
    best_reporters: tuple[str, ...]
    unassigned: int
