"""Which open 约稿 requests a submission answers (requests/matching.py, codes.py), pure:
by code, by replying to a request mail, by naming the title — and short, generic titles
that must not link everything."""

from __future__ import annotations

import pytest

from mailroom.requests.codes import codes_in, format_code, parse_code
from mailroom.requests.matching import OpenRequest, answers, title_score

FIRE = OpenRequest(1, "约稿201905-01", "2019年春季森林防火工作开展情况", frozenset({"m1@x.cn"}))
FLOOD = OpenRequest(2, "约稿201905-02", "防汛准备工作情况", frozenset({"m2@x.cn"}))
SHORT = OpenRequest(3, "约稿201905-03", "工作动态", frozenset())


def test_codes_are_formatted_parsed_and_found() -> None:
    assert format_code("2019-05", 1) == "约稿201905-01"
    assert format_code("2019-05", 123) == "约稿201905-123"
    for written in ("约稿201905-01", "201905-01", "２０１９０５-０１", " 约稿 201905-1 "):
        assert parse_code(written) == "约稿201905-01", written
    for wrong in ("201913-01", "201905", "约稿2019-05-01", "201905-0012x", ""):
        assert parse_code(wrong) is None, wrong
    text = "按约稿201905-01要求报送（另：约稿 201905－02；约稿201905-01）"
    assert codes_in(text) == ["约稿201905-01", "约稿201905-02"]
    # a bare YYYYMM-NN, a submission number or a date is no request code
    assert codes_in("见201905-01、201905-0012 和 2019-05-01") == []


def test_a_code_or_a_reply_links_definitely() -> None:
    found = answers("执法大队开展巡查", "按约稿201905-02要求，现报送如下。", [], [FIRE, FLOOD])
    assert [(a.request.code, a.how) for a in found] == [("约稿201905-02", "code")]
    found = answers("一条信息", "正文", ["<m1@x.cn>", "<other@x.cn>"], [FIRE, FLOOD])
    assert [(a.request.code, a.how) for a in found] == [("约稿201905-01", "reply")]
    # the code in the whole subject (before the unit) counts too
    found = answers("标题", "", [], [FIRE, FLOOD], subject="约稿201905-01 执法大队+标题")
    assert [a.request.code for a in found] == ["约稿201905-01"]


def test_the_title_links_the_best_request_fuzzily() -> None:
    found = answers("关于2019年春季森林防火工作开展情况的报告", "正文", [], [FIRE, FLOOD])
    assert [(a.request.code, a.how) for a in found] == [("约稿201905-01", "title")]
    assert found[0].score == 100.0
    # a few characters changed or left out still names it
    assert title_score(FIRE.title, "2019年春季森林防火工作开展的情况") >= 88
    # named in the body's opening
    body = "根据《防汛准备工作情况》约稿要求，我站报送如下：……"
    assert [a.request.code for a in answers("望洪林业站信息", body, [], [FIRE, FLOOD])] == \
        ["约稿201905-02"]
    # another topic does not
    assert answers("开展违法用地专项整治行动", "正文", [], [FIRE, FLOOD]) == []
    assert title_score(FLOOD.title, "抗旱准备工作情况") < 88


@pytest.mark.parametrize("title", [
    "工作", "防火", "森林防火",  # a piece of the request's title
    "开展森林防火宣传工作动态",  # contains the short title 工作动态
    "本周工作动态汇总",
])
def test_short_or_partial_titles_give_no_false_link(title: str) -> None:
    assert answers(title, "本单位工作动态：森林防火", [], [FIRE, SHORT]) == []


def test_a_short_title_links_only_when_named_exactly() -> None:
    assert [a.request.code for a in answers("工作动态", "", [], [SHORT])] == ["约稿201905-03"]
    assert [a.request.code for a in answers("关于《工作动态》的报送", "", [], [SHORT])] == \
        ["约稿201905-03"]
    # never from the body, never fuzzily
    assert answers("望洪林业站信息", "工作动态", [], [SHORT]) == []
    assert answers("工作动太", "", [], [SHORT]) == []
