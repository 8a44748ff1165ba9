"""The Chinese wording of outgoing mail lives in the templates (templates/_words.j2 and one
template per mail), not in Python: every status × priority × follow-up renders, text and
HTML say the same, HTML escapes exactly once, and the wording is what receipts said before
it moved out of outbox/facts.py, but for what changed on purpose after looking at the mails
rendered (urgent time limits worded once, no hint that repeats a paragraph)."""

from __future__ import annotations

import ast
import html
import itertools
import re
from dataclasses import replace
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, DictLoader

import mailroom.outbox.compose as compose_module
import mailroom.outbox.facts as facts_module
from mailroom.outbox import compose
from mailroom.outbox.facts import ItemRef, ReceiptFacts, RosterFacts
from mailroom.vocabulary import Priority, Status, WarningCode

FIRST = ItemRef("201905-0003", "国土空间规划股", "2019-05-06 10:00")
FACTS = ReceiptFacts(
    number="201905-0007", unit="自然资源综合执法大队", title="开展执法检查<b>&", status="counted",
    priority="general", followup=None, received_at="2019-05-08 09:30",
    attachments=("a.docx", "签字稿.pdf"), warnings=(), rejected_by=(), missing_elements=(),
    duplicate_of=None, score=None, followup_of=None, month="2019-05", counted_this_month=1,
    quota=2, registered=True, unit_example="办公室")
ROSTER = RosterFacts(registered=False, unit=None, name="", address="who@163.com",
                     why="no unit recognised in the subject", unit_example="办公室")
TITLE_HTML = "开展执法检查&lt;b&gt;&amp;"

# What receipts said before the wording moved into templates (rendered by the old code).
COUNTED_TEXT = """您好：

您报送的信息已收到，登记如下。

编号：201905-0007
单位：自然资源综合执法大队
标题：开展执法检查<b>&
收到时间：2019-05-08 09:30
紧急程度：一般
附件：a.docx、签字稿.pdf

状态：已计数。

本月（2019-05）自然资源综合执法大队已计数 1 篇，月度任务 2 篇，还差 1 篇。

此邮件由信息报送系统自动发送，请勿直接回复。
"""
DUPLICATE_TEXT = COUNTED_TEXT.replace(
    "状态：已计数。", "状态：重复，不计数。与 201905-0003（国土空间规划股，2019-05-06 10:00）"
    "内容基本相同（相似度 96）；按“首报”规定，只计首报。")
SCAN = "未附分管领导签字的扫描件（pdf、jpg 或 png）"
NAMING = "未见以“单位+信息标题”命名的附件，请按“单位+信息标题”命名附件"
REJECTED_LINES = (f"状态：未计数。原因：{SCAN}；zzz_unknown。请补正后重新报送。\n"
                  f"\n提示：\n- {NAMING}\n")
REF = "201905-0003（国土空间规划股，2019-05-06 10:00）"


def expected_sentence(facts: ReceiptFacts) -> str:
    """The status sentence as the old facts.py worded it, for the grid's facts."""
    if facts.status == "counted":
        if facts.followup_of is not None:
            return f"状态：已计数（{facts.followup or '续报'}，已关联初报 {REF}）。"
        return "状态：已计数。"
    return {
        "suspected": f"状态：疑似重复。与 {REF}内容相近（相似度 96），暂予计数，待办公室确认。",
        "duplicate": f"状态：重复，不计数。与 {REF}内容基本相同（相似度 96）；"
                     "按“首报”规定，只计首报。",
        "unassigned": "状态：未识别单位，暂不计入任何单位。请以“单位+信息标题”为邮件主题重新报送，"
                      "例如“办公室+开展执法检查<b>&”。",
        "rejected": f"状态：未计数。原因：{SCAN}。请补正后重新报送。",
    }.get(facts.status, f"状态：{facts.status}。")


STATUS_WORDS = {"counted": "已计数", "suspected": "疑似重复", "duplicate": "重复不计数",
                "unassigned": "未识别单位", "rejected": "未计数", "weird": "weird"}
