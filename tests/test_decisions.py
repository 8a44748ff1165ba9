"""The office's decisions (decisions.py) on a real database: adoption per channel and its
undoing, 批示, assigning an unassigned item (then judged for 首报), the R3 review; every
one kept as a Decision row; what cannot be done refused with a code and nothing written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailroom.app import App
from mailroom.config import parse_settings
from mailroom.daemon import poll_once
from mailroom.decisions import Actor, Decisions
from mailroom.dedupe.engine import Dedupe
from mailroom.errors import DecisionError, InvalidInput
from mailroom.store.models import (
    Adoption,
    Decision,
    DedupeReview,
    Instruction,
    Submission,
    VerdictChange,
)
from mailroom.vocabulary import DecisionAction, DecisionSource
from support.items import JOINT_FIRST, ORIGINAL, OTHER
from support.mail import deliver, make_mail

CST = timezone(timedelta(hours=8))
AT = datetime(2019, 6, 3, 2, 30, tzinfo=UTC)
CHANNELS = [{"name": "县政府网站", "score": 1}, {"name": "银川市级", "score": 2},
            {"name": "银川日报", "score": 2}, {"name": "自治区级", "score": 3},
            {"name": "国家级", "score": 5}]
CLERK = Actor("刘婧", DecisionSource.CLI, AT)

# (subject, sender, body, day of May 2019): numbered in order of receipt
MAILS = [
    (f"查无此单位+{ORIGINAL.title}", "nobody@example.cn", ORIGINAL.text(), 12),  # 0001
    (f"国土空间规划股+{ORIGINAL.title}", "ghg@example.cn", ORIGINAL.text(), 14),  # 0002
    (f"执法大队+{ORIGINAL.title}", "zfdd@example.cn", ORIGINAL.text(), 15),  # 0003 dup
    (f"查无此单位+{OTHER.title}", "nobody@example.cn", OTHER.text(), 16),  # 0004
    (f"望洪林业站+{JOINT_FIRST.title}", "whlyz@example.cn", JOINT_FIRST.text(), 17),  # 0005
]


def deliver_mails(app: App) -> None:
    assert app.settings.maildir is not None
    for subject, sender, body, day in MAILS:
        deliver(Path(app.settings.maildir.path), make_mail(subject, sender=sender, body=body),
                datetime(2019, 5, day, 9, tzinfo=CST))
    poll_once(app)


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, make_app: Callable[..., App]) -> App:
    sections: dict[str, Any] = {"adoption_channels": CHANNELS}
    if request.param == "postgresql":
        sections["database"] = {"url": request.getfixturevalue("postgres_url")}
    built = make_app(**sections)
    deliver_mails(built)
    return built


@pytest.fixture
def sqlite_app(make_app: Callable[..., App]) -> App:
    built = make_app(adoption_channels=CHANNELS)
    deliver_mails(built)
    return built


@pytest.fixture
def session(app: App) -> Iterator[Session]:
    with app.sessions.begin() as opened:
        yield opened


def decisions(app: App) -> Decisions:
    return Decisions(app.settings, Dedupe(app.settings.dedupe))


def status(session: Session, number: str) -> tuple[str, str | None, str | None]:
    item = session.scalars(select(Submission).where(Submission.number == number)).one()
    first = item.duplicate_of.number if item.duplicate_of else None
    return item.status, item.unit, first


def refused(call: Callable[[], object], code: str, *message: str) -> DecisionError:
    with pytest.raises(DecisionError) as raised:
        call()
    assert raised.value.code == code, str(raised.value)
    assert isinstance(raised.value, InvalidInput)  # the CLI's exit 2
    for part in message:
        assert part in str(raised.value)
    return raised.value


def count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_adopt_and_unadopt_per_channel_each_kept(app: App, session: Session) -> None:
    core = decisions(app)
    mail = Actor("office@example.cn", DecisionSource.MAIL, AT + timedelta(hours=1), None)
    outcome = core.adopt(session, "2019050002", "县政府网站", CLERK, note="  首页  ")
    assert (outcome.number, outcome.action) == ("201905-0002", DecisionAction.ADOPT)
    assert outcome.detail == {"title": ORIGINAL.title, "unit": "国土空间规划股",
                              "channel": "县政府网站", "note": "首页"}
    assert core.adopt(session, "201905-0002", "自治区", mail).detail["channel"] == "自治区级"
    refused(lambda: core.adopt(session, "201905-0002", "县政府网站", mail), "already_adopted",
            "201905-0002 is already adopted by 县政府网站 (recorded by 刘婧, 2019-06-03 10:30)")
    adoptions = session.scalars(select(Adoption).order_by(Adoption.id)).all()
    assert [(a.channel, a.note, a.by, a.at) for a in adoptions] == [
        ("县政府网站", "首页", "刘婧", AT), ("自治区级", "", "office@example.cn", mail.at)]

    undone = core.unadopt(session, "201905-0002", "县政府网站", mail)
    assert undone.detail["adopted_by"] == "刘婧"
    assert undone.detail["adopted_at"] == "2019-06-03T10:30:00+08:00"
    assert [a.channel for a in session.scalars(select(Adoption))] == ["自治区级"]
    error = refused(lambda: core.unadopt(session, "201905-0002", "县政府网站", CLERK),
                    "not_adopted",
                    "201905-0002 is not adopted by 县政府网站 (adopted by: 自治区级)")
    assert error.facts == {"number": "201905-0002", "channel": "县政府网站", "channels": "自治区级"}
    core.adopt(session, "201905-0002", "县政府网站", CLERK)  # again, after the undoing

    rows = session.scalars(select(Decision).order_by(Decision.id)).all()
    assert [(r.action, r.detail.get("channel"), r.by, r.source) for r in rows] == [
        ("adopt", "县政府网站", "刘婧", "cli"),
        ("adopt", "自治区级", "office@example.cn", "mail"),
        ("unadopt", "县政府网站", "office@example.cn", "mail"),
        ("adopt", "县政府网站", "刘婧", "cli")]
    assert {r.submission_id for r in rows} == {2} and rows[0].at == AT


def test_only_an_item_that_counts_is_credited(app: App, session: Session) -> None:
    assert [status(session, f"201905-000{n}") for n in range(1, 6)] == [
        ("unassigned", None, None), ("counted", "国土空间规划股", None),
        ("duplicate", "自然资源综合执法大队", "201905-0002"), ("unassigned", None, None),
        ("counted", "望洪林业站", None)]
    core = decisions(app)
    error = refused(lambda: core.adopt(session, "201905-0003", "国家级", CLERK), "not_counting",
                    "201905-0003 is a duplicate of 201905-0002: the first report is the item")
    assert error.facts == {"number": "201905-0003", "status": "duplicate",
                           "first": "201905-0002"}
    refused(lambda: core.instruct(session, "201905-0001", "伍庭利", "", CLERK), "not_counting",
            "201905-0001 is unassigned: assign it to a unit first")
    item = session.scalars(select(Submission).where(Submission.number == "201905-0005")).one()
    item.status = "rejected"  # a check configured to reject, or a failed authentication
    refused(lambda: core.adopt(session, "201905-0005", "国家级", CLERK), "not_counting",
            "201905-0005 is rejected: it counts for nobody")
    refused(lambda: core.adopt(session, "201905-0099", "国家级", CLERK), "unknown_number",
            "no submission numbered 201905-0099")
    refused(lambda: core.adopt(session, "2019-05", "国家级", CLERK), "unknown_number")
    assert count(session, Decision) == count(session, Adoption) == count(session,
                                                                         Instruction) == 0


def test_instructions_record_the_leader_and_the_recorder(app: App, session: Session) -> None:
    core = decisions(app)
    outcome = core.instruct(session, "201905-0005", " 伍庭利 ", "请各股室学习借鉴", CLERK)
    assert outcome.detail == {"title": JOINT_FIRST.title, "unit": "望洪林业站",
                              "leader": "伍庭利", "text": "请各股室学习借鉴"}
    core.instruct(session, "201905-0005", "伍庭利", "", CLERK)  # another, without text
    refused(lambda: core.instruct(session, "201905-0005", "伍庭利", "请各股室学习借鉴 ", CLERK),
            "already_instructed", "already has this instruction (批示) of 伍庭利")
    refused(lambda: core.instruct(session, "201905-0005", "  ", "好", CLERK), "no_leader")
    rows = session.scalars(select(Instruction).order_by(Instruction.id)).all()
    assert [(r.leader, r.text, r.by) for r in rows] == [("伍庭利", "请各股室学习借鉴", "刘婧"),
                                                        ("伍庭利", "", "刘婧")]
    kept = session.scalars(select(Decision)).all()
    assert [(d.action, d.detail) for d in kept] == [
        ("instruct", {"leader": "伍庭利", "text": "请各股室学习借鉴"}),
        ("instruct", {"leader": "伍庭利", "text": ""})]
    assert {r.decision_id for r in rows} == {d.id for d in kept}


def test_assign_then_judged_for_first_report(app: App, session: Session) -> None:
    core = decisions(app)
    # 0004 is like nothing stored: it becomes the unit's, counted
    outcome = core.assign(session, "201905-0004", "执法大队", CLERK)
    assert outcome.detail == {"title": f"查无此单位+{OTHER.title}", "unit": "自然资源综合执法大队",
                              "previous_status": "unassigned", "status": "counted",
                              "duplicate_of": None, "score": None}
    assert status(session, "201905-0004") == ("counted", "自然资源综合执法大队", None)
    # 0001 came before 0002 and 0003, its copies: assigned, it takes their credit
    outcome = core.assign(session, "201905-0001", "耕地保护", CLERK)
    assert outcome.detail["status"] == "counted" and outcome.detail["unit"] == "耕地保护股"
    assert [status(session, f"201905-000{n}")[::2] for n in (1, 2, 3)] == [
        ("counted", None), ("duplicate", "201905-0001"), ("duplicate", "201905-0001")]
    changed = session.scalars(select(VerdictChange).order_by(VerdictChange.id)).all()
    assert [(c.submission_id, c.previous_status, c.status, c.caused_by_id) for c in changed] == [
        (2, "counted", "duplicate", 1), (3, "duplicate", "duplicate", 1)]
    item = session.scalars(select(Submission).where(Submission.number == "201905-0001")).one()
    assert item.unit_source == "office"
    refused(lambda: core.assign(session, "201905-0002", "办公室", CLERK), "not_unassigned",
            "201905-0002 is duplicate (国土空间规划股): only an unassigned item can be assigned")
    error = refused(lambda: core.assign(session, "201905-0005", "没有的股", CLERK),
                    "unknown_unit", "no unit named '没有的股' in the config; units: 办公室、")
    assert error.facts["unit"] == "没有的股"
    kept = session.scalars(select(Decision).order_by(Decision.id)).all()
    assert [(d.action, d.detail["unit"], d.detail["status"]) for d in kept] == [
        ("assign", "自然资源综合执法大队", "counted"), ("assign", "耕地保护股", "counted")]


def test_an_assigned_later_copy_becomes_a_duplicate(sqlite_app: App) -> None:
    app = sqlite_app
    assert app.settings.maildir is not None
    deliver(Path(app.settings.maildir.path),
            make_mail(f"无名+{JOINT_FIRST.title}", sender="nobody@example.cn",
                      body=JOINT_FIRST.text()), datetime(2019, 5, 20, 9, tzinfo=CST))
    poll_once(app)
    with app.sessions.begin() as session:
        assert status(session, "201905-0006") == ("unassigned", None, None)
        outcome = decisions(app).assign(session, "201905-0006", "办公室", CLERK)
        assert outcome.detail["status"] == "duplicate"
        assert outcome.detail["duplicate_of"] == "201905-0005"
        assert outcome.detail["score"] >= 90
        assert status(session, "201905-0006") == ("duplicate", "办公室", "201905-0005")
        assert status(session, "201905-0005") == ("counted", "望洪林业站", None)


def test_review_keeps_its_history_and_a_decision(app: App, session: Session) -> None:
    core = decisions(app)
    outcome = core.review(session, "201905-0003", duplicate=False, of=None, actor=CLERK)
    assert (outcome.action, outcome.detail["previous_status"], outcome.detail["status"],
            outcome.detail["duplicate_of"]) == ("distinct", "duplicate", "counted", None)
    core.adopt(session, "201905-0003", "县政府网站", CLERK)
    refused(lambda: core.review(session, "201905-0003", duplicate=True, of=None, actor=CLERK),
            "still_adopted", "201905-0003 is adopted by 县政府网站: unadopt it first")
    core.unadopt(session, "201905-0003", "县政府网站", CLERK)
    outcome = core.review(session, "2019050003", duplicate=True, of="2019050002",
                          actor=CLERK)
    assert outcome.detail["duplicate_of"] == "201905-0002"
    refused(lambda: core.review(session, "201905-0002", duplicate=True, of="201905-0003",
                                actor=CLERK), "review_refused", "received after")
    refused(lambda: core.review(session, "201905-0002", duplicate=True, of="201905-0077",
                                actor=CLERK), "unknown_number", "201905-0077")
    refused(lambda: core.review(session, "201905-0001", duplicate=False, of=None,
                                actor=CLERK), "review_refused", "201905-0001 is unassigned")
    history = session.scalars(select(DedupeReview).order_by(DedupeReview.id)).all()
    assert [(h.decision, h.by, h.previous_status) for h in history] == [
        ("distinct", "刘婧", "duplicate"), ("duplicate", "刘婧", "counted")]
    kept = [(d.action, d.detail.get("status")) for d in
            session.scalars(select(Decision).order_by(Decision.id))]
    assert kept == [("distinct", "counted"), ("adopt", None), ("unadopt", None),
                    ("duplicate", "duplicate")]


CHANNEL_CASES = [
    ("县政府网站", "县政府网站"), ("  县政府 网站 ", "县政府网站"), ("网站", "县政府网站"),
    ("县网站", "县政府网站"), ("县政府网站采用", "县政府网站"), ("国家", "国家级"),
    ("自治区", "自治区级"), ("银川市", "银川市级"), ("ＸＪ", None), ("市政府网站", None),
    ("省级", None), ("级", None), ("", None), ("银川", "ambiguous"),
]


@pytest.mark.parametrize(("text", "expected"), CHANNEL_CASES)
def test_channels_by_name_exact_or_fuzzy_unique(tmp_path: Path, text: str,
                                                expected: str | None) -> None:
    from conftest import settings_data

    settings = parse_settings(settings_data(tmp_path, adoption_channels=CHANNELS))
    core = Decisions(settings, Dedupe(settings.dedupe))
    if expected is None:
        error = refused(lambda: core.channel(text), "unknown_channel",
                        f"no adoption channel named {text!r}; channels: 县政府网站、银川市级、")
        assert error.facts["channels"] == "县政府网站、银川市级、银川日报、自治区级、国家级"
    elif expected == "ambiguous":
        error = refused(lambda: core.channel(text), "ambiguous_channel", "银川市级、银川日报")
        assert error.facts == {"channel": text, "channels": "银川市级、银川日报"}
    else:
        assert core.channel(text) == expected


def test_without_configured_channels_adoption_says_what_to_configure(
        tmp_path: Path) -> None:
    from conftest import settings_data

    settings = parse_settings(settings_data(tmp_path))
    core = Decisions(settings, Dedupe(settings.dedupe))
    refused(lambda: core.channel("县政府网站"), "no_channels", "[[adoption_channels]]")
