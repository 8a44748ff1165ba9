from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from mailroom.config import load_settings, parse_settings
from mailroom.errors import ConfigError
from mailroom.store.database import make_engine

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mailroom.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_documents_and_accepts_every_key(tmp_path: Path) -> None:
    settings = load_settings(ROOT / "config.example.toml")
    assert settings.timezone == "Asia/Shanghai"
    assert settings.imap is not None and settings.imap.client_id.name == "mailroom"
    assert settings.dedupe.duplicate_threshold == 90
    data = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    sections = {key for key, value in data.items() if isinstance(value, dict | list)}
    assert {"database", "storage", "imap", "maildir", "smtp", "outbox", "office", "quota",
            "dedupe", "receipts", "checks", "urgent", "scoring", "units",
            "adoption_channels", "schedule", "web"} <= sections
    assert settings.office.name == "" and settings.web.listen == "127.0.0.1:8025"


def test_defaults_match_spec(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[maildir]\npath = "inbox"\n'))
    assert settings.quota.monthly_minimum == 2
    assert settings.receipts.max_per_sender_per_hour == 10
    assert settings.checks.signed_scan == "warn"
    assert settings.scoring.mode == "sum"
    assert settings.schedule.digest == "0 17 * * *"
    assert settings.database.url == f"sqlite:///{tmp_path.resolve() / 'var/mailroom.db'}"
    assert settings.storage.path == str(tmp_path.resolve() / "var/store")
    assert settings.web.secret_file == str(tmp_path.resolve() / "var/web.secret")


def test_relative_paths_are_relative_to_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "m.toml"
    path.write_text('[maildir]\npath = "../inbox"\n[storage]\npath = "store"\n'
                    '[database]\nurl = "sqlite:///db/m.db"\n', encoding="utf-8")
    settings = load_settings(path)
    assert settings.maildir is not None
    assert settings.maildir.path == str((tmp_path / "inbox").resolve())
    assert settings.storage.path == str((tmp_path / "etc" / "store").resolve())
    assert settings.database.url.endswith(str(tmp_path / "etc" / "db" / "m.db"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[maildir]\npath = "x"\n[imap]\nhost = "h"\n', "missing required key 'imap.username'"),
        ('foo = 1\n[maildir]\npath = "x"\n', "unknown key 'foo'"),
        ('[maildir]\npath = "x"\n[quota]\nmonthly_minimun = 3\n',
         "unknown key 'quota.monthly_minimun'"),
        ('[maildir]\npath = "x"\n[quota]\nmonthly_minimum = "two"\n',
         "key 'quota.monthly_minimum'"),
        ('[maildir]\npath = "x"\n[imap]\nhost = "h"\nusername = "u"\nsecurity = "ssl"\n',
         "key 'imap.security'"),
        ('[maildir]\npath = "x"\n[checks]\nsigned_scan = "block"\n', "key 'checks.signed_scan'"),
        ('[maildir]\npath = "x"\n[[units]]\naliases = ["a"]\n', "missing required key "
                                                               "'units.0.name'"),
        ('timezone = "Mars/Olympus"\n[maildir]\npath = "x"\n', "unknown time zone"),
        ('[maildir]\npath = "x"\n[dedupe]\nduplicate_threshold = 70\n', "suspect_threshold"),
        ('[storage]\npath = "x"\n', "no mailbox configured"),
        ('[maildir\npath = "x"\n', "not valid TOML"),
    ],
)
def test_bad_config_names_file_key_and_expectation(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_one_password_source_only_and_never_shown(tmp_path: Path) -> None:
    text = ('[maildir]\npath = "x"\n[imap]\nhost = "h"\nusername = "u"\n'
            'password = "hunter2-secret"\npassword_env = "X"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    assert "only one of password" in str(caught.value)
    assert "hunter2-secret" not in str(caught.value)


def test_password_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret").write_text("from-file\n", encoding="utf-8")
    base = {"maildir": {"path": "x"}}
    imap = {"host": "h", "username": "u"}
    by_value = parse_settings({**base, "imap": {**imap, "password": "plain-pw"}})
    assert by_value.imap is not None
    assert by_value.imap.resolve_password() == "plain-pw"
    assert "plain-pw" not in repr(by_value) and "plain-pw" not in str(by_value.model_dump())
    by_file = load_settings(write(tmp_path, '[maildir]\npath = "x"\n[imap]\nhost = "h"\n'
                                            'username = "u"\npassword_file = "secret"\n'))
    assert by_file.imap is not None and by_file.imap.resolve_password() == "from-file"
    monkeypatch.setenv("MR_PW", "from-env")
    by_env = parse_settings({**base, "imap": {**imap, "password_env": "MR_PW"}})
    assert by_env.imap is not None and by_env.imap.resolve_password() == "from-env"
    monkeypatch.delenv("MR_PW")
    with pytest.raises(ConfigError, match=r"\$MR_PW, which is not set"):
        by_env.imap.resolve_password()


def test_ports_default_by_security() -> None:
    base = {"maildir": {"path": "x"}}
    tls = parse_settings({**base, "imap": {"host": "h", "username": "u"},
                          "smtp": {"host": "h", "sender": "a@b"}})
    assert tls.imap is not None and tls.imap.effective_port == 993
    assert tls.smtp is not None and tls.smtp.effective_port == 465
    plain = parse_settings({**base, "imap": {"host": "h", "username": "u",
                                             "security": "starttls"}})
    assert plain.imap is not None and plain.imap.effective_port == 143


def test_duplicate_unit_names_rejected() -> None:
    with pytest.raises(ConfigError, match="name given more than once: 法规股"):
        parse_settings({"maildir": {"path": "x"},
                        "units": [{"name": "法规股"}, {"name": "法规股"}]})


# --- the roster: one unit per name, alias and officer address -------------------------

ROSTER_BASE = '[maildir]\npath = "x"\n'


@pytest.mark.parametrize(("units", "expected"), [
    ('[[units]]\nname = "自然资源综合执法大队"\naliases = ["执法大队"]\n'
     '[[units]]\nname = "执法中队"\naliases = ["执法大队"]\n',
     "alias '执法大队' is given to both '自然资源综合执法大队' and '执法中队'"),
    ('[[units]]\nname = "国土空间规划股"\n[[units]]\nname = "耕地保护股"\n'
     'aliases = ["国土空间规划股"]\n',
     "alias '国土空间规划股' of '耕地保护股' is the name of the unit '国土空间规划股'"),
    # as the subject matcher compares them: full-width letters, spaces
    ('[[units]]\nname = "GIS中心"\n[[units]]\nname = "信息中心"\naliases = ["ＧＩＳ 中心"]\n',
     "alias 'ＧＩＳ 中心' of '信息中心' is the name of the unit 'GIS中心'"),
    ('[[units]]\nname = "法规股"\n[[units]]\nname = "法规 股"\n',
     "name given more than once: 法规股 / 法规 股"),
    ('[[units]]\nname = "国土空间规划股"\nofficers = ["Wang@Example.cn"]\n'
     '[[units]]\nname = "耕地保护股"\nofficers = ["wang@example.CN"]\n',
     "officer 'wang@example.CN' is listed under both '国土空间规划股' and '耕地保护股'"),
    ('[[units]]\nname = "国土空间规划股"\nofficers = ["王芳"]\n',
     "key 'units.0.officers.0' (unit '国土空间规划股'): expected a mail address"),
    ('[[units]]\nname = "国土空间规划股"\nheads = ["ok@example.cn", "li at example.cn"]\n',
     "key 'units.0.heads.1' (unit '国土空间规划股'): expected a mail address"),
    ('[office]\naddresses = ["office"]\n', "key 'office.addresses.0': expected a mail address"),
    ('[[units]]\nname = "国土空间规划股"\naliases = [""]\n', "key 'units.0.aliases.0'"),
])
def test_an_ambiguous_roster_is_refused_naming_the_units(
    tmp_path: Path, units: str, expected: str
) -> None:
    path = write(tmp_path, ROSTER_BASE + units)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)


def test_an_alias_may_repeat_its_own_units_name_and_heads_may_head_two_units() -> None:
    settings = parse_settings({"maildir": {"path": "x"}, "units": [
        {"name": "执法大队", "aliases": ["执法大队", "执法 大队"], "heads": ["li@example.cn"],
         "officers": ["a@example.cn", "A@example.cn"]},
        {"name": "规划股", "heads": ["li@example.cn"]}]})
    assert [unit.name for unit in settings.units] == ["执法大队", "规划股"]


# --- strict types -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("[dedupe]\nwindow_days = true\n", "key 'dedupe.window_days': expected an integer (got True)"),
    ('[quota]\nmonthly_minimum = "2"\n',
     "key 'quota.monthly_minimum': expected an integer (got '2')"),
    ("[quota]\nmonthly_minimum = 2.0\n",
     "key 'quota.monthly_minimum': expected an integer (got 2.0)"),
    ('[dedupe]\nduplicate_threshold = "95"\n',
     "key 'dedupe.duplicate_threshold': expected a number (got '95')"),
    ("[scoring]\ninstruction_bonus = false\n",
     "key 'scoring.instruction_bonus': expected a number (got False)"),
    ('[imap]\nhost = 5\nusername = "u"\n', "key 'imap.host': expected a string (got 5)"),
    ('[imap]\nhost = "h"\nusername = "u"\nidle = "yes"\n',
     "key 'imap.idle': expected true or false (got 'yes')"),
    ('[imap]\nhost = "h"\nusername = "u"\nport = "993"\n',
     "key 'imap.port': expected an integer (got '993')"),
    ('[[units]]\nname = "规划股"\naliases = "规划"\n',
     "key 'units.0.aliases' (unit '规划股'): expected a list"),
    ('[[units]]\nname = "规划股"\nquota = "3"\n',
     "key 'units.0.quota' (unit '规划股'): expected an integer (got '3')"),
    ('[[adoption_channels]]\nname = "县政府网站"\nscore = "1"\n',
     "key 'adoption_channels.0.score': expected a number (got '1')"),
    ('[imap]\nhost = "h"\nusername = "u"\nclient_id = "mailroom"\n',
     "key 'imap.client_id': expected a table"),
])
def test_types_are_strict(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, '[maildir]\npath = "x"\n' + text))
    assert expected in str(caught.value)


