"""End to end with the CLI: Dovecot in, the SMTP test server out; a process killed after
the commit and before the send; the daemon sending receipts as mail arrives."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

from support.dovecot import ImapAccount
from support.mail import make_mail
from support.smtp import SmtpServer
from test_daemon import daemon, processed, wait_until

CST = timezone(timedelta(hours=8))
AT = datetime(2019, 5, 8, 9, 30, tzinfo=CST)


def write_config(tmp_path: Path, imap: ImapAccount, smtp: SmtpServer, extra: str = "") -> Path:
    config = tmp_path / "mailroom.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "mailroom.db"}"\n'
        f'[imap]\nhost = "127.0.0.1"\nport = {imap.settings().port}\nsecurity = "plain"\n'
        f'username = "{imap.username}"\npassword_env = "TEST_IMAP_PASSWORD"\n'
        f'poll_interval = 3600\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "{smtp.security}"\n'
        f'username = "{smtp.username}"\npassword_env = "TEST_SMTP_PASSWORD"\n'
        f'ca_file = "{smtp.ca_file}"\nsender = "{smtp.username}"\nmax_per_minute = 100\n'
        '[office]\naddresses = ["leader@example.cn"]\n'
        '[[units]]\nname = "自然资源综合执法大队"\naliases = ["执法大队"]\n'
        'officers = ["zfdd@example.cn"]\n'
        '[[units]]\nname = "望远林业站"\n' + extra,
        encoding="utf-8")
    return config


def environment(imap: ImapAccount, smtp: SmtpServer) -> dict[str, str]:
    return {**os.environ, "TEST_IMAP_PASSWORD": imap.password,
            "TEST_SMTP_PASSWORD": smtp.password}


def mailroom(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailroom", "--config", str(config), *args],
                          capture_output=True, text=True, env=env, timeout=120)


def outbox_rows(database: Path) -> list[tuple[str, str, str]]:
    if not database.exists():
        return []
    with closing(sqlite3.connect(database, timeout=10)) as connection:
        try:
            return list(connection.execute(
                "SELECT purpose, status, message_id FROM outbox ORDER BY id"))
        except sqlite3.OperationalError:  # the schema is not there yet
            return []


def test_a_month_through_dovecot_and_smtp_with_the_cli(
    tmp_path: Path, imap_account: ImapAccount, smtp_server: SmtpServer
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    env = environment(imap_account, smtp_server)
    mails = [
        make_mail("执法大队+开展违法用地专项整治", attachments=[
            ("执法大队+开展违法用地专项整治.docx", b"PK"), ("签字稿.pdf", b"%PDF")]),
        make_mail("自动回复：收到", headers={"Auto-Submitted": "auto-replied"}),
        make_mail("每周简报", sender="news@lists.example.cn",
                  headers={"List-Id": "<weekly.example.cn>", "Precedence": "list"}),
        b"Return-Path: <>\n" + make_mail("Undelivered Mail Returned to Sender",
                                          sender="MAILER-DAEMON@mx.example.cn"),
        make_mail("望远林业站+信息员王五", sender="wangwu@163.com"),
        make_mail("开展护林防火巡查", sender="wangwu@163.com"),
        make_mail("【紧急】执法大队+某村发生山体滑坡",
                  body="今日8时许某村发生山体滑坡，无人员伤亡。"),
    ]
    for index, raw in enumerate(mails):
        imap_account.append(raw, AT + timedelta(minutes=index))
    polled = mailroom(config, env, "poll", "--once")
    assert polled.returncode == 0, polled.stderr
    assert "outbox: 5 sent, 0 to retry, 0 failed" in polled.stdout
    assert smtp_server.password not in polled.stdout + polled.stderr
    by_rcpt = [(r.rcpt_tos, r.message["X-Mailroom"]) for r in smtp_server.received]
    assert by_rcpt == [
        (("zfdd@example.cn",), "receipt"),
        (("wangwu@163.com",), "roster"),
        (("wangwu@163.com",), "receipt"),
        (("zfdd@example.cn",), "receipt"),
        (("leader@example.cn",), "alert"),
    ]
    for received in smtp_server.received:
        message = received.message
        if message["X-Mailroom"] != "alert":
            assert message["Auto-Submitted"] == "auto-replied" and message["In-Reply-To"]
    forest = smtp_server.received[2].message.get_body(("plain",)).get_content()
    assert "单位：望远林业站" in forest and "本月（2019-05）望远林业站已计数 1 篇" in forest
    assert imap_account.count("INBOX") == 0
    again = mailroom(config, env, "poll", "--once")
    assert again.returncode == 0 and len(smtp_server.received) == 5


def test_killed_after_the_commit_before_the_send_sends_exactly_once_after_restart(
    tmp_path: Path, imap_account: ImapAccount, smtp_server: SmtpServer
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    env = environment(imap_account, smtp_server)
    imap_account.append(make_mail("执法大队+开展执法检查"), AT)
    smtp_server.stall()  # the server takes the connection, then hangs at MAIL FROM
    process = subprocess.Popen(
        [sys.executable, "-m", "mailroom", "--config", str(config), "poll", "--once"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        database = tmp_path / "mailroom.db"
        assert wait_until(lambda: smtp_server.connections == 1, timeout=60)
        [(purpose, status, message_id)] = outbox_rows(database)  # committed, not yet sent
        assert (purpose, status) == ("receipt", "pending")
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    smtp_server.release()
    assert smtp_server.received == []
    restarted = mailroom(config, env, "poll", "--once")
    assert restarted.returncode == 0, restarted.stderr
    assert "outbox: 1 sent" in restarted.stdout
    [received] = smtp_server.received
    assert received.message["Message-ID"] == f"<{message_id}>"
    assert mailroom(config, env, "poll", "--once").returncode == 0
    assert len(smtp_server.received) == 1
    assert outbox_rows(database) == [("receipt", "sent", message_id)]


def test_daemon_sends_receipts_as_mail_arrives(
    tmp_path: Path, imap_account: ImapAccount, smtp_server: SmtpServer
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    assert mailroom(config, environment(imap_account, smtp_server), "db", "upgrade"
                    ).returncode == 0
    env = {"TEST_IMAP_PASSWORD": imap_account.password,
           "TEST_SMTP_PASSWORD": smtp_server.password}
    with daemon(config, env) as process:
        imap_account.append(make_mail("执法大队+启动后到的信息"), AT)
        assert wait_until(lambda: len(smtp_server.received) == 1)
        assert processed(imap_account) == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        _out, err = process.communicate()
    assert smtp_server.password not in err
