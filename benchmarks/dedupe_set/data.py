"""Load the set's TOML into typed values and check it is consistent (pure: no mail built).

A mistake in the data (an unknown story, a label pointing at a later item, two items with
one delivery time) is a `DataError` naming the item, never a silently wrong label.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CST = timezone(timedelta(hours=8), "CST")

DUPLICATE_KINDS = ("resend", "forward", "reply", "retitle", "reformat", "edit", "joint",
                   "to-docx", "to-body", "pdf", "txt",
                   # variant C on: paragraphs in another order, the first 60-70 % only,
                   # a new title with greeting and signature block, a copy of one issue
                   # of a series
                   "reorder", "cut", "resign", "series-copy")
DISTINCT_KINDS = ("original", "template", "related", "follow-up", "late-original",
                  # variant C on: one issue of a templated series (daily log, ten-day
                  # report, weekly patrol); a unit's reply with its own new report on top
                  # of the office's quoted request
                  "series", "answer")
BODIES = ("text", "note", "detail", "empty")
ATTACHMENTS = ("docx", "scan", "pdf", "txt", "doc", "jpg")
FORMATS = ("halfwidth", "fullwidth", "spaces", "merge", "split", "noindent", "reorder", "cut")
WRAPS = ("forward", "reply", "answer")


class DataError(ValueError):
    """The set's data is inconsistent; the message names the item and the field."""


@dataclass(frozen=True)
class Reporter:
    key: str
    unit: str
    name: str
    address: str
    client: str
    phone: str


@dataclass(frozen=True)
class Story:
    key: str
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    id: str
    received_at: datetime  # to the minute here; build.py adds the seconds
    reporter: Reporter
    story: Story
    kind: str
    duplicate_of: str | None  # the id of the cluster's first report
    body: str = "text"
    attachments: tuple[str, ...] = ("docx", "scan")
    wrap: str | None = None
    of: str | None = None
    formats: tuple[str, ...] = ()
    edits: tuple[tuple[str, str], ...] = ()
    title: str | None = None
    subject: str | None = None
    greet: str = ""
    sign: str = ""
    note: str = ""
    late: bool = False  # reaches the inbox only after a first pass (e.g. out of the spam folder)

    @property
    def shown_title(self) -> str:
        return self.title or self.story.title


@dataclass(frozen=True)
class LabelledSet:
    variant: str
    items: tuple[Item, ...]
    by_id: dict[str, Item] = field(repr=False)
    batch_days: int = 0  # the pipeline reads the mailbox every this many days (0: once)


def variants() -> list[str]:
    return sorted(p.name.upper() for p in HERE.iterdir() if (p / "items.toml").is_file())


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def load_reporters(path: Path = HERE / "reporters.toml") -> dict[str, Reporter]:
    return {key: Reporter(key=key, **value) for key, value in _read(path)["reporters"].items()}


def load_stories(folder: Path, include: tuple[str, ...] = ()) -> dict[str, Story]:
    """A variant's stories and family instances, plus those of the variants it includes
    (`stories_from` in items.toml: a later variant retells earlier news in new forms)."""
    stories: dict[str, Story] = {}
    for other in include:
        stories.update(load_stories(HERE / other))
    stories |= {key: Story(key, value["title"], tuple(value["paragraphs"]))
               for key, value in _read(folder / "stories.toml")["stories"].items()}
    families = _read(folder / "families.toml")["families"] if (
        folder / "families.toml").is_file() else {}
    for family, spec in families.items():
        for instance, slots in spec["instances"].items():
            key = f"{family}.{instance}"
            try:
                stories[key] = Story(key, spec["title"].format(**slots),
                                     tuple(p.format(**slots) for p in spec["paragraphs"]))
            except KeyError as exc:
                raise DataError(f"family instance {key}: no value for {exc}") from None
    return stories


