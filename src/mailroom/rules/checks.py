"""R2 submission checks, one small function each; the config makes each a warning or a rejection.

Each check gets the submission's unit, title and attachment names and returns True when the
submission passes. The check names are the `[checks]` config keys and the warning codes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

ELECTRONIC_EXTENSIONS = frozenset({"doc", "docx", "wps", "txt"})
SCAN_EXTENSIONS = frozenset({"pdf", "jpg", "jpeg", "png"})
NAME_MATCH_SCORE = 85.0

_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class CheckInput:
    unit: str | None
    title: str
    attachment_names: Sequence[str]


@dataclass(frozen=True)
class CheckOutcome:
    warnings: tuple[str, ...]  # names of the checks that failed
    rejected_by: tuple[str, ...]  # the failed checks configured as "reject"


Check = Callable[[CheckInput], bool]


def squeeze(text: str) -> str:
    """NFKC (full-width to half-width), lower case, no punctuation or spaces."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).lower()


def extension(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def attachment_name(item: CheckInput) -> bool:
    """Some attachment is named 单位+信息标题: the title must be there, the unit may be short."""
    title = squeeze(item.title)
    if not title:
        return True
    for name in item.attachment_names:
        stem = squeeze(_stem(name))
        long_enough = len(stem) >= len(title) * 0.8
        if long_enough and fuzz.partial_ratio(title, stem) >= NAME_MATCH_SCORE:
            return True
    return False


def electronic_version(item: CheckInput) -> bool:
    return any(extension(name) in ELECTRONIC_EXTENSIONS for name in item.attachment_names)


def signed_scan(item: CheckInput) -> bool:
    return any(extension(name) in SCAN_EXTENSIONS for name in item.attachment_names)


CHECKS: Mapping[str, Check] = {
    "attachment_name": attachment_name,
    "electronic_version": electronic_version,
    "signed_scan": signed_scan,
}


def run_checks(item: CheckInput, actions: Mapping[str, str]) -> CheckOutcome:
    """Run every check; `actions` maps a check name to "warn" or "reject"."""
    failed = tuple(name for name, check in CHECKS.items() if not check(item))
    rejected = tuple(name for name in failed if actions.get(name) == "reject")
    return CheckOutcome(warnings=failed, rejected_by=rejected)
