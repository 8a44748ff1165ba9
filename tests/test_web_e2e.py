"""A decision made in the console is the office's decision everywhere: the CLI's JSON
report counts it, `submissions show` lists it, and the next digest names who made it."""

from __future__ import annotations

import json

import pytest

from support.cli import run
from support.web import OFFICE, Client, Site


def test_console_decisions_reach_the_report_show_and_digest(
        site: Site, office: Client, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(site.config)
    code, before, _ = run(capsys, "--config", config, "report", "monthly", "--month", "2019-05",
                          "--format", "json")
    assert code == 0
    adopted = office.post("/items/201905-0011/adopt", {"channel": "县政府网站", "note": "首页",
                                                      "next": "/items/201905-0011"})
    assert adopted.status_code == 303
    distinct = office.post("/items/201905-0012/review", {"decision": "distinct",
                                                        "next": "/decide"})
    assert distinct.status_code == 303 and distinct.headers["Location"] == "/decide"

    code, after, _ = run(capsys, "--config", config, "report", "monthly", "--month", "2019-05",
                         "--format", "json")
    rows = {row["unit"]: row for row in json.loads(after)["units"]}
    old = {row["unit"]: row for row in json.loads(before)["units"]}
    assert rows["国土空间规划股"]["adopted"] == old["国土空间规划股"]["adopted"] + 1
    assert rows["办公室"]["counted"] == old["办公室"]["counted"] + 1

    code, shown, _ = run(capsys, "--config", config, "submissions", "show", "201905-0012",
                         "--format", "json")
    view = json.loads(shown)
    assert view["status"] == "counted"
    assert [(d["by"], d["source"]) for d in view["decisions"]][-1:] == [(OFFICE, "web")]

    code, digest, _ = run(capsys, "--config", config, "report", "digest")
    assert code == 0
    assert f"（{OFFICE}，网页）" in digest
    assert "201905-0011" in digest and "201905-0012" in digest
