"""The evaluation's metric computation, on small hand-made verdict lists."""

from __future__ import annotations

import pytest
from dedupe_set.metrics import Expected, Verdict, confusion, evaluate, kind_table, summary

LABELS = [
    Expected("a", "original", None),
    Expected("b", "forward", "a"),
    Expected("c", "reformat", "a"),
    Expected("d", "template", None),
    Expected("e", "original", None),
    Expected("f", "joint", "e"),
]


def verdicts(*rows: tuple[str, str, str | None]) -> dict[str, Verdict]:
    return {item: Verdict(item, status, first, 95.0 if first else None)
            for item, status, first in rows}


def test_all_right() -> None:
    ev = evaluate(LABELS, verdicts(("a", "counted", None), ("b", "duplicate", "a"),
                                   ("c", "suspected", "a"), ("d", "counted", None),
                                   ("e", "counted", None), ("f", "duplicate", "e")))
    assert (ev.tp, ev.fp, ev.fn, ev.tn) == (3, 0, 0, 3)
    assert ev.precision == ev.recall == ev.f1 == 1.0
    assert (ev.auto_right, ev.auto_total) == (2, 2)
    assert ev.misjudged == ()
    assert ev.meets()


def test_suspected_counts_as_flagged_but_not_as_automatic() -> None:
    ev = evaluate(LABELS, verdicts(("a", "counted", None), ("b", "suspected", "a"),
                                   ("c", "suspected", "a"), ("d", "suspected", "a"),
                                   ("e", "counted", None), ("f", "suspected", "e")))
    assert (ev.tp, ev.fp, ev.fn, ev.tn) == (3, 1, 0, 2)
    assert ev.precision == pytest.approx(0.75)
    assert ev.recall == 1.0
    assert ev.f1 == pytest.approx(2 * 0.75 / 1.75)
    assert ev.auto_total == 0 and ev.auto_precision == 1.0
    assert [m.expected.id for m in ev.misjudged] == ["d"]
    assert ev.misjudged[0].error == "false suspected"


def test_a_wrong_first_report_is_both_a_false_flag_and_a_miss() -> None:
    ev = evaluate(LABELS, verdicts(("a", "counted", None), ("b", "duplicate", "a"),
                                   ("c", "duplicate", "b"), ("d", "counted", None),
                                   ("e", "counted", None), ("f", "duplicate", "e")))
    assert (ev.tp, ev.fp, ev.fn) == (2, 1, 1)
    assert (ev.auto_right, ev.auto_total) == (2, 3)
    assert ev.auto_precision == pytest.approx(2 / 3)
    assert ev.misjudged[0].error == "duplicate of the wrong item"
    assert not ev.meets()


def test_a_false_automatic_duplicate_fails_the_precision_target() -> None:
    labels = [Expected(f"o{i}", "original", None) for i in range(60)]
    labels += [Expected(f"d{i}", "resend", f"o{i}") for i in range(60)]
    rows: list[tuple[str, str, str | None]] = [(f"o{i}", "counted", None) for i in range(60)]
    rows += [(f"d{i}", "duplicate", f"o{i}") for i in range(60)]
    rows[5] = ("o5", "duplicate", "o4")  # one unit wrongly denied its credit
    ev = evaluate(labels, verdicts(*rows))
    assert ev.f1 > 0.99
    assert ev.auto_precision == pytest.approx(60 / 61)
    assert not ev.meets(f1=0.97, auto_precision=0.99)


def test_missed_and_missing_items() -> None:
    ev = evaluate(LABELS, verdicts(("a", "counted", None), ("b", "counted", None),
                                   ("d", "unassigned", None), ("e", "counted", None),
                                   ("f", "counted", None)))
    assert (ev.tp, ev.fp, ev.fn, ev.tn) == (0, 0, 3, 3)
    assert ev.recall == 0.0 and ev.f1 == 0.0
    assert ev.missing == 1
    assert ev.other_status == {"unassigned": 1}
    errors = {m.expected.id: m.error for m in ev.misjudged}
    assert errors == {"b": "missed (counted)", "c": "missing", "f": "missed (counted)"}
    assert not ev.meets()


def test_per_kind_rows_and_text() -> None:
    ev = evaluate(LABELS, verdicts(("a", "counted", None), ("b", "duplicate", "a"),
                                   ("c", "counted", None), ("d", "suspected", "a"),
                                   ("e", "counted", None), ("f", "suspected", "e")))
    rows = {row.kind: row for row in ev.kinds}
    assert (rows["forward"].total, rows["forward"].right) == (1, 1)
    assert (rows["reformat"].right, rows["reformat"].rate) == (0, 0.0)
    assert (rows["original"].total, rows["original"].right) == (2, 2)
    assert rows["template"].statuses == {"suspected": 1}
    assert rows["forward"].duplicates and not rows["template"].duplicates
    table = kind_table(ev).splitlines()
    assert table[0].split()[:4] == ["kind", "n", "right", "rate"]
    assert any(line.split()[:4] == ["reformat", "1", "0", "0.0%"] for line in table)
    text = summary(ev)
    assert "items: 6  duplicates (labelled): 3  distinct: 3" in text
    assert f"F1 {ev.f1:.4f}" in text


def test_confusion_of_labels_and_statuses() -> None:
    ev = evaluate(LABELS, verdicts(("a", "counted", None), ("b", "duplicate", "a"),
                                   ("c", "suspected", "b"), ("d", "suspected", "a"),
                                   ("e", "rejected", None), ("f", "counted", None)))
    lines = confusion(ev).splitlines()
    assert lines[1].split() == ["labelled", "duplicate", "1", "1", "1", "0"]
    assert lines[2].split() == ["labelled", "distinct", "1", "1", "0", "1"]
    assert lines[3] == "(flagged duplicates naming the wrong first report: 1)"
