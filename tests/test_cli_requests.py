"""`request add | list | close` from the command line (in-process), and the whole 约稿 round
trip: the request mailed through a real SMTP server, a unit's answer replying to it read
from the Maildir, linked, its receipt saying so, `request list` and the bulletin showing
it. The CLI runs on the system clock, so the dates here are relative to today."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailroom.cli import main
from support.cli import maildir_config, restore_logging, run  # noqa: F401  (autouse)
from support.mail import deliver, make_mail
from support.smtp import SmtpServer

UNITS = """
[office]
addresses = ["office@example.cn"]
name = "永宁县自然资源局"
[[units]]
name = "自然资源综合执法大队"
aliases = ["执法大队"]
officers = ["zfdd@example.cn"]
heads = ["zfdd-head@example.cn"]
[[units]]
name = "耕地保护股"
[[units]]
name = "望洪林业站"
officers = ["whlyz@example.cn"]
[[units]]
name = "望远林业站"
"""
TITLE = "秋冬季森林防火工作开展情况"


ZONE = ZoneInfo("Asia/Shanghai")  # the default `timezone`


def due(days: int) -> str:
    return (datetime.now(ZONE).date() + timedelta(days=days)).isoformat()


def month() -> str:
    return datetime.now(ZONE).strftime("%Y%m")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOGNAME", "clerk")
    path = maildir_config(tmp_path, UNITS)
    assert main(["--config", str(path), "db", "upgrade"]) == 0
    return path


def test_add_list_close_and_what_is_refused(config: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--config", str(config), "request")
    code, out, err = run(capsys, *base, "add", "--title", TITLE, "--units",
                         "执法大队,耕地保护股", "--due", due(10), "--note", "800字以内")
    assert (code, err) == (0, "")
    first = f"约稿{month()}-01"
    assert out.splitlines() == [
        f"{first}: request 《{TITLE}》 recorded, due {due(10)}, units "
        "自然资源综合执法大队、耕地保护股",
        "  mail queued to 自然资源综合执法大队: zfdd@example.cn, zfdd-head@example.cn",
        "  耕地保护股: nobody to mail (no officer nor head); tell them another way"]
    for args, said in [
        (("--units", "财务股", "--due", due(3)), "no unit named '财务股' in the config"),
        (("--units", "林业站", "--due", due(3)), "could be any of the units 望洪林业站、望远"),
        (("--units", "执法大队", "--due", due(-1)), "is before today"),
        (("--units", "执法大队", "--due", "31/12/2099"), "a due date is YYYY-MM-DD"),
    ]:
        code, out, err = run(capsys, *base, "add", "--title", "另一个约稿", *args)
        assert code == 2 and out == "" and said in err and len(err.splitlines()) == 1, err
    code, out, err = run(capsys, *base, "add", "--title", " ", "--units", "执法大队",
                         "--due", due(3))
    assert code == 2 and "needs a title" in err
    code, out, _ = run(capsys, *base, "list")
    assert code == 0 and out.splitlines() == [
        f"{first}  《{TITLE}》  due {due(10)}  open",
        "  asked:    自然资源综合执法大队、耕地保护股", "  answered: -",
        "  missing:  自然资源综合执法大队、耕地保护股", "1 requests"]
    code, out, _ = run(capsys, *base, "close", f"{month()}-01", "--by", "刘婧")
    assert (code, out) == (0, f"{first}: open -> closed (《{TITLE}》, closed by 刘婧)\n")
    code, out, err = run(capsys, *base, "close", first)
    assert code == 2 and "already closed by 刘婧" in err
    code, out, _ = run(capsys, *base, "list", "--format", "json")
    assert json.loads(out) == [{"code": first, "title": TITLE,
                                "units": ["自然资源综合执法大队", "耕地保护股"], "due": due(10),
                                "answered": {}, "missing": ["自然资源综合执法大队", "耕地保护股"],
                                "status": "closed"}]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_a_request_is_mailed_answered_linked_and_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        smtp_server: SmtpServer) -> None:
    monkeypatch.setenv("LOGNAME", "clerk")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", smtp_server.password)
    smtp = (f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\n'
            f'security = "{smtp_server.security}"\nusername = "{smtp_server.username}"\n'
            f'password_env = "TEST_SMTP_PASSWORD"\nca_file = "{smtp_server.ca_file}"\n'
            f'sender = "{smtp_server.username}"\nmax_per_minute = 100\n')
    config = maildir_config(tmp_path, smtp + UNITS)
    base = ("--config", str(config))
    assert run(capsys, *base, "db", "upgrade")[0] == 0
    code, out, err = run(capsys, *base, "request", "add", "--title", TITLE, "--units",
                         "执法大队、望洪林业站", "--due", due(7))
    assert code == 0, err
    code, out, err = run(capsys, *base, "poll", "--once")  # sends what is queued
    assert code == 0, err
    requests = {tuple(r.rcpt_tos): r.message for r in smtp_server.received}
    assert sorted(requests) == [("whlyz@example.cn",), ("zfdd@example.cn", "zfdd-head@example.cn")]
    mail = requests[("whlyz@example.cn",)]
    assert mail["X-Mailroom"] == "request" and "望洪林业站：" in text_of(mail)

    # 望洪林业站 answers by replying to the request mail, its own title in the subject
    answer = make_mail("Re: 望洪林业站+我站扎实做好秋冬季防火", sender="whlyz@example.cn",
                       body="我站开展防火巡查12次。",
                       headers={"In-Reply-To": mail["Message-ID"],
                                "References": mail["Message-ID"]})
    deliver(tmp_path / "inbox", answer, datetime.now(UTC))
    code, out, err = run(capsys, *base, "poll", "--once")
    assert code == 0, err
    receipt = smtp_server.received[-1].message
    assert receipt["X-Mailroom"] == "receipt"
    number = f"{month()}-0001"
    assert f"本稿已登记为对约稿{month()}-01《{TITLE}》的回复。" in text_of(receipt)

    _, out, _ = run(capsys, *base, "request", "list", "--format", "json")
    [listed] = json.loads(out)
    assert (listed["answered"], listed["missing"]) == \
        ({"望洪林业站": [number]}, ["自然资源综合执法大队"])
    period = datetime.now(ZONE).strftime("%Y-%m")
    _, out, _ = run(capsys, *base, "report", "monthly", "--month", period, "--format", "json")
    assert json.loads(out)["requests"] == [listed]
    _, out, _ = run(capsys, *base, "submissions", "show", number, "--format", "json")
    assert json.loads(out)["requests"] == [{"code": f"约稿{month()}-01", "title": TITLE,
                                            "how": "reply", "asked": True}]
