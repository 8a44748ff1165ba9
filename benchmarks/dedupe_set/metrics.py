"""Score dedupe verdicts against the labels (pure: values in, values out).

A verdict flags an item when its status is `duplicate` or `suspected`. A flag is right
only when the item really is a duplicate AND `duplicate_of` names its cluster's first
report; a flag on the wrong first report counts against both precision (a wrong claim)
and recall (the right one is missed). The automatic-duplicate precision looks only at
`duplicate` verdicts: wrongly denying a unit its credit is the worst error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

FLAGGED = ("duplicate", "suspected")
STRICT = ("duplicate",)
STATUSES = ("counted", "suspected", "duplicate")


@dataclass(frozen=True)
class Expected:
    id: str
    kind: str
    first: str | None  # the id of the cluster's first report; None: a distinct item


@dataclass(frozen=True)
class Verdict:
    id: str
    status: str
    duplicate_of: str | None  # an item id (the caller maps numbers to ids)
    score: float | None = None


@dataclass(frozen=True)
class Misjudged:
    expected: Expected
    verdict: Verdict | None  # None: the item never became a submission

    @property
    def error(self) -> str:
        v, e = self.verdict, self.expected
        if v is None:
            return "missing"
        if v.status in FLAGGED and e.first is None:
            return "false " + v.status
        if v.status in FLAGGED:
            return f"{v.status} of the wrong item"
        return f"missed ({v.status})"


@dataclass(frozen=True)
class KindRow:
    kind: str
    duplicates: bool  # a kind of duplicate (recall) or of distinct items (kept distinct)
    total: int
    right: int  # duplicates: flagged with the right first report; else: not flagged
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 1.0


@dataclass(frozen=True)
class Evaluation:
    tp: int
    fp: int
    fn: int
    tn: int
    auto_total: int  # items marked `duplicate`
    auto_right: int
    kinds: tuple[KindRow, ...]
    misjudged: tuple[Misjudged, ...]
    missing: int
    other_status: Counter[str]
    named: int = 0        # labelled duplicates flagged (duplicate or suspected)
    named_right: int = 0  # … whose duplicate_of is the right first report

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def total(self) -> int:
        return sum(row.total for row in self.kinds)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def auto_precision(self) -> float:
        return self.auto_right / self.auto_total if self.auto_total else 1.0

    @property
    def named_rate(self) -> float:
        """Of the flags on real duplicates, the share naming the right first report."""
        return self.named_right / self.named if self.named else 1.0

    def meets(self, f1: float = 0.97, auto_precision: float = 0.99,
              named: float = 0.0) -> bool:
        return (self.f1 >= f1 and self.auto_precision >= auto_precision
                and self.named_rate >= named and not self.missing)


def _right(expected: Expected, verdict: Verdict | None,
           flags: tuple[str, ...] = FLAGGED) -> bool:
    """Is the verdict's flag (or absence of one) what the label says?"""
    if verdict is None:
        return False
    flagged = verdict.status in flags
    if expected.first is None:
        return not flagged
    return flagged and verdict.duplicate_of == expected.first


def evaluate(expected: Sequence[Expected], verdicts: Mapping[str, Verdict],
             flags: tuple[str, ...] = FLAGGED) -> Evaluation:
    """Lenient by default (`suspected` flags an item); `flags=STRICT`: only `duplicate`
    does, so each suspected duplicate is a miss (a decision left to the clerk)."""
    tp = fp = fn = tn = auto_total = auto_right = missing = named = named_right = 0
    by_kind: dict[str, list[tuple[Expected, Verdict | None]]] = {}
    misjudged: list[Misjudged] = []
    other: Counter[str] = Counter()
    for e in expected:
        v = verdicts.get(e.id)
        by_kind.setdefault(e.kind, []).append((e, v))
        right = _right(e, v, flags)
        flagged = v is not None and v.status in flags
        if e.first is not None and v is not None and v.status in FLAGGED:
            named += 1
            named_right += v.duplicate_of == e.first
        if v is None:
            missing += 1
        elif v.status not in STATUSES:
            other[v.status] += 1
        if e.first is not None:
            tp += right
            fn += not right
            fp += flagged and not right
        else:
            tn += right
            fp += flagged
        if v is not None and v.status == "duplicate":
            auto_total += 1
            auto_right += e.first is not None and right
        if not right:
            misjudged.append(Misjudged(e, v))
    kinds = tuple(_kind_row(kind, rows, flags) for kind, rows in by_kind.items())
    return Evaluation(tp, fp, fn, tn, auto_total, auto_right, kinds, tuple(misjudged),
                      missing, other, named, named_right)


