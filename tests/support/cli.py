"""Running the `mailroom` command line in-process, as a test would type it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

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
