"""The office digest's values and wording (digest/build.py, templates/digest.*), pure:
SPEC's order of sections, only the sections that have something, the first 200 characters,
the suspected pair side by side with the commands that settle it and the matched passages
marked, nothing new → no digest."""

from __future__ import annotations

import re
from dataclasses import replace

from mailroom.digest.build import EXCERPT, LIMIT, build, marked, text_wanted
from mailroom.digest.sending import render, subject_line
from mailroom.digest.values import ChangeRow, DecisionRow, ItemRow, MailRow, Records

TEXT = ("5月15日上午，县自然资源局召开全县国土空间规划编制工作推进会，副县长出席会议并讲话。"
        "会议通报了全县国土空间总体规划编制工作进展情况，编制单位汇报了“双评价”初步成果。"
        "会议要求各部门于5月31日前完成基础资料提交，确保规划编制按期完成。") * 3


def item(pk: int, status: str = "counted", **values: object) -> ItemRow:
    base = ItemRow(pk=pk, number=f"201905-{pk:04d}", unit="国土空间规划股",
                   title=f"第{pk}篇信息", sender="ghg@example.cn",
                   received_at=f"2019-05-{pk:02d} 10:00", status=status, priority="general",
                   text=f"第{pk}篇的正文。" + TEXT, attachments=(f"第{pk}篇.docx", "签字稿.pdf"))
    return replace(base, **values)  # type: ignore[arg-type]


def mail(pk: int, kind: str = "submission", **values: object) -> MailRow:
    return replace(MailRow(pk, kind, "x@example.cn", f"主题{pk}", "2019-05-09 10:00"),
                   **values)  # type: ignore[arg-type]


FIRST = item(1)
SUSPECT = item(2, "suspected", unit="办公室", sender="bgs@example.cn", duplicate_of_pk=1,
               score=88.4, match_part="content")
URGENT = item(3, priority="urgent", title="【紧急】某村发生山体滑坡")
UNASSIGNED = item(4, "unassigned", unit=None, sender="who@163.com",
                  warnings=("no_unit", "unknown_sender"))
REJECTED = item(5, "rejected", warnings=("signed_scan",))
FORGED = item(6, warnings=("sender_authentication_failed",))
CHANGED = item(7, "duplicate", duplicate_of_pk=8)
LATE = item(8, title="较早收到的首报")


def full() -> Records:
    items = (SUSPECT, URGENT, UNASSIGNED, REJECTED, FORGED)
    return Records(
        since="2019-05-08 17:00",
        mails=(*(mail(i.pk) for i in items), mail(20, "failed", reason="unreadable: no header"),
               mail(21, "command", subject="采用 201905-0003 县政府网站",
                    detail={"commands": ["采用 201905-0003 县政府网站"], "ran": True,
                            "not_understood": 1},
                    reply_subject="命令处理结果：已执行 1 项，未执行 0 项"),
               mail(22, "auto-reply")),
        items=items, others={1: FIRST, 7: CHANGED, 8: LATE},
        changes=(ChangeRow(1, 7, 8, "counted", None, "duplicate", 8),),
        decisions=(DecisionRow(1, "201905-0003", URGENT.title, URGENT.unit, "adopt",
                               {"title": URGENT.title, "unit": URGENT.unit,
                                "channel": "县政府网站", "note": ""},
                               "office@example.cn", "2019-05-09 11:00", "mail",
                               "采用 201905-0003 县政府网站"),),
        receipts=5)


def test_sections_in_spec_order_and_only_those_with_something() -> None:
    digest = build(full(), day="2019-05-09")
    assert digest is not None
    assert digest.sections == ("urgent", "pairs", "unassigned", "unknown_senders", "rejected",
                               "changes", "failed", "commands", "counts")
    assert [e.number for e in digest.urgent] == ["201905-0003"]
    assert [e.number for e in digest.rejected] == ["201905-0005", "201905-0006"]
    assert [(s.address, [e.number for e in s.items]) for s in digest.unknown_senders] == [
        ("who@163.com", ["201905-0004"])]
    only = build(Records(since=None, mails=(mail(2),), items=(SUSPECT,), others={1: FIRST}),
                 day="2019-05-09")
    assert only is not None and only.sections == ("pairs", "counts")
    text, html = render(only)
    for absent in ("紧急信息", "未识别单位的信息", "处理失败的邮件", "命令执行情况"):
        assert absent not in text and absent not in html
    assert "一、疑似重复，请确认" in text and "二、本期统计" in text


