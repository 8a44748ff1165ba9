"""The command-mail parser (rules/commands.py), pure: lines, words, numbers, quotes,
signatures, and the mail programs the office really writes with."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailroom.parsing.letter import parse_letter
from mailroom.rules.commands import (
    MAX_LINES,
    Adopt,
    Assign,
    Instruct,
    Line,
    ProblemCode,
    Request,
    Review,
    command_word,
    held_text,
    parse_command_mail,
    parse_held,
    parse_line,
)
from mailroom.rules.confirmation import CODE_ALPHABET, find_codes, request_ids
from mailroom.rules.quoting import own_lines
from mailroom.sample.clients import CLIENTS, Draft

CST = timezone(timedelta(hours=8))
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def codes(line: Line) -> list[str]:
    return [problem.code for problem in line.problems]


# -- one line ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "command"), [
    ("采用 201905-0012 县政府网站", Adopt(("201905-0012",), "县政府网站")),
    ("采用 201905-0012 201905-0015 县政府网站",
     Adopt(("201905-0012", "201905-0015"), "县政府网站")),
    ("采用201905-0012县政府网站", Adopt(("201905-0012",), "县政府网站")),  # no spaces at all
    ("采用：2019050012，2019050015，银川市级", Adopt(("201905-0012", "201905-0015"), "银川市级")),
    ("采用 201905-0012、201905-0015、自治区级", Adopt(("201905-0012", "201905-0015"), "自治区级")),
    ("采用　２０１９０５－００１２　县政府网站", Adopt(("201905-0012",), "县政府网站")),
    ("采用 201905—0012 县政府网站", Adopt(("201905-0012",), "县政府网站")),  # an em dash
    ("采用 县政府网站 201905-0012", Adopt(("201905-0012",), "县政府网站")),  # channel first
    ("采用 201905-0012 201905-0012 媒体", Adopt(("201905-0012",), "媒体")),  # once each
    ("采用 201905-0012 县政府 网站", Adopt(("201905-0012",), "县政府 网站")),
    ("撤销采用 201905-0012 县政府网站", Adopt(("201905-0012",), "县政府网站", undo=True)),
    ("【采用】201905-0012 县政府网站", Adopt(("201905-0012",), "县政府网站")),
    ("1. 采用 201905-0012 县政府网站", Adopt(("201905-0012",), "县政府网站")),
    ("（2）采用 201905-0012 县政府网站", Adopt(("201905-0012",), "县政府网站")),
    ("二、采用 201905-0012 县政府网站", Adopt(("201905-0012",), "县政府网站")),
    ("批示 201905-0012 伍庭利：请各股室学习借鉴",
     Instruct("201905-0012", "伍庭利", "请各股室学习借鉴")),
    ("批示 201905-0012 伍庭利", Instruct("201905-0012", "伍庭利")),
    ("批示：2019050012，伍庭利: 写得好，值得推广。",
     Instruct("201905-0012", "伍庭利", "写得好，值得推广。")),
    ("批示 201905-0012 伍庭利 请各股室学习借鉴",
     Instruct("201905-0012", "伍庭利", "请各股室学习借鉴")),
    ("确认重复 201905-0013 201905-0011", Review("201905-0013", True, "201905-0011")),
    ("确认重复 201905-0013", Review("201905-0013", True)),
    ("不是重复 201905-0013", Review("201905-0013", False)),
    ("不是重复：２０１９０５００１３", Review("201905-0013", False)),
    ("分配 201905-0019 办公室", Assign("201905-0019", "办公室")),
    ("分配 201905-0019 综合执法大队", Assign("201905-0019", "综合执法大队")),
    ("约稿 关于秋季森林防火的信息", Request("关于秋季森林防火的信息")),
])
def test_each_command(text: str, command: object) -> None:
    line = parse_line(text)
    assert line.command == command and line.problems == ()
    assert line.text == text.strip()


@pytest.mark.parametrize("command", [
    Adopt(("201905-0012", "201905-0015"), "县政府网站"),
    Adopt(("201905-0012",), "银川市级", undo=True),
    Instruct("201905-0012", "伍庭利", "请各股室学习借鉴，抓好落实：务必"),
    Instruct("201905-0012", "伍庭利"),
    Review("201905-0013", True, "201905-0011"), Review("201905-0013", True),
    Review("201905-0013", False), Assign("201905-0019", "办公室"),
])
def test_the_canonical_text_parses_back_to_the_same_command(command: object) -> None:
    # what a held command is stored as (CommandConfirmation.commands)
    assert parse_line(command.canonical()).command == command  # type: ignore[attr-defined]


@pytest.mark.parametrize(("text", "problems"), [
    ("请办理", [ProblemCode.NOT_A_COMMAND]),
    ("谢谢！", [ProblemCode.NOT_A_COMMAND]),
    ("关于采用的说明", [ProblemCode.NOT_A_COMMAND]),
    ("采用 县政府网站", [ProblemCode.MISSING_NUMBER]),
    ("采用", [ProblemCode.MISSING_NUMBER]),
    ("采用 201905-0012", [ProblemCode.MISSING_CHANNEL]),
    ("采用 201905-12 县政府网站", [ProblemCode.MALFORMED_NUMBER]),
    ("采用 2019-05-0012 县政府网站", [ProblemCode.MALFORMED_NUMBER]),
    ("采用 201913-0012 县政府网站", [ProblemCode.MALFORMED_NUMBER]),  # month 13
    ("采用 201905-0012 县政府网站 201905-0015 银川市级", [ProblemCode.UNEXPECTED_TEXT]),
    ("批示 伍庭利：好", [ProblemCode.MISSING_NUMBER]),
    ("批示 201905-0012", [ProblemCode.MISSING_LEADER]),
    ("批示 20190512 伍庭利", [ProblemCode.MALFORMED_NUMBER]),
    ("批示 201905-0012 201905-0013 伍庭利", [ProblemCode.TOO_MANY_NUMBERS]),
    ("确认重复 201905-0013 201905-0011 201905-0010", [ProblemCode.TOO_MANY_NUMBERS]),
    ("确认重复 201905-0013 与 201905-0011 重复", [ProblemCode.UNEXPECTED_TEXT]),
    ("确认重复", [ProblemCode.MISSING_NUMBER]),
    ("不是重复 201905-0013 201905-0011", [ProblemCode.TOO_MANY_NUMBERS]),
    ("分配 201905-0019", [ProblemCode.MISSING_UNIT]),
    ("分配 办公室", [ProblemCode.MISSING_NUMBER]),
    ("分配 201905-0019 201905-0020 办公室", [ProblemCode.TOO_MANY_NUMBERS]),
    ("约稿", [ProblemCode.MISSING_TITLE]),
    ("单位：执法大队、望洪林业站", [ProblemCode.STRAY_REQUEST_LINE]),
])
def test_lines_not_understood_say_why(text: str, problems: list[ProblemCode]) -> None:
    line = parse_line(text)
    assert line.command is None
    assert codes(line) == problems


def test_a_malformed_number_beside_good_ones_is_reported_and_the_rest_runs() -> None:
    line = parse_line("采用 201905-0012 0015 2019050016 县政府网站")
    assert line.command == Adopt(("201905-0012", "201905-0016"), "县政府网站")
    assert [(p.code, p.text) for p in line.problems] == [(ProblemCode.MALFORMED_NUMBER, "0015")]


def test_the_malformed_word_is_kept_as_written() -> None:
    [problem] = parse_line("不是重复 ２０１９０５－１２").problems
    assert (problem.code, problem.text) == (ProblemCode.MALFORMED_NUMBER, "２０１９０５－１２")


# -- the subject ------------------------------------------------------------------------------


@pytest.mark.parametrize(("subject", "word"), [
    ("采用 201905-0012 县政府网站", "采用"),
    ("Re: 采用 201905-0012 县政府网站", "采用"),
    ("回复：撤销采用 201905-0012 县政府网站", "撤销采用"),
    ("RE: Re: 批示 201905-0012 伍庭利", "批示"),
    ("【确认重复】201905-0013", "确认重复"),
    ("  不是重复 201905-0013", "不是重复"),
    ("关于采用的说明", None),
    ("执法大队+开展采用工作", None),
    ("确认码 ABCD2345：请确认", None),
])
def test_command_word_of_a_subject(subject: str, word: str | None) -> None:
    assert command_word(subject) == word


def test_the_subject_is_the_first_line_and_reply_prefixes_go() -> None:
    mail = parse_command_mail("Re: 采用 201905-0012 县政府网站", "")
    [line] = mail.lines
    assert (line.place, line.text) == ("subject", "采用 201905-0012 县政府网站")
    assert mail.commands == [Adopt(("201905-0012",), "县政府网站")]


def test_a_subject_of_only_a_command_word_over_commands_is_a_heading() -> None:
    mail = parse_command_mail("采用", "采用 201905-0012 县政府网站\n采用 201905-0013 媒体")
    assert [line.place for line in mail.lines] == ["body", "body"]
    assert mail.not_understood == []
    alone = parse_command_mail("采用", "谢谢")
    assert [codes(line) for line in alone.lines] == [
        [ProblemCode.MISSING_NUMBER], [ProblemCode.NOT_A_COMMAND]]


def test_a_subject_without_a_command_word_is_not_a_line() -> None:
    mail = parse_command_mail("确认码 ABCD2345：请确认", "确认")
    assert [line.place for line in mail.lines] == ["body"]


# -- the body ---------------------------------------------------------------------------------


def test_several_commands_and_lines_in_one_mail() -> None:
    body = ("各位好：\n\n采用 201905-0012 201905-0015 县政府网站\n采用 201905-0013 银川市级\n"
            "\n批示 201905-0012 伍庭利：请各股室学习借鉴\n确认重复 201905-0014 201905-0011\n"
            "不是重复 201905-0016\n分配 201905-0019 办公室\n采用 201905-12 媒体\n")
    mail = parse_command_mail("采用 201905-0012 201905-0015 县政府网站", body)
    assert [line.command for line in mail.lines] == [
        Adopt(("201905-0012", "201905-0015"), "县政府网站"), None, None,
        Adopt(("201905-0013",), "银川市级"), Instruct("201905-0012", "伍庭利", "请各股室学习借鉴"),
        Review("201905-0014", True, "201905-0011"), Review("201905-0016", False),
        Assign("201905-0019", "办公室"), None]
    assert [codes(line) for line in mail.not_understood] == [
        [ProblemCode.NOT_A_COMMAND], [ProblemCode.REPEATED], [ProblemCode.MALFORMED_NUMBER]]
    assert len(mail.commands) == 6


def test_a_request_takes_its_units_and_due_date_from_the_lines_after_it() -> None:
    body = "单位：执法大队、望洪林业站，黄河生态林场\n截止：2019-06-10\n"
    mail = parse_command_mail("Re: 约稿", "约稿 关于秋季森林防火的信息\n" + body)
    [request] = mail.commands
    assert request == Request("关于秋季森林防火的信息", ("执法大队", "望洪林业站", "黄河生态林场"),
                              date(2019, 6, 10))
    assert mail.not_understood == []


def test_a_request_from_the_subject_with_lines_in_the_body() -> None:
    mail = parse_command_mail("约稿 防汛工作信息", "单位：执法大队\n截止：2019年6月1日\n")
    assert mail.commands == [Request("防汛工作信息", ("执法大队",), date(2019, 6, 1))]


def test_a_request_takes_what_is_asked_from_its_note_lines_and_keeps_it_when_held() -> None:
    body = "单位：执法大队\n截止：2019-06-10\n要求：800字以内\n备注：附照片2张\n"
    [request] = parse_command_mail("约稿 防汛工作信息", body).commands
    assert request == Request("防汛工作信息", ("执法大队",), date(2019, 6, 10),
                              "800字以内；附照片2张")
    assert parse_held(held_text(request)) == request


def test_a_bad_due_date_is_reported() -> None:
    mail = parse_command_mail("约稿 防汛工作信息", "截止：下周五\n")
    [line] = mail.not_understood
    assert [(p.code, p.text) for p in line.problems] == [(ProblemCode.BAD_DUE_DATE, "下周五")]
    assert line.command == Request("防汛工作信息")


def test_too_many_lines_are_cut_and_said() -> None:
    body = "\n".join(f"不是重复 201905-{n:04d}" for n in range(1, MAX_LINES + 11))
    mail = parse_command_mail("不是重复 201905-0001", body)
    assert len(mail.commands) == MAX_LINES
    assert [(p.code, p.text) for p in mail.lines[-1].problems] == [
        (ProblemCode.TOO_MANY_LINES, "10")]


@pytest.mark.parametrize("quote", [
    "> 采用 201905-0099 县政府网站",
    "在 2019-05-20 10:00:00，\"信息报送系统\" <ynlyj452@126.com> 写道：\n> 采用 201905-0099 媒体",
    "在 2019年5月20日，上午10:00，信息报送系统 <ynlyj452@126.com> 写道：\n\n"
    "> 采用 201905-0099 媒体",
    "On Mon, May 20, 2019 at 10:00 AM 信息报送系统 <ynlyj452@126.com> wrote:\n"
    "> 采用 201905-0099 媒体",
    "-----原始邮件-----\n发件人：信息报送系统\n主题：采用 201905-0099 媒体",
    "------------------ 原始邮件 ------------------\n发件人: \"信息报送系统\"<ynlyj452@126.com>;\n"
    "采用 201905-0099 媒体",
    "-----Original Message-----\nFrom: ynlyj452@126.com\n采用 201905-0099 媒体",
    "________________________________\n发件人: 信息报送系统\n发送时间: 2019年5月20日 10:00\n"
    "采用 201905-0099 媒体",
    "发件人: 信息报送系统 <ynlyj452@126.com>\n采用 201905-0099 媒体",
    "From: ynlyj452@126.com\nSent: Monday\n采用 201905-0099 媒体",
    "刘婧 于2019年5月20日 10:00写道：\n采用 201905-0099 媒体",
    "-- \n办公室 刘婧\n采用 201905-0099 媒体",
    "--\n办公室 刘婧 电话 0951-1234567",
    "发自我的iPhone\n\n采用 201905-0099 媒体",
    "来自网易邮箱大师\n采用 201905-0099 媒体",
    "Sent from my iPhone\n采用 201905-0099 媒体",
])
def test_lines_after_a_quote_or_a_signature_are_not_read(quote: str) -> None:
    body = f"采用 201905-0012 县政府网站\r\n\r\n{quote}\n"
    assert own_lines(body) == ["采用 201905-0012 县政府网站"]
    assert parse_command_mail("", body).commands == [Adopt(("201905-0012",), "县政府网站")]


def test_a_dash_line_that_is_no_signature_marker_is_read() -> None:
    assert own_lines("采用 201905-0012 县政府网站\n---\n不是重复 201905-0013") == [
        "采用 201905-0012 县政府网站", "---", "不是重复 201905-0013"]


def test_full_width_spaces_and_blank_lines() -> None:
    body = "\u3000\u3000采用 201905-0012 县政府网站\u3000\n\n \n\t\n分配 201905-0019 办公室"
    assert own_lines(body) == ["采用 201905-0012 县政府网站", "分配 201905-0019 办公室"]


# -- as mail programs write them ------------------------------------------------------------------

QUOTES = {  # how each program quotes the mail it answers (plain-text part)
    "outlook": "\n________________________________\n发件人: 信息报送系统 <ynlyj452@126.com>\n"
               "发送时间: 2019年5月20日 10:00\n主题: 回执\n\n采用 201905-0099 媒体\n",
    "foxmail": "\n\n\nFrom: 信息报送系统\nDate: 2019-05-20 10:00\nTo: office\n"
               "Subject: 回执\n采用 201905-0099 媒体\n",
    "coremail126": "\n\n在 2019-05-20 10:00:00，\"信息报送系统\" <ynlyj452@126.com> 写道：\n"
                   ">采用 201905-0099 媒体\n",
    "coremail163": "\n\n\n\n\n\n在 2019-05-20 10:00:00，\"信息报送系统\" <ynlyj452@126.com> "
                   "写道：\n> 采用 201905-0099 媒体\n",
    "qqmail": "\n\n\n------------------&nbsp;原始邮件&nbsp;------------------\n"
              "发件人:&nbsp;\"信息报送系统\"<ynlyj452@126.com>;\n采用 201905-0099 媒体\n",
    "thunderbird": "\n\n在 2019/5/20 10:00, 信息报送系统 写道:\n> 采用 201905-0099 媒体\n",
    "iphone": "\n\n发自我的iPhone\n\n在 2019年5月20日，10:00，信息报送系统 <ynlyj452@126.com> "
              "写道：\n\n> 采用 201905-0099 媒体\n",
    "legacy": "\n\n----- Original Message -----\nFrom: ynlyj452@126.com\n采用 201905-0099 媒体\n",
}


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_reply_written_by_each_mail_program(client: str) -> None:
    text = ("采用 201905-0012，201905-0015 县政府网站\n批示 201905-0012 伍庭利：请各股室学习借鉴"
            + QUOTES[client].replace("&nbsp;", "\u00a0"))
    draft = Draft(key=f"cmd-{client}", sender="office@example.cn", sender_name="办公室刘婧",
                  subject="Re: 采用", text=text,
                  sent_at=datetime(2019, 5, 20, 10, 5, tzinfo=CST),
                  in_reply_to="<mailroom.receipt.x@126.com>")
    letter = parse_letter(CLIENTS[client](draft).raw, datetime(2019, 5, 20, 2, 5, tzinfo=CST))
    mail = parse_command_mail(letter.subject, letter.body)
    assert mail.commands == [Adopt(("201905-0012", "201905-0015"), "县政府网站"),
                             Instruct("201905-0012", "伍庭利", "请各股室学习借鉴")]
    assert mail.not_understood == [], client


def test_an_html_only_mail_is_read_from_its_text() -> None:
    html = ("<html><body><div>采用&nbsp;201905-0012&nbsp;县政府网站</div><div><br></div>"
            "<p>不是重复 201905-0013</p><div>在 2019-05-20 10:00:00，\"信息报送系统\" 写道：</div>"
            "<blockquote><div>采用 201905-0099 媒体</div></blockquote></body></html>")
    raw = ("From: office@example.cn\r\nTo: ynlyj452@126.com\r\nSubject: =?UTF-8?B?"
           + __import__("base64").b64encode("回复：采用 201905-0012 县政府网站".encode()).decode()
           + "?=\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + html.encode()
    letter = parse_letter(raw, datetime(2019, 5, 20, tzinfo=CST))
    mail = parse_command_mail(letter.subject, letter.body)
    assert mail.commands == [Adopt(("201905-0012",), "县政府网站"), Review("201905-0013", False)]
    assert [codes(line) for line in mail.not_understood] == [[ProblemCode.REPEATED]]


def test_real_world_mail_holds_no_commands() -> None:
    """The corpus (English, Japanese, broken mail): read without error, no command found."""
    if not CORPUS.is_dir():
        pytest.fail(f"the shared mail corpus is missing: {CORPUS}")
    files = [p for p in CORPUS.rglob("*") if p.is_file() and not p.name.startswith(
        ("README", "LICENSE", "MIT-LICENSE", "NOTICE", ".git"))]
    assert len(files) > 150
    for path in files:
        letter = parse_letter(path.read_bytes(), datetime(2019, 5, 20, tzinfo=CST))
        mail = parse_command_mail(letter.subject, letter.body)
        assert mail.commands == [], path


# -- confirmation codes ---------------------------------------------------------------------------


def test_codes_are_found_after_the_word() -> None:
    assert find_codes("Re: 确认码 ABCD2345：请确认") == ["ABCD2345"]
    assert find_codes("确认码：abcd2345") == ["ABCD2345"]  # typed in lower case
    assert find_codes("确认码ＡＢＣＤ２３４５") == ["ABCD2345"]  # full width
    assert find_codes("确认码 ABCD2345\n> 确认码 ABCD2345\n确认码 XYZW6789") == [
        "ABCD2345", "XYZW6789"]
    assert find_codes("确认码 ABCD23456") == []  # nine characters
    assert find_codes("确认码 ABCD0123") == []  # 0 and 1 are not in the alphabet
    assert find_codes("ABCD2345") == []


def test_the_alphabet_has_no_look_alikes() -> None:
    assert not set("01OIL") & set(CODE_ALPHABET) and len(set(CODE_ALPHABET)) == 31


def test_request_ids_of_an_in_reply_to() -> None:
    assert request_ids("<mailroom.confirm-request.abc@126.com>") == [
        "mailroom.confirm-request.abc@126.com"]
    assert request_ids("<mailroom.receipt.abc@126.com>") == []
    assert request_ids("") == []
