"""Matching, pure (R3): normalisation, pairs that must match, hard negatives that must
not, and the scorer's parts. No database."""

from __future__ import annotations

import pytest

from mailroom.dedupe.normalize import clean_text, clean_title, normalize
from mailroom.dedupe.signature import band_keys
from mailroom.dedupe.verdict import Features, Match, compare, status_for
from support.items import JOINT_FIRST, JOINT_SECOND, ORIGINAL, OTHER, weekly

DUPLICATE, SUSPECT = 90.0, 75.0


def features(title: str, body: str, attachments: tuple[str, ...] = ()) -> Features:
    n = normalize(title, body, attachments)
    return Features(n.title, n.content, n.source, n.numbers)


def score(first: tuple[str, str, tuple[str, ...]], second: tuple[str, str, tuple[str, ...]]
          ) -> Match:
    return compare(features(*second), features(*first))


def item(title: str, body: str, *attachments: str) -> tuple[str, str, tuple[str, ...]]:
    return (title, body, attachments)


FIRST = item(ORIGINAL.title, ORIGINAL.text())


def test_clean_text_drops_greeting_signature_forward_and_boilerplate() -> None:
    body = ("各位领导：\n现将我股信息报送如下，详见附件。\n" + ORIGINAL.text() +
            "\n\n耕地保护股 信息员 杨帆\n电话：13800138021\n2019年5月14日\n"
            "-----原始邮件-----\n发件人: yangfan@126.com\n发送时间: 2019年5月14日 15:00\n")
    cleaned = clean_text(body)
    assert "各位领导" not in cleaned and "13800138021" not in cleaned
    assert "详见附件" not in cleaned and "发件人" not in cleaned and "杨帆" not in cleaned
    assert "永久基本农田" in cleaned


def test_full_width_and_markers_fold_away() -> None:
    assert clean_title("【更正】我县开展永久基本农田保护红线专项检查（２０１９）") == \
        clean_title("我县开展永久基本农田保护红线专项检查(2019)")
    assert normalize("t", "详见附件。", ()).content == ""


@pytest.mark.parametrize("second", [
    # re-sent as a forward: header block, quote markers, a line on top
    item("转发：" + ORIGINAL.title, "请查收。\n\n-----原始邮件-----\n发件人: a@126.com\n"
         "主题: " + ORIGINAL.title + "\n\n" + "\n".join("> " + line for line in
                                                       ORIGINAL.text().split("\n"))),
    # reformatted: full width, spaces, line breaks, no indent
    item(ORIGINAL.title, "\n\n".join(p.replace("，", ", ").replace("。", ". ")
                                     for p in ORIGINAL.paragraphs)),
    # corrected title, same text
    item("【更正】" + ORIGINAL.title.replace("专项检查", "专项督查"), ORIGINAL.text()),
    # the text moved from the body to the .docx
    item(ORIGINAL.title, "详见附件", ORIGINAL.text(indent=False)),
    # a re-send note and one number changed
    item(ORIGINAL.title, "昨天发送的信息漏附签字稿，现补发，请以此为准。\n" +
         ORIGINAL.edited("48个", "52个").text()),
])
def test_duplicates_are_automatic(second: tuple[str, str, tuple[str, ...]]) -> None:
    match = score(FIRST, second)
    assert status_for(match.score, DUPLICATE, SUSPECT) == "duplicate", match


def test_body_to_docx_is_matched_on_the_attachment() -> None:
    match = score(FIRST, item(ORIGINAL.title, "详见附件", ORIGINAL.text(indent=False)))
    assert match.part == "attachment" and match.score >= DUPLICATE


def test_light_edits_are_at_least_suspected() -> None:
    edited = ORIGINAL.edited("加强日常巡查", "强化日常巡查监管").edited("5月13日至14日", "近日")
    match = score(FIRST, item(ORIGINAL.title, edited.text()))
    assert match.score >= SUSPECT, match


