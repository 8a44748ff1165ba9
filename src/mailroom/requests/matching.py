"""Which open requests a submission answers (R14), pure.

A submission answers a request when
- its subject or body names the request's code (`约稿201905-01`, codes.codes_in), or
- its In-Reply-To or References name the Message-ID of a request mail (it replies to it), or
- its title (the subject's, after the unit) or the first lines of its body name the
  request's title: the title, folded (rules/folding.key), inside the subject's title or the
  body's opening; else, for the subject's title only, a fuzzy match (rapidfuzz
  `partial_ratio` at least TITLE_THRESHOLD, the two titles of comparable length).

Short titles are generic ("工作动态", "信息"): a title of fewer than MIN_FUZZY_TITLE
characters (folded) only links when the subject's title is exactly it or quotes it as
《…》; it is never looked for in the body, nor fuzzily. A code or a reply is definite and
links every request it names; a title links the best-scoring request only, and only when
no code or reply named one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from mailroom.requests.codes import codes_in
from mailroom.rules.folding import key

TITLE_THRESHOLD = 88.0
MIN_FUZZY_TITLE = 6  # folded characters
BODY_CHARS = 600  # the body's opening, where an answer names what it answers
MIN_LENGTH_SHARE = 0.6  # the subject's title at least this share of the request's title


@dataclass(frozen=True)
class OpenRequest:
    """An open request as matching sees it."""

    id: int
    code: str
    title: str
    message_ids: frozenset[str]  # its request mails' Message-IDs, without angle brackets
    # created before the mail arrived: a title alone can only answer such a request (a mail
    # that names the code or replies to the request mail shows it knew the request, whatever
    # the two clocks say — an INTERNALDATE set by a migration, a backlog, a skewed server)
    before_mail: bool = True


@dataclass(frozen=True)
class Answer:
    """The submission answers `request`: recognised by `how` (code | reply | title)."""

    request: OpenRequest
    how: str
    score: float | None = None


def answers(title: str, body: str, references: Iterable[str],
            requests: Sequence[OpenRequest], subject: str = "") -> list[Answer]:
    """The requests a submission with this title (its subject's, after the unit), body,
    In-Reply-To / References and whole subject answers (see the module's rules)."""
    named = set(codes_in(subject or title) + codes_in(body[:BODY_CHARS * 4]))
    replied = {ref.strip().strip("<>") for ref in references if ref.strip()}
    definite = []
    for request in requests:
        if request.code in named:
            definite.append(Answer(request, "code"))
        elif request.message_ids & replied:
            definite.append(Answer(request, "reply"))
    if definite:
        return definite
    scored = [(title_score(request.title, title, body), request) for request in requests
              if request.before_mail]
    passed = [(score, request) for score, request in scored if score >= TITLE_THRESHOLD]
    if not passed:
        return []
    score, best = max(passed, key=lambda pair: (pair[0], len(key(pair[1].title))))
    return [Answer(best, "title", score)]


def title_score(wanted: str, title: str, body: str = "") -> float:
    """How well a submission's title (and body opening) names a request's title, 0–100."""
    want, have = key(wanted), key(title)
    if not want or not have:
        return 0.0
    if len(want) < MIN_FUZZY_TITLE:
        return 100.0 if have == want or f"《{want}》" in fold_quotes(title) else 0.0
    if want in have or want in key(body[:BODY_CHARS]):
        return 100.0
    if len(have) < len(want) * MIN_LENGTH_SHARE:
        return 0.0
    return float(fuzz.partial_ratio(want, have))


def fold_quotes(text: str) -> str:
    """`text` without spaces, 〈〈…〉〉 and <<…>> written as 《…》."""
    return "".join(text.split()).replace("<<", "《").replace(">>", "》")
