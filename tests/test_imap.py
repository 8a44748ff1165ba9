"""ImapSource and connect() against a real Dovecot (tests/support/dovecot.py), no mocks."""

from __future__ import annotations

import base64
import logging
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from mailroom.errors import ConnectError, MailboxError
from mailroom.mailbox.base import FetchedMail, MailKey
from mailroom.mailbox.imap import (
    DONE_KEYWORD,
    ImapSource,
    connect,
    probe,
    server_folder_name,
)
from support.dovecot import DovecotServer, ImapAccount, free_port

pytestmark = pytest.mark.imap

SHANGHAI = timezone(timedelta(hours=8))
SourceFactory = Callable[..., ImapSource]
# filing method -> the capabilities to ignore so that ImapSource falls back to it
WITHOUT = {"move": (), "uidplus": ("MOVE",), "keyword": ("MOVE", "UIDPLUS")}


def mail(n: int, subject: str = "执法大队+巡查信息") -> bytes:
    """A raw mail with a GBK body and 8-bit bytes, to see it come back byte for byte."""
    body = f"第{n}条信息。".encode("gbk")
    return (b"From: zhang@example.cn\r\nTo: office@example.cn\r\n"
            b"Subject: =?UTF-8?B?" + base64.b64encode(subject.encode()) + b"?=\r\n"
            b"Message-ID: <" + str(n).encode() + b"@example.cn>\r\n"
            b"Content-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: 8bit\r\n"
            b"\r\n" + body + b"\r\n")


def fetch_all(source: ImapSource, batch_size: int = 50) -> list[FetchedMail]:
    return [m for batch in source.fetch(batch_size) for m in batch]


@pytest.fixture
def source_for(imap_account: ImapAccount) -> Iterator[SourceFactory]:
    """ImapSource factory for the test's account; every source made is closed afterwards."""
    made: list[ImapSource] = []

    def make(without: tuple[str, ...] = (), **overrides: Any) -> ImapSource:
        source = ImapSource(imap_account.settings(**overrides), timeout=10,
                            ignore_capabilities=without)
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


# -- fetching --------------------------------------------------------------------------------

def test_fetch_returns_exact_bytes_and_aware_internaldate(imap_account: ImapAccount,
                                                          source_for: SourceFactory) -> None:
    first = datetime(2019, 6, 1, 0, 5, tzinfo=SHANGHAI)
    second = datetime(2019, 5, 31, 17, 0, tzinfo=UTC)  # later instant, other offset
    uid1 = imap_account.append(mail(1), first)
    uid2 = imap_account.append(mail(2), second)
    source = source_for()

    fetched = fetch_all(source)

    assert [m.raw for m in fetched] == [mail(1), mail(2)]
    assert [m.received_at for m in fetched] == [first, second]
    assert all(m.received_at.utcoffset() is not None for m in fetched)
    # the instant survives; the offset is the server's (Dovecot/Maildir keeps no zone)
    assert fetched[0].received_at.astimezone(UTC) == datetime(2019, 5, 31, 16, 5, tzinfo=UTC)
    with imap_account.client() as client:
        uidvalidity = client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"]
    port = imap_account.settings().effective_port
    assert [m.key for m in fetched] == [
        MailKey(f"imap://{imap_account.username}@127.0.0.1:{port}/INBOX", uidvalidity, str(uid))
        for uid in (uid1, uid2)]
    assert [m.sort_uid for m in fetched] == [uid1, uid2]
    assert source.name == fetched[0].key.mailbox


def test_fetch_leaves_seen_unset(imap_account: ImapAccount, source_for: SourceFactory) -> None:
    imap_account.append(mail(1), datetime(2019, 6, 3, 9, 0, tzinfo=SHANGHAI))
    assert len(fetch_all(source_for())) == 1
    assert all(b"\\Seen" not in flags for flags in imap_account.flags().values())