def test_an_integer_is_a_number() -> None:
    settings = parse_settings({"maildir": {"path": "x"}, "dedupe": {"duplicate_threshold": 95},
                               "scoring": {"instruction_bonus": 2.5},
                               "adoption_channels": [{"name": "县政府网站", "score": 1}]})
    assert settings.dedupe.duplicate_threshold == 95.0
    assert settings.scoring.instruction_bonus == 2.5
    assert settings.adoption_channels[0].score == 1.0


@pytest.mark.parametrize("text", [
    '[imap]\nhost = "h"\nusername = "u"\npassword = 1234567\n',
    '[smtp]\nhost = "h"\nsender = "a@example.cn"\npassword = ["1234567"]\n',
    '[imap]\nhost = "h"\nusername = "u"\npassword_file = 1234567\n',
    '[urgent]\nwebhook_url = 1234567\n',
    '[database]\nurl = "mysql://office:1234567@db.example.cn/mailroom"\n',
    '[database]\nurl = "postgresql+psycopg://office:1234567@db.example.cn:port/mailroom"\n',
])
def test_no_message_shows_a_secret(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, '[maildir]\npath = "x"\n' + text))
    assert "key '" in str(caught.value) and "1234567" not in str(caught.value)


# --- [schedule] ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ('digest = "61 25 * * *"\n',
     "key 'schedule.digest': minute 61 is out of range 0-59 (got '61 25 * * *')"),
    ('reminder = "every day"\n', "key 'schedule.reminder': expected 5 fields"),
    ('monthly_report = "0 9 30 2 *"\n', "key 'schedule.monthly_report': never fires"),
    ('annual_report = "0 9 31 13 *"\n', "key 'schedule.annual_report': month 13 is out of range"),
])
def test_schedule_is_standard_cron(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, '[maildir]\npath = "x"\n[schedule]\n' + text))
    assert expected in str(caught.value)


