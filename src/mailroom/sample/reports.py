"""Sample report values (reports/values.py), made by hand, for looking at the renderers
(scripts/render-samples) and testing them: the sample bureau's units plus one with a long
name, ties, units with nothing at all, five channels, 批示, rejected and unassigned items;
an empty month; and an annual summary. Deterministic: the same values every run."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from mailroom.reports.values import (
    AdoptedItem,
    AnnualReport,
    AnnualUnitLine,
    MonthlyReport,
    ReporterLine,
    Tally,
    UnitLine,
)

CST = timezone(timedelta(hours=8))
BUREAU = "永宁县自然资源局"
CHANNELS = ("县政府网站", "银川市级", "自治区级", "国家级", "媒体")
SCORES = dict(zip(CHANNELS, (1, 2, 3, 5, 2), strict=True))
LONG_UNIT = "永宁县自然资源局闽宁镇自然资源所（不动产登记服务站）"


def tally(counted: int = 0, duplicates: int = 0, suspected: int = 0, rejected: int = 0,
          adoptions: dict[str, int] | None = None, adopted: int | None = None,
          instructions: int = 0, score: float | None = None) -> Tally:
    """A unit's tally; `adopted` defaults to the largest channel count, `score` to the
    channel scores plus 2 per 批示."""
    per = {ch: (adoptions or {}).get(ch, 0) for ch in CHANNELS}
    if score is None:
        score = float(sum(SCORES[ch] * n for ch, n in per.items()) + 2 * instructions)
    return Tally(submitted=counted + duplicates + rejected, counted=counted,
                 duplicates=duplicates, suspected=suspected, rejected=rejected,
                 adopted=max(per.values()) if adopted is None else adopted,
                 adoptions=per, instructions=instructions, score=score)


def total(tallies: list[Tally], unassigned: int = 0,
          channels: tuple[str, ...] = CHANNELS) -> Tally:
    """The bureau's tally: the units' summed, `unassigned` items added to `submitted`."""
    return Tally(
        submitted=sum(t.submitted for t in tallies) + unassigned,
        counted=sum(t.counted for t in tallies),
        duplicates=sum(t.duplicates for t in tallies),
        suspected=sum(t.suspected for t in tallies),
        rejected=sum(t.rejected for t in tallies),
        adopted=sum(t.adopted for t in tallies),
        adoptions={ch: sum(t.adoptions[ch] for t in tallies) for ch in channels},
        instructions=sum(t.instructions for t in tallies),
        score=sum(t.score for t in tallies))


def monthly() -> MonthlyReport:
    """May 2019: eleven units, two ties, two with nothing at all."""
    rows: list[tuple[str, Tally, int]] = [
        ("自然资源综合执法大队", tally(5, 2, 1, 0, {"县政府网站": 3, "银川市级": 2, "自治区级": 1},
                                 adopted=3, instructions=1), 2),
        ("办公室", tally(4, 0, 0, 0, {"县政府网站": 3, "国家级": 1, "媒体": 1}, adopted=3), 2),
        ("国土空间规划股", tally(3, 1, 0, 0, {"县政府网站": 2, "银川市级": 1}), 2),
        ("耕地保护股", tally(3, 0, 1, 1, {"县政府网站": 2, "银川市级": 1}), 2),
        (LONG_UNIT, tally(2, 0, 0, 0, {"县政府网站": 2, "媒体": 1}, adopted=2, score=4.5), 2),
        ("不动产登记中心", tally(2, 1, 0, 0, {"县政府网站": 1}), 2),
        ("林业和草原股", tally(1, 0, 0, 0, {"县政府网站": 1}), 2),
        ("地籍与确权登记股", tally(1, 2, 0, 0), 2),
        ("黄河生态林场", tally(1, 0, 0, 0), 1),
        ("望洪林业站", tally(), 2),
        ("李俊林业站", tally(), 2),
    ]
    lines = _ranked(rows)
    items = _adopted_items(lines)
    tallies = [t for _, t, _ in rows]
    return MonthlyReport(
        period="2019-05", bureau=BUREAU, as_of=datetime(2019, 5, 28, 9, 0, tzinfo=CST),
        channels=CHANNELS, units=tuple(lines), totals=total(tallies, unassigned=2),
        below_quota=tuple(ln.unit for ln in lines if not ln.meets_quota),
        zero_report=tuple(ln.unit for ln in lines if ln.tally.submitted == 0),
        unassigned=2, adopted_items=tuple(items))


def _ranked(rows: list[tuple[str, Tally, int]]) -> list[UnitLine]:
    lines: list[UnitLine] = []
    for i, (unit, t, quota) in enumerate(rows):
        prev = rows[i - 1][1] if i else None
        same = prev is not None and (prev.score, prev.counted) == (t.score, t.counted)
        rank = lines[-1].rank if same else i + 1
        lines.append(UnitLine(unit=unit, tally=t, quota=quota, meets_quota=t.counted >= quota,
                              rank=rank, cumulative_score=t.score * 4 + (i % 3) * 0.5))
    return lines


_TITLES = [
    "我局开展“世界地球日”主题宣传活动",
    "县自然资源综合执法大队依法拆除闽宁镇违法占用耕地建筑物",
    "永宁县2019年春季国土绿化工作取得阶段性成效，累计完成造林1.2万亩、补植补造3000亩",
    "我局召开2019年耕地保护目标责任考核工作推进会",
    "不动产登记“一窗受理、集成服务”改革让群众少跑腿",
    "黄河生态林场开展森林防火应急演练",
]


def _adopted_items(lines: list[UnitLine]) -> list[AdoptedItem]:
    items: list[AdoptedItem] = []
    seq = 3
    for line in lines:
        for k in range(line.tally.adopted):
            channels = tuple(ch for ch in CHANNELS if line.tally.adoptions[ch] > k)
            seq += 7
            items.append(AdoptedItem(
                number=f"201905-{seq:04d}", unit=line.unit,
                title=_TITLES[(seq + k) % len(_TITLES)], channels=channels,
                instructed=k == 0 and line.tally.instructions > 0,
                score=float(sum(SCORES[ch] for ch in channels))))
    return items


def empty_month() -> MonthlyReport:
    """A month with no mail at all, and no bureau name configured."""
    units = ["办公室", "耕地保护股", LONG_UNIT]
    lines = tuple(UnitLine(unit=u, tally=tally(), quota=2, meets_quota=False, rank=1,
                           cumulative_score=0.0) for u in units)
    return MonthlyReport(
        period="2019-02", bureau="", as_of=datetime(2019, 2, 28, 9, 0, tzinfo=CST),
        channels=CHANNELS, units=lines, totals=total([]), below_quota=tuple(units),
        zero_report=tuple(units), unassigned=0, adopted_items=())


def annual() -> AnnualReport:
    """2019 up to May."""
    months = ("2019-01", "2019-02", "2019-03", "2019-04", "2019-05")
    rows = [
        ("自然资源综合执法大队", tally(18, 5, 2, 0, {"县政府网站": 12, "银川市级": 6, "自治区级": 2,
                                          "国家级": 1}, adopted=13, instructions=3), ()),
        ("办公室", tally(15, 1, 0, 0, {"县政府网站": 11, "国家级": 1, "媒体": 3}, adopted=11), ()),
        ("耕地保护股", tally(11, 2, 1, 1, {"县政府网站": 8, "银川市级": 2}), ("2019-02",)),
        ("国土空间规划股", tally(11, 0, 0, 0, {"县政府网站": 8, "银川市级": 2}), ("2019-02",)),
        (LONG_UNIT, tally(9, 1, 0, 0, {"县政府网站": 5, "媒体": 1}), ("2019-01", "2019-04")),
        ("黄河生态林场", tally(4, 0, 0, 0, {"县政府网站": 1}), ("2019-01", "2019-02", "2019-03")),
        ("望洪林业站", tally(1, 0, 0, 0), months[:2] + months[3:]),
        ("李俊林业站", tally(), months),
    ]
    units: list[AnnualUnitLine] = []
    for i, (unit, t, below) in enumerate(rows):
        prev = rows[i - 1][1] if i else None
        same = prev is not None and (prev.score, prev.counted) == (t.score, t.counted)
        units.append(AnnualUnitLine(unit=unit, tally=t, quota=10, months_below_quota=below,
                                    rank=units[-1].rank if same else i + 1))
    people: list[tuple[str, str, str | None, Tally]] = [
        ("李明", "zfdd_lm@163.com", "自然资源综合执法大队", tally(10, 2, 1, 0, {"县政府网站": 7,
                                                                   "银川市级": 4}, instructions=2)),
        ("刘静", "liujing_bgs@example.cn", "办公室",
         tally(15, 1, 0, 0, {"县政府网站": 11, "媒体": 3})),
        ("zfdd2019@163.com", "zfdd2019@163.com", "自然资源综合执法大队",
         tally(8, 3, 1, 0, {"县政府网站": 5, "银川市级": 2, "自治区级": 2, "国家级": 1})),
        ("gengbao_yn@126.com", "gengbao_yn@126.com", "耕地保护股", tally(11, 2, 1, 1,
                                                                   {"县政府网站": 8})),
        ("王芳", "wangfang@example.cn", None, tally(0, 0, 0, 1)),
    ]
    people.sort(key=lambda p: (-p[3].score, -p[3].counted))
    reporters: list[ReporterLine] = []
    for i, (name, address, of_unit, t) in enumerate(people):
        reporters.append(ReporterLine(reporter=name, address=address, unit=of_unit, tally=t,
                                      rank=i + 1))
    return AnnualReport(
        year=2019, bureau=BUREAU, as_of=datetime(2019, 5, 31, 18, 0, tzinfo=CST),
        channels=CHANNELS, months=months, units=tuple(units),
        reporters=tuple(reporters), totals=total([t for _, t, _ in rows], unassigned=3),
        best_units=tuple(u.unit for u in units if u.rank <= 3),
        best_reporters=tuple(r.reporter for r in reporters if r.rank <= 3), unassigned=3)


def write(folder: str) -> list[str]:
    """Render every sample report in every format of RENDERERS into `folder`."""
    from pathlib import Path

    from mailroom.reports.render import RENDERERS

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, report in (("monthly", monthly()), ("empty", empty_month()),
                         ("annual", annual())):
        for fmt, render in RENDERERS.items():
            path = out / f"{name}.{fmt}"
            path.write_bytes(render(report))
            written.append(str(path))
    return written


if __name__ == "__main__":
    import sys

    print("\n".join(write(sys.argv[1] if len(sys.argv) > 1 else "var/samples")))
