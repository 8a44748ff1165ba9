"""The labelled first-report set is what the issue asks for, consistent, and built the same
way every time; its mails are read by mailroom's own parser as the reporters' units."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from dedupe_set.build import build_mails, text_pdf
from dedupe_set.compose import article_text, subject
from dedupe_set.data import DUPLICATE_KINDS, DataError, load_set, variants

from mailroom.parsing.letter import parse_letter


@pytest.mark.parametrize("variant", variants())
def test_the_set_has_the_cases_the_issue_asks_for(variant: str) -> None:
    labelled = load_set(variant)
    kinds = Counter(item.kind for item in labelled.items)
    main = variant == "A"  # the others are smaller held-out sets
    assert len(labelled.items) >= (150 if main else 75)
    assert sum(n for kind, n in kinds.items() if kind in DUPLICATE_KINDS) >= (40 if main else 25)
    assert len([k for k in kinds if k in DUPLICATE_KINDS]) >= 6
    assert kinds["template"] >= 20 and kinds["follow-up"] >= 2
    firsts = ("original", "template", "series", "answer", "late-original")
    assert sum(kinds[kind] for kind in firsts) > len(labelled.items) / 2
    cross_unit = [item for item in labelled.items if item.duplicate_of and
                  labelled.by_id[item.duplicate_of].reporter.unit != item.reporter.unit]
    assert len(cross_unit) >= (4 if main else 3)


@pytest.mark.parametrize("variant", ["C", "D", "E"])
def test_the_three_month_variants_have_every_hard_kind(variant: str) -> None:
    labelled = load_set(variant)
    kinds = Counter(item.kind for item in labelled.items)
    assert len(labelled.items) >= 300 and labelled.batch_days == 7
    span = labelled.items[-1].received_at - labelled.items[0].received_at
    assert span.days >= 85
    for kind, least in (("reorder", 10), ("cut", 10), ("resign", 8), ("series-copy", 15),
                        ("series", 80), ("answer", 10), ("resend", 8), ("forward", 5),
                        ("reply", 1), ("to-docx", 1), ("pdf", 1), ("txt", 1)):
        assert kinds[kind] >= least, kind
    assert sum(item.late for item in labelled.items) >= 5
    assert any(item.kind == "resend" and item.duplicate_of is not None  # again next month
               and labelled.by_id[item.duplicate_of].received_at.month < item.received_at.month
               for item in labelled.items)
    for item in labelled.items:
        if item.kind == "series-copy":  # labelled with its own issue, not the series' first
            assert labelled.by_id[item.duplicate_of].story == item.story


@pytest.mark.parametrize("variant", ["c", "d", "e"])
def test_generated_variants_are_the_committed_files(variant: str) -> None:
    from dedupe_set import make

    items, families = make.build(make.PLANS[variant])
    folder = make.HERE / variant
    assert make.items_toml(make.PLANS[variant], items) == (
        folder / "items.toml").read_text(encoding="utf-8")
    assert make.families_toml(make.PLANS[variant], families) == (
        folder / "families.toml").read_text(encoding="utf-8")


def test_labels_name_the_first_report_of_their_cluster() -> None:
    labelled = load_set("A")
    for item in labelled.items:
        if item.duplicate_of:
            first = labelled.by_id[item.duplicate_of]
            assert first.duplicate_of is None
            assert first.received_at < item.received_at


def test_builds_are_deterministic_and_parse_as_mail() -> None:
    labelled = load_set("A")
    first, second = build_mails(labelled), build_mails(labelled)
    assert [m.raw for m in first] == [m.raw for m in second]
    assert len({m.maildir_name for m in first}) == len(first)
    for mail in first:
        letter = parse_letter(mail.raw, mail.received_at)
        quoted = labelled.by_id[mail.item.of] if mail.item.of else None
        assert letter.subject == subject(mail.item, quoted), mail.item.id
        assert letter.sender == mail.item.reporter.address


def test_text_pdf_carries_chinese_text_in_a_cid_font() -> None:
    data = text_pdf("标题", ["第一段文字。" * 10, "第二段。"])
    assert data.startswith(b"%PDF") and b"STSong-Light" in data
    assert data == text_pdf("标题", ["第一段文字。" * 10, "第二段。"])


def test_reformatting_changes_the_form_not_the_words() -> None:
    labelled = load_set("A")
    item = labelled.by_id["a019"]  # halfwidth + merge
    text = article_text(item)
    assert "，" not in text and "," in text
    assert text.count("\n") == 1  # one paragraph, then the signature line
    assert text.startswith("4月2日,我县第38届\"爱鸟周\"")


def test_a_bad_label_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dedupe_set import data

    folder = tmp_path / "z"
    folder.mkdir()
    (folder / "stories.toml").write_text(
        '[stories.s1]\ntitle = "标题"\nparagraphs = ["一段。"]\n', encoding="utf-8")
    (folder / "items.toml").write_text(
        'year = 2019\nitems = [\n'
        ' {id = "x1", at = "04-01 09:00", by = "bgs", story = "s1", kind = "original"},\n'
        ' {id = "x2", at = "04-01 08:00", by = "bgs", story = "s1", kind = "resend",'
        ' dup = "x1"},\n]\n', encoding="utf-8")
    monkeypatch.setattr(data, "HERE", tmp_path)  # reporters still come from the real file
    with pytest.raises(DataError, match="x2: dup x1 is not an earlier item"):
        data.load_set("z")
