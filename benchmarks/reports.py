"""Report benchmark: the monthly bulletin and the annual summary of a city-sized store.

    .venv/bin/python benchmarks/reports.py       # SQLite and PostgreSQL, 10k and 100k
    .venv/bin/python benchmarks/reports.py --sizes 100000 --backends sqlite
    .venv/bin/python benchmarks/reports.py --postgres-url postgresql+psycopg://u@host/db

The store (bulk-inserted with SQLAlchemy core, not through the pipeline): N submissions
spread over one year (2019) and 300 units, with realistic statuses (about 80% counted, 5%
suspected, 10% duplicates, 3% rejected, 2% unassigned), N/5 adoptions over five channels
(distinct item + channel), N/100 批示, two officers a unit. Without --postgres-url a private
PostgreSQL server is started (as the tests do: tests/support/postgres.py) and stopped.

Timed, as `report monthly --month 2019-12` (the month with the longest year-to-date
累计得分) and `report annual --year 2019` (as of 2020-01-05: all twelve months) do it:
load the records, build, render, in each format of --formats (default: all); best of
--repeat runs, wall and CPU time. Targets: monthly JSON <= 0.5 s, annual JSON <= 2 s,
XLSX <= 2 s each, DOCX monthly <= 2 s and annual <= 5 s (1,100 reporters), on SQLite and
PostgreSQL, peak RSS <= 300 MB, the time growing at most linearly with the items (10k vs
100k are printed side by side). Only the formats measured are checked:
`--formats docx,xlsx` times the Office renderers alone.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from mailroom.config import Settings, parse_settings  # noqa: E402
from mailroom.reports import service  # noqa: E402
from mailroom.reports.render import RENDERERS  # noqa: E402
from mailroom.store.database import make_engine, make_session_factory, upgrade  # noqa: E402
from mailroom.store.models import (  # noqa: E402
    Adoption,
    Decision,
    Instruction,
    Message,
    Officer,
    Submission,
)

YEAR = 2019
UNITS = 300
CHANNELS = [("县政府网站", 1), ("银川市级", 3), ("自治区级", 5), ("国家级", 10), ("媒体", 2)]
STATUSES = [("counted", 80), ("suspected", 5), ("duplicate", 10), ("rejected", 3),
            ("unassigned", 2)]
BATCH = 5000
MONTHLY_AS_OF = datetime(2019, 12, 28, 1, 0, tzinfo=UTC)
ANNUAL_AS_OF = datetime(2020, 1, 5, 1, 0, tzinfo=UTC)
TARGETS = {"monthly json": 0.5, "annual json": 2.0, "monthly xlsx": 2.0, "annual xlsx": 2.0,
           "monthly docx": 2.0, "annual docx": 5.0}  # wall seconds, the formats measured


def unit_name(index: int) -> str:
    return f"第{index + 1:03d}单位"


def settings(url: str) -> Settings:
    return parse_settings({
        "database": {"url": url},
        "office": {"addresses": ["office@example.cn"], "name": "某市自然资源局"},
        "units": [{"name": unit_name(i), "quota": 2 + i % 3} for i in range(UNITS)],
        "adoption_channels": [{"name": name, "score": score} for name, score in CHANNELS],
    })


def populate(engine: Engine, items: int, seed: int = 7) -> None:
    """N submissions over the year (their messages), N/5 adoptions, N/100 批示, officers."""
    rng = random.Random(seed)
    start = datetime(YEAR, 1, 1, tzinfo=UTC) - timedelta(hours=8)  # Shanghai's New Year
    span = (datetime(YEAR + 1, 1, 1, tzinfo=UTC) - datetime(YEAR, 1, 1, tzinfo=UTC)) \
        .total_seconds()
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    moments = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(items))
    sequence: dict[str, int] = {}
    with engine.begin() as connection:
        connection.execute(insert(Officer), [
            {"address": f"u{u}.{k}@example.cn", "unit": unit_name(u), "name": f"信息员{u}-{k}",
             "source": "config", "registered_at": start} for u in range(UNITS) for k in (1, 2)])
        for first in range(0, items, BATCH):
            messages, submissions = [], []
            for pk in range(first + 1, min(first + BATCH, items) + 1):
                at = moments[pk - 1]
                month = (at + timedelta(hours=8)).strftime("%Y-%m")
                sequence[month] = sequence.get(month, 0) + 1
                u = rng.randrange(UNITS)
                status = rng.choices(statuses, weights)[0]
                sender = f"u{u}.{rng.choice((1, 2))}@example.cn" if rng.random() < 0.95 \
                    else f"guest{rng.randrange(500)}@example.cn"
                messages.append(_message(pk, at, sender))
                submissions.append({
                    "id": pk, "message_pk": pk,
                    "number": f"{month.replace('-', '')}-{sequence[month]:04d}", "month": month,
                    "unit": None if status == "unassigned" else unit_name(u),
                    "unit_source": "subject", "title": f"第{pk}篇信息：某镇开展某项工作",
                    "sender": sender, "received_at": at, "status": status,
                    "priority": "general", "followup": None, "duplicate_of_id": None,
                    "score": None, "warnings": [], "matched_id": None, "match_part": None,
                    "match_detail": None, "followup_of_id": None, "review": None,
                    "reviewed_by": None, "reviewed_at": None})
            connection.execute(insert(Message), messages)
            connection.execute(insert(Submission), submissions)
        _decisions(connection, rng, items, moments)


def _message(pk: int, at: datetime, sender: str) -> dict[str, Any]:
    return {"id": pk, "mailbox": "INBOX", "uidvalidity": 1, "uid": str(pk),
            "raw_sha256": f"{pk:064x}", "raw_size": 1000, "raw_path": f"raw/{pk}",
            "message_id": f"<{pk}@example.cn>", "sender": sender, "subject": "",
            "date_header": at, "received_at": at, "kind": "submission", "reason": None,
            "detail": {}, "processed_at": at}


def _decisions(connection: Any, rng: random.Random, items: int,
               moments: list[datetime]) -> None:
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < items // 5:
        pairs.add((rng.randrange(1, items + 1), rng.randrange(len(CHANNELS))))
    instructed = rng.sample(range(1, items + 1), items // 100)
    decisions, adoptions, instructions = [], [], []
    for pk, (item, channel) in enumerate(sorted(pairs), start=1):
        at = moments[item - 1] + timedelta(days=3)
        decisions.append({"id": pk, "submission_id": item, "action": "adopt",
                          "detail": {"channel": CHANNELS[channel][0]}, "by": "office",
                          "at": at, "source": "cli", "message_pk": None})
        adoptions.append({"submission_id": item, "channel": CHANNELS[channel][0], "note": "",
                          "by": "office", "at": at, "decision_id": pk})
    for pk, item in enumerate(instructed, start=len(decisions) + 1):
        at = moments[item - 1] + timedelta(days=5)
        decisions.append({"id": pk, "submission_id": item, "action": "instruct",
                          "detail": {"leader": "局长"}, "by": "office", "at": at,
                          "source": "cli", "message_pk": None})
        instructions.append({"submission_id": item, "leader": "局长", "text": "请学习借鉴",
                             "by": "office", "at": at, "decision_id": pk})
    for rows, model in ((decisions, Decision), (adoptions, Adoption),
                        (instructions, Instruction)):
        for first in range(0, len(rows), BATCH):
            connection.execute(insert(model), rows[first:first + BATCH])


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """The best wall time and the best CPU time of this process (on a shared machine the
    wall time also counts the waits for a core; PostgreSQL's own work is only in it)."""
    walls, cpus = [], []
    for _ in range(repeat):
        begin, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - begin)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def measure(url: str, items: int, repeat: int,
            formats: list[str]) -> dict[str, tuple[float, float]]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        begin = time.perf_counter()
        populate(engine, items)
        print(f"  populated {items:,} items in {time.perf_counter() - begin:.1f} s",
              flush=True)
        sessions = make_session_factory(engine)
        config = settings(url)
        figures: dict[str, tuple[float, float]] = {}
        for fmt in formats:
            renderer = RENDERERS[fmt]
            def monthly(renderer: Any = renderer) -> None:
                with sessions() as session:
                    renderer(service.monthly(session, config, "2019-12", MONTHLY_AS_OF))

            def annual(renderer: Any = renderer) -> None:
                with sessions() as session:
                    renderer(service.annual(session, config, YEAR, ANNUAL_AS_OF))

            figures[f"monthly {fmt}"] = best_of(repeat, monthly)
            figures[f"annual {fmt}"] = best_of(repeat, annual)
        return figures
    finally:
        engine.dispose()


