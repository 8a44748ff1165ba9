"""Write a generated variant's families.toml and items.toml (variants C and D).

    .venv/bin/python benchmarks/dedupe_set/make.py c
    .venv/bin/python benchmarks/dedupe_set/make.py d

Three months of bureau mail: the news of earlier variants retold (stories_from), each
first report followed by copies of the hard kinds — paragraphs in another order, the first
60-70 % only, a new title with greetings and a signature block — and the kinds that must
keep working (re-sends, also in the next month, forwards, replies, .docx / .pdf / .txt
only, late originals); three templated series (series.py) whose issues are distinct and
whose copies belong to their own issue; the office's long requests, answered by units with
their own new report on top. A seeded random choice makes the same files every time; the
files are committed, so the set reads (and reviews) as data.
"""

from __future__ import annotations

import random
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from dedupe_set import series  # noqa: E402


@dataclass(frozen=True)
class Plan:
    variant: str
    seed: int
    start: date          # the first day of the three months
    include: tuple[str, ...]
    requests: tuple[str, ...]  # story keys of the office's requests
    units: tuple[tuple[str, str, str], ...]  # weekly series: reporter, unit, town
    daily_by: tuple[str, str] = ("zf", "zf2")
    ten_day_by: str = "zf2"
    ten_day_title: str = ""
    # new news in the variant's own stories.toml: (story, reporter) of each first report,
    # with another unit's write-up of the same event (story + "j", kind joint) and later
    # news on the same topic (story + "r", kind related) when the file has them
    own: tuple[tuple[str, str], ...] = ()


PLANS = {
    "c": Plan("c", 20190701, date(2019, 7, 1), ("a", "b"), ("q1", "q2", "q3", "q4"),
              (("wh", "望洪林业站", "望洪镇"), ("lj", "李俊林业站", "李俊镇"),
               ("lc", "黄河生态林场", "望远镇"))),
    "d": Plan("d", 20191001, date(2019, 10, 1), ("a", "b"), ("r1", "r2", "r3"),
              (("lj", "李俊林业站", "李俊镇"), ("lc", "黄河生态林场", "望远镇"),
               ("wh", "望洪林业站", "望洪镇")), daily_by=("zf2", "zf"), ten_day_by="zf"),
    # E: held out again, written after the second round of tuning (the same event retold
    # by another unit): its joint and related stories are new, not A's and B's
    "e": Plan("e", 20200101, date(2020, 1, 1), ("a", "b"), ("q5", "q6", "q7"),
              (("lc", "黄河生态林场", "望远镇"), ("wh", "望洪林业站", "望洪镇"),
               ("lj", "李俊林业站", "李俊镇")), daily_by=("zf", "zf2"), ten_day_by="zf2",
              own=(("e01", "wh"), ("e02", "gb"), ("e03", "bdc"), ("e04", "zf"),
                   ("e05", "gh"), ("e06", "lc"))),
}
OWNERS = {"wf": "zf", "bd": "bdc", "ztdr": "bgs", "zxz": "bgs", "gx": "gb", "jm": "lcg",
          "dz": "zf", "cq": "zf", "bq": "bdc", "dr": "bgs"}
REPORTERS = ("bgs", "zf", "zf2", "gh", "gb", "bdc", "bdc2", "dj", "lcg", "wh", "lj", "lc",
             "lc2")
SECOND = {"zf": "zf2", "zf2": "zf", "bdc": "bdc2", "bdc2": "bdc", "lc": "lc2", "lc2": "lc"}
GREETINGS = ("各位领导：", "各位领导、同事：大家好！", "尊敬的办公室领导：您好！", "局办公室：",
             "刘主任：您好！", "各位领导，大家好！")
FOLLOW = {"u1": "【紧急】黄河生态林场+关于二分场发生林下火情的报告",
          "v1": "【紧急】黄河生态林场+关于强降雨导致黄河生态林场部分林地受灾的报告"}