def test_batches_are_bounded_and_in_arrival_order(imap_account: ImapAccount,
                                                  source_for: SourceFactory) -> None:
    base = datetime(2019, 6, 10, 8, 0, tzinfo=SHANGHAI)
    offsets = [5, 1, 3, 1, 0, 4, 2]  # minutes; two mails share one INTERNALDATE
    uids = [imap_account.append(mail(n), base + timedelta(minutes=m))
            for n, m in enumerate(offsets)]
    batches = list(source_for().fetch(batch_size=3))

    assert [len(b) for b in batches] == [3, 3, 1]
    order = [(m.received_at, m.sort_uid) for b in batches for m in b]
    assert order == sorted(order)
    assert sorted(m.sort_uid for b in batches for m in b) == uids
    same_minute = [m.sort_uid for b in batches for m in b
                   if m.received_at == base + timedelta(minutes=1)]
    assert same_minute == [uids[1], uids[3]]


def test_batches_also_end_at_the_byte_budget(imap_account: ImapAccount) -> None:
    for n in range(3):
        imap_account.append(mail(n), datetime(2019, 6, 1, 8, n, tzinfo=SHANGHAI))
    source = ImapSource(imap_account.settings(), max_batch_bytes=len(mail(0)) + 1)
    try:
        assert [len(b) for b in source.fetch(batch_size=50)] == [1, 1, 1]
    finally:
        source.close()


def test_empty_inbox_yields_nothing(source_for: SourceFactory) -> None:
    assert list(source_for().fetch()) == []


# -- filing away: MOVE, UIDPLUS, keyword ----------------------------------------------------

@pytest.mark.parametrize("method", WITHOUT)
def test_mark_processed_and_failed_lose_nothing(imap_account: ImapAccount,
                                                source_for: SourceFactory, method: str) -> None:
    for n in range(5):
        imap_account.append(mail(n), datetime(2019, 6, 2, 10, n, tzinfo=SHANGHAI))
    # a mail someone else flagged \Deleted must survive our UID EXPUNGE
    bystander = imap_account.append(mail(99), datetime(2019, 6, 2, 11, 0, tzinfo=SHANGHAI),
                                    flags=[b"\\Deleted"])
    source = source_for(WITHOUT[method])
    assert source.filing_method() == method
    fetched = [m for m in fetch_all(source) if m.sort_uid != bystander]

    source.mark_processed([m.key for m in fetched[:3]])
    source.mark_failed([m.key for m in fetched[3:4]])

    assert imap_account.messages("mailroom/processed") == [m.raw for m in fetched[:3]]
    assert imap_account.messages("mailroom/failed") == [fetched[3].raw]
    inbox = imap_account.uids()
    assert bystander in inbox
    if method == "keyword":  # copied and marked, never removed
        assert len(inbox) == 6
        flags = imap_account.flags()
        assert all(DONE_KEYWORD.encode() in flags[m.sort_uid] for m in fetched[:4])
        assert not any(b"\\Deleted" in flags[m.sort_uid] for m in fetched)
    else:
        assert sorted(inbox) == sorted([fetched[4].sort_uid, bystander])
    left = fetch_all(source)
    assert sorted(m.sort_uid for m in left) == sorted([fetched[4].sort_uid, bystander])
    assert imap_account.count("mailroom/processed") + imap_account.count("mailroom/failed") \
        + len(left) == 6


def test_stale_uidvalidity_keys_are_left_alone(imap_account: ImapAccount, source_for: SourceFactory,
                                               caplog: pytest.LogCaptureFixture) -> None:
    imap_account.append(mail(1), datetime(2019, 6, 2, 10, 0, tzinfo=SHANGHAI))
    source = source_for()
    (fetched,) = fetch_all(source)
    stale = MailKey(fetched.key.mailbox, fetched.key.uidvalidity + 1, fetched.key.uid)

    with caplog.at_level(logging.WARNING, logger="mailroom"):
        source.mark_processed([stale])

    assert imap_account.count() == 1
    assert imap_account.count("mailroom/processed") == 0
    assert "UIDVALIDITY" in caplog.text