def test_the_wording_follows_the_same_order() -> None:
    digest = build(full(), day="2019-05-09")
    assert digest is not None
    text, html = render(digest)
    headings = ["紧急信息", "疑似重复，请确认", "未识别单位的信息", "未登记的发件人",
                "未计数的信息和身份验证异常", "重新比对后状态变化的信息", "处理失败的邮件",
                "命令执行情况", "本期统计"]
    numerals = "一二三四五六七八九"
    for rendering in (text, html):
        positions = [rendering.index(f"{numerals[i]}、{h}") for i, h in enumerate(headings)]
        assert positions == sorted(positions)
    assert "自上次日报（2019-05-08 17:00）以来：新收信息 5 件，紧急 1 件，待确认重复 1 对" in text
    assert "201905-0007" in text
    assert "已计数 → 重复不计数（首报 201905-0008），因 201905-0008" in text
    assert "原因：unreadable: no header" in text
    assert ("201905-0003《【紧急】某村发生山体滑坡》（国土空间规划股）"
            "已记为“县政府网站”采用。") in text
    assert "已执行（命令处理结果：已执行 1 项，未执行 0 项）；1 行无法识别" in text
    assert "分配 201905-0004 单位名称" in text
    assert "收到邮件 8 封（信息 5、命令邮件 1、处理失败 1、自动回复 1）" in text
    assert "未签字" not in text and "未附分管领导签字的扫描件" in text
    assert "<script" not in html and "<style" not in html
    assert subject_line(digest) == ("【紧急 1 件】信息报送日报 2019-05-09：新收 5 件，"
                                    "待确认重复 1 对，未识别单位 1 件，处理失败 1 封")


def test_an_item_shows_its_first_200_characters_and_attachments() -> None:
    digest = build(full(), day="2019-05-09")
    assert digest is not None
    urgent = digest.urgent[0]
    assert len(urgent.excerpt) == EXCERPT and urgent.more
    assert urgent.excerpt == re.sub(r"\s+", " ", URGENT.text)[:EXCERPT]
    assert urgent.attachments == ("第3篇.docx", "签字稿.pdf")
    text, _ = render(digest)
    assert f"正文：{urgent.excerpt}……" in text
    assert "附件：第3篇.docx、签字稿.pdf" in text
    assert "mailroom submissions show 编号" in text
    short = build(Records(since=None, mails=(mail(3),),
                          items=(replace(URGENT, text="  一行\n\n正文  ", attachments=()),)),
                  day="2019-05-09")
    assert short is not None and short.urgent[0].excerpt == "一行 正文"
    assert not short.urgent[0].more and "附件：无" in render(short)[0]


def test_the_pair_side_by_side_with_the_commands_and_the_passages_marked() -> None:
    digest = build(full(), day="2019-05-09")
    assert digest is not None
    [pair] = digest.pairs
    assert (pair.item.number, pair.first.number, pair.score, pair.part) == (
        "201905-0002", "201905-0001", 88.4, "content")
    assert pair.confirm == "确认重复 201905-0002 201905-0001"
    assert pair.distinct == "不是重复 201905-0002"
    assert pair.passages and all(a == b for a, b in pair.passages)
    shown = [s.text for s in pair.item_excerpt if s.marked]
    assert any("会议通报了全县国土空间总体规划编制工作进展情况" in s for s in shown)
    assert "".join(s.text for s in pair.item_excerpt) == pair.item.excerpt
    text, html = render(digest)
    assert "是重复，回复命令：确认重复 201905-0002 201905-0001" in text
    assert "不是重复，回复命令：不是重复 201905-0002" in text
    assert "（相似度 88），相同部分：正文" in text
    assert '<span style="background: #fff0a0">' in html and "<table" in html
    assert "待确认</th>" in html and "首报</th>" in html


def test_marks_find_compacted_passages_and_ones_cut_off() -> None:
    excerpt = "甲乙丙。会议通报了全县国土空间总体规划编制工作进展情况，编制单位汇报"
    segments = marked(excerpt, ["会议通报了全县国土空间总体规划编制工作进展情况"
                                "编制单位汇报了双评价初步成果"])
    assert [(s.text, s.marked) for s in segments] == [
        ("甲乙丙。", False), ("会议通报了全县国土空间总体规划编制工作进展情况，编制单位汇报", True)]
    assert marked("短", ["别的句子内容很长"]) == (marked("短", [])[0],)


def test_a_suspected_item_from_a_changed_verdict_is_offered_too() -> None:
    now_suspected = replace(CHANGED, status="suspected", score=80.0)
    records = Records(since=None, others={7: now_suspected, 8: LATE},
                      changes=(ChangeRow(1, 7, 8, "counted", None, "suspected", 8),))
    digest = build(records, day="2019-05-09")
    assert digest is not None
    assert [(p.item.number, p.first.number) for p in digest.pairs] == [
        ("201905-0007", "201905-0008")]
    assert digest.sections == ("pairs", "changes", "counts")