def test_schedule_takes_names_lists_ranges_and_steps() -> None:
    settings = parse_settings({"maildir": {"path": "x"}, "schedule": {
        "digest": "*/30 9-17 * * MON-fri", "reminder": "0 9 20,25 * *",
        "monthly_report": "0 9 28 jan-dec/1 *", "annual_report": "0 9 31 dec 7"}})
    assert settings.schedule.digest == "*/30 9-17 * * MON-fri"


# --- [database] url ------------------------------------------------------------------

SUPPORTED = "sqlite:///PATH or postgresql+psycopg://user@host/db"


@pytest.mark.parametrize(("url", "expected"), [
    ("nonsense", f"not a database URL: use {SUPPORTED}"),
    ("mysql://office@db.example.cn/mailroom", f"mysql databases are not supported: use "
                                              f"{SUPPORTED}"),
    ("postgresql+psycopg2://office@db.example.cn/mailroom",
     "PostgreSQL goes through the psycopg driver: use postgresql+psycopg://user@host/db"),
    ("postgresql+asyncpg://office@db.example.cn/mailroom", "PostgreSQL goes through"),
    ("sqlite://", "SQLite is a file: use sqlite:///PATH"),
    ("sqlite:///:memory:", "SQLite is a file"),
    ("sqlite://host/mailroom.db", "SQLite is a file"),
])
def test_an_impossible_database_url_is_refused_at_load(
    tmp_path: Path, url: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, f'[maildir]\npath = "x"\n[database]\nurl = "{url}"\n'))
    assert f"key 'database.url': {expected}" in str(caught.value)


