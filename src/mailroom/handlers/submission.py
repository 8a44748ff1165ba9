"""A submission (R1–R6): attributed, checked, numbered, judged for 首报, receipted.

Decided first, without writing: the unit and starting status (rules/attribution.py), the R2
checks, the R5 elements an urgent report lacks, the replies it will cause. Then, in the
runner's transaction: the message row (once, complete), the submission with its number,
the first-report verdict (dedupe), its links to the 约稿 requests it answers
(requests/service.link_submission), and the receipt stating both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from mailroom.dedupe.engine import Item
from mailroom.handlers.base import Incoming, Services, base_detail, record_message
from mailroom.requests.service import link_submission
from mailroom.rules.attribution import Attribution, attribute
from mailroom.rules.authresults import authentication_failure
from mailroom.rules.checks import CheckInput, run_checks
from mailroom.rules.urgent import elements_from, missing_elements
from mailroom.store import queries
from mailroom.vocabulary import Priority, month_of


class SubmissionHandler:
    def handle(self, session: Session, incoming: Incoming, services: Services) -> str | None:
        attribution = self._attribute(session, incoming, services)
        missing = self._missing_elements(incoming, services)
        plan = services.outgoing.plan_receipt(
            session, incoming.letter, urgent=incoming.subject.priority == Priority.URGENT,
            authenticated=attribution.flag is None)
        detail: dict[str, Any] = base_detail(incoming)
        if attribution.flag:
            detail["flag"] = attribution.flag
        if missing:
            detail["missing_elements"] = missing
        detail.update(plan.notes())
        message_pk = record_message(session, incoming, services, detail)
        submission_pk, number = self._insert(session, incoming, services, attribution,
                                             message_pk)
        with services.timed("first report"):
            prepared = incoming.prepared
            services.dedupe.judge(session, submission_pk, Item(
                incoming.subject.title, incoming.letter.body, prepared.attachment_texts,
                prepared.content, prepared.content_sketch))
        with services.timed("requests"):
            letter = incoming.letter
            link_submission(session, submission_pk, letter.subject, incoming.subject.title,
                            letter.body, (letter.header("In-Reply-To") + " "
                                          + letter.header("References")).split(),
                            incoming.mail.received_at, services.clock.now())
        with services.timed("queue replies"):
            services.outgoing.queue_receipt(session, plan, submission_pk, incoming.letter,
                                            incoming.attachment_names, missing)
        return number

    def _attribute(self, session: Session, incoming: Incoming,
                   services: Services) -> Attribution:
        letter, settings = incoming.letter, services.settings
        registered = services.roster.unit_of(session, letter.sender)
        checks = run_checks(CheckInput(incoming.subject.unit or registered,
                                       incoming.subject.title, incoming.attachment_names),
                            settings.checks.model_dump())
        trusted = settings.imap.trusted_authserv_id if settings.imap else ""
        domain = letter.sender.rsplit("@", 1)[1] if "@" in letter.sender else ""
        failure = authentication_failure(letter.headers.get("authentication-results", ()),
                                         trusted, domain)
        return attribute(incoming.subject.unit, registered, checks.warnings, checks.rejected_by,
                         failure)

    def _missing_elements(self, incoming: Incoming, services: Services) -> list[str]:
        """R5: the elements an urgent report lacks, looked for in its title, body and the
        attachments' text."""
        if incoming.subject.priority != Priority.URGENT:
            return []
        text = "\n".join((incoming.subject.title, incoming.letter.body,
                          *incoming.prepared.attachment_texts))
        return missing_elements(text, elements_from(services.settings.urgent))

    def _insert(self, session: Session, incoming: Incoming, services: Services,
                attribution: Attribution, message_pk: int) -> tuple[int, str]:
        received_at = incoming.mail.received_at
        month = month_of(received_at, services.settings.zone)
        number = queries.next_number(session, month)
        subject = incoming.subject
        submission_pk = queries.insert_submission(session, {
            "message_pk": message_pk, "number": number, "month": month,
            "unit": attribution.unit, "unit_source": attribution.unit_source,
            "title": subject.title, "sender": incoming.letter.sender,
            "received_at": received_at, "status": attribution.status,
            "priority": subject.priority, "followup": subject.followup,
            "duplicate_of_id": None, "score": None, "warnings": list(attribution.warnings),
        })
        return submission_pk, number