def test_keys_of_another_mailbox_are_refused(source_for: SourceFactory) -> None:
    with pytest.raises(ValueError):
        source_for().mark_processed([MailKey("imap://other@host:993/INBOX", 1, "1")])


def test_nested_and_chinese_folders_are_created(imap_account: ImapAccount,
                                                source_for: SourceFactory) -> None:
    imap_account.append(mail(1), datetime(2019, 6, 2, 10, 0, tzinfo=SHANGHAI))
    source = source_for(processed_folder="mailroom/已处理", failed_folder="信息报送/失败/2019")
    (fetched,) = fetch_all(source)
    source.mark_processed([fetched.key])

    folders = imap_account.folders()
    assert {"mailroom/已处理", "信息报送/失败/2019"} <= set(folders)
    assert imap_account.messages("mailroom/已处理") == [fetched.raw]
    with imap_account.client() as client:  # on the wire: modified UTF-7
        client.folder_encode = False
        assert b"mailroom.&XfJZBHQG-" in [name for _f, _d, name in client.list_folders()]


def test_folder_names_map_to_the_server_delimiter() -> None:
    assert server_folder_name("mailroom/processed", ".") == "mailroom.processed"
    assert server_folder_name("mailroom/processed", "/") == "mailroom/processed"
    assert server_folder_name("INBOX", None) == "INBOX"
    with pytest.raises(MailboxError, match="delimiter"):
        server_folder_name("mailroom/v1.0", ".")
    with pytest.raises(MailboxError, match="hierarchy"):
        server_folder_name("mailroom/processed", None)


# -- connecting: TLS, errors by stage -------------------------------------------------------

@pytest.mark.parametrize(("security", "host"), [("tls", "127.0.0.1"), ("starttls", "localhost")])
def test_tls_verifies_with_the_ca_file(dovecot: DovecotServer, imap_account: ImapAccount,
                                       security: str, host: str) -> None:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    settings = imap_account.settings(host=host, port=port, security=security,
                                     ca_file=str(dovecot.ca_file))
    imap_account.append(mail(1), datetime(2019, 6, 2, 10, 0, tzinfo=SHANGHAI))
    source = ImapSource(settings)
    try:
        assert [m.raw for m in fetch_all(source)] == [mail(1)]
    finally:
        source.close()
    assert dovecot.wait_for_log(f"user=<{imap_account.username}>, method=PLAIN")
    assert "TLS" in dovecot.log_text().split(f"user=<{imap_account.username}>")[-1]


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_without_the_ca_fails_at_stage_tls(dovecot: DovecotServer, imap_account: ImapAccount,
                                               security: str) -> None:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    settings = imap_account.settings(security=security, port=port)  # system store only
    with pytest.raises(ConnectError) as caught:
        connect(settings, timeout=10)
    assert caught.value.stage == "tls"
    assert "not trusted" in str(caught.value) and "ca_file" in str(caught.value)


def test_tls_on_a_plaintext_port_fails_at_stage_tls(dovecot: DovecotServer,
                                                    imap_account: ImapAccount) -> None:
    settings = imap_account.settings(security="tls", ca_file=str(dovecot.ca_file))
    with pytest.raises(ConnectError) as caught:
        connect(settings, timeout=10)
    assert caught.value.stage == "tls"


def test_missing_starttls_never_falls_back_to_plaintext(dovecot: DovecotServer,
                                                        imap_account: ImapAccount) -> None:
    settings = imap_account.settings(security="starttls", ca_file=str(dovecot.ca_file))
    with pytest.raises(ConnectError) as caught:
        connect(settings, timeout=10, ignore_capabilities={"STARTTLS"})
    assert caught.value.stage == "tls"
    assert "STARTTLS" in str(caught.value)
    assert f"user=<{imap_account.username}>" not in dovecot.log_text()


