"""Signs that a mail was sent by a program, not a person. One function per sign: why, or None.

The classifier (``classify``: bounce, auto-reply, list) and the reply rules (``replies``:
never a loop, RFC 3834) read the same signs from here. Where the two used to differ:

* Auto-Submitted: RFC 3834 §5 gives ``auto-submitted *(";" parameter)``, comments allowed,
  and §2 says no automatic response to any value other than "no". So the value is the
  keyword before ";" without comments; any keyword but "no" is a sign. (The classifier
  tested ``startswith("no")``, which takes any keyword starting with "no" for a person;
  the reply rule compared the whole value before ";", so "no (typed by hand)" stopped a
  receipt.)
* Addresses: the bounce rule keeps to the mail system's own names (postmaster, RFC 5321
  §4.5.1, and MAILER-DAEMON) written exactly, because a mail wrongly taken for a bounce
  loses a unit its submission; refusing a receipt costs little, so the reply rule also
  refuses noreply / do-not-reply / bounces / notifications senders, with a "+tag" or
  "-tag" suffix (VERP: bounces+1234@, noreply-alerts@).
* Precedence: RFC 3834 §2 names bulk, junk and list as reasons not to respond (a
  non-standard field, RFC 2076 §3.9); "auto_reply" is what Microsoft Exchange and some
  vacation programs put on their replies, so it is an auto-reply's sign, not a list's.
* Mailing lists: any List-* field (RFC 2369: List-Help, -Unsubscribe, -Subscribe, -Post,
  -Owner, -Archive; RFC 2919: List-Id; RFC 8058: List-Unsubscribe-Post).
"""

from __future__ import annotations

import re

from mailroom.parsing.letter import Letter

_DAEMON = re.compile(r"(?:mailer-daemon|mail-daemon|mailerdaemon|postmaster)", re.IGNORECASE)
_NO_REPLY = re.compile(
    r"(?:mailer-daemon|mail-daemon|mailerdaemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply"
    r"|bounces?|notifications?(?:-?noreply)?)(?:[+-].*)?",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"\([^()]*\)")
_AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond")  # vacation programs, qmail's autorespond
_BULK = frozenset({"bulk", "junk", "list"})


def _localpart(address: str) -> str:
    return address.split("@", 1)[0]


def null_return_path(letter: Letter) -> str | None:
    """RFC 3834 §2: never respond to the null return path (bounces come from it)."""
    return "null return path <>" if letter.return_path == "" else None


def daemon_address(address: str) -> str | None:
    """The mail system itself: MAILER-DAEMON, postmaster."""
    return f"sent by {address}" if _DAEMON.fullmatch(_localpart(address)) else None


def no_reply_address(address: str) -> str | None:
    """The mail system, or a sender that says no one reads its replies."""
    matched = _NO_REPLY.fullmatch(_localpart(address))
    return f"no-reply address {address}" if matched else None


def auto_submitted(letter: Letter) -> str | None:
    """RFC 3834: any Auto-Submitted keyword but "no" (auto-replied, auto-generated, ...)."""
    value = letter.header("Auto-Submitted").strip()
    keyword = _COMMENT.sub("", value.split(";", 1)[0]).strip().lower()
    return f"Auto-Submitted: {value.lower()}" if keyword and keyword != "no" else None


def auto_reply_headers(letter: Letter) -> str | None:
    """What vacation programs put on a reply besides Auto-Submitted."""
    for name in _AUTO_REPLY_HEADERS:
        if letter.has_header(name):
            return f"has {name}"
    if _precedence(letter) == "auto_reply":
        return "Precedence: auto_reply"
    return None


def list_headers(letter: Letter) -> str | None:
    """A mailing list's List-* fields."""
    found = sorted(name for name in letter.headers if name.startswith("list-"))
    return f"list headers: {', '.join(found)}" if found else None


def bulk_precedence(letter: Letter) -> str | None:
    """Precedence: bulk / junk / list."""
    value = _precedence(letter)
    return f"Precedence: {value}" if value in _BULK else None


def _precedence(letter: Letter) -> str:
    return letter.header("Precedence").strip().lower()