@dataclass
class Builder:
    plan: Plan
    rng: random.Random
    items: list[dict[str, Any]] = field(default_factory=list)
    taken: set[datetime] = field(default_factory=set)
    families: dict[str, Any] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)

    def at(self, when: datetime) -> datetime:
        while when in self.taken:
            when += timedelta(minutes=1)
        self.taken.add(when)
        return when

    def add(self, when: datetime, **fields: Any) -> dict[str, Any]:
        item = {"id": f"t{len(self.items):04d}", "at": self.at(when), **fields}
        self.items.append(item)
        return item

    def day(self, low: int = 0, high: int = 88) -> datetime:
        start = datetime.combine(self.plan.start, datetime.min.time())
        return start + timedelta(days=self.rng.randint(low, high),
                                 minutes=self.rng.randint(8 * 60 + 30, 18 * 60 + 30))


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def earlier_stories(plan: Plan) -> tuple[list[tuple[str, str]], dict[str, list[str]],
                                         list[tuple[str, str]]]:
    """(story, reporter) of the first reports of earlier variants, the joint versions by
    story, and (family instance, reporter) of their templates."""
    originals: list[tuple[str, str]] = []
    joint: dict[str, list[str]] = {}
    templates: list[tuple[str, str]] = []
    for variant in plan.include:
        for raw in _read(HERE / variant / "items.toml")["items"]:
            story, by = raw["story"], raw["by"]
            if raw["kind"] == "original" and not story.startswith(("u", "v")):
                originals.append((story, by))
            elif raw["kind"] == "joint":
                joint.setdefault(story[:-1], []).append(story)
            elif raw["kind"] == "template" and "." in story:
                templates.append((story, by))
    return _first_of_each(originals), joint, _first_of_each(templates)


