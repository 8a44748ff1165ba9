"""The decision commands from the command line (adopt, unadopt, instruct, assign, review)
and `submissions show`: one line per decision, one line and exit 2 for a user's mistake,
the item with everything about it (in-process, on a Maildir and SQLite)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from mailroom.app import App
from mailroom.config import load_settings
from mailroom.decisions import Actor, Decisions
from mailroom.dedupe.engine import Dedupe
from mailroom.store.models import Message, Submission
from mailroom.vocabulary import DecisionSource
from support.cli import maildir_config, restore_logging, run  # noqa: F401  (autouse)
from support.items import ORIGINAL, OTHER
from support.mail import deliver, make_mail

CST = timezone(timedelta(hours=8))
UNITS = """
[[units]]
name = "自然资源综合执法大队"
aliases = ["执法大队"]
officers = ["zfdd@example.cn"]
[[units]]
name = "国土空间规划股"
[[units]]
name = "办公室"
[[adoption_channels]]
name = "县政府网站"
score = 1
[[adoption_channels]]
name = "银川市级"
score = 2
[[adoption_channels]]
name = "银川日报"
score = 2
"""
FIRE = "三分场发生林下地表火的报告"
FIRE_FIRST = ("5月20日13时许，三分场发生林下地表火，过火面积约2亩，无人员伤亡，林场已组织扑救。"
              "报告人：苏静 电话：13800138000")
FIRE_NEXT = "5月20日13时许，三分场发生林下地表火，截至17时明火已全部扑灭，过火面积约2.3亩。"
SHOW_FIELDS = {"number", "unit", "unit_source", "title", "subject", "sender", "message_id",
               "received_at", "month", "status", "priority", "warnings", "text",
               "text_error", "attachments", "verdict", "adoptions", "instructions",
               "decisions", "followup", "followup_of", "followups", "requests", "replies"}


@pytest.fixture
def config(tmp_path: Path, capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOGNAME", "clerk")  # getpass.getuser(): who, without --by
    path = maildir_config(tmp_path, UNITS)
    inbox = tmp_path / "inbox"
    mails = [  # 0001 counted, 0002 duplicate of it, 0003 unassigned, 0004 unassigned copy
        ("执法大队+" + ORIGINAL.title, "zfdd@example.cn", ORIGINAL.text(), 14),
        ("国土空间规划股+" + ORIGINAL.title, "ghg@example.cn", ORIGINAL.text(), 15),
        ("查无此单位+" + OTHER.title, "nobody@example.cn", OTHER.text(), 16),
        ("无名+" + ORIGINAL.title, "nobody@example.cn", ORIGINAL.text(), 17),
        (f"【紧急】执法大队+关于{FIRE}", "zfdd@example.cn", FIRE_FIRST, 20),  # 0005 初报
        (f"执法大队+关于{FIRE}（续报）", "zfdd@example.cn", FIRE_NEXT, 21),  # 0006 its 续报
    ]
    for subject, sender, body, day in mails:
        attachments = [("签字稿.pdf", b"%PDF-1.4 scan")] if day == 14 else []
        deliver(inbox, make_mail(subject, sender=sender, body=body, attachments=attachments),
                datetime(2019, 5, day, 9, tzinfo=CST))
    assert run(capsys, "--config", str(path), "poll", "--once")[0] == 0
    return path


def mailroom(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str]:
    code, out, err = run(capsys, "--config", str(config), *args)
    assert code == 0, err
    assert err == ""
    return code, out


def shown(capsys: pytest.CaptureFixture[str], config: Path, number: str) -> dict[str, object]:
    _, out = mailroom(capsys, config, "submissions", "show", number, "--format", "json")
    view: dict[str, object] = json.loads(out)
    return view


def test_each_decision_prints_what_changed(config: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    lines = [mailroom(capsys, config, *args)[1] for args in (
        ("adopt", "201905-0001", "--channel", "网站", "--note", "首页头条"),
        ("adopt", "2019050001", "--channel", "银川市级", "--by", "刘婧"),
        ("unadopt", "201905-0001", "--channel", "县政府网站", "--by", "刘婧"),
        ("instruct", "201905-0001", "--by", "伍庭利", "--text", "请各股室学习借鉴"),
        ("instruct", "201905-0001", "--by", "张局长"),
        ("assign", "201905-0003", "--unit", "办公室", "--by", "刘婧"),
        ("assign", "201905-0004", "--unit", "执法大队"),
        ("review", "201905-0002", "--distinct", "--by", "刘婧"),
        ("review", "201905-0002", "--duplicate", "--of", "201905-0001"),
    )]
    assert lines == [
        "201905-0001: adopted by 县政府网站 (首页头条) (recorded by clerk)\n",
        "201905-0001: adopted by 银川市级 (recorded by 刘婧)\n",
        "201905-0001: no longer adopted by 县政府网站 (adoption recorded by clerk; undone by "
        "刘婧)\n",
        "201905-0001: instruction (批示) of 伍庭利: 请各股室学习借鉴 (entered by clerk)\n",
        "201905-0001: instruction (批示) of 张局长 (entered by clerk)\n",
        "201905-0003: unassigned -> counted, unit 办公室 (assigned by 刘婧)\n",
        "201905-0004: unassigned -> duplicate of 201905-0001, unit 自然资源综合执法大队 "
        "(assigned by clerk)\n",
        "201905-0002: duplicate -> counted (reviewed by 刘婧)\n",
        "201905-0002: counted -> duplicate of 201905-0001 (reviewed by clerk)\n",
    ]
    _, listed = mailroom(capsys, config, "submissions", "list", "--format", "json")
    rows = {row["number"]: (row["unit"], row["status"], row["duplicate_of"])
            for row in json.loads(listed)}
    assert rows == {"201905-0001": ("自然资源综合执法大队", "counted", None),
                    "201905-0002": ("国土空间规划股", "duplicate", "201905-0001"),
                    "201905-0003": ("办公室", "counted", None),
                    "201905-0004": ("自然资源综合执法大队", "duplicate", "201905-0001"),
                    "201905-0005": ("自然资源综合执法大队", "counted", None),
                    "201905-0006": ("自然资源综合执法大队", "counted", None)}


MISTAKES = [
    (["adopt", "201905-0001", "--channel", "省报"],
     "mailroom: no adoption channel named '省报'; channels: 县政府网站、银川市级、银川日报"),
    (["adopt", "201905-0001", "--channel", "银川"],
     "mailroom: '银川' could be any of the channels 银川市级、银川日报; write the name in full"),
    (["adopt", "201905-0002", "--channel", "县政府网站"],
     "mailroom: 201905-0002 is a duplicate of 201905-0001: the first report is the item; "
     "201905-0001 can be adopted"),
    (["adopt", "201905-0003", "--channel", "县政府网站"], "201905-0003 is unassigned: assign"),
    (["adopt", "201905-0009", "--channel", "县政府网站"], "no submission numbered 201905-0009"),
    (["adopt", "201905-0001"], "the following arguments are required: --channel"),
    (["adopt", "2019-05-01", "--channel", "县政府网站"], "a submission number is YYYYMM-NNNN"),
    (["unadopt", "201905-0001", "--channel", "县政府网站"],
     "mailroom: 201905-0001 is not adopted by 县政府网站 (adopted by: none)"),
    (["instruct", "201905-0001", "--text", "好"], "the following arguments are required: --by"),
    (["instruct", "201905-0001", "--by", " "], "needs the leader who gave it"),
    (["assign", "201905-0001", "--unit", "办公室"],
     "mailroom: 201905-0001 is counted (自然资源综合执法大队): only an unassigned item"),
    (["assign", "201905-0003", "--unit", "财务股"], "no unit named '财务股' in the config"),
    (["review", "201905-0003", "--distinct"], "201905-0003 is unassigned: only counted"),
    (["review", "201905-0002", "--distinct", "--of", "201905-0001"],
     "mailroom review: --of goes with --duplicate"),
    (["submissions", "show", "201905-0099"], "mailroom: no submission numbered 201905-0099"),
    (["submissions", "show", "201905-0001", "--format", "xml"], "invalid choice: 'xml'"),
]


def test_a_users_mistake_is_exit_2_in_one_line(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args, expected in MISTAKES:  # one mailbox for all: each changes nothing
        code, out, err = run(capsys, "--config", str(config), *args)
        assert (code, out) == (2, ""), args
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        assert expected in lines[0], (args, lines[0])
    view = shown(capsys, config, "201905-0001")
    assert view["decisions"] == view["adoptions"] == view["instructions"] == []


def test_an_adoption_is_refused_twice_and_nothing_changes(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mailroom(capsys, config, "adopt", "201905-0001", "--channel", "县政府网站")
    code, _, err = run(capsys, "--config", str(config), "adopt", "201905-0001", "--channel",
                       "县政府网站", "--by", "刘婧")
    assert code == 2 and "201905-0001 is already adopted by 县政府网站 (recorded by clerk, " in err
    code, _, err = run(capsys, "--config", str(config), "review", "201905-0001",
                       "--duplicate", "--of", "201905-0002")
    assert code == 2 and "201905-0001 is adopted by 县政府网站: unadopt it first" in err
    view = shown(capsys, config, "201905-0001")
    assert [d["action"] for d in view["decisions"]] == ["adopt"]  # type: ignore[index,union-attr]


def test_an_adoption_made_at_the_same_moment_elsewhere_is_one_line(
        config: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two clerks adopting one item by one channel at once: the check passes in both, the
    database's unique constraint refuses the second insert. One line, no traceback."""
    mailroom(capsys, config, "adopt", "201905-0001", "--channel", "县政府网站")
    monkeypatch.setattr(Decisions, "_adoptions", lambda self, session, item: {})  # the race
    code, out, err = run(capsys, "--config", str(config), "adopt", "201905-0001",
                         "--channel", "县政府网站")
    assert code == 1 and out == ""
    assert err.startswith("mailroom: the database refused the change") and \
        err.count("\n") == 1 and "Traceback" not in err, err
    monkeypatch.undo()
    view = shown(capsys, config, "201905-0001")
    assert [d["action"] for d in view["decisions"]] == ["adopt"]  # type: ignore[index,union-attr]


