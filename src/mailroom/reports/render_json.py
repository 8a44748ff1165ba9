"""`report monthly|annual --format json`: exactly SPEC's "JSON shapes", from the values.

Monthly: `{"period": "YYYY-MM", "units": [{"unit", "submitted", "counted", "duplicates",
"suspected", "rejected", "adopted", "adoptions": {channel: n}, "score", "quota",
"meets_quota", "rank"}], "below_quota": [names], "zero_report": [names], "unassigned": n,
"requests": [{"code", "title", "units", "due", "answered": {unit: [numbers]}, "missing",
"status"}]}`, units in rank order, `adoptions` every report channel (the configured ones,
then any other channel found) with its count; `requests` (an addition to SPEC's keys, R14)
the 约稿 created in the month, as `request list --format json` shows them.

Annual (SPEC: "the same per unit for the year plus months_below_quota, and a reporters
list with the same fields per sender"): `{"period": "YYYY", "units": [… the same keys …,
"months_below_quota": ["YYYY-MM", …]], "reporters": [{"reporter", "sender", "unit",
"submitted", "counted", "duplicates", "suspected", "rejected", "adopted", "adoptions",
"score", "rank"}], "below_quota", "zero_report", "unassigned"}`. For the year a unit's
`quota` is the sum of its monthly quotas over the months counted and `meets_quota` means
no month below quota; `below_quota` names the units with a month below quota,
`zero_report` those with nothing all year. A reporter has no quota, so no quota keys;
`reporter` is the registered officer's name, else the address, `sender` the address.
Scores are written as integers when whole (3, not 3.0).
"""

from __future__ import annotations

import json
from typing import Any

from mailroom.reports.values import AnnualReport, MonthlyReport, RequestLine, Tally


def number(value: float) -> int | float:
    """A score as JSON shows it: 3, 2.5 (rounded to 4 places against float noise)."""
    rounded = round(value, 4)
    return int(rounded) if rounded.is_integer() else rounded


def tally_fields(tally: Tally) -> dict[str, Any]:
    return {
        "submitted": tally.submitted, "counted": tally.counted,
        "duplicates": tally.duplicates, "suspected": tally.suspected,
        "rejected": tally.rejected, "adopted": tally.adopted,
        "adoptions": dict(tally.adoptions), "score": number(tally.score),
    }


def monthly_object(report: MonthlyReport) -> dict[str, Any]:
    return {
        "period": report.period,
        "units": [{"unit": line.unit, **tally_fields(line.tally), "quota": line.quota,
                   "meets_quota": line.meets_quota, "rank": line.rank}
                  for line in report.units],
        "below_quota": list(report.below_quota),
        "zero_report": list(report.zero_report),
        "unassigned": report.unassigned,
        "requests": [request_fields(line) for line in report.requests],
    }


def request_fields(line: RequestLine) -> dict[str, Any]:
    """A 约稿 of the month, in `request list --format json`'s shape."""
    return {"code": line.code, "title": line.title, "units": list(line.units),
            "due": line.due, "answered": {unit: list(numbers) for unit, numbers in line.answered},
            "missing": list(line.missing), "status": line.status}


def annual_object(report: AnnualReport) -> dict[str, Any]:
    return {
        "period": f"{report.year:04d}",
        "units": [{"unit": line.unit, **tally_fields(line.tally), "quota": line.quota,
                   "meets_quota": line.meets_quota, "rank": line.rank,
                   "months_below_quota": list(line.months_below_quota)}
                  for line in report.units],
        "reporters": [{"reporter": line.reporter, "sender": line.address, "unit": line.unit,
                       **tally_fields(line.tally), "rank": line.rank}
                      for line in report.reporters],
        "below_quota": [line.unit for line in report.units if not line.meets_quota],
        "zero_report": [line.unit for line in report.units if line.tally.submitted == 0],
        "unassigned": report.unassigned,
    }


def render_json(report: MonthlyReport | AnnualReport) -> bytes:
    data = monthly_object(report) if isinstance(report, MonthlyReport) \
        else annual_object(report)
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
