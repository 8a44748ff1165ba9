"""The wording of the command reply and the confirmation request (templates command.*,
confirm-request.*, _words.j2), pure: every code the parser and the decisions core can give
has Chinese words, text and HTML say the same, HTML escapes once, and the subjects are safe
to answer (a reply to the reply is neither a command nor a confirmation)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

import mailroom.decisions
from mailroom.outbox import compose
from mailroom.outbox.command_facts import (
    CommandReplyFacts,
    ConfirmationRequestFacts,
    Confirming,
    Done,
    Held,
    ItemLook,
    NotUnderstood,
    Ran,
    Refused,
)
from mailroom.rules.classify import command_word
from mailroom.rules.commands import ProblemCode
from mailroom.rules.confirmation import find_codes
from mailroom.vocabulary import DecisionAction

TITLE = "开展执法检查<b>&"
DETAIL = {"title": TITLE, "unit": "自然资源综合执法大队"}
DONE = {
    "adopt": {"channel": "县政府网站", "note": ""},
    "unadopt": {"channel": "县政府网站", "adopted_by": "office@example.cn"},
    "instruct": {"leader": "伍庭利", "text": "请各股室学习借鉴"},
    "assign": {"unit": "耕地保护股", "status": "duplicate", "duplicate_of": "201905-0002"},
    "duplicate": {"status": "duplicate", "duplicate_of": "201905-0002"},
    "distinct": {"status": "counted", "duplicate_of": None},
}
FACTS = {"number": "201905-0099", "channel": "省级", "channels": "县政府网站、媒体",
         "by": "office@example.cn", "status": "duplicate", "first": "201905-0002",
         "unit": "某某股", "units": "办公室", "leader": "伍庭利"}


def decision_codes() -> list[str]:
    """Every DecisionError code the decisions core raises, read from its source."""
    source = Path(mailroom.decisions.__file__).read_text(encoding="utf-8")
    return sorted(set(re.findall(r'DecisionError\(\s*"(\w+)"', source)))


def reply(**fields: object) -> CommandReplyFacts:
    base: dict[str, object] = {"how": "authenticated", "subject": "采用 201905-0001 县政府网站",
                               "received_at": "2019-05-20 09:00"}
    return CommandReplyFacts(**{**base, **fields})  # type: ignore[arg-type]


def both(facts: CommandReplyFacts | ConfirmationRequestFacts, name: str) -> tuple[str, str]:
    text, page = compose.render(name, facts=facts)
    visible = html.unescape(re.sub(r"<[^>]+>", "", page))
    return text, visible


@pytest.mark.parametrize("action", list(DecisionAction))
def test_every_action_done_is_worded(action: DecisionAction) -> None:
    done = Done("201905-0001", action, {**DETAIL, **DONE[action]})
    text, visible = both(reply(ran=(Ran("…", done=(done,)),)), "command")
    line = next(line for line in text.splitlines() if "201905-0001《" in line)
    assert action.value not in line and "201905-0001《开展执法检查<b>&》" in line
    assert line.strip().lstrip("・").strip() in visible


def test_every_refusal_of_the_decisions_core_is_worded() -> None:
    codes = decision_codes()
    assert {"unknown_number", "already_adopted", "not_counting", "review_refused"} <= set(codes)
    for code in codes:
        refused = Refused("201905-0001", "adopt", code, FACTS)
        text, visible = both(reply(ran=(Ran("…", refused=(refused,)),)), "command")
        [line] = [line for line in text.splitlines() if line.startswith("  ・采用 201905-0001：")]
        assert code not in line and re.search(r"[\u4e00-\u9fff]{3}", line.split("：", 1)[1])
        assert line.strip().lstrip("・") in visible


@pytest.mark.parametrize("code", [*ProblemCode, "in_confirmation"])
def test_every_reason_a_line_was_not_understood_is_worded(code: str) -> None:
    facts = reply(how="nothing", not_understood=(NotUnderstood("采用 x", ((code, "x"),)),))
    text, visible = both(facts, "command")
    [line] = [line for line in text.splitlines() if line.startswith("  ・“采用 x”：")]
    assert code not in line and "命令格式" in text
    assert line.strip().lstrip("・") in visible


@pytest.mark.parametrize("state", ["ran", "expired", "used", "other_address", "unknown"])
def test_every_state_of_a_confirmation_code_is_worded(state: str) -> None:
    confirming = Confirming("ABCD2345", state, subject="采用 201905-0001 县政府网站",
                            received_at="2019-05-20 09:00", expires_at="2019-05-23 10:00",
                            used_at="2019-05-20 11:00")
    facts = reply(how="confirmed" if state == "ran" else "nothing", confirming=(confirming,))
    text, visible = both(facts, "command")
    line = next(line for line in text.splitlines() if "ABCD2345" in line)
    assert state not in line and line in visible
    assert find_codes(text) == []  # answering this reply confirms nothing


def test_the_reply_subject_is_no_command_and_carries_no_code() -> None:
    done = Done("201905-0001", "adopt", {**DETAIL, **DONE["adopt"]})
    refused = Refused("201905-0002", "adopt", "unknown_number", FACTS)
    for facts, subject in [
        (reply(ran=(Ran("…", (done,), (refused,)),)), "命令处理结果：已执行 1 项，未执行 1 项"),
        (reply(ran=(Ran("…", (done,)),)), "命令处理结果：已执行 1 项"),
        (reply(how="nothing"), "命令处理结果：未执行任何命令"),
        (reply(how="nothing", confirming=(Confirming("ABCD2345", "expired"),)),
         "命令处理结果：未执行（确认未成功）"),
    ]:
        assert compose.subject("command", facts=facts) == subject
        assert command_word(subject) is None and find_codes(subject) == []


REQUEST = ConfirmationRequestFacts(
    code="ABCD2345", address="office@example.cn", subject="采用 201905-0001 201905-0099 县政府网站",
    received_at="2019-05-20 09:00", expires_at="2019-05-23 10:00",
    held=(Held("采用 201905-0001 201905-0099 县政府网站", (
        ItemLook("201905-0001", TITLE, "自然资源综合执法大队", "counted"),
        ItemLook("201905-0099"))),
        Held("批示 201905-0001 伍庭利：好", (ItemLook("201905-0001", TITLE, None, "suspected"),))),
    not_understood=(NotUnderstood("谢谢", (("not_a_command", ""),)),))


def test_the_request_carries_its_code_and_what_it_holds() -> None:
    subject = compose.subject("confirm-request", facts=REQUEST)
    assert subject == "确认码 ABCD2345：请确认 2 项命令（采用、批示）"
    assert find_codes(subject) == ["ABCD2345"] and command_word(subject) is None
    text, visible = both(REQUEST, "confirm-request")
    for words in ("1. 采用 201905-0001 201905-0099 县政府网站",
                  "201905-0001《开展执法检查<b>&》（自然资源综合执法大队），已计数",
                  "201905-0099：编号不存在，确认后也不会执行",
                  "201905-0001《开展执法检查<b>&》，疑似重复",
                  "“谢谢”：不是命令", "此确认码在 2019-05-23 10:00 前有效",
                  "为防止他人冒用发件地址"):
        assert words in text, words
        assert words.removeprefix("1. ") in visible, words
    assert "未通过发件人身份验证" not in text


def test_a_failed_authentication_is_a_warning_in_the_request() -> None:
    from dataclasses import replace
    warned = replace(REQUEST, authentication_failed="dmarc=fail for example.cn")
    text, visible = both(warned, "confirm-request")
    assert "很可能是他人冒用您的邮箱地址发出的。如果不是您本人发送，请不要确认" in text
    assert "很可能是他人冒用" in visible and "为防止他人冒用发件地址" not in text


def test_html_escapes_once() -> None:
    done = Done("201905-0001", "adopt", {**DETAIL, **DONE["adopt"]})
    page = compose.render("command", facts=reply(ran=(Ran("…", (done,)),)))[1]
    assert "《开展执法检查&lt;b&gt;&amp;》" in page and "<b>&" not in page
    page = compose.render("confirm-request", facts=REQUEST)[1]
    assert "《开展执法检查&lt;b&gt;&amp;》" in page and "&amp;lt;" not in page