PRIORITY_WORDS = {"urgent": "紧急", "important": "重要", "general": "一般", "odd": "odd"}
GRID = list(itertools.product([*Status, "weird"], [*Priority, "odd"], [None, "续报", "终报"]))


def grid_facts(status: str, priority: str, followup: str | None) -> ReceiptFacts:
    return replace(FACTS, status=status, priority=priority, followup=followup,
                   followup_of=FIRST if followup else None, duplicate_of=FIRST, score=96.4,
                   warnings=("signed_scan", "attachment_name"),
                   rejected_by=("signed_scan",) if status == "rejected" else ())


def visible_text(page: str) -> str:
    """What a reader of the HTML sees, roughly, in the text version's terms: a table row as
    "label：value", one file a line as "a、b", tags dropped, entities decoded."""
    page = re.sub(r"</th><td[^>]*>", "：", page).replace("<br>", "、")
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.mark.parametrize(("status", "priority", "followup"), GRID)
def test_every_status_priority_and_followup_renders_the_same_words_in_text_and_html(
    status: str, priority: str, followup: str | None
) -> None:
    facts = grid_facts(status, priority, followup)
    text, page = compose.render("receipt", facts=facts)
    sentence = expected_sentence(facts)
    assert sentence + "\n" in text
    assert f"<p><strong>{html.escape(sentence, quote=False)}</strong></p>" in page
    shown = PRIORITY_WORDS[priority] + (f"（{followup}）" if followup else "")
    assert f"紧急程度：{shown}\n" in text and f"<td>{shown}</td>" in page
    assert "\n提示：\n" in text and f"- {NAMING}\n" in text and f"<li>{NAMING}</li>" in page
    # the scan warning is a hint unless it is what rejected the item
    assert (f"- {SCAN}\n" in text) == (f"<li>{SCAN}</li>" in page) == (status != "rejected")
    assert ("紧急信息须在事发30分钟内电话报告" in text) == (priority == "urgent")
    assert ("紧急信息须在事发30分钟内电话报告" in page) == (priority == "urgent")
    for line in filter(None, text.splitlines()):  # every line of the text is in the HTML
        assert line.lstrip("- ") in visible_text(page)
    assert compose.subject("receipt", facts=facts) == \
        f"回执 201905-0007：{STATUS_WORDS[status]}｜开展执法检查<b>&"
    alert_text, alert_page = compose.render("alert", facts=facts, sender="a@b.cn", body="x")
    suffix = f"（{followup}）" if followup else ""
    assert compose.subject("alert", facts=facts) == \
        f"【紧急信息】201905-0007 自然资源综合执法大队：开展执法检查<b>&{suffix}"
    if followup:
        assert f"关联初报：{REF}\n" in alert_text and f"<td>{REF}</td>" in alert_page
    for rendered in (text, page, alert_text, alert_page):
        assert "{{" not in rendered and "{%" not in rendered