@contextmanager
def backend(name: str, postgres_url: str | None) -> Iterator[Callable[[int], str]]:
    """Yields a function giving a fresh, empty database URL for a size."""
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield lambda size: f"sqlite:///{folder}/reports-{size}.db"
        return
    if postgres_url:
        yield lambda size: postgres_url
        return
    from support.postgres import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        yield lambda size: server.create_database(f"reports_{size}")
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", help="an empty PostgreSQL database to use "
                        "(one size only); default: start a private server")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default=",".join(RENDERERS),
                        help=f"comma-separated, of {', '.join(RENDERERS)} (default: all)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    results: dict[tuple[str, int], dict[str, tuple[float, float]]] = {}
    for name in args.backends.split(","):
        with backend(name, args.postgres_url) as fresh:
            for size in sizes:
                print(f"{name}, {size:,} submissions, {UNITS} units, {size // 5:,} adoptions",
                      flush=True)
                results[name, size] = measure(fresh(size), size, args.repeat,
                                              args.formats.split(","))
    print()
    keys = list(next(iter(results.values())))
    columns = list(results)
    print(f"{'wall s / CPU s, best of ' + str(args.repeat):28}"
          + "".join(f"{f'{b} {s // 1000}k':>18}" for b, s in columns))
    for key in keys:
        print(f"{key:28}" + "".join(
            f"{results[c][key][0]:>10.3f} /{results[c][key][1]:6.3f}" for c in columns))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:.0f} MiB (whole run, store building included); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    targets = {key: limit for key, limit in TARGETS.items() if key in keys}
    ok = all(results[c][key][0] <= limit for c in columns for key, limit in targets.items()) \
        and peak <= 300
    print(f"targets (wall: {', '.join(f'{k} <= {v:g} s' for k, v in targets.items())}; "
          "RSS <= 300 MiB):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
