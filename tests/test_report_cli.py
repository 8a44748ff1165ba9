"""`report monthly|annual` through the command line on a real database (SQLite and
PostgreSQL): the JSON checked unit by unit, the CSV read back and compared with it, the
text, the binary-on-a-terminal refusal, and `--send` through the outbox."""

from __future__ import annotations

import csv
import email
import io
import json
from datetime import UTC, datetime
from email.message import Message as MimeMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import insert

from mailroom.reports import render
from mailroom.store.database import make_engine
from mailroom.store.models import Adoption, Decision, Instruction, Officer, Submission
from mailroom.store.models import Message as MessageRow
from mailroom.vocabulary import month_of
from support.cli import restore_logging, run  # noqa: F401  (restore_logging: autouse)

ZONE = ZoneInfo("Asia/Shanghai")
CONFIG = """\
[database]
url = "{url}"
[storage]
path = "store"
[outbox]
path = "sent"
[maildir]
path = "inbox"
[office]
addresses = ["office@example.cn"]
name = "永宁县自然资源局"
[scoring]
mode = "{mode}"
instruction_bonus = 2
[[units]]
name = "办公室"
heads = ["head.bgs@example.cn"]
[[units]]
name = "自然资源综合执法大队"
aliases = ["执法大队"]
heads = ["head.zfdd@example.cn", "office@example.cn"]
quota = 3
[[units]]
name = "国土空间规划股"
[[units]]
name = "黄河生态林场"
[[adoption_channels]]
name = "县政府网站"
score = 1
[[adoption_channels]]
name = "银川市级"
score = 3
[[adoption_channels]]
name = "自治区级"
score = 5
"""

# (local receipt time, unit, status, sender); months by the time in Asia/Shanghai
ITEMS = [
    ("2019-04-30 23:59", "办公室", "counted", "bgs@example.cn"),             # April
    ("2019-05-01 00:00", "办公室", "counted", "bgs@example.cn"),             # May, first second
    ("2019-05-06 10:00", "办公室", "suspected", "bgs@example.cn"),
    ("2019-05-07 10:00", "办公室", "duplicate", "other@example.cn"),
    ("2019-05-08 10:00", "自然资源综合执法大队", "counted", "zfdd@example.cn"),
    ("2019-05-09 10:00", "自然资源综合执法大队", "counted", "zfdd@example.cn"),
    ("2019-05-10 10:00", "自然资源综合执法大队", "rejected", "zfdd@example.cn"),
    ("2019-05-11 10:00", "国土空间规划股", "counted", "ghg@example.cn"),
    ("2019-05-12 10:00", None, "unassigned", "who@example.cn"),
    ("2019-05-31 23:59", "国土空间规划股", "counted", "ghg@example.cn"),      # May, last minute
    ("2019-06-01 00:00", "国土空间规划股", "counted", "ghg@example.cn"),      # June
]
# (item index, channel, decided at (local)): an adoption counts in its item's month
ADOPTIONS = [
    (0, "自治区级", "2019-05-03 09:00"),   # April's item, adopted in May: April's score
    (1, "县政府网站", "2019-06-03 09:00"),  # May's item, adopted in June: May's score
    (1, "银川市级", "2019-05-03 09:00"),
    (4, "县政府网站", "2019-05-20 09:00"),
    (5, "县政府网站", "2019-05-20 09:00"),
    (7, "自治区级", "2019-05-20 09:00"),
]
INSTRUCTIONS = [(4, "伍庭利")]


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE).astimezone(UTC)