def test_wrong_password_fails_at_stage_login_without_showing_it(
        imap_account: ImapAccount, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Wr0ng-pa55word-xyzzy"
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="imapclient")
    with pytest.raises(ConnectError) as caught:
        connect(imap_account.settings(password=secret), timeout=10)
    assert caught.value.stage == "login"
    assert imap_account.username in str(caught.value)
    assert "Authentication failed" in str(caught.value)
    for text in (str(caught.value), repr(caught.value.args), caplog.text):
        assert secret not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_right_password_is_not_logged_either(imap_account: ImapAccount,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="imapclient")
    connect(imap_account.settings(), timeout=10).logout()
    assert "LOGIN" in caplog.text  # imapclient's debug log is on ...
    assert imap_account.password not in caplog.text  # ... and redacts it


def test_non_ascii_password_logs_in_with_sasl_plain(dovecot: DovecotServer,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    secret = "信息报送-密码"
    user = dovecot.user("chinese-password", password=secret)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="imapclient")
    connect(dovecot.settings(user), timeout=10).logout()
    encoded = base64.b64encode(f"\0{user.username}\0{secret}".encode()).decode()
    assert secret not in caplog.text and encoded not in caplog.text


def test_closed_port_fails_at_stage_tcp(imap_account: ImapAccount) -> None:
    with pytest.raises(ConnectError) as caught:
        connect(imap_account.settings(port=free_port()), timeout=5)
    assert caught.value.stage == "tcp"
    assert "refused" in str(caught.value).lower()


def test_unresolvable_host_fails_at_stage_dns(imap_account: ImapAccount) -> None:
    with pytest.raises(ConnectError) as caught:
        connect(imap_account.settings(host="nonexistent.invalid"), timeout=5)
    assert caught.value.stage == "dns"
    assert "nonexistent.invalid" in str(caught.value)


def test_imap_id_is_sent_after_login(dovecot: DovecotServer, imap_account: ImapAccount,
                                     source_for: SourceFactory) -> None:
    name = f"mailroom-{imap_account.username}"
    list(source_for(client_id={"name": name, "version": "9.9"}).fetch())
    assert dovecot.wait_for_log(f"ID sent: name={name}, version=9.9")


def test_probe_reports_what_check_needs(imap_account: ImapAccount) -> None:
    imap_account.append(mail(1), datetime(2019, 6, 2, 10, 0, tzinfo=SHANGHAI))
    lines = probe(imap_account.settings(), timeout=10)
    text = "\n".join(lines)
    assert "MOVE" in text and "IDLE" in text
    assert "folder INBOX: 1 messages" in text
    assert "folder mailroom.processed: will be created" in text
    assert imap_account.folders() == ["INBOX"]  # check changes nothing


def test_probe_names_a_missing_folder(imap_account: ImapAccount) -> None:
    with pytest.raises(ConnectError) as caught:
        probe(imap_account.settings(folder="收件箱"), timeout=10)
    assert caught.value.stage == "select"


# -- NetEase: SELECT refused as "Unsafe Login" without IMAP ID ------------------------------

class NetEaseLike(socketserver.StreamRequestHandler):
    """Just enough of imap.126.com: SELECT says 'Unsafe Login' unless ID was sent."""

    CAPABILITY = b"IMAP4rev1 XLIST SPECIAL-USE ID LITERAL+ STARTTLS UIDPLUS"

    def handle(self) -> None:
        self.wfile.write(b"* OK Coremail System IMap Server Ready(NetEase)\r\n")
        identified = False
        for line in self.rfile:
            tag, command, *args = line.rstrip(b"\r\n").split(b" ", 2)
            reply = [b"OK " + command + b" completed"]
            match command.upper():
                case b"CAPABILITY":
                    reply.insert(0, b"* CAPABILITY " + self.CAPABILITY)
                case b"ID":
                    identified = True
                    reply.insert(0, b'* ID ("name" "Coremail Imap")')
                case b"LIST" if args == [b'"" ""']:
                    reply.insert(0, b'* LIST (\\NoSelect) "/" ""')
                case b"SELECT" | b"EXAMINE" if not identified:
                    reply = [b"NO SELECT Unsafe Login. Please contact kefu@188.com for help"]
                case b"SELECT" | b"EXAMINE":
                    reply[:0] = [b"* 0 EXISTS", b"* OK [UIDVALIDITY 1] UIDs valid"]
                case b"LOGOUT":
                    reply.insert(0, b"* BYE bye")
            self.wfile.write(b"".join(r if r.startswith(b"*") else tag + b" " + r
                                      for r in (r + b"\r\n" for r in reply)))
            if command.upper() == b"LOGOUT":
                return