def _kind_row(kind: str, rows: Iterable[tuple[Expected, Verdict | None]],
              flags: tuple[str, ...]) -> KindRow:
    rows = list(rows)
    statuses = Counter(v.status if v else "missing" for _e, v in rows)
    duplicates = any(e.first is not None for e, _v in rows)
    return KindRow(kind, duplicates, len(rows), sum(_right(e, v, flags) for e, v in rows),
                   statuses)


# --- text -------------------------------------------------------------------------------

def summary(ev: Evaluation, *, f1_target: float = 0.97, auto_target: float = 0.99) -> str:
    lines = [
        f"items: {ev.total}  duplicates (labelled): {ev.positives}  "
        f"distinct: {ev.total - ev.positives}",
        f"flagged right (tp) {ev.tp}  wrongly flagged or wrong first report (fp) {ev.fp}  "
        f"missed (fn) {ev.fn}  kept distinct (tn) {ev.tn}",
        f"precision {ev.precision:.4f}  recall {ev.recall:.4f}  "
        f"F1 {ev.f1:.4f}   (suspected counts as flagged; target F1 ≥ {f1_target})",
        f"automatic duplicate: {ev.auto_right}/{ev.auto_total} right, precision "
        f"{ev.auto_precision:.4f}   (target ≥ {auto_target})",
        f"flags on duplicates naming the right first report: {ev.named_right}/{ev.named} "
        f"({ev.named_rate:.4f})",
    ]
    if ev.missing:
        lines.append(f"MISSING: {ev.missing} items did not become submissions")
    if ev.other_status:
        shown = ", ".join(f"{s} {n}" for s, n in sorted(ev.other_status.items()))
        lines.append(f"other statuses (not a dedupe verdict): {shown}")
    return "\n".join(lines)


def kind_table(ev: Evaluation) -> str:
    """Per kind: how many, how many judged right, and the confusion of statuses."""
    head = (f"{'kind':<14} {'n':>4} {'right':>6} {'rate':>7}   "
            + " ".join(f"{s:>10}" for s in (*STATUSES, "other")))
    lines = [head]
    order = sorted(ev.kinds, key=lambda row: (not row.duplicates, row.kind))
    for label, dup in (("duplicates (recall: flagged with the right first report)", True),
                       ("distinct items (kept distinct: not flagged)", False)):
        lines.append(f"-- {label}")
        for row in (r for r in order if r.duplicates == dup):
            other = sum(n for s, n in row.statuses.items() if s not in STATUSES)
            cells = " ".join(f"{row.statuses.get(s, 0):>10}" for s in STATUSES)
            lines.append(f"{row.kind:<14} {row.total:>4} {row.right:>6} {row.rate:>7.1%}   "
                         f"{cells} {other:>10}")
    return "\n".join(lines)


def confusion(ev: Evaluation) -> str:
    """Labelled duplicate / distinct against the status given."""
    head = f"{'':<20}" + "".join(f"{s:>11}" for s in (*STATUSES, "other"))
    lines = [head]
    for label, dup in (("labelled duplicate", True), ("labelled distinct", False)):
        counts: Counter[str] = Counter()
        for row in ev.kinds:
            if row.duplicates == dup:
                counts.update(row.statuses)
        other = sum(n for s, n in counts.items() if s not in STATUSES)
        lines.append(f"{label:<20}" + "".join(f"{counts.get(s, 0):>11}" for s in STATUSES)
                     + f"{other:>11}")
    wrong = sum(1 for m in ev.misjudged if m.expected.first is not None
                and m.verdict is not None and m.verdict.status in FLAGGED)
    lines.append(f"(flagged duplicates naming the wrong first report: {wrong})")
    return "\n".join(lines)
