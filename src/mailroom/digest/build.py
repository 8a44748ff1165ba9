"""The office digest (R11) as plain values, pure: the records read since the last digest
sent (digest/records.py) → what the digest says, section by section, in SPEC's order:
urgent items; suspected duplicates to confirm (the pair side by side, the passages that
matched, the two commands that settle it); unassigned items; unknown senders; rejected
items and failed sender authentication; verdicts changed by re-evaluation; failed mails;
commands executed or refused; then the counts (and the list of everything new).

`build` returns None when nothing new calls for the office: no submission, command, roster
or failed mail, no decision, no changed verdict (our own mail, auto-replies and bounces
alone do not make a digest — a digest answered by an out-of-office would make the next).
No wording here: the Chinese is in templates/digest.*.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from mailroom.dedupe.normalize import MIN_SENTENCE, compact
from mailroom.dedupe.passages import matched_passages
from mailroom.digest.values import (
    Change,
    ChangeRow,
    CommandMail,
    Counts,
    Digest,
    Entry,
    Failed,
    ItemRow,
    MailRow,
    Pair,
    Records,
    Segment,
    UnknownSender,
)
from mailroom.outbox.command_facts import NotUnderstood, Refused
from mailroom.rules.confirmation import find_codes
from mailroom.vocabulary import Kind, Priority, Status, WarningCode

EXCERPT = 200  # characters of an item's text shown
LIMIT = 100  # entries a section lists (a first digest over a backlog stays a mail)
LIST_LIMIT = 300  # items the list of new items names
PASSAGES = 5  # matched passages shown per pair
_SPACE = re.compile(r"\s+")
# what makes a digest worth sending on its own (see the module's doc)
_NEWS_KINDS = frozenset({Kind.SUBMISSION, Kind.COMMAND, Kind.ROSTER, Kind.FAILED})
_STATUS_ORDER = tuple(Status)
_KIND_ORDER = (Kind.SUBMISSION, Kind.COMMAND, Kind.ROSTER, Kind.FAILED, Kind.BOUNCE,
               Kind.AUTO_REPLY, Kind.LIST, Kind.OWN)


# --- building -------------------------------------------------------------------------


def folded(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def entry(row: ItemRow) -> Entry:
    text = folded(row.text)
    return Entry(row.number, row.unit, row.title, row.sender, row.received_at, row.status,
                 row.priority, text[:EXCERPT], row.text_from, row.attachments, row.warnings,
                 row.followup,
                 more=len(text) > EXCERPT)


def _key(char: str) -> str:
    return compact(unicodedata.normalize("NFKC", char))


def marked(excerpt: str, passages: Sequence[str]) -> tuple[Segment, ...]:
    """The excerpt cut into segments, those inside one of `passages` marked. Passages are
    found by their compacted characters (dedupe/normalize.compact), so a readable passage
    and the compacted one a verdict stored both mark the same span; a passage the excerpt
    cuts off is marked as far as it goes."""
    keys = [_key(char) for char in excerpt]
    flat = "".join(keys)
    owner = [i for i, key in enumerate(keys) for _ in key]
    flags = [False] * len(excerpt)

    def mark(start: int, length: int) -> None:
        first, last = owner[start], owner[start + length - 1]
        flags[first:last + 1] = [True] * (last + 1 - first)

    for passage in passages:
        needle = compact(unicodedata.normalize("NFKC", passage))
        if len(needle) < MIN_SENTENCE:
            continue
        start = flat.find(needle)
        while start >= 0:
            mark(start, len(needle))
            start = flat.find(needle, start + len(needle))
        for length in range(min(len(needle), len(flat)) - 1, MIN_SENTENCE - 1, -1):
            if flat.endswith(needle[:length]):  # cut off by the excerpt's end
                mark(len(flat) - length, length)
                break
    segments: list[Segment] = []
    for char, flag in zip(excerpt, flags, strict=True):
        if segments and segments[-1].marked == flag:
            segments[-1] = Segment(segments[-1].text + char, flag)
        else:
            segments.append(Segment(char, flag))
    return tuple(segments)


def _same(a: str, b: str) -> bool:
    return compact(unicodedata.normalize("NFKC", a)) == compact(unicodedata.normalize("NFKC", b))


def pair(row: ItemRow, first: ItemRow) -> Pair:
    item_entry, first_entry = entry(row), entry(first)
    found = matched_passages(row.text, first.text) if row.text and first.text else []
    passages = tuple(dict.fromkeys((p.a, p.a if _same(p.a, p.b) else p.b) for p in found)) \
        or row.stored_passages
    return Pair(
        item_entry, first_entry, row.score, row.match_part,
        marked(item_entry.excerpt, [a for a, _ in passages]),
        marked(first_entry.excerpt, [b for _, b in passages]),
        passages[:PASSAGES], f"确认重复 {row.number} {first.number}", f"不是重复 {row.number}")


def _suspected(records: Records) -> list[tuple[ItemRow, ItemRow]]:
    """(item, first report): new suspected items, and items a changed verdict made
    suspected, still suspected, in number order."""
    rows = {row.pk: row for row in records.items}
    for change in records.changes:
        if change.item_pk in records.others:
            rows.setdefault(change.item_pk, records.others[change.item_pk])
    out = []
    for row in sorted(rows.values(), key=lambda r: r.number):
        first = records.others.get(row.duplicate_of_pk) if row.duplicate_of_pk else None
        first = first or rows.get(row.duplicate_of_pk or 0)
        if row.status == Status.SUSPECTED and first is not None:
            out.append((row, first))
    return out


def _is_urgent(row: ItemRow) -> bool:
    return row.priority == Priority.URGENT


def _is_unassigned(row: ItemRow) -> bool:
    return row.status == Status.UNASSIGNED


def _is_flagged(row: ItemRow) -> bool:
    return (row.status == Status.REJECTED
            or WarningCode.SENDER_AUTHENTICATION_FAILED in row.warnings)


_WITH_TEXT = (_is_urgent, _is_unassigned, _is_flagged)


def text_wanted(records: Records) -> set[int]:
    """The items whose text the digest shows (records.py reads only those bodies)."""
    wanted = {pk for test in _WITH_TEXT
              for pk in [row.pk for row in records.items if test(row)][:LIMIT]}
    for row, first in _suspected(records)[:LIMIT]:
        wanted |= {row.pk, first.pk}
    return wanted


def _unknown(items: Sequence[ItemRow]) -> tuple[UnknownSender, ...]:
    by_sender: dict[str, list[Entry]] = {}
    for item in items:
        if WarningCode.UNKNOWN_SENDER in item.warnings:
            by_sender.setdefault(item.sender, []).append(entry(item))
    return tuple(UnknownSender(address, tuple(group)) for address, group in by_sender.items())


def _change(row: ChangeRow, records: Records) -> Change:
    def number(pk: int | None) -> str | None:
        found = records.others.get(pk) if pk is not None else None
        return found.number if found else None

    item = records.others[row.item_pk]
    return Change(item.number, item.unit, item.title, row.previous_status,
                  number(row.previous_first_pk), row.status, number(row.first_pk),
                  number(row.caused_by_pk))


def masked(text: str | None) -> str | None:
    """`text` with every confirmation code (确认码 XXXXXXXX) hidden: the digest goes to every
    office address, and a reply to it must never carry a code that could run commands."""
    if not text:
        return text
    for code in find_codes(text):
        text = text.replace(code, "*" * len(code))
    return text


def _refused(results: Mapping[str, Any]) -> tuple[Refused, ...]:
    """The refused items a command mail's `results` names (handlers/command.results_detail),
    codes masked; a row without them (older code) gives none."""
    found = []
    for line in results.get("commands", ()) or ():
        for r in (line.get("refused", ()) or ()) if isinstance(line, Mapping) else ():
            facts = {str(k): masked(str(v)) or "" for k, v in (r.get("facts") or {}).items()}
            found.append(Refused(masked(str(r.get("number", ""))) or "",
                                 str(r.get("action", "")), str(r.get("code", "")), facts))
    return tuple(found)


def _lines_not_understood(results: Mapping[str, Any]) -> tuple[NotUnderstood, ...]:
    found = []
    for line in results.get("not_understood", ()) or ():
        if isinstance(line, Mapping):
            problems = tuple((str(p[0]), masked(str(p[1])) or "")
                             for p in line.get("problems", ()) or () if len(p) >= 2)
            found.append(NotUnderstood(masked(str(line.get("text", ""))) or "", problems))
    return tuple(found)


def _confirmed(detail: Mapping[str, Any]) -> bool:
    """A reply whose confirmation code ran held commands."""
    states = detail.get("confirmation")
    return isinstance(states, Mapping) and "ran" in states.values()


def _command_mail(mail: MailRow) -> CommandMail:
    detail = mail.detail
    results = detail.get("results")
    results = results if isinstance(results, Mapping) else {}
    if detail.get("refused"):
        outcome = "refused"
    elif _confirmed(detail):
        outcome = "confirmed"
    elif str(detail.get("held", "")).startswith("no:"):
        outcome = "not_held"
    elif detail.get("held"):
        outcome = "held"
    elif detail.get("ran"):
        outcome = "ran"
    else:
        outcome = "nothing"
    commands = tuple(str(c) for c in detail.get("commands", ()) or ())
    return CommandMail(mail.received_at, mail.sender, masked(mail.subject) or "", commands,
                       outcome, masked(mail.reply_subject),
                       int(detail.get("not_understood", 0) or 0),
                       _refused(results), _lines_not_understood(results))


def _counts(records: Records, urgent: int) -> Counts:
    kinds = Counter(mail.kind for mail in records.mails)
    statuses = Counter(item.status for item in records.items)
    return Counts(
        mails=len(records.mails),
        kinds=tuple((k.value, kinds[k]) for k in _KIND_ORDER if kinds[k]),
        items=len(records.items),
        statuses=tuple((s.value, statuses[s]) for s in _STATUS_ORDER if statuses[s]),
        urgent=urgent, receipts=records.receipts, decisions=len(records.decisions))


def has_news(records: Records) -> bool:
    return bool(records.items or records.changes or records.decisions
                or any(mail.kind in _NEWS_KINDS for mail in records.mails))


def _pairs(records: Records, omitted: dict[str, int]) -> tuple[Pair, ...]:
    suspected = _suspected(records)
    if len(suspected) > LIMIT:
        omitted["pairs"] = len(suspected) - LIMIT
    return tuple(pair(row, first) for row, first in suspected[:LIMIT])


def _cut(name: str, values: Sequence[Any], limit: int, omitted: dict[str, int]
         ) -> tuple[Any, ...]:
    if len(values) > limit:
        omitted[name] = omitted.get(name, 0) + len(values) - limit
    return tuple(values[:limit])


def build(records: Records, *, day: str, bureau: str = "") -> Digest | None:
    """The digest of `records` for `day`, or None when there is nothing new. A section
    lists at most LIMIT entries (the list of new items LIST_LIMIT) and says how many it
    left out: a first digest over a backlog stays a mail."""
    if not has_news(records):
        return None
    omitted: dict[str, int] = {}
    items = records.items

    def section(name: str, test: Any) -> tuple[Entry, ...]:
        return _cut(name, [entry(row) for row in items if test(row)], LIMIT, omitted)

    urgent = section("urgent", _is_urgent)
    decisions = [replace(d, mail_subject=masked(d.mail_subject)) for d in records.decisions]
    return Digest(
        day=day, since=records.since, bureau=bureau, urgent=urgent,
        pairs=_pairs(records, omitted),
        unassigned=section("unassigned", _is_unassigned),
        unknown_senders=_cut("unknown_senders", _unknown(items), LIMIT, omitted),
        rejected=section("rejected", _is_flagged),
        changes=_cut("changes", [_change(row, records) for row in records.changes
                                 if row.item_pk in records.others], LIMIT, omitted),
        failed=_cut("failed", [Failed(m.received_at, m.sender, m.subject, m.reason or "")
                               for m in records.mails if m.kind == Kind.FAILED],
                    LIMIT, omitted),
        decisions=_cut("decisions", decisions, LIMIT, omitted),
        command_mails=_cut("command_mails", [_command_mail(m) for m in records.mails
                                             if m.kind == Kind.COMMAND], LIMIT, omitted),
        counts=_counts(records, sum(1 for row in items if _is_urgent(row))),
        new_items=tuple(entry(row) for row in items[:LIST_LIMIT]),
        omitted=omitted | ({"new_items": len(items) - LIST_LIMIT}
                           if len(items) > LIST_LIMIT else {}))
