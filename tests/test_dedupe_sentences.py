"""R3 on the mail that fooled the whole-text score: copies reordered or cut down, new titles
with greeting and signature blocks, issues of a templated series, replies that quote the
office's request. Pure: normalize, passages and verdict, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mailroom.dedupe.normalize import clean_text, compact, normalize, own_text, split_quoted
from mailroom.dedupe.passages import matched_passages, sentence_overlap
from mailroom.dedupe.signature import sentence_keys, sketch
from mailroom.dedupe.verdict import Features, compare, status_for
from mailroom.parsing.letter import parse_letter

SAMPLE = Path(__file__).resolve().parents[1] / "src/mailroom/sample/maildir"
STORY = ("7月5日上午，县自然资源局召开2019年上半年工作总结会议，局领导班子成员及各股室站所负责人共"
         "46人参加会议。\n会议通报了上半年耕地保护、国土空间规划、不动产登记等重点工作完成情况，"
         "全县完成不动产登记3260件，查处违法用地案件18起。\n会议要求，各单位要对照年度目标任务，"
         "找差距、补短板，确保全年各项任务圆满完成。\n局党总支书记、局长就下半年工作作了具体安排，"
         "强调要严格落实耕地保护责任，加快推进国土空间总体规划编制。")
OFFICE_ASK = ("各股室、中心、大队、林业站、林场：\n为全面展示上半年全局自然资源工作成效，"
              "请各单位围绕耕地保护、国土空间规划、不动产登记等重点工作，认真梳理本单位上半年的工作亮点，"
              "每个单位至少报送1篇工作亮点信息。\n信息要求主题鲜明、数据准确、语言简练，"
              "字数控制在800字以内，突出创新举措和工作成效。\n请于7月10日前将信息电子版报送至局办公室。")


def features(title: str, body: str) -> Features:
    n = normalize(title, body, ())
    s = sketch(n.title, n.content, None, n.sentences)
    return Features(n.title, n.content, n.source, n.numbers, s.minhash, n.sentences)


def verdict(new: Features, old: Features) -> str:
    match = compare(new, old)
    return status_for(match.score, 90, 75, match.bonus)


def test_paragraphs_in_another_order_are_the_same_content() -> None:
    paragraphs = STORY.split("\n")
    reordered = "\n".join(paragraphs[2:] + paragraphs[:2])
    original, copy = features("上半年工作总结会议召开", STORY), features("总结会议", reordered)
    match = compare(copy, original)
    assert match.overlap is not None and match.overlap.containment == 1.0
    assert verdict(copy, original) == "duplicate"


def test_a_copy_cut_to_its_first_part_is_a_copy() -> None:
    cut = "\n".join(STORY.split("\n")[:2]) + "\n局党总支书记、局长就下半年工作作了具体安排。"
    original = features("上半年工作总结会议召开", STORY)
    copy = features("上半年工作总结会议召开", cut)
    assert verdict(copy, original) == "duplicate"
    assert verdict(original, copy) == "duplicate"  # a late original: the same pair


def test_issues_of_a_series_are_distinct_and_a_copy_finds_its_own() -> None:
    def log(day: int, people: int, town: str, spots: int) -> str:
        return (f"7月{day}日，执法大队{people}名队员分两组对{town}辖区开展日常动态巡查，"
                f"核查卫片图斑{spots}个。\n巡查中在{town}发现一处疑似违法占地建房，"
                f"队员当场下达《责令停止违法行为通知书》。\n"
                f"当日巡查共发现问题{spots % 3 + 1}处，已全部登记台账。")

    monday, tuesday = log(1, 6, "杨和镇", 12), log(2, 8, "李俊镇", 7)
    first = features("执法巡查日志（7月1日）", monday)
    second = features("执法巡查日志（7月2日）", tuesday)
    assert verdict(second, first) == "counted"
    copy = features("执法巡查日志（7月2日）", "\n".join(reversed(tuesday.split("\n"))))
    assert compare(copy, second).score > compare(copy, first).score
    assert verdict(copy, second) == "duplicate"
    # the sentences that carry the issue's figures are its index keys
    assert set(sentence_keys(copy.sentences)) & set(sentence_keys(second.sentences))


def test_sentences_with_other_numbers_are_not_shared() -> None:
    overlap = sentence_overlap(("本周巡护林地21000亩出动护林员32人次",),
                               ("本周巡护林地21000亩出动护林员35人次",))
    assert overlap.pairs == ()


def test_a_new_title_greeting_and_signature_block_change_nothing() -> None:
    signed = ("各位领导、同事：大家好！\n" + STORY + "\n\n--\n马晓燕\n永宁县自然资源局望洪林业站\n"
              "地址：永宁县杨和镇纳家户路88号\n电话：0951-8011234  手机：13800138062\n邮编：750100")
    assert compact(clean_text(signed)) == compact(clean_text(STORY))
    original = features("上半年工作总结会议召开", STORY)
    assert verdict(features("【工作动态】局里开会了", signed), original) == "duplicate"


def test_signatures_of_the_sample_mailbox_are_dropped() -> None:
    seen = 0
    for path in sorted((SAMPLE / "cur").iterdir())[:40]:
        letter = parse_letter(path.read_bytes(), datetime(2019, 5, 1, tzinfo=UTC))
        last = letter.body.strip().split("\n")[-1]
        if last.startswith("信息员：") and "联系电话" in last:
            cleaned = clean_text(letter.body)
            assert "信息员:" not in cleaned and "138" not in cleaned, path.name
            assert compact(cleaned)  # the article stays
            seen += 1
    assert seen >= 5


def _outlook(body: str) -> str:
    return ("-----邮件原件-----\n发件人: ynlyj452 [mailto:ynlyj452@126.com] \n"
            "发送时间: 2019年7月1日 10:05\n收件人: 马丽 <ghg@example.cn>\n"
            "主题: 关于报送2019年上半年自然资源工作亮点信息的通知\n\n" + body)


def _foxmail(body: str) -> str:
    return ("\n\nynlyj452@126.com\n \n发件人： ynlyj452\n发送时间： 2019-07-01 10:05\n"
            "收件人： 马丽\n主题： 关于报送上半年亮点信息的通知\n" + body)


def test_a_reply_is_judged_on_its_new_text_above_the_office_request() -> None:
    office = features("关于报送上半年亮点信息的通知", OFFICE_ASK)
    for quote in (_outlook, _foxmail):
        reply = STORY + "\n\n国土空间规划股  马丽\n电话：13800138086\n\n" + quote(OFFICE_ASK)
        own, quoted = split_quoted(reply)
        assert "耕地保护责任" in own and "800字以内" in quoted
        assert own_text(reply) == own
        answer = features("回复：关于报送上半年亮点信息的通知", reply)
        assert verdict(answer, office) == "counted"
        assert verdict(answer, features("上半年工作总结会议召开", STORY)) == "duplicate"


def test_a_forward_with_nothing_new_is_judged_on_the_forwarded_text() -> None:
    original = features("上半年工作总结会议召开", STORY)
    for note in ("请审核。", "各位领导：这是我单位王喆同志撰写的信息，反映了我局上半年重点工作的"
                 "进展和成效，建议在县政府网站刊发，请审阅。"):
        forward = note + "\n\n王喆\n电话：13800138033\n\n" + _outlook(STORY)
        assert own_text(forward) == forward
        assert verdict(features("转发: 上半年工作总结会议召开", forward), original) == "duplicate"


def test_matched_passages_mark_the_shared_sentences_in_readable_text() -> None:
    paragraphs = STORY.split("\n")
    other = ("各位领导：\n" + paragraphs[2] + "\n另外，我们还做了别的工作，内容与原文完全不同。\n"
             + paragraphs[0])
    pairs = matched_passages(other, STORY)
    assert [p.a for p in pairs][0].startswith("会议要求")
    assert len(pairs) == 2  # the first and third paragraph: one sentence each
    for pair in pairs:
        assert other[pair.a_span[0]:pair.a_span[1]] == pair.a
        assert STORY[pair.b_span[0]:pair.b_span[1]] == pair.b
        assert compact(pair.a) == compact(pair.b) and pair.score == 100.0
