"""`mailroom jobs list [--format text|json]`: each scheduled job — its cron, its next run
(local time), the last period sent, when, and the outcome — read from the config and the
ledger; cli.py registers it. Times are `timezone`'s ("YYYY-MM-DD HH:MM").

JSON: `[{"job", "cron", "period", "next_run", "due_now", "last_period", "last_fire_time",
"last_run", "outcome"}]`, a `last_*` / `outcome` null while the job has never run.
`due_now` is true when the current period's time has passed and the ledger has no run for
it: the daemon runs it on its next pass (or on start).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mailroom.app import App
from mailroom.cli_args import Parser
from mailroom.schedule import ledger
from mailroom.schedule.periods import period_key, period_start
from mailroom.schedule.runner import scheduled_jobs
from mailroom.store.database import require_current_schema
from mailroom.vocabulary import local_minute


def add_commands(commands: Any) -> None:
    group = commands.add_parser("jobs", help="the scheduled jobs of `run` ([schedule])")
    sub = group.add_subparsers(dest="jobs_command", required=True, parser_class=Parser)
    listed = sub.add_parser("list", help="each job: its cron, next run, the last period sent")
    listed.add_argument("--format", choices=("text", "json"), default="text")


def job_rows(app: App, now: datetime) -> list[dict[str, Any]]:
    zone = app.settings.zone
    with app.sessions() as session:
        last = ledger.last_runs(session)
        rows = []
        for entry in scheduled_jobs(app.settings):
            run = last.get(entry.name)
            fire = entry.first_fire(period_start(entry.job.period, now, zone))
            due = (fire is not None and fire <= now and not ledger.is_done(
                session, entry.name, period_key(entry.job.period, now, zone)))
            upcoming = entry.next_fire(now)
            rows.append({
                "job": entry.name, "cron": entry.cron.text, "period": str(entry.job.period),
                "next_run": local_minute(upcoming, zone) if upcoming else None,
                "due_now": due,
                "last_period": run.period if run else None,
                "last_fire_time": local_minute(run.fire_time, zone) if run else None,
                "last_run": local_minute(run.ran_at, zone) if run else None,
                "outcome": run.outcome if run else None})
    return rows


def jobs_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no scheduled jobs"
    lines = []
    for row in rows:
        due = " (due now: runs on the daemon's next pass)" if row["due_now"] else ""
        lines.append(f"{row['job']}  cron \"{row['cron']}\" (once a {row['period']})  "
                     f"next run {row['next_run'] or 'never'}{due}")
        if row["last_period"] is None:
            lines.append("  never run")
        else:
            lines.append(f"  last: period {row['last_period']} (due {row['last_fire_time']}), "
                         f"run {row['last_run']}: {row['outcome']}")
    return "\n".join(lines)


def cmd_jobs(app: App, args: argparse.Namespace) -> int:
    require_current_schema(app.engine)
    rows = job_rows(app, app.clock.now())
    if args.format == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(jobs_table(rows))
    return 0


COMMANDS: dict[str, Callable[[App, argparse.Namespace], int]] = {"jobs": cmd_jobs}