def test_postgresql_urls_are_accepted() -> None:
    for url in ("postgresql+psycopg://office@db.example.cn/mailroom",
                "postgresql+psycopg://office:pw@127.0.0.1:5433/mailroom",
                "postgresql+psycopg:///mailroom"):
        assert parse_settings({"maildir": {"path": "x"},
                               "database": {"url": url}}).database.url == url


def test_engine_creation_failures_are_config_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="not a database URL mailroom can use: use "
                                          "sqlite:///PATH or postgresql"):
        make_engine("postgresql+nosuchdriver://office@db.example.cn/mailroom")
    with pytest.raises(ConfigError, match="not a database URL"):
        make_engine("sqlite://host/mailroom.db")
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the extra were not installed
    with pytest.raises(ConfigError) as caught:
        make_engine("postgresql+psycopg://office:pw-1234@db.example.cn/mailroom")
    assert "driver for postgresql+psycopg is not installed (pip install 'mailroom[postgres]')" \
        in str(caught.value) and "pw-1234" not in str(caught.value)


# --- encodings -----------------------------------------------------------------------

UNITS_TOML = '[maildir]\npath = "x"\n[[units]]\nname = "自然资源综合执法大队"\n'


def test_utf8_with_a_bom_reads(tmp_path: Path) -> None:
    """Windows Notepad saves UTF-8 with a byte-order mark."""
    path = tmp_path / "mailroom.toml"
    path.write_bytes(UNITS_TOML.encode("utf-8-sig"))
    assert [unit.name for unit in load_settings(path).units] == ["自然资源综合执法大队"]


@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf-16", "config file is UTF-16 encoded: save it as UTF-8"),
    ("utf-16-le", "config file is UTF-16 encoded: save it as UTF-8"),
    ("utf-16-be", "config file is UTF-16 encoded: save it as UTF-8"),
    ("gbk", "config file is not UTF-8 (it looks GBK / GB2312 encoded), line 4: save it as UTF-8"),
    ("gb18030", "(it looks GBK / GB2312 encoded), line 4"),
])
def test_other_encodings_are_refused_in_one_line(
    tmp_path: Path, encoding: str, expected: str
) -> None:
    path = tmp_path / "mailroom.toml"
    path.write_bytes(UNITS_TOML.encode(encoding))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bytes_in_no_known_encoding(tmp_path: Path) -> None:
    path = tmp_path / "mailroom.toml"
    path.write_bytes(b'[maildir]\npath = "x\xff\xfe\x80"\n')
    with pytest.raises(ConfigError, match=r"config file is not UTF-8, line 2: save it as UTF-8"):
        load_settings(path)
