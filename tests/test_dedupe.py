"""Dedupe through the pipeline on a real database (SQLite; one scenario on PostgreSQL):
verdicts, their explanation, out-of-order mail, follow-ups, office reviews."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from mailroom.app import App
from mailroom.daemon import poll_once
from mailroom.dedupe.review import review
from mailroom.errors import ReviewError
from mailroom.listing import submission_rows
from mailroom.store.models import DedupeReview, Submission, VerdictChange
from support.items import JOINT_FIRST, JOINT_SECOND, ORIGINAL, OTHER, weekly
from support.mail import deliver, docx_bytes, make_mail

CST = timezone(timedelta(hours=8))


def send(app: App, subject: str, body: str, day: int, hour: int = 9, *,
         sender: str = "ghg@example.cn", attachments: list[tuple[str, bytes]] | None = None
         ) -> None:
    assert app.settings.maildir is not None
    deliver(Path(app.settings.maildir.path), make_mail(subject, sender=sender, body=body,
                                                       attachments=attachments or []),
            datetime(2019, 5, day, hour, tzinfo=CST))


def by_title(app: App) -> dict[str, dict[str, object]]:
    with app.sessions() as session:
        return {f"{r['number']}": r for r in submission_rows(session, None, app.settings.zone)}


def statuses(app: App) -> list[tuple[str, str, object]]:
    return [(n, str(r["status"]), r["duplicate_of"]) for n, r in sorted(by_title(app).items())]


def test_duplicate_suspected_and_distinct_with_their_explanation(
        make_app: Callable[..., App]) -> None:
    app = make_app()
    send(app, f"国土空间规划股+{ORIGINAL.title}", ORIGINAL.text(), 14)
    send(app, f"转发：耕地保护股+{ORIGINAL.title}", "详见附件", 15, sender="zfdd@example.cn",
         attachments=[(f"{ORIGINAL.title}.docx", docx_bytes(ORIGINAL.text(indent=False)))])
    send(app, f"国土空间规划股+{JOINT_FIRST.title}", JOINT_FIRST.text(), 16)
    send(app, f"办公室+{JOINT_SECOND.title}", JOINT_SECOND.text(), 17, sender="bgs@example.cn")
    send(app, f"望洪林业站+{OTHER.title}", OTHER.text(), 18, sender="whlyz@example.cn")
    poll_once(app)
    rows = by_title(app)
    assert statuses(app) == [
        ("201905-0001", "counted", None), ("201905-0002", "duplicate", "201905-0001"),
        ("201905-0003", "counted", None), ("201905-0004", "duplicate", "201905-0003"),
        ("201905-0005", "counted", None)]
    assert float(rows["201905-0002"]["score"]) >= 90  # type: ignore[arg-type]
    assert rows["201905-0005"]["score"] is None and rows["201905-0005"]["duplicate_of"] is None
    with app.sessions() as session:
        second = session.scalars(select(Submission).where(
            Submission.number == "201905-0002")).one()
        assert second.match_part == "attachment" and second.matched_id == 1
        assert second.match_detail is not None and second.match_detail["content"] >= 90
        joint = session.scalars(select(Submission).where(
            Submission.number == "201905-0004")).one()  # the office's own write-up
        assert joint.match_detail is not None and joint.match_detail["retold"] is True


def test_hard_negatives_of_one_template_all_count(make_app: Callable[..., App]) -> None:
    app = make_app()
    for week, start in enumerate((1, 8, 15, 22)):
        title, body = weekly("望洪镇", "望洪林业站", "贺兰山东麓", 5, start, 10 + week,
                             80 + 7 * week, 3.0 + week, 100 + 30 * week, 2 + week, 1 + week)
        send(app, f"望洪林业站+{title}", body, start + 6, sender="whlyz@example.cn")
    title, body = weekly("望远镇", "望远林业站", "黄河滩涂", 5, 1, 9, 64, 2.0, 120, 2, 2)
    send(app, f"望远林业站+{title}", body, 7, 10)
    poll_once(app)
    assert {status for _, status, _ in statuses(app)} == {"counted"}


def test_an_earlier_mail_processed_later_takes_the_credit(make_app: Callable[..., App]) -> None:
    app = make_app()
    send(app, f"国土空间规划股+{ORIGINAL.title}", ORIGINAL.text(), 20)
    send(app, f"回复：国土空间规划股+{ORIGINAL.title}", "各位领导：\n" + ORIGINAL.text(), 21)
    poll_once(app)
    assert statuses(app) == [("201905-0001", "counted", None),
                             ("201905-0002", "duplicate", "201905-0001")]
    send(app, f"耕地保护股+{ORIGINAL.title}", ORIGINAL.text(), 14, sender="zfdd@example.cn")
    poll_once(app)
    assert_late_original_took_the_credit(app)


def assert_late_original_took_the_credit(app: App) -> None:
    """After 0003, received before 0001 and 0002 (its copies), was processed last."""
    assert statuses(app) == [("201905-0001", "duplicate", "201905-0003"),
                             ("201905-0002", "duplicate", "201905-0003"),
                             ("201905-0003", "counted", None)]
    # kept for the office's next digest: what changed, from what, because of which mail
    assert changes(app) == [
        ("201905-0001", "counted", None, "duplicate", "201905-0003", "201905-0003"),
        ("201905-0002", "duplicate", "201905-0001", "duplicate", "201905-0003", "201905-0003")]
    poll_once(app)  # nothing new: nothing changes again
    assert len(changes(app)) == 2


def changes(app: App) -> list[tuple[str, str, str | None, str, str | None, str]]:
    numbers = {pk: number for pk, number in statuses_by_id(app)}
    with app.sessions() as session:
        rows = session.scalars(select(VerdictChange).order_by(VerdictChange.id)).all()
        assert not any(row.reported for row in rows)
        return [(numbers[r.submission_id], r.previous_status,
                 numbers.get(r.previous_duplicate_of_id or 0), r.status,
                 numbers.get(r.duplicate_of_id or 0), numbers[r.caused_by_id]) for r in rows]


def statuses_by_id(app: App) -> list[tuple[int, str]]:
    with app.sessions() as session:
        return [(pk, number) for pk, number in session.execute(
            select(Submission.id, Submission.number))]


def test_review_changes_the_verdict_and_survives_re_evaluation(
        make_app: Callable[..., App]) -> None:
    app = make_app()
    send(app, f"国土空间规划股+{ORIGINAL.title}", ORIGINAL.text(), 20)
    send(app, f"执法大队+{ORIGINAL.title}", ORIGINAL.text(), 21, sender="zfdd@example.cn")
    send(app, f"国土空间规划股+{OTHER.title}", OTHER.text(), 22)
    poll_once(app)
    at = datetime(2019, 6, 2, 9, tzinfo=CST)
    with app.sessions.begin() as session:
        outcome = review(session, "201905-0002", duplicate=False, of=None, by="刘婧", at=at)
        assert (outcome.previous_status, outcome.status) == ("duplicate", "counted")
        review(session, "201905-0003", duplicate=True, of="201905-0001", by="刘婧", at=at)
    # an earlier copy arrives: the unreviewed item follows it, the reviewed ones stay
    send(app, f"耕地保护股+{ORIGINAL.title}", ORIGINAL.text(), 10, sender="zfdd@example.cn")
    poll_once(app)
    assert statuses(app) == [("201905-0001", "duplicate", "201905-0004"),
                             ("201905-0002", "counted", None),
                             ("201905-0003", "duplicate", "201905-0001"),
                             ("201905-0004", "counted", None)]
    with app.sessions() as session:
        reviewed = session.scalars(select(Submission).where(
            Submission.number == "201905-0002")).one()
        assert (reviewed.review, reviewed.reviewed_by, reviewed.reviewed_at) == (
            "distinct", "刘婧", at)
        assert len(session.scalars(select(DedupeReview)).all()) == 2
    # the reviewed items were left alone: only 0001's change is recorded
    assert changes(app) == [
        ("201905-0001", "counted", None, "duplicate", "201905-0004", "201905-0004")]


@pytest.mark.parametrize(("number", "kwargs", "message"), [
    ("201905-0009", {"duplicate": False, "of": None}, "no submission numbered"),
    ("201905-0001", {"duplicate": True, "of": "201905-0001"}, "itself"),
    ("201905-0001", {"duplicate": True, "of": "201905-0002"}, "received after"),
    ("201905-0001", {"duplicate": True, "of": None}, "say which with --of"),
    ("201905-0002", {"duplicate": True, "of": "201905-0003"}, "no first report|received after"),
])
def test_review_refuses_what_cannot_be(make_app: Callable[..., App], number: str,
                                       kwargs: dict[str, object], message: str) -> None:
    app = make_app()
    send(app, f"国土空间规划股+{ORIGINAL.title}", ORIGINAL.text(), 20)
    send(app, f"国土空间规划股+{OTHER.title}", OTHER.text(), 21)
    send(app, f"查无此单位+{JOINT_FIRST.title}", JOINT_FIRST.text(), 22,
         sender="nobody@example.cn")
    poll_once(app)
    with app.sessions.begin() as session, pytest.raises(ReviewError, match=message):
        review(session, number, by="x", at=datetime(2019, 6, 1, tzinfo=CST),
               **kwargs)  # type: ignore[arg-type]


def test_followup_is_linked_to_its_first_report_and_counted(
        make_app: Callable[..., App]) -> None:
    app = make_app()
    initial = "三分场发生林下地表火的报告"
    send(app, f"【紧急】黄河生态林场+关于{initial}", "5月20日13时许，三分场发生林下地表火，"
         "过火面积约2亩，无人员伤亡，林场已组织扑救。报告人：苏静 电话：13800138000", 20, 14)
    send(app, f"黄河生态林场+关于{initial}（续报）", "5月20日13时许，三分场发生林下地表火，"
         "截至17时明火已全部扑灭，过火面积约2.3亩，无人员伤亡，现场留守看护。", 20, 17)
    send(app, f"黄河生态林场+关于{initial}（续报）", "5月20日13时许，三分场发生林下地表火，"
         "截至17时明火已全部扑灭，过火面积约2.3亩，无人员伤亡，现场留守看护。", 20, 18)
    poll_once(app)
    assert statuses(app) == [("201905-0001", "counted", None),
                             ("201905-0002", "counted", None),
                             ("201905-0003", "duplicate", "201905-0002")]
    with app.sessions() as session:
        links = {number: first for number, first in session.execute(
            select(Submission.number, Submission.followup_of_id))}
    assert links == {"201905-0001": None, "201905-0002": 1, "201905-0003": 1}


def test_dedupe_on_postgresql(make_app: Callable[..., App], postgres_url: str) -> None:
    app = make_app(database={"url": postgres_url})
    send(app, f"国土空间规划股+{ORIGINAL.title}", ORIGINAL.text(), 20)
    send(app, f"执法大队+{ORIGINAL.title}", ORIGINAL.text(), 21, sender="zfdd@example.cn")
    poll_once(app)
    send(app, f"耕地保护股+{ORIGINAL.title}", ORIGINAL.text(), 19, sender="zfdd@example.cn")
    poll_once(app)
    assert_late_original_took_the_credit(app)

    with app.sessions.begin() as session:
        review(session, "201905-0002", duplicate=False, of=None, by="x",
               at=datetime(2019, 6, 1, tzinfo=CST))
    assert statuses(app)[1] == ("201905-0002", "counted", None)


def test_review_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    import json
    import logging

    from mailroom.cli import main

    inbox = tmp_path / "inbox"
    config = tmp_path / "mailroom.toml"
    config.write_text('[maildir]\npath = "inbox"\n[[units]]\nname = "国土空间规划股"\n'
                      '[[units]]\nname = "耕地保护股"\n', encoding="utf-8")
    for day, unit in ((14, "国土空间规划股"), (15, "耕地保护股")):
        deliver(inbox, make_mail(f"{unit}+{ORIGINAL.title}", body=ORIGINAL.text()),
                datetime(2019, 5, day, tzinfo=CST))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        def run(*args: str) -> tuple[int, str, str]:
            code = main(["--config", str(config), *args])
            out, err = capsys.readouterr()
            return code, out, err

        assert run("poll", "--once")[0] == 0
        code, out, _ = run("review", "201905-0002", "--distinct", "--by", "刘婧")
        assert code == 0 and "duplicate -> counted" in out and "刘婧" in out
        code, out, _ = run("review", "201905-0002", "--duplicate")
        assert code == 0 and "counted -> duplicate of 201905-0001" in out
        assert run("review", "201905-0009", "--distinct")[0] == 2  # unknown: a usage error
        code, _, err = run("review", "201905-0002", "--distinct", "--of", "201905-0001")
        assert code == 2 and "--of" in err
        assert run("review", "201905-0002")[0] == 2
        code, out, _ = run("submissions", "list", "--format", "json")
        rows = {row["number"]: row for row in json.loads(out)}
        assert rows["201905-0002"]["status"] == "duplicate"
        assert rows["201905-0002"]["duplicate_of"] == "201905-0001"
        code, out, _ = run("submissions", "list")
        assert "dup of" in out and "201905-0001" in out.splitlines()[2]
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_unassigned_items_are_nobodys_first_report(make_app: Callable[..., App]) -> None:
    app = make_app()
    send(app, f"查无此单位+{ORIGINAL.title}", ORIGINAL.text(), 14, sender="nobody@example.cn")
    send(app, f"国土空间规划股+{ORIGINAL.title}", ORIGINAL.text(), 15)
    send(app, f"执法大队+{ORIGINAL.title}", ORIGINAL.text(), 16, sender="zfdd@example.cn")
    poll_once(app)
    assert statuses(app) == [("201905-0001", "unassigned", None),
                             ("201905-0002", "counted", None),
                             ("201905-0003", "duplicate", "201905-0002")]