def _first_of_each(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each story once, with the reporter of its first appearance, in order."""
    first: dict[str, str] = {}
    for story, by in pairs:
        first.setdefault(story, by)
    return list(first.items())


def new_title(rng: random.Random, title: str, unit: str) -> str:
    forms = (f"{unit}：{title}", f"关于{title}的信息", f"{title}（{unit}报送）",
             f"【工作动态】{title}", f"{unit}工作信息：{title}")
    return rng.choice(forms)


DUPLICATE_FORMS: tuple[tuple[str, int], ...] = (
    ("reorder", 22), ("cut", 22), ("resign", 20), ("resend", 8), ("forward", 8), ("reply", 5),
    ("reformat", 6), ("to-docx", 5), ("to-body", 4), ("pdf", 4), ("txt", 3))


def duplicate_fields(b: Builder, kind: str, original: dict[str, Any], by: str) -> dict[str, Any]:
    rng, first = b.rng, original["id"]
    f: dict[str, Any] = {"kind": kind, "dup": first}
    other = SECOND.get(by, by)
    if kind == "reorder":
        f.update(by=rng.choice((by, other)), fmt=["reorder"])
        if rng.random() < 0.4:
            f["greet"] = rng.choice(GREETINGS)
        if rng.random() < 0.3:
            f["title"] = new_title(rng, original["_title"], original["_unit"])
    elif kind == "cut":
        f.update(by=by, fmt=["cut"])
        if rng.random() < 0.3:
            f["fmt"] = ["cut", rng.choice(("halfwidth", "noindent", "spaces"))]
        if rng.random() < 0.3:
            f["sign"] = "full"
    elif kind == "resign":
        f.update(by=rng.choice((by, other)), greet=rng.choice(GREETINGS), sign="full",
                 title=new_title(rng, original["_title"], original["_unit"]))
        if rng.random() < 0.3:
            f["fmt"] = ["reorder"]
    elif kind == "resend":
        f.update(by=by, att=rng.choice((["docx"], ["docx", "scan"], ["docx", "jpg"])))
    elif kind in ("forward", "reply"):
        f.update(by=other if kind == "forward" else original["by"], wrap=kind, of=first,
                 body="text")
        if kind == "forward" and rng.random() < 0.5:
            f["greet"] = rng.choice(("请审核。", "转发，请查收。", "办公室：", ""))
    elif kind == "reformat":
        f.update(by=rng.choice((by, other)),
                 fmt=rng.choice((["halfwidth", "merge"], ["spaces", "fullwidth"],
                                 ["noindent", "split"])))
    elif kind == "to-docx":
        f.update(by=by, body="detail", att=["docx"])
    elif kind == "to-body":
        f.update(by=by, att=["jpg"])
    elif kind in ("pdf", "txt"):
        f.update(by=by, body="note", att=[kind])
    return f


def add_news(b: Builder, originals: list[tuple[str, str]], joint: dict[str, list[str]],
             titles: dict[str, tuple[str, str]], units: dict[str, str],
             related: dict[str, str] | None = None) -> None:
    rng = b.rng
    kinds = [kind for kind, n in DUPLICATE_FORMS for _ in range(n)]
    rng.shuffle(kinds)
    chosen = originals[:]
    rng.shuffle(chosen)
    late_left = 6
    for index, (story, by) in enumerate(chosen):
        when = b.day(0, 80)
        title, _ = titles[story]
        original = b.add(when, by=by, story=story, kind="original", _title=title,
                         _unit=units[by])
        copies = [kinds[(2 * index) % len(kinds)]]
        if index % 2 == 0:
            copies.append(kinds[(2 * index + 1) % len(kinds)])
        for n, kind in enumerate(copies):
            gap = timedelta(minutes=rng.randint(20, 600)) if n == 0 else timedelta(
                days=rng.randint(1, 3), minutes=rng.randint(0, 300))
            if kind == "resend" and rng.random() < 0.5:
                gap = timedelta(days=rng.randint(28, 40))  # again in the next month
            fields = duplicate_fields(b, kind, original, by)
            b.add(when + gap, story=story, **fields)
        if copies and late_left and index % 5 == 1 and "wrap" not in str(copies):
            original["late"], original["kind"] = True, "late-original"
            late_left -= 1
        for version in joint.get(story, ())[:1]:
            b.add(when + timedelta(hours=rng.randint(1, 20)), by=rng.choice(("bgs", "lcg")),
                  story=version, kind="joint", dup=original["id"])
        if related and story in related:  # later news on the topic: distinct
            b.add(when + timedelta(days=rng.randint(8, 30), minutes=rng.randint(0, 600)),
                  by=by, story=related[story], kind="related")
    # the wrap kinds quote an item that is in the set and earlier: late originals may
    # not be quoted (the copy would quote a mail that is not yet there in the first pass)
    for item in b.items:
        if item.get("of") and any(o["id"] == item["of"] and o.get("late") for o in b.items):
            item.pop("wrap"), item.pop("of")
            item["kind"] = "resend"


def add_series(b: Builder) -> None:
    plan, rng = b.plan, b.rng
    start = datetime.combine(plan.start, datetime.min.time())
    fam_daily: dict[str, Any] = {"title": series.DAILY.title,
                                 "paragraphs": list(series.DAILY.paragraphs), "instances": {}}
    issues: list[dict[str, Any]] = []
    for offset in range(91):
        day = plan.start + timedelta(days=offset)
        if day.weekday() >= 5 or rng.random() < 0.22:
            continue
        key = f"d{day:%m%d}"
        fam_daily["instances"][key] = series.daily(rng, day)
        when = start + timedelta(days=offset, hours=17, minutes=rng.randint(0, 100))
        issues.append(b.add(when, by=plan.daily_by[offset % 2 == 0 and rng.random() < 0.3],
                            story=f"rz.{key}", kind="series", att=["docx"]))
    b.families["rz"] = fam_daily
    fam_ten: dict[str, Any] = {"title": series.TEN_DAY.title,
                               "paragraphs": list(series.TEN_DAY.paragraphs), "instances": {}}
    for month_index in range(3):
        month = plan.start.month + month_index
        for third in range(3):
            key = f"m{month:02d}{third}"
            fam_ten["instances"][key] = series.ten_day(rng, month, third)
            issue_day = date(plan.start.year, month, 1 + 10 * third) + timedelta(days=10)
            when = datetime.combine(issue_day, datetime.min.time()) + timedelta(
                hours=9, minutes=rng.randint(0, 200))
            issues.append(b.add(when, by=plan.ten_day_by, story=f"xb.{key}", kind="series",
                                att=["docx", "scan"]))
    b.families["xb"] = fam_ten
    fam_week: dict[str, Any] = {"title": series.WEEKLY.title,
                                "paragraphs": list(series.WEEKLY.paragraphs), "instances": {}}
    monday = plan.start - timedelta(days=plan.start.weekday())
    for week in range(13):
        week_start = monday + timedelta(weeks=week)
        for by, unit, town in plan.units:
            if rng.random() < 0.2:
                continue
            key = f"{by}{week_start:%m%d}"
            fam_week["instances"][key] = series.weekly(rng, unit, town, week_start)
            when = datetime.combine(week_start + timedelta(days=7), datetime.min.time()) + \
                timedelta(hours=8, minutes=rng.randint(20, 300))
            issues.append(b.add(when, by=by, story=f"fh.{key}", kind="series", att=["docx"]))
    b.families["fh"] = fam_week
    copies = rng.sample(issues, 24)
    forms = ["resend"] * 6 + ["cut"] * 5 + ["reorder"] * 5 + ["forward"] * 3 + \
        ["to-docx"] * 2 + ["resign"] * 3
    for issue, form in zip(copies, forms, strict=True):
        gap = timedelta(days=rng.randint(0, 9), minutes=rng.randint(30, 400))
        fields = duplicate_fields(b, form, {**issue, "_title": "", "_unit": ""}, issue["by"])
        fields.pop("title", None)
        fields["kind"] = "series-copy"
        b.add(issue["at"] + gap, story=issue["story"], **fields)


def add_requests(b: Builder, spare: list[tuple[str, str]]) -> None:
    """The office mails each request to the mailbox too; units answer it on top."""
    rng = b.rng
    for n, request in enumerate(b.plan.requests):
        when = b.day(5 + 20 * n, 8 + 20 * n)
        asked = b.add(when, by="bgs", story=request, kind="original", att=["docx"])
        answers = [spare.pop() for _ in range(4)]
        for story, by in answers:
            if by == "bgs":
                by = "gh"
            answer = b.add(when + timedelta(days=rng.randint(1, 6), minutes=rng.randint(0, 400)),
                           by=by, story=story, kind="answer", wrap="answer", of=asked["id"],
                           att=rng.choice((["docx"], ["jpg"], ["docx", "scan"])))
            if rng.random() < 0.5:  # the unit's own title; else "回复：" + the office's
                answer["title"] = b.titles.get(story, "")
            if rng.random() < 0.5:  # the same report sent again, on its own
                b.add(answer["at"] + timedelta(days=1, minutes=rng.randint(0, 300)), by=by,
                      story=story, kind="resend", dup=answer["id"])
        if rng.random() < 0.7:  # a forward of the request with nothing new: a copy
            b.add(when + timedelta(hours=rng.randint(2, 30)), by=rng.choice(("gh", "dj")),
                  story=request, kind="forward", dup=asked["id"], wrap="forward",
                  of=asked["id"], body="text")


def add_followups(b: Builder) -> None:
    for n, (story, subject) in enumerate(FOLLOW.items()):
        when = b.day(30 + 25 * n, 30 + 25 * n)
        b.add(when, by="lc2", story=story, kind="original", subject=subject, att=["jpg"])
        b.add(when + timedelta(hours=4), by="lc", story=story + "x", kind="follow-up")
        b.add(when + timedelta(hours=22), by="lc", story=story + "z", kind="follow-up")


def add_templates(b: Builder, templates: list[tuple[str, str]]) -> None:
    for story, by in templates[:30]:
        b.add(b.day(0, 88), by=by, story=story, kind="template",
              att=b.rng.choice((["docx"], ["docx", "jpg"], ["docx", "scan"])))


def build(plan: Plan) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from dedupe_set.data import load_reporters, load_stories

    rng = random.Random(plan.seed)
    b = Builder(plan, rng)
    originals, joint, templates = earlier_stories(plan)
    own = load_stories(HERE / plan.variant) if plan.own else {}
    related = {}
    for story, _by in plan.own:
        if story + "j" in own:
            joint[story] = [story + "j"]
        if story + "r" in own:
            related[story] = story + "r"
    rng.shuffle(originals)
    rng.shuffle(templates)
    originals[len(originals) // 2:len(originals) // 2] = plan.own  # news, not answers
    stories: dict[str, Any] = {}
    for variant in plan.include:
        stories.update(load_stories(HERE / variant))
    stories.update(own)
    units = {key: r.unit for key, r in load_reporters().items()}
    titles = {key: (story.title, "") for key, story in stories.items()}
    b.titles = {key: title for key, (title, _) in titles.items()}
    cut = len(originals) - 4 * len(plan.requests)
    spare = originals[cut:]
    add_news(b, originals[:cut], joint, titles, units, related)
    add_series(b)
    add_requests(b, spare)
    add_followups(b)
    add_templates(b, templates)
    b.items = sorted((item for item in b.items if item["at"].year == plan.start.year),
                     key=lambda item: item["at"])  # items.toml has one year
    final = {item["id"]: f"{plan.variant}{n:03d}" for n, item in enumerate(b.items, 1)}
    for item in b.items:
        for name in ("id", "dup", "of"):
            if item.get(name):
                item[name] = final[item[name]]
    return b.items, b.families


def main(argv: list[str]) -> int:
    plan = PLANS[argv[1] if len(argv) > 1 else "c"]
    items, families = build(plan)
    folder = HERE / plan.variant
    folder.mkdir(exist_ok=True)
    (folder / "families.toml").write_text(families_toml(plan, families), encoding="utf-8")
    (folder / "items.toml").write_text(items_toml(plan, items), encoding="utf-8")
    print(f"{plan.variant}: {len(items)} items")
    return 0


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def families_toml(plan: Plan, families: dict[str, Any]) -> str:
    lines = [f"# Variant {plan.variant.upper()}: the templated series (written by "
             "../make.py from ../series.py; do not edit by hand).", ""]
    for key, family in families.items():
        lines.append(f"[families.{key}]")
        lines.append(f"title = {_value(family['title'])}")
        lines.append("paragraphs = [")
        lines.extend(f"  {_value(p)}," for p in family["paragraphs"])
        lines.append("]")
        for name, slots in family["instances"].items():
            lines.append(f"[families.{key}.instances.{name}]")
            lines.extend(f"{slot} = {_value(v)}" for slot, v in slots.items())
        lines.append("")
    return "\n".join(lines)


FIELDS = ("id", "at", "by", "story", "kind", "dup", "wrap", "of", "body", "att", "fmt",
          "title", "subject", "greet", "sign", "late")


def items_toml(plan: Plan, items: list[dict[str, Any]]) -> str:
    head = [f"# Variant {plan.variant.upper()}: three months of mail from "
            f"{plan.start:%Y-%m-%d} (written by ../make.py; do not edit by hand).",
            "# Same fields as ../a/items.toml; kinds added here: reorder, cut, resign and",
            "# series-copy (duplicates), series and answer (distinct).", "",
            f"year = {plan.start.year}", f"stories_from = {_value(list(plan.include))}",
            "batch_days = 7", "", "items = ["]
    rows = []
    for item in items:
        parts = []
        for name in FIELDS:
            value = item.get(name)
            if name == "at":
                value = f"{item['at']:%m-%d %H:%M}"
            if value in (None, "", False) or (name == "title" and not value):
                continue
            parts.append(f"{name} = {_value(value)}")
        rows.append("  {" + ", ".join(parts) + "},")
    return "\n".join(head + rows + ["]", ""])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
