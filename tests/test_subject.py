"""R1 / R5 / R7 subject rules on realistic subjects (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mailroom.dedupe.engine import initial_title
from mailroom.dedupe.normalize import clean_title
from mailroom.rules.markers import (
    detect_followup,
    detect_priority,
    strip_reply_prefixes,
    without_followup_marker,
)
from mailroom.rules.roster import is_roster_title, officer_name
from mailroom.rules.subject import UnitName, parse_subject
from mailroom.rules.units import match_unit

ROSTER = (
    UnitName("办公室"),
    UnitName("自然资源综合执法大队", ("执法大队", "综合执法大队")),
    UnitName("国土空间规划股"),
    UnitName("耕地保护股"),
    UnitName("地籍与确权登记股"),
    UnitName("法规股"),
    UnitName("财务股"),
    UnitName("望洪林业站"),
    UnitName("望远林业站"),
    UnitName("林业有害生物防治检疫站"),
    UnitName("不动产登记中心"),
    UnitName("黄河生态林场", ("生态林场",)),
)

DADUI = "自然资源综合执法大队"
URGENT, IMPORTANT, GENERAL = "urgent", "important", "general"


@dataclass(frozen=True)
class Row:
    subject: str
    unit: str | None
    title: str
    priority: str = GENERAL
    followup: str | None = None
    roster: bool = False
    date: str | None = None


ROWS = [
    # separators
    Row("执法大队+开展违法用地专项整治", DADUI, "开展违法用地专项整治"),
    Row("执法大队＋开展违法用地专项整治", DADUI, "开展违法用地专项整治"),
    Row("办公室 召开全局信息工作会议", "办公室", "召开全局信息工作会议"),
    Row("法规股-开展“八五”普法宣传", "法规股", "开展“八五”普法宣传"),
    Row("法规股－开展宪法宣传周活动", "法规股", "开展宪法宣传周活动"),
    Row("耕地保护股—开展耕地“非农化”排查", "耕地保护股", "开展耕地“非农化”排查"),
    Row("耕地保护股——召开耕地保护工作推进会", "耕地保护股", "召开耕地保护工作推进会"),
    Row("财务股：完成年度部门预算编制", "财务股", "完成年度部门预算编制"),
    Row("财务股:开展固定资产清查", "财务股", "开展固定资产清查"),
    Row("不动产登记中心|推行“交房即交证”", "不动产登记中心", "推行“交房即交证”"),
    Row("不动产登记中心｜“一窗受理”提速办证", "不动产登记中心", "“一窗受理”提速办证"),
    Row("【国土空间规划股】完成村庄规划编制", "国土空间规划股", "完成村庄规划编制"),
    Row("[望远林业站]开展春季植树造林", "望远林业站", "开展春季植树造林"),
    Row("〔黄河生态林场〕开展森林防火巡查", "黄河生态林场", "开展森林防火巡查"),
    Row("【生态林场】-完成补植补造", "黄河生态林场", "完成补植补造"),
    Row("执法大队 + 查处一起非法占地案件", DADUI, "查处一起非法占地案件"),
    Row("  执法大队   +   查处  非法采砂  ", DADUI, "查处 非法采砂"),
    Row("执法大队开展违法用地专项整治", DADUI, "开展违法用地专项整治"),
    Row("望洪林业站，开展林长制巡林", "望洪林业站", "开展林长制巡林"),
    # reply / forward prefixes
    Row("Re: 办公室+召开信息工作会议", "办公室", "召开信息工作会议"),
    Row("RE：法规股+开展普法宣传", "法规股", "开展普法宣传"),
    Row("Fw: 财务股+预算执行情况", "财务股", "预算执行情况"),
    Row("Fwd: 财务股+预算执行情况", "财务股", "预算执行情况"),
    Row("FW：财务股+预算执行情况", "财务股", "预算执行情况"),
    Row("回复：耕地保护股+耕地占补平衡核查", "耕地保护股", "耕地占补平衡核查"),
    Row("回复: 耕地保护股+耕地占补平衡核查", "耕地保护股", "耕地占补平衡核查"),
    Row("转发：望洪林业站+开展林业有害生物普查", "望洪林业站", "开展林业有害生物普查"),
    Row("答复：不动产登记中心+办理首次登记", "不动产登记中心", "办理首次登记"),
    Row("答复 不动产登记中心+办理首次登记", "不动产登记中心", "办理首次登记"),
    Row("转：黄河生态林场+完成苗木抚育", "黄河生态林场", "完成苗木抚育"),
    Row("Re[2]: 执法大队+巡查发现违建", DADUI, "巡查发现违建"),
    Row("Re: 转发：回复：办公室-召开信息工作会议", "办公室", "召开信息工作会议"),
    Row("Ｒｅ：Ｆｗｄ：执法大队＋巡查发现违建", DADUI, "巡查发现违建"),
    # trailing dates
    Row("【执法大队】开展巡查（5月8日）", DADUI, "开展巡查（5月8日）", date="（5月8日）"),
    Row("[法规股]普法宣传进社区 2019.5.8", "法规股", "普法宣传进社区 2019.5.8", date="2019.5.8"),
    Row("自然资源执法大队—开展巡查20190508", DADUI, "开展巡查20190508", date="20190508"),
    Row("不动产登记中心 - 办理首证 - 2019-05-08", "不动产登记中心", "办理首证 - 2019-05-08",
        date="2019-05-08"),
    Row("望洪林站+巡查 5.8", "望洪林业站", "巡查 5.8", date="5.8"),
    Row("国土空间规划股+规划编制推进会(2019年5月8日)", "国土空间规划股",
        "规划编制推进会(2019年5月8日)", date="(2019年5月8日)"),
    Row("耕地保护股+开展卫片执法检查——５月８日", "耕地保护股", "开展卫片执法检查——５月８日",
        date="５月８日"),
    Row("执法大队+2019.5.8", DADUI, "2019.5.8"),
    # priority markers in every position (kept in the title)
    Row("【紧急】望洪林业站+望洪镇发生森林火情", "望洪林业站",
        "【紧急】望洪镇发生森林火情", URGENT),
    Row("望洪林业站+【紧急】望洪镇发生森林火情", "望洪林业站",
        "【紧急】望洪镇发生森林火情", URGENT),
    Row("望洪林业站+望洪镇发生森林火情【紧急】", "望洪林业站",
        "望洪镇发生森林火情【紧急】", URGENT),
    Row("[特急]执法大队+发现非法采砂", DADUI, "[特急]发现非法采砂", URGENT),
    Row("执法大队【特急】+发现非法采砂", DADUI, "【特急】发现非法采砂", URGENT),
    Row("紧急：执法大队+发现违法占地", DADUI, "紧急：发现违法占地", URGENT),
    Row("执法大队+紧急：发现违法占地", DADUI, "紧急：发现违法占地", URGENT),
    Row("执法大队紧急：发现违法占地", DADUI, "紧急：发现违法占地", URGENT),
    Row("（重要）不动产登记中心|办理首证", "不动产登记中心", "（重要）办理首证", IMPORTANT),
    Row("不动产登记中心——办理首证(加急)", "不动产登记中心", "办理首证(加急)", URGENT),
    Row("重要：办公室+传达全县安全生产会议精神", "办公室",
        "重要：传达全县安全生产会议精神", IMPORTANT),
    Row("Re: 【紧急】【执法大队】非法采砂", DADUI, "【紧急】非法采砂", URGENT),
    Row("〔重要〕【紧急】黄河生态林场+林区火情", "黄河生态林场",
        "〔重要〕【紧急】林区火情", URGENT),
    # the same words inside a title are not markers
    Row("办公室+学习重要讲话精神", "办公室", "学习重要讲话精神"),
    Row("办公室+关于紧急避险演练的报道", "办公室", "关于紧急避险演练的报道"),
    Row("法规股+重要法规解读", "法规股", "重要法规解读"),
    Row("望远林业站+加急完成苗木调运", "望远林业站", "加急完成苗木调运"),
    # follow-ups of urgent reports
    Row("望洪林业站+【续报】望洪镇森林火情", "望洪林业站", "【续报】望洪镇森林火情",
        followup="续报"),
    Row("望洪林业站+（续报）望洪镇森林火情", "望洪林业站", "（续报）望洪镇森林火情",
        followup="续报"),
    Row("望洪林业站+终报：望洪镇森林火情已扑灭", "望洪林业站", "终报：望洪镇森林火情已扑灭",
        followup="终报"),
    Row("续报：望洪林业站+望洪镇森林火情", "望洪林业站", "续报：望洪镇森林火情", followup="续报"),
    Row("【紧急】【续报二】望洪林业站+火情", "望洪林业站",
        "【紧急】【续报二】火情", URGENT, "续报二"),
    Row("望洪林业站+望洪镇森林火情续报", "望洪林业站", "望洪镇森林火情续报", followup="续报"),
    # roster mails (R7)
    Row("望洪林业站+信息员张三", "望洪林业站", "信息员张三", roster=True),
    Row("执法大队信息员名单", DADUI, "信息员名单", roster=True),
    Row("信息员：李四（国土空间规划股）", "国土空间规划股", "信息员：李四", roster=True),
    Row("信息员名单-执法大队", DADUI, "信息员名单", roster=True),
    Row("财务股+报送信息员", "财务股", "报送信息员", roster=True),
    Row("关于报送望远林业站信息员名单的函", None, "关于报送望远林业站信息员名单的函", roster=True),
    Row("法规股+王五（信息员）", "法规股", "王五（信息员）", roster=True),
    Row("县林业局信息员名单", None, "县林业局信息员名单", roster=True),
    Row("办公室+召开信息员培训会", "办公室", "召开信息员培训会"),
    Row("办公室+信息员业务培训顺利举办", "办公室", "信息员业务培训顺利举办"),
    # fuzzy names and county / bureau prefixes
    Row("综合执法队 开展巡查", DADUI, "开展巡查"),
    Row("国土规划股：编制村庄规划", "国土空间规划股", "编制村庄规划"),
    Row("永宁县自然资源局执法大队+开展巡查", DADUI, "开展巡查"),
    Row("永宁县自然资源局执法大队开展巡查", DADUI, "开展巡查"),
    Row("局办公室+开展保密教育", "办公室", "开展保密教育"),
    Row("地籍股+开展农村宅基地确权", "地籍与确权登记股", "开展农村宅基地确权"),
    Row("检疫站+美国白蛾防治", "林业有害生物防治检疫站", "美国白蛾防治"),
    Row("黄河林场+开展春季植树", "黄河生态林场", "开展春季植树"),
    Row("国土空间 规划股+规划公示", "国土空间规划股", "规划公示"),
    # near misses and unknown units: no unit
    Row("财政股+报销制度学习", None, "财政股+报销制度学习"),
    Row("法制股+开展行政执法案卷评查", None, "法制股+开展行政执法案卷评查"),
    Row("望红林业站+巡查", None, "望红林业站+巡查"),
    Row("林业站+巡查", None, "林业站+巡查"),
    Row("县公安局+协助开展联合执法", None, "县公安局+协助开展联合执法"),
    Row("关于森林防火的通知-2019", None, "关于森林防火的通知-2019", date="2019"),
    Row("学习贯彻-习近平讲话", None, "学习贯彻-习近平讲话"),
    Row("自然资源-文明建设", None, "自然资源-文明建设"),
    Row("答复执法大队+巡查", DADUI, "巡查"),
    # degenerate subjects
    Row("", None, ""),
    Row("   ", None, ""),
    Row("执法大队", DADUI, ""),
    Row("【执法大队】", DADUI, ""),
    Row("执法大队+", DADUI, ""),
    Row("【紧急】执法大队", DADUI, "【紧急】", URGENT),
    Row("Hello world", None, "Hello world"),
    Row("Re: test", None, "test"),
    Row("=?gb2312?B?1rTWqLTz0ts=?=", None, "=?gb2312?B?1rTWqLTz0ts=?="),
    Row("???", None, "???"),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.subject or "<empty>" for row in ROWS])
def test_parse_subject(row: Row) -> None:
    parsed = parse_subject(row.subject, ROSTER)
    assert (parsed.unit, parsed.title, parsed.priority, parsed.followup, parsed.is_roster) == (
        row.unit, row.title, row.priority, row.followup, row.roster)
    assert parsed.date == row.date
    assert parsed.original == row.subject
    assert (parsed.unit_text is None) == (parsed.unit is None) == (parsed.unit_score is None)


def test_table_is_large() -> None:
    assert len(ROWS) >= 60


def test_unit_text_is_the_part_as_written() -> None:
    parsed = parse_subject("Re: 永宁县自然资源局执法大队＋开展巡查", ROSTER)
    assert parsed.stripped == "永宁县自然资源局执法大队＋开展巡查"
    assert parsed.unit_text == "永宁县自然资源局执法大队"
    assert parsed.unit_score == 100.0


def test_fuzzy_score_is_reported() -> None:
    parsed = parse_subject("综合执法队+巡查", ROSTER)
    assert parsed.unit == DADUI
    assert parsed.unit_score is not None and 75 <= parsed.unit_score < 100


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("执法大队", DADUI),
        ("综合执法大队", DADUI),
        ("自然资源综合执法大队", DADUI),
        ("自然资源执法大队", DADUI),
        ("国土空间规划股", "国土空间规划股"),
        ("国土空间规划", "国土空间规划股"),
        ("不动产中心", "不动产登记中心"),
        ("林业有害生物防治站", "林业有害生物防治检疫站"),
        ("财务股", "财务股"),
        ("法规股", "法规股"),
        ("望远林业站", "望远林业站"),
        ("望洪林业站", "望洪林业站"),
        ("财政股", None),
        ("县公安局", None),
        ("自然资源局", None),
        ("望洪", None),
        ("林业站", None),
        ("", None),
    ],
)
def test_match_unit(text: str, expected: str | None) -> None:
    found = match_unit(text, ROSTER)
    assert (found[0] if found else None) == expected


@pytest.mark.parametrize(
    ("text", "roster", "expected"),
    [
        ("林业工作站", ("林业工作站", "林草工作站"), "林业工作站"),
        ("林草工作站", ("林业工作站", "林草工作站"), "林草工作站"),
        ("林草工作站", ("林业工作站",), None),  # one character substituted: another unit
        ("望远林业站", ("望洪林业站",), None),
        ("财务股", ("法规股",), None),
        ("望洪林业工作站", ("望洪林业站", "林业工作站"), None),  # 83 vs 83: too close
        ("林业站", ("望洪林业站", "林业有害生物防治检疫站"), "望洪林业站"),
    ],
)
def test_near_misses(text: str, roster: tuple[str, ...], expected: str | None) -> None:
    found = match_unit(text, [UnitName(name) for name in roster])
    assert (found[0] if found else None) == expected


def test_shared_alias_is_ambiguous() -> None:
    units = [UnitName("望洪林业站", ("林业站",)), UnitName("望远林业站", ("林业站",))]
    assert match_unit("林业站", units) is None


def test_no_roster_no_unit() -> None:
    parsed = parse_subject("执法大队+巡查", [])
    assert (parsed.unit, parsed.title) == (None, "执法大队+巡查")


@pytest.mark.parametrize(
    "subject",
    ["Re: 转发：回复：办公室-会议", "RE: RE: x", "回复 答复：Fw: 转：y", "办公室+会议", "", "Re:"],
)
def test_strip_reply_prefixes_is_idempotent(subject: str) -> None:
    once = strip_reply_prefixes(subject)
    assert strip_reply_prefixes(once) == once


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: 转发：回复：办公室-会议", "办公室-会议"),
        ("Re:", ""),
        ("回复执法大队+巡查", "回复执法大队+巡查"),  # no colon, no space: part of the text
        ("转发关于做好防汛工作的通知", "转发关于做好防汛工作的通知"),
        ("Report: x", "Report: x"),
    ],
)
def test_strip_reply_prefixes(subject: str, expected: str) -> None:
    assert strip_reply_prefixes(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("【紧急】x", URGENT),
        ("[特急] x", URGENT),
        ("［特急］x", URGENT),
        ("(加急)x", URGENT),
        ("〔紧急〕x", URGENT),
        ("【特别紧急】x", URGENT),
        ("【 重要 】x", IMPORTANT),
        ("（重要）（紧急）x", URGENT),
        ("Re: 紧急：x", URGENT),
        ("执法大队+紧急：x", URGENT),
        ("学习重要讲话精神", GENERAL),
        ("关于紧急避险演练的报道", GENERAL),
        ("重要通知：x", GENERAL),
        ("", GENERAL),
    ],
)
def test_detect_priority(subject: str, expected: str) -> None:
    assert detect_priority(subject) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("【续报】火情", "续报"),
        ("[终报]火情", "终报"),
        ("续报三：火情", "续报三"),
        ("【第二次续报】火情", "第二次续报"),
        ("火情终报", "终报"),
        ("关于续报制度的学习", None),
        ("火情", None),
    ],
)
def test_detect_followup(title: str, expected: str | None) -> None:
    assert detect_followup(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("【续报】火情", "火情"),
        ("［终报］：火情", "火情"),
        ("续报三：三分场火情", "三分场火情"),
        ("【第二次续报】【紧急】火情", "【紧急】火情"),
        ("关于三分场林下地表火情况的续报", "关于三分场林下地表火情况的"),
        ("关于砂石场边坡局部垮塌的续报（二）", "关于砂石场边坡局部垮塌的（二）"),
        ("关于二分场林下火情的终报", "关于二分场林下火情的"),
        ("关于二分场发生林下火情的报告", "关于二分场发生林下火情的报告"),
    ],
)
def test_without_followup_marker(title: str, expected: str) -> None:
    assert without_followup_marker(title) == expected


def test_the_dedupe_engine_finds_a_first_report_by_the_same_marker_rule() -> None:
    for title in ("【续报二】三分场林下地表火情况", "关于三分场林下地表火情况的终报"):
        assert initial_title(title) == clean_title(without_followup_marker(title))
    assert initial_title("【续报二】三分场林下地表火情况") == "三分场林下地表火情况"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("信息员名单", True),
        ("信息员", True),
        ("信息员张三、李四", True),
        ("信息员：赵六 13900000000", True),
        ("报送信息员", True),
        ("关于调整本单位信息员的报告", True),  # a roster change
        ("表彰优秀信息员", False),
        ("召开信息员培训会", False),
        ("信息员会议", False),
        ("信息公开工作", False),
    ],
)
def test_is_roster_title(title: str, expected: bool) -> None:
    assert is_roster_title(title) is expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("信息员张三", "张三"),
        ("信息员：李四", "李四"),
        ("信息员： 李四", "李四"),
        ("信息员 王芳 13900000000", "王芳"),
        ("信息员欧阳娜娜", "欧阳娜娜"),
        ("信息员张三、李四", "张三"),
        ("信息员阿依古丽·买买提", "阿依古丽·买买提"),
        ("信息员：热合曼•艾山", "热合曼•艾山"),
        ("信息员变更为王五", "王五"),
        ("关于更换信息员为马晓燕的报告", "马晓燕"),
        ("张三（信息员）", "张三"),
        ("信息员名单", None),
        ("信息员名单：张三、李四", None),  # several names: the sender's own name decides
        ("信息员", None),
        ("报送信息员", None),
        ("关于调整本单位信息员的报告", None),
        ("信息员变更", None),
        ("信息员培训会", None),
        ("信息员张三报送近期工作", None),  # no name boundary: not guessed
        ("", None),
    ],
)
def test_officer_name(title: str, expected: str | None) -> None:
    assert officer_name(title) == expected


@pytest.mark.parametrize("row", [row for row in ROWS if row.unit is not None])
def test_title_not_empty_beyond_the_unit(row: Row) -> None:
    parsed = parse_subject(row.subject, ROSTER)
    assert parsed.unit_text is not None
    beyond = parsed.stripped.replace(parsed.unit_text, "").strip(" +＋-—:：|【】[]〔〕")
    assert bool(parsed.title) == bool(beyond)


@pytest.mark.parametrize(
    "text",
    [
        "银川市永宁县自然资源局执法大队",
        "宁夏回族自治区永宁县执法大队",
        "永宁县局执法大队",
        "县执法大队",
    ],
)
def test_county_and_bureau_prefixes(text: str) -> None:
    assert match_unit(text, ROSTER) == (DADUI, 100.0)
