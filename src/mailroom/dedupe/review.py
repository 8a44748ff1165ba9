"""The office's review of a verdict (SPEC: `review NUMBER --duplicate [--of NUMBER] |
--distinct`): it changes the status and the counts, keeps who and when, and is never
overridden by re-evaluation (dedupe/engine skips reviewed items)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailroom.errors import ReviewError
from mailroom.store.models import DedupeReview, Submission
from mailroom.vocabulary import JUDGED


@dataclass(frozen=True)
class ReviewOutcome:
    number: str
    previous_status: str
    status: str
    duplicate_of: str | None


def _find(session: Session, number: str) -> Submission:
    found = session.scalars(select(Submission).where(Submission.number == number)).first()
    if found is None:
        raise ReviewError(f"no submission numbered {number}")
    return found


def _first_report(session: Session, item: Submission) -> Submission:
    """The cluster's first report behind an item (itself when it is one)."""
    if item.status in ("duplicate", "suspected") and item.duplicate_of_id is not None:
        return session.get_one(Submission, item.duplicate_of_id)
    return item


def review(session: Session, number: str, *, duplicate: bool, of: str | None, by: str,
           at: datetime) -> ReviewOutcome:
    """Record the office's decision on submission `number`."""
    item = _find(session, number)
    if item.status not in JUDGED:
        raise ReviewError(f"{number} is {item.status}: only counted, suspected or duplicate "
                          "items can be reviewed")
    previous = item.status
    if duplicate:
        first = _duplicate_target(session, item, of)
        _repoint_followers(session, item, first)
        item.status, item.duplicate_of_id = "duplicate", first.id
        if of is not None:
            item.matched_id = _find(session, of).id
    else:
        if of is not None:
            raise ReviewError("--of goes with --duplicate only")
        item.status, item.duplicate_of_id = "counted", None
    item.review, item.reviewed_by, item.reviewed_at = (
        "duplicate" if duplicate else "distinct", by, at)
    session.add(DedupeReview(submission_id=item.id, decision=item.review,
                             of_id=item.duplicate_of_id, by=by, at=at,
                             previous_status=previous))
    session.flush()
    first_number = (session.get_one(Submission, item.duplicate_of_id).number
                    if item.duplicate_of_id is not None else None)
    return ReviewOutcome(number, previous, item.status, first_number)


def _duplicate_target(session: Session, item: Submission, of: str | None) -> Submission:
    if of is None:
        if item.duplicate_of_id is not None:
            return session.get_one(Submission, item.duplicate_of_id)
        matched = (session.get(Submission, item.matched_id)
                   if item.matched_id is not None else None)
        if matched is None or (matched.received_at, matched.id) > (item.received_at, item.id):
            raise ReviewError(f"{item.number} matches no earlier item: say which with --of "
                              "NUMBER")
        target = matched
    else:
        target = _find(session, of)
    if target.id == item.id:
        raise ReviewError(f"{item.number} cannot be a duplicate of itself")
    if (target.received_at, target.id) > (item.received_at, item.id):
        raise ReviewError(f"{target.number} was received after {item.number}: a first "
                          "report must be the earlier item")
    if target.status not in JUDGED:
        raise ReviewError(f"{target.number} is {target.status}: it cannot be anyone's first "
                          "report")
    first = _first_report(session, target)
    if first.id == item.id:
        raise ReviewError(f"{target.number} is itself a duplicate of {item.number}")
    return first


def _repoint_followers(session: Session, item: Submission, first: Submission) -> None:
    """Items whose first report was this one now belong to `first`'s cluster."""
    session.execute(update(Submission)
                    .where(Submission.duplicate_of_id == item.id, Submission.id != first.id)
                    .values(duplicate_of_id=first.id))