def test_second_units_version_of_a_joint_activity_is_suspected() -> None:
    match = score(item(JOINT_FIRST.title, JOINT_FIRST.text()),
                  item(JOINT_SECOND.title, JOINT_SECOND.text()))
    assert status_for(match.score, DUPLICATE, SUSPECT) in ("suspected", "duplicate"), match


def test_weekly_reports_of_other_weeks_stay_distinct() -> None:
    week1 = weekly("望洪镇", "望洪林业站", "贺兰山东麓", 4, 1, 12, 86, 3.5, 200, 5, 5)
    week2 = weekly("望洪镇", "望洪林业站", "贺兰山东麓", 4, 8, 14, 92, 4.2, 150, 3, 3)
    match = score(item(*week1), item(*week2))
    assert match.score < SUSPECT, match


def test_same_template_other_place_stays_distinct() -> None:
    here = weekly("望洪镇", "望洪林业站", "贺兰山东麓", 4, 1, 12, 86, 3.5, 200, 5, 5)
    there = weekly("望远镇", "望远林业站", "黄河滩涂", 4, 1, 9, 64, 2.0, 120, 2, 2)
    match = score(item(*here), item(*there))
    assert match.score < SUSPECT, match


def test_same_week_resent_is_a_duplicate() -> None:
    week = weekly("望洪镇", "望洪林业站", "贺兰山东麓", 4, 1, 12, 86, 3.5, 200, 5, 5)
    match = score(item(*week), item("回复：" + week[0], "各位领导：\n" + week[1]))
    assert match.score >= DUPLICATE, match


def test_unrelated_articles_score_low() -> None:
    match = score(FIRST, item(OTHER.title, OTHER.text()))
    assert match.score < 50, match


def test_title_only_items_match_on_title() -> None:
    match = score(item(ORIGINAL.title, ""), item(ORIGINAL.title, "详见附件"))
    assert match.part == "title" and match.score >= DUPLICATE
    short = score(item("工作动态", ""), item("工作动态", ""))
    assert short.score == 0  # too short a title to say anything


def test_band_keys_are_stable_and_shared_by_near_duplicates() -> None:
    first = features(*FIRST)
    keys = band_keys(first.title, first.content)
    assert keys == band_keys(first.title, first.content) and len(keys) == 40
    edited = features(ORIGINAL.title, ORIGINAL.edited("48个", "52个").text())
    assert len(set(keys) & set(band_keys(edited.title, edited.content))) >= 10
    other = features(OTHER.title, OTHER.text())
    assert len(set(keys) & set(band_keys(other.title, other.content))) == 0


def test_minhash_similarity_estimates_jaccard() -> None:
    from mailroom.dedupe.normalize import trigrams
    from mailroom.dedupe.signature import similarity, sketch

    first = features(*FIRST)
    edited = features(ORIGINAL.title, ORIGINAL.edited("加强日常巡查", "强化监管").text())
    exact = trigrams(first.title + first.content) & trigrams(edited.title + edited.content)
    union = trigrams(first.title + first.content) | trigrams(edited.title + edited.content)
    [estimate, itself, nothing] = similarity(
        sketch(first.title, first.content).minhash,
        [sketch(edited.title, edited.content).minhash,
         sketch(first.title, first.content).minhash, b""])
    assert abs(estimate - len(exact) / len(union)) < 0.15
    assert (itself, nothing) == (1.0, 0.0)


def test_followup_title_loses_its_marker() -> None:
    from mailroom.dedupe.engine import initial_title

    wanted = clean_title("关于三分场发生林下地表火的")
    assert initial_title("关于三分场发生林下地表火的续报") == wanted
    assert initial_title("【续报二】三分场林下地表火情况") == clean_title("三分场林下地表火情况")


def test_a_huge_body_is_read_only_as_far_as_matching_needs() -> None:
    from mailroom.dedupe.normalize import MAX_CONTENT

    huge = ORIGINAL.text() * 5000  # about 1.3 million characters
    normalized = normalize(ORIGINAL.title, huge, (huge,))
    assert 0 < len(normalized.content) <= MAX_CONTENT
    assert compare(features(*FIRST), Features(normalized.title, normalized.content,
                                              normalized.source, normalized.numbers)).score > 50
