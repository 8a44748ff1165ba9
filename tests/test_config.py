from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mailroom.config import load_settings, parse_settings
from mailroom.errors import ConfigError

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
            "adoption_channels", "schedule"} <= sections


def test_defaults_match_spec(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[maildir]\npath = "inbox"\n'))
    assert settings.quota.monthly_minimum == 2
    assert settings.receipts.max_per_sender_per_hour == 10
    assert settings.checks.signed_scan == "warn"
    assert settings.scoring.mode == "sum"
    assert settings.schedule.digest == "0 17 * * *"
    assert settings.database.url == f"sqlite:///{tmp_path.resolve() / 'var/mailroom.db'}"
    assert settings.storage.path == str(tmp_path.resolve() / "var/store")


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
