"""Running the `mailroom` command line in-process, as a test would type it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailroom.cli import main


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """main() configures logging for the process; put it back for the tests after these."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = ("mailroom", "mailparser", "imapclient")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def maildir_config(folder: Path, units_toml: str) -> Path:
    """A config file in `folder` reading the Maildir `folder/inbox`, with these [[units]]."""
    inbox = folder / "inbox"
    for sub in ("cur", "new", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    path = folder / "mailroom.toml"
    path.write_text('[maildir]\npath = "inbox"\n' + units_toml, encoding="utf-8")
    return path