def _choice(item_id: str, name: str, value: Any, allowed: tuple[str, ...]) -> None:
    values = value if isinstance(value, list | tuple) else [value]
    for v in values:
        if v not in allowed:
            raise DataError(f"item {item_id}: {name} {v!r} is not one of {', '.join(allowed)}")


def _item(raw: dict[str, Any], year: int, reporters: dict[str, Reporter],
          stories: dict[str, Story]) -> Item:
    item_id = raw.pop("id")
    try:
        reporter = reporters[raw.pop("by")]
        story = stories[raw.pop("story")]
    except KeyError as exc:
        raise DataError(f"item {item_id}: unknown reporter or story {exc}") from None
    when = datetime.strptime(f"{year}-{raw.pop('at')}", "%Y-%m-%d %H:%M").replace(tzinfo=CST)
    kind = raw.pop("kind")
    _choice(item_id, "kind", kind, DUPLICATE_KINDS + DISTINCT_KINDS)
    values: dict[str, Any] = {
        "body": raw.pop("body", "text"),
        "attachments": tuple(raw.pop("att", ("docx", "scan"))),
        "wrap": raw.pop("wrap", None), "of": raw.pop("of", None),
        "formats": tuple(raw.pop("fmt", ())),
        "edits": tuple((old, new) for old, new in raw.pop("edit", ())),
        "title": raw.pop("title", None), "subject": raw.pop("subject", None),
        "greet": raw.pop("greet", ""), "sign": raw.pop("sign", ""), "note": raw.pop("note", ""),
        "late": raw.pop("late", False),
    }
    duplicate_of = raw.pop("dup", None)
    if raw:
        raise DataError(f"item {item_id}: unknown fields {', '.join(sorted(raw))}")
    _choice(item_id, "body", values["body"], BODIES)
    _choice(item_id, "att", values["attachments"], ATTACHMENTS)
    _choice(item_id, "fmt", values["formats"], FORMATS)
    if values["wrap"] is not None:
        _choice(item_id, "wrap", values["wrap"], WRAPS)
    if (kind in DUPLICATE_KINDS) != (duplicate_of is not None):
        raise DataError(f"item {item_id}: kind {kind} and dup {duplicate_of!r} disagree")
    return Item(item_id, when, reporter, story, kind, duplicate_of, **values)


def _check(items: list[Item]) -> dict[str, Item]:
    by_id: dict[str, Item] = {}
    times: dict[datetime, str] = {}
    for item in items:
        if item.id in by_id:
            raise DataError(f"item {item.id} appears twice")
        if item.received_at in times:
            raise DataError(f"items {times[item.received_at]} and {item.id} share a time")
        by_id[item.id] = item
        times[item.received_at] = item.id
    for item in items:
        for name, ref in (("dup", item.duplicate_of), ("of", item.of)):
            if ref is None:
                continue
            target = by_id.get(ref)
            if target is None or target.received_at >= item.received_at:
                raise DataError(f"item {item.id}: {name} {ref} is not an earlier item")
            if name == "dup" and target.duplicate_of is not None:
                raise DataError(f"item {item.id}: dup {ref} is itself a duplicate; label the "
                                f"cluster's first report {target.duplicate_of}")
        for old, _new in item.edits:
            if not any(old in p for p in item.story.paragraphs):
                raise DataError(f"item {item.id}: edit {old!r} is not in story {item.story.key}")
    return by_id


def load_set(variant: str = "A") -> LabelledSet:
    folder = HERE / variant.lower()
    if not (folder / "items.toml").is_file():
        raise DataError(f"no variant {variant!r}; there are: {', '.join(variants())}")
    data = _read(folder / "items.toml")
    reporters = load_reporters()
    stories = load_stories(folder, tuple(data.get("stories_from", ())))
    items = [_item(dict(raw), data["year"], reporters, stories) for raw in data["items"]]
    items.sort(key=lambda item: item.received_at)
    return LabelledSet(variant.upper(), tuple(items), _check(items),
                       int(data.get("batch_days", 0)))