def test_the_wording_is_what_receipts_said_before() -> None:
    assert compose.render("receipt", facts=FACTS)[0] == COUNTED_TEXT
    duplicate = replace(FACTS, status="duplicate", duplicate_of=FIRST, score=96.4)
    text, page = compose.render("receipt", facts=duplicate)
    assert text == DUPLICATE_TEXT
    assert "<td>a.docx<br>签字稿.pdf</td>" in page and f"<td>{TITLE_HTML}</td>" in page
    assert "<p><strong>状态：重复，不计数。与 201905-0003（国土空间规划股，2019-05-06 10:00）" \
        "内容基本相同（相似度 96）；按“首报”规定，只计首报。</strong></p>" in page
    rejected = replace(FACTS, status="rejected",
                       warnings=("signed_scan", "attachment_name", "zzz_unknown"),
                       rejected_by=("signed_scan", "zzz_unknown"))
    assert REJECTED_LINES in compose.render("receipt", facts=rejected)[0]
    assert compose.subject("roster", facts=ROSTER) == "信息员登记未完成：who@163.com"
    assert "未能登记您的邮箱 who@163.com：未能从主题中识别出单位。\n" \
        "请以“单位名称+信息员姓名”为主题重新发送，例如“办公室+信息员张三”。" in \
        compose.render("roster", facts=ROSTER)[0]
    registered = replace(ROSTER, registered=True, unit="望远林业站", name="李四")
    assert compose.subject("roster", facts=registered) == "信息员登记确认：望远林业站 李四"
    assert compose.subject("roster", facts=replace(registered, name="")) == \
        "信息员登记确认：望远林业站 who@163.com"
    long_title = replace(FACTS, title="字" * 41)
    assert compose.subject("receipt", facts=long_title).endswith("｜" + "字" * 39 + "…")
    assert compose.subject("receipt", facts=replace(FACTS, title="字" * 40)).endswith("字" * 40)


def test_unknown_codes_show_as_themselves_and_missing_names_get_placeholders() -> None:
    facts = replace(FACTS, warnings=("mystery_check",), status="rejected",
                    rejected_by=("mystery_check",), unit=None, quota=None, registered=False,
                    unit_example="")
    text = compose.render("receipt", facts=facts)[0]
    assert "状态：未计数。原因：mystery_check。请补正后重新报送。" in text
    assert "单位：未识别\n" in text
    assert "（例如“某某股+信息员张三”）" in text  # no unit configured to give as an example
    assert "原因：不符合报送要求。" in compose.render(
        "receipt", facts=replace(facts, rejected_by=()))[0]
    assert "例如“某某股+开展执法检查<b>&”" in compose.render(
        "receipt", facts=replace(facts, status="unassigned"))[0]
    assert "【紧急信息】201905-0007 未识别单位：" in compose.subject("alert", facts=facts)
    orphan = replace(FACTS, status="duplicate", duplicate_of=ItemRef("201905-0001", None, "t"))
    assert "与 201905-0001（未识别单位，t）内容基本相同；" in compose.render(
        "receipt", facts=orphan)[0]
    assert "与 （未找到）内容基本相同" in compose.render(
        "receipt", facts=replace(orphan, duplicate_of=None))[0]
    assert "未能登记您的邮箱 who@163.com：something new。" in compose.render(
        "roster", facts=replace(ROSTER, why="something new"))[0]
    assert "未能识别发件地址" in compose.render(
        "roster", facts=replace(ROSTER, why="no sender address"))[1]
    assert "例如“某某股+信息员张三”" in compose.render(
        "roster", facts=replace(ROSTER, unit_example=""))[1]


def test_urgent_time_limits_are_worded_once_and_hints_do_not_repeat_the_receipt() -> None:
    urgent = replace(FACTS, priority="urgent", missing_elements=("财产损失", "联系电话"))
    limits = "紧急信息须在事发30分钟内电话报告，1小时内报送书面报告"
    assert f"{limits}；报送后请及时与办公室联系，避免错过时效。\n" \
        "紧急信息要素不全，请尽快续报补充：财产损失、联系电话。\n" in \
        compose.render("receipt", facts=urgent)[0]
    alert_text, alert_page = compose.render("alert", facts=urgent, sender="a@b.cn", body="x")
    assert f"收到一条紧急信息，请立即处理（{limits}）。\n" in alert_text
    assert f"（{limits}）。</p>" in alert_page
    stranger = replace(FACTS, status="unassigned", unit=None, quota=None, registered=False,
                       warnings=("no_unit", "unknown_sender", "electronic_version"))
    assert stranger.hints == ("electronic_version",)
    text = compose.render("receipt", facts=stranger)[0]
    assert "提示：\n- 未附电子版（doc、docx、wps 或 txt）\n\n" in text
    assert "主题中未识别出单位" not in text and "发件邮箱尚未登记为信息员" not in text
    assert "状态：未识别单位" in text and "您的邮箱尚未登记为信息员。登记方法" in text
    assert replace(stranger, status="rejected", registered=True).hints == \
        ("no_unit", "unknown_sender", "electronic_version")


