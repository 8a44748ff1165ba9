"""`report digest [--format text|html] [--send]` (R11), registered by reports/commands.py
beside `report monthly|annual`.

Without `--send` it prints what is new since the last digest sent and marks nothing. With
`--send` it queues the digest to `[office] addresses` and marks it sent in one transaction
(digest/sending.py), then sends what is due in the outbox as `poll --once` would (over SMTP,
or as .eml files without `[smtp]`). Nothing new: one line saying so, nothing sent, exit 0.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mailroom.app import App
from mailroom.digest import records, sending
from mailroom.store.database import require_current_schema
from mailroom.vocabulary import local_minute

SEND_WAIT = 60.0  # seconds the SMTP throttle may hold `--send` up, as for `poll --once`


def add_digest_command(sub: Any) -> None:
    digest = sub.add_parser("digest", help="the office digest (R11): what is new since the "
                            "last digest sent")
    digest.add_argument("--format", choices=("text", "html"), default="text")
    digest.add_argument("--send", action="store_true", help="mail it to [office] addresses "
                        "and mark it sent")


def cmd_digest(app: App, args: argparse.Namespace) -> int:
    require_current_schema(app.engine)
    if args.send:
        return _send(app)
    with app.sessions() as session:
        prepared = sending.prepare(session, app.settings, app.clock.now(), app.files)
        since = records.last_marks(session).sent_at
    if prepared.digest is None:
        print(_nothing(app, since))
        return 0
    text, html = sending.render(prepared.digest)
    sys.stdout.write(html if args.format == "html" else text)
    sys.stdout.flush()
    return 0


def _nothing(app: App, since: Any) -> str:
    if since is None:
        return "nothing new: no digest has been sent and there is nothing to report"
    return f"nothing new since the last digest ({local_minute(since, app.settings.zone)})"


def _send(app: App) -> int:
    with app.sessions.begin() as session:
        since = records.last_marks(session).sent_at
        queued = sending.queue_digest(session, app.settings, app.clock, app.files)
    if queued is None:
        print(f"{_nothing(app, since)}: nothing sent")
        return 0
    print(f"queued {queued.subject} ({queued.entries} items) for {len(queued.recipients)} "
          f"recipients ({', '.join(queued.recipients)}) as outbox #{queued.outbox_id}")
    print(app.outbox().drain(max_wait=SEND_WAIT).summary())
    return 0
