"""What every `mailroom` command's arguments share: the parser that fails in one line, the
usage error, and the argument types (a month, a submission number). Used by cli.py and the
command modules beside it (cli_decisions.py)."""

from __future__ import annotations

import argparse
from typing import Any

from mailroom.vocabulary import is_month, parse_number


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 itself; keep one clear line
        raise UsageError(f"{self.prog}: {message}")


def month(value: str) -> str:
    if not is_month(value):
        raise argparse.ArgumentTypeError(f"month must be YYYY-MM, got {value!r}")
    return value


def number(value: str) -> str:
    canonical = parse_number(value)
    if canonical is None:
        raise argparse.ArgumentTypeError(f"a submission number is YYYYMM-NNNN (or YYYYMMNNNN), "
                                         f"got {value!r}")
    return canonical