def test_html_escapes_every_value_exactly_once_and_text_keeps_it() -> None:
    nasty = "<b>&"
    facts = replace(FACTS, title=nasty, unit=nasty, status="unassigned", unit_example=nasty,
                    registered=False, warnings=(nasty,), followup_of=ItemRef("1", nasty, "t"),
                    missing_elements=(nasty,), priority="urgent")
    roster = replace(ROSTER, registered=True, unit=nasty, name=nasty, address=nasty)
    pages = [*compose.render("receipt", facts=facts),
             *compose.render("alert", facts=facts, sender=nasty, body=nasty),
             *compose.render("roster", facts=roster)]
    texts, htmls = pages[0::2], pages[1::2]
    for page in htmls:
        assert "<b>" not in page and "&amp;lt;" not in page and "&lt;b&gt;&amp;" in page
    for text in texts:
        assert "&lt;" not in text and "&amp;" not in text and nasty in text
    receipt_page = htmls[0]  # the status sentence and hints come from _words.j2 macros
    assert "例如“&lt;b&gt;&amp;+&lt;b&gt;&amp;”" in receipt_page
    assert "<li>&lt;b&gt;&amp;</li>" in receipt_page
    for rendered in (compose.subject("receipt", facts=facts),
                     compose.subject("alert", facts=facts),
                     compose.environment().get_template("webhook.md").render(facts=facts)):
        assert nasty in rendered and "&lt;" not in rendered


def test_the_words_are_importable_by_new_templates_in_text_and_html() -> None:
    """As the monthly bulletin and the digest will import them."""
    source = ('{% import "_words.j2" as words %}'
              '{{ words.warning(code) }}|{{ words.status_word("duplicate") }}|'
              '{{ words.priority("urgent") }}|{{ words.unit(unit) }}|{{ words.unit(none) }}')
    env = compose.environment()
    bulletin = env.overlay(loader=ChoiceLoader([
        DictLoader({"bulletin.txt": source, "bulletin.html": source}), env.loader]))
    context = {"code": WarningCode.ELECTRONIC_VERSION, "unit": "<i>林场"}
    assert bulletin.get_template("bulletin.txt").render(context) == \
        "未附电子版（doc、docx、wps 或 txt）|重复不计数|紧急|<i>林场|未识别单位"
    assert bulletin.get_template("bulletin.html").render(context) == \
        "未附电子版（doc、docx、wps 或 txt）|重复不计数|紧急|&lt;i&gt;林场|未识别单位"


@pytest.mark.parametrize("module", [facts_module, compose_module])
def test_no_chinese_wording_left_in_python(module: object) -> None:
    """Docstrings and comments may name the domain's terms; strings a mail shows may not."""
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    strings = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
               and isinstance(node.value, str) and id(node) not in docstrings]
    assert strings  # the walk found the module's strings
    assert [s for s in strings if re.search(r"[\u4e00-\u9fff]", s)] == []


def test_html_mails_read_on_a_phone() -> None:
    """What the screenshots at 400 px showed wrong: labels broken over two lines, a long
    URL in the alert's body running off the screen (it was a <pre>)."""
    urgent = replace(FACTS, priority="urgent", followup_of=FIRST)
    pages = [compose.render("receipt", facts=urgent)[1],
             compose.render("alert", facts=urgent, sender="a@b.cn", body="https://x.cn/" * 9)[1],
             compose.render("roster", facts=ROSTER)[1]]
    for page in pages:
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
        assert "overflow-wrap: anywhere" in page and "<pre" not in page
        labels = re.findall(r"<th[^>]*>", page)
        assert all(" nowrap" in label for label in labels)
    assert len(re.findall(r"<th[^>]*>", pages[1])) == 8