def test_show_gives_the_item_with_everything_about_it(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mailroom(capsys, config, "adopt", "201905-0001", "--channel", "县政府网站", "--note", "头条")
    mailroom(capsys, config, "instruct", "201905-0001", "--by", "伍庭利", "--text", "学习借鉴")
    by_mail = record_a_decision_from_a_mail(config)
    view = shown(capsys, config, "201905-0001")
    assert set(view) == SHOW_FIELDS
    assert (view["number"], view["unit"], view["unit_source"], view["title"], view["status"],
            view["received_at"], view["month"]) == (
        "201905-0001", "自然资源综合执法大队", "subject", ORIGINAL.title, "counted",
        "2019-05-14T09:00:00+08:00", "2019-05")
    assert str(view["text"]).strip() == ORIGINAL.text().strip() and view["text_error"] is None
    [attachment] = view["attachments"]  # type: ignore[misc]
    assert attachment["filename"] == "签字稿.pdf" and attachment["size"] == 13
    assert Path(attachment["path"]).read_bytes() == b"%PDF-1.4 scan"
    assert view["verdict"] == {"status": "counted", "duplicate_of": None, "score": None,
                               "matched": None, "part": None, "match_detail": None,
                               "review": None}
    assert [(a["channel"], a["note"], a["by"]) for a in view["adoptions"]] == [  # type: ignore
        ("县政府网站", "头条", "clerk"), ("银川市级", "", "office@example.cn")]
    assert [(i["leader"], i["text"], i["by"]) for i in view["instructions"]] == [  # type: ignore
        ("伍庭利", "学习借鉴", "clerk")]
    decisions = view["decisions"]
    assert [(d["action"], d["by"], d["source"]) for d in decisions] == [  # type: ignore
        ("adopt", "clerk", "cli"), ("instruct", "clerk", "cli"),
        ("adopt", "office@example.cn", "mail")]
    assert decisions[0]["detail"] == {"channel": "县政府网站", "note": "头条"}  # type: ignore
    assert decisions[0]["message"] is None  # type: ignore[index]
    assert decisions[2]["message"] == by_mail  # type: ignore[index]
    assert (view["followup"], view["followup_of"], view["followups"], view["requests"]) == (
        None, None, [], [])
    [receipt] = view["replies"]  # type: ignore[misc]
    assert (receipt["purpose"], receipt["to"], receipt["status"]) == (
        "receipt", ["zfdd@example.cn"], "sent")
    assert receipt["sent_at"] is not None

    initial, followup = (shown(capsys, config, f"201905-000{n}") for n in (5, 6))
    assert (initial["priority"], initial["followup"], initial["followup_of"],
            initial["followups"]) == ("urgent", None, None, ["201905-0006"])
    assert (followup["followup"], followup["followup_of"], followup["followups"]) == (
        "续报", "201905-0005", [])
    assert [r["purpose"] for r in initial["replies"]] == ["receipt", "alert"]  # type: ignore

    duplicate = shown(capsys, config, "201905-0002")["verdict"]
    assert duplicate["duplicate_of"] == duplicate["matched"] == "201905-0001"  # type: ignore
    assert duplicate["score"] >= 90 and duplicate["part"] == "content"  # type: ignore
    assert set(duplicate["match_detail"]) >= {"title", "content"}  # type: ignore


def record_a_decision_from_a_mail(config: Path) -> dict[str, str]:
    """A decision as the command handler makes it: source mail, the command mail's row
    (the one from the inbox stands for it here)."""
    app = App.build(load_settings(config))
    try:
        with app.sessions.begin() as session:
            message = session.scalars(select(Message).join(Submission).where(
                Submission.number == "201905-0003")).one()
            actor = Actor("office@example.cn", DecisionSource.MAIL,
                          datetime.now(UTC), message.id)  # after the CLI's, by the clock
            Decisions(app.settings, Dedupe(app.settings.dedupe)).adopt(
                session, "201905-0001", "银川市级", actor)
            return {"message_id": message.message_id, "sender": message.sender,
                    "subject": message.subject, "received_at": "2019-05-16T09:00:00+08:00"}
    finally:
        app.close()


def test_show_as_text(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mailroom(capsys, config, "review", "201905-0002", "--distinct", "--by", "刘婧")
    mailroom(capsys, config, "adopt", "201905-0002", "--channel", "县政府网站")
    _, out = mailroom(capsys, config, "submissions", "show", "2019050002")
    lines = out.splitlines()
    assert lines[0] == f"201905-0002  {ORIGINAL.title}"
    assert "  unit         国土空间规划股  (from the subject)" in lines
    assert "  received     2019-05-15 09:00  (month 2019-05)" in lines
    verdict = next(line for line in lines if line.startswith("  verdict"))
    assert verdict.startswith("  verdict      counted, score ")
    assert "against 201905-0001 (content); reviewed distinct by 刘婧, " in verdict
    assert lines[lines.index("adoptions:") + 1].startswith("  县政府网站  by clerk, ")
    assert lines[lines.index("attachments:") + 1] == "  -"
    decided = lines[lines.index("decisions:") + 1:lines.index("replies:") - 1]
    assert [line.split()[2:] for line in decided] == [
        ["distinct", "duplicate", "->", "counted", "by", "刘婧", "(cli)"],
        ["adopt", "县政府网站", "by", "clerk", "(cli)"]]
    assert lines[lines.index("replies:") + 1].startswith("  receipt to ghg@example.cn: sent ")
    assert lines[lines.index("text:") + 1:] == [
        f"  {line}" for line in ORIGINAL.text().strip().splitlines()]