def populate(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for pk, (when, unit, status, sender) in enumerate(ITEMS, start=1):
                at = local(when)
                month = month_of(at, ZONE)
                connection.execute(insert(MessageRow), [{
                    "id": pk, "mailbox": "INBOX", "uidvalidity": 1, "uid": str(pk),
                    "raw_sha256": f"{pk:064x}", "raw_size": 1, "raw_path": f"raw/{pk}",
                    "message_id": f"{pk}@example.cn", "sender": sender, "subject": "",
                    "date_header": at, "received_at": at, "kind": "submission",
                    "reason": None, "detail": {}, "processed_at": at}])
                connection.execute(insert(Submission), [{
                    "id": pk, "message_pk": pk, "number": f"{month.replace('-', '')}-{pk:04d}",
                    "month": month, "unit": unit, "unit_source": "subject",
                    "title": f"第{pk}篇信息", "sender": sender, "received_at": at,
                    "status": status, "priority": "general", "warnings": []}])
            decisions = 0
            for index, channel, when in ADOPTIONS:
                decisions += 1
                _decide(connection, decisions, index + 1, "adopt", local(when))
                connection.execute(insert(Adoption), [{
                    "submission_id": index + 1, "channel": channel, "note": "", "by": "刘婧",
                    "at": local(when), "decision_id": decisions}])
            for index, leader in INSTRUCTIONS:
                decisions += 1
                _decide(connection, decisions, index + 1, "instruct", local("2019-05-21 09:00"))
                connection.execute(insert(Instruction), [{
                    "submission_id": index + 1, "leader": leader, "text": "", "by": "刘婧",
                    "at": local("2019-05-21 09:00"), "decision_id": decisions}])
            connection.execute(insert(Officer), [{
                "address": "zfdd@example.cn", "unit": "自然资源综合执法大队", "name": "张三",
                "source": "cli", "registered_at": local("2019-01-01 00:00")}])
    finally:
        engine.dispose()


def _decide(connection: Any, pk: int, submission: int, action: str, at: datetime) -> None:
    connection.execute(insert(Decision), [{
        "id": pk, "submission_id": submission, "action": action, "detail": {}, "by": "刘婧",
        "at": at, "source": "cli", "message_pk": None}])


def make_store(tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str,
               mode: str = "sum") -> Path:
    config = tmp_path / "mailroom.toml"
    config.write_text(CONFIG.format(url=url, mode=mode), encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    assert run(capsys, "--config", str(config), "db", "upgrade")[0] == 0
    populate(url)
    return config


@pytest.fixture
def sqlite_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_store(tmp_path, capsys, f"sqlite:///{tmp_path / 'mailroom.db'}")


ZERO = {"县政府网站": 0, "银川市级": 0, "自治区级": 0}
MAY = {
    "自然资源综合执法大队": {
        "submitted": 3, "counted": 2, "duplicates": 0, "suspected": 0, "rejected": 1,
        "adopted": 2, "adoptions": {**ZERO, "县政府网站": 2}, "score": 4, "quota": 3,
        "meets_quota": False, "rank": 2},
    "办公室": {
        "submitted": 3, "counted": 2, "duplicates": 1, "suspected": 1, "rejected": 0,
        "adopted": 1, "adoptions": {**ZERO, "县政府网站": 1, "银川市级": 1}, "score": 4,
        "quota": 2, "meets_quota": True, "rank": 2},
    "国土空间规划股": {
        "submitted": 2, "counted": 2, "duplicates": 0, "suspected": 0, "rejected": 0,
        "adopted": 1, "adoptions": {**ZERO, "自治区级": 1}, "score": 5, "quota": 2,
        "meets_quota": True, "rank": 1},
    "黄河生态林场": {
        "submitted": 0, "counted": 0, "duplicates": 0, "suspected": 0, "rejected": 0,
        "adopted": 0, "adoptions": ZERO, "score": 0, "quota": 2, "meets_quota": False,
        "rank": 4},
}


def check_may(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run(capsys, "--config", str(config), "report", "monthly", "--month",
                         "2019-05", "--format", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    assert data["period"] == "2019-05"
    # 规划股 scores 5: first; 办公室 and 执法大队 4 each with 2 counted: both second (in
    # config order), and the next rank is 4
    assert [u["unit"] for u in data["units"]] == [
        "国土空间规划股", "办公室", "自然资源综合执法大队", "黄河生态林场"]
    for line in data["units"]:
        assert line == {"unit": line["unit"], **MAY[line["unit"]]}, line["unit"]
    assert data["below_quota"] == ["自然资源综合执法大队", "黄河生态林场"]
    assert data["zero_report"] == ["黄河生态林场"]
    assert data["unassigned"] == 1
    return data


def check_csv(config: Path, capsys: pytest.CaptureFixture[str], data: dict[str, Any]) -> None:
    out_file = config.parent / "may.csv"
    code, _out, err = run(capsys, "--config", str(config), "report", "monthly", "--month",
                          "2019-05", "--format", "csv", "--out", str(out_file))
    assert code == 0, err
    raw = out_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [row["单位"] for row in rows] == [u["unit"] for u in data["units"]]
    for row, unit in zip(rows, data["units"], strict=True):
        assert int(row["排名"]) == unit["rank"]
        assert int(row["报送数"]) == unit["submitted"]
        assert int(row["计数（首报）"]) == unit["counted"]
        assert int(row["重复"]) == unit["duplicates"]
        assert int(row["待确认"]) == unit["suspected"]
        assert int(row["未计数"]) == unit["rejected"]  # a month with rejected items shows it
        assert int(row["采用篇数"]) == unit["adopted"]
        for channel, n in unit["adoptions"].items():
            assert int(row[f"采用：{channel}"]) == n
        assert float(row["得分"]) == unit["score"]
        assert int(row["任务数"]) == unit["quota"]
        assert row["完成任务"] == ("√" if unit["meets_quota"] else "×")


def test_monthly_report_on_sqlite(sqlite_config: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = check_may(sqlite_config, capsys)
    check_csv(sqlite_config, capsys, data)
    code, out, _err = run(capsys, "--config", str(sqlite_config), "report", "monthly",
                          "--month", "2019-05")
    assert code == 0
    assert out.startswith("永宁县自然资源局 2019年5月信息报送情况通报")
    assert "第5篇信息（县政府网站）★" in out  # the instructed item, starred
    assert "第1篇信息" not in out  # April's, adopted in May: not May's
    # 累计得分: the year through May (April's 5 for 办公室)
    office = next(line for line in out.splitlines() if "  办公室  " in line)
    assert office.split()[-4:] == ["4", "9", "2", "√"]


def test_monthly_report_on_postgresql(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      postgres_url: str) -> None:
    config = make_store(tmp_path, capsys, postgres_url)
    check_csv(config, capsys, check_may(config, capsys))
    annual = check_annual(config, capsys)
    assert [(r["sender"], r["score"], r["rank"]) for r in annual["reporters"]][:2] == [
        ("bgs@example.cn", 9, 1), ("ghg@example.cn", 5, 2)]


def test_highest_scoring_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_store(tmp_path, capsys, f"sqlite:///{tmp_path / 'h.db'}", mode="highest")
    code, out, _err = run(capsys, "--config", str(config), "report", "monthly", "--month",
                          "2019-05", "--format", "json")
    scores = {u["unit"]: u["score"] for u in json.loads(out)["units"]}
    assert scores == {"办公室": 3, "自然资源综合执法大队": 4, "国土空间规划股": 5,
                      "黄河生态林场": 0}


def check_annual(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run(capsys, "--config", str(config), "report", "annual", "--year", "2019",
                         "--format", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    assert data["period"] == "2019"
    units = {u["unit"]: u for u in data["units"]}
    office = units["办公室"]
    assert (office["submitted"], office["counted"], office["score"]) == (4, 3, 9)
    assert office["quota"] == 24 and office["meets_quota"] is False
    all_months = [f"2019-{m:02d}" for m in range(1, 13)]
    assert office["months_below_quota"] == [m for m in all_months if m != "2019-05"]
    assert units["国土空间规划股"]["submitted"] == 3
    assert units["黄河生态林场"]["months_below_quota"] == all_months
    assert data["zero_report"] == ["黄河生态林场"]
    assert data["unassigned"] == 1
    reporters = {r["sender"]: r for r in data["reporters"]}
    assert reporters["zfdd@example.cn"]["reporter"] == "张三"
    assert reporters["zfdd@example.cn"]["score"] == 4
    assert reporters["bgs@example.cn"]["reporter"] == "bgs@example.cn"
    assert "who@example.cn" not in reporters  # unassigned: nobody's
    return data


def test_annual_report_on_sqlite(sqlite_config: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    data = check_annual(sqlite_config, capsys)
    out_file = sqlite_config.parent / "2019.csv"
    code, _out, _err = run(capsys, "--config", str(sqlite_config), "report", "annual",
                           "--year", "2019", "--format", "csv", "--out", str(out_file))
    assert code == 0
    units_part, reporters_part = out_file.read_bytes().decode("utf-8-sig").split("\r\n\r\n")
    rows = list(csv.DictReader(io.StringIO(units_part, newline="")))
    assert [(r["单位"], int(r["得分"])) for r in rows] == [
        (u["unit"], u["score"]) for u in data["units"]]
    reporters = list(csv.DictReader(io.StringIO(reporters_part, newline="")))
    assert [r["邮箱"] for r in reporters] == [r["sender"] for r in data["reporters"]]
    code, out, _err = run(capsys, "--config", str(sqlite_config), "report", "annual",
                          "--year", "2019")
    assert code == 0 and "2019年度信息报送情况汇总" in out


def test_usage_and_binary_on_a_terminal(sqlite_config: Path,
                                        capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for args in (["--month", "2019-13"], ["--month", "2019-05", "--format", "pdf"],
                 ["--month", "2019-05", "--force"]):
        code, _out, err = run(capsys, "--config", str(sqlite_config), "report", "monthly", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, args
    code, _out, err = run(capsys, "--config", str(sqlite_config), "report", "annual",
                          "--year", "2999")
    assert code == 2 and "has not begun" in err
    monkeypatch.setitem(render.RENDERERS, "xlsx", lambda report: b"PK\x03\x04binary")
    code, out, err = run(capsys, "--config", str(sqlite_config), "report", "monthly",
                         "--month", "2019-05", "--format", "xlsx")
    assert code == 0 and out == "PK\x03\x04binary"  # to a pipe: the bytes
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    code, out, err = run(capsys, "--config", str(sqlite_config), "report", "monthly",
                         "--month", "2019-05", "--format", "xlsx")
    assert code == 2 and "binary" in err and out == ""


# -- --send ----------------------------------------------------------------------------------

def _sent(folder: Path) -> list[MimeMessage]:
    return [email.message_from_bytes(path.read_bytes())
            for path in sorted(folder.glob("*.eml"))]


def test_send_queues_and_writes_one_mail_per_period(
        sqlite_config: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("--config", str(sqlite_config), "report", "monthly", "--month", "2019-05")
    code, out, err = run(capsys, *args, "--send")
    assert code == 0, err
    assert "3 recipients" in out and "1 sent" in out
    [mail] = _sent(sqlite_config.parent / "sent")
    assert [a.strip() for a in mail["To"].split(",")] == [
        "office@example.cn", "head.bgs@example.cn", "head.zfdd@example.cn"]
    assert str(email.header.make_header(email.header.decode_header(mail["Subject"]))) == \
        "永宁县自然资源局 2019年5月信息报送情况通报"
    assert mail["Message-ID"].startswith("<mailroom.bulletin.")
    parts = {part.get_content_type(): part for part in mail.walk()}
    text = parts["text/plain"].get_payload(decode=True).decode("utf-8")
    assert text.startswith("永宁县自然资源局 2019年5月信息报送情况通报")
    html = parts["text/html"].get_payload(decode=True).decode("utf-8")
    assert "自然资源综合执法大队" in html and "<script" not in html
    names = [part.get_filename() for part in mail.walk() if part.get_filename()]
    assert names == [f"永宁县自然资源局 2019年5月信息报送情况通报.{fmt}"
                     for fmt in ("csv", "xlsx", "docx")]
    files = {part.get_filename().rsplit(".", 1)[1]: part.get_payload(decode=True)
             for part in mail.walk() if part.get_filename()}
    data = check_may(sqlite_config, capsys)
    csv_rows = list(csv.DictReader(io.StringIO(files["csv"].decode("utf-8-sig"), newline="")))
    assert [row["单位"] for row in csv_rows] == [unit["unit"] for unit in data["units"]]
    sheet = load_workbook(io.BytesIO(files["xlsx"])).worksheets[0]
    cells = [[cell.value.replace("\n", "") if isinstance(cell.value, str) else cell.value
              for cell in row] for row in sheet.iter_rows()]
    header = next(row for row in cells if "单位" in row)  # headings may break in two lines
    by_unit = {row[header.index("单位")]: row for row in cells if row[header.index("单位")]}
    for unit in data["units"]:
        row = by_unit[unit["unit"]]
        assert row[header.index("排名")] == unit["rank"]
        assert row[header.index("计数（首报）")] == unit["counted"]
        assert row[header.index("得分")] == unit["score"]
    document = Document(io.BytesIO(files["docx"]))
    assert any("2019年5月信息报送情况通报" in p.text for p in document.paragraphs)
    code, _out, err = run(capsys, *args, "--send")  # twice for one period: refused
    assert code == 2 and "already queued" in err and "--force" in err
    code, out, err = run(capsys, *args, "--send", "--force")
    assert code == 0, err
    second = _sent(sqlite_config.parent / "sent")
    assert len(second) == 2 and len({m["Message-ID"] for m in second}) == 2


def _may_report(config: Path) -> Any:
    from mailroom.app import App
    from mailroom.clock import FixedClock
    from mailroom.config import load_settings
    from mailroom.reports import service

    app = App.build(load_settings(config), FixedClock(datetime.now(UTC)))
    try:
        with app.sessions() as session:
            return service.monthly(session, app.settings, "2019-05", app.clock.now())
    finally:
        app.close()


def test_send_without_a_renderer_fails_clearly_and_queues_nothing(
        sqlite_config: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(render.RENDERERS, "docx")
    code, _out, err = run(capsys, "--config", str(sqlite_config), "report", "monthly",
                          "--month", "2019-05", "--send")
    assert code == 1 and "no docx renderer" in err
    assert not (sqlite_config.parent / "sent").exists() or \
        not _sent(sqlite_config.parent / "sent")