def test_nothing_new_is_no_digest() -> None:
    assert build(Records(since="2019-05-08 17:00"), day="2019-05-09") is None
    own_mail = Records(since=None, mails=(mail(1, "own"), mail(2, "auto-reply"),
                                          mail(3, "bounce")))
    assert build(own_mail, day="2019-05-09") is None  # a digest's echo makes no digest
    roster = build(Records(since=None, mails=(mail(4, "roster"),)), day="2019-05-09")
    assert roster is not None and roster.sections == ("counts",)


def test_confirmation_codes_never_reach_the_digest() -> None:
    """Every office address gets the digest; a reply to it must carry no live 确认码."""
    reply = mail(30, "command", subject="回复：确认码 ABCDEFGH：请确认 1 项命令（采用）",
                 sender="office@example.cn", detail={"commands": [], "ran": False},
                 reply_subject="命令处理结果：已执行 0 项，未执行 0 项")
    digest = build(Records(since=None, mails=(reply,)), day="2019-05-09")
    assert digest is not None
    text, html = render(digest)
    assert "ABCDEFGH" not in text + html and "确认码 ********" in text


def test_a_backlog_makes_a_digest_that_stays_a_mail() -> None:
    """A first digest over months of mail lists LIMIT entries a section and says how many
    it left out; only the texts it shows are asked for."""
    items = tuple(item(pk, "unassigned", unit=None) for pk in range(1, LIMIT + 31))
    records = Records(since=None, mails=tuple(mail(i.pk) for i in items), items=items)
    assert text_wanted(records) == {i.pk for i in items[:LIMIT]}
    digest = build(records, day="2019-05-09")
    assert digest is not None
    assert len(digest.unassigned) == LIMIT and digest.left_out("unassigned") == 30
    assert len(digest.new_items) == LIMIT + 30 and digest.left_out("counts") == 0
    text, html = render(digest)
    assert "（另有 30 项未列出，可在服务器上用 mailroom submissions list" in text
    assert "另有 30 项未列出" in html
    assert f"新收信息 {LIMIT + 30} 件" in text


def test_refused_commands_and_lines_not_understood_with_the_reply_s_reasons() -> None:
    """Each item a command mail could not do and each line not understood, with the reason
    the command reply gave (its words, from the codes kept in the mail's detail)."""
    results = {
        "commands": [
            {"text": "采用 201905-0003 201905-0099 县政府网站",
             "done": [{"number": "201905-0003", "action": "adopt"}],
             "refused": [{"number": "201905-0099", "action": "adopt",
                          "code": "unknown_number", "facts": {}}]},
            {"text": "采用 201905-0003 省报",
             "done": [],
             "refused": [{"number": "201905-0003", "action": "adopt",
                          "code": "unknown_channel",
                          "facts": {"channel": "省报", "channels": "县政府网站"}}]}],
        "not_understood": [
            {"text": "采用县政府网站 确认码 ABCDEFGH", "problems": [["missing_number", ""]]},
            {"text": "批示 2019-12 伍庭利：好", "problems": [["malformed_number", "2019-12"]]}]}
    command = mail(21, "command", subject="采用", sender="office@example.cn",
                   detail={"commands": ["采用 201905-0003 201905-0099 县政府网站",
                                        "采用 201905-0003 省报"],
                           "ran": True, "not_understood": 2, "results": results},
                   reply_subject="命令处理结果：已执行 1 项，未执行 2 项")
    older = mail(22, "command", subject="采用 201905-0003 县政府网站",
                 detail={"commands": ["采用 201905-0003 县政府网站"], "ran": True,
                         "not_understood": 1})  # recorded before `results` was kept
    digest = build(Records(since=None, mails=(command, older)), day="2019-05-09")
    assert digest is not None
    first, second = digest.command_mails
    assert [r.code for r in first.refused] == ["unknown_number", "unknown_channel"]
    assert [n.text for n in first.lines_not_understood] == [
        "采用县政府网站 确认码 ********", "批示 2019-12 伍庭利：好"]
    assert second.refused == () and second.lines_not_understood == ()
    text, html = render(digest)
    assert "ABCDEFGH" not in text + html
    assert ("   未执行（2 项）：\n"
            "     ・采用 201905-0099：编号不存在。\n"
            "     ・采用 201905-0003：没有名为“省报”的采用渠道（可用渠道：县政府网站）。\n"
            "   未能识别的内容（2 行）：\n"
            "     ・“采用县政府网站 确认码 ********”：缺少编号。\n"
            "     ・“批示 2019-12 伍庭利：好”：编号“2019-12”格式不对"
            "（应写作 201905-0012 或 2019050012）。\n") in text
    assert "2 行无法识别" not in text and "1 行无法识别" in text  # the older row: a count
    assert "采用 <span" in html and "编号不存在。</li>" in html
    assert "没有名为“省报”的采用渠道（可用渠道：县政府网站）。</li>" in html
    assert "“采用县政府网站 确认码 ********”：缺少编号。</li>" in html