@pytest.fixture
def netease() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), NetEaseLike)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_unsafe_login_without_id_names_client_id(imap_account: ImapAccount, netease: int) -> None:
    settings = imap_account.settings(port=netease)
    source = ImapSource(settings, ignore_capabilities={"ID"})
    with pytest.raises(ConnectError) as caught:
        list(source.fetch())
    source.close()
    assert caught.value.stage == "select"
    assert "client_id" in str(caught.value) and "Unsafe Login" in str(caught.value)
    # with ID sent (the default), the same server lets us in
    assert "folder INBOX: 0 messages, UIDVALIDITY 1" in probe(settings, timeout=5)


# -- waiting for mail -----------------------------------------------------------------------

def test_idle_wakes_up_when_mail_arrives(imap_account: ImapAccount,
                                         source_for: SourceFactory) -> None:
    source = source_for()
    assert list(source.fetch()) == []
    timer = threading.Timer(0.5, imap_account.append,
                            (mail(1), datetime(2019, 6, 2, 10, 0, tzinfo=SHANGHAI)))
    started = time.monotonic()
    timer.start()
    try:
        assert source.wait_for_mail(timeout=5) is True
    finally:
        timer.join()
    assert time.monotonic() - started < 4
    assert [m.raw for m in fetch_all(source)] == [mail(1)]


def test_idle_times_out_quietly_and_sees_mail_that_came_before_it(
        imap_account: ImapAccount, source_for: SourceFactory
) -> None:
    source = source_for()
    imap_account.append(mail(1), datetime(2019, 6, 2, 10, 0, tzinfo=SHANGHAI))
    fetch_all(source)
    assert source.wait_for_mail(timeout=0.3) is False
    imap_account.append(mail(2), datetime(2019, 6, 2, 10, 1, tzinfo=SHANGHAI))
    started = time.monotonic()
    assert source.wait_for_mail(timeout=5) is True
    assert time.monotonic() - started < 1


def test_without_idle_the_caller_polls(source_for: SourceFactory) -> None:
    for source in (source_for(idle=False), source_for(("IDLE",))):
        started = time.monotonic()
        assert source.wait_for_mail(timeout=5) is False
        assert time.monotonic() - started < 1


# -- a dropped connection ---------------------------------------------------------------------

def test_dropped_connection_is_reported_then_reopened(dovecot: DovecotServer,
                                                      imap_account: ImapAccount,
                                                      source_for: SourceFactory) -> None:
    imap_account.append(mail(1), datetime(2019, 6, 2, 10, 0, tzinfo=SHANGHAI))
    source = source_for()
    (fetched,) = fetch_all(source)
    dovecot.kick(imap_account.user)
    time.sleep(0.2)
    with pytest.raises(MailboxError):
        source.mark_processed([fetched.key])
    source.mark_processed([fetched.key])  # reconnects; same UIDVALIDITY, same UID
    assert imap_account.count("mailroom/processed") == 1
    source.close()
    source.close()


def test_idle_reports_a_dropped_connection_promptly(dovecot: DovecotServer,
                                                    imap_account: ImapAccount,
                                                    source_for: SourceFactory) -> None:
    source = source_for()
    list(source.fetch())
    timer = threading.Timer(0.3, dovecot.kick, (imap_account.user,))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(MailboxError):
            source.wait_for_mail(timeout=5)
    finally:
        timer.join()
    assert time.monotonic() - started < 2
    imap_account.append(mail(1), datetime(2019, 6, 2, 10, 0, tzinfo=SHANGHAI))
    assert len(fetch_all(source)) == 1  # reconnected

