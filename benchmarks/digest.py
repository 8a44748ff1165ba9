"""Digest benchmark: the office digest (R11) over a city-sized store, on SQLite.

    .venv/bin/python benchmarks/digest.py                  # 10k and 100k items
    .venv/bin/python benchmarks/digest.py --sizes 10000

The store is benchmarks/reports.py's (N submissions over 2019, 300 units, N/5 adoptions
and N/100 批示 as decisions; no raw mail files, so no body is read). Timed, wall and CPU:
- the first digest (nothing sent before: every row is new): read the records, build,
  render text + HTML, and queue it (`queue_digest`, committed), with the size of the mail;
- the next day's digest: 50 new messages and 10 decisions after it, the same steps.
The first digest lists at most 100 entries a section (300 new items) and counts the rest;
the daily one must stay well under a second whatever the store's size.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reports import _message, populate, settings  # noqa: E402

from mailroom.clock import FixedClock  # noqa: E402
from mailroom.digest.sending import queue_digest  # noqa: E402
from mailroom.store.database import make_engine, make_session_factory, upgrade  # noqa: E402
from mailroom.store.files import FileStore  # noqa: E402
from mailroom.store.models import Decision, Message, OutgoingMail, Submission  # noqa: E402

NOW = datetime(2020, 1, 5, 9, tzinfo=UTC)


def timed(run: object) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()  # type: ignore[operator]
    return time.perf_counter() - wall, time.process_time() - cpu, result


def measure(items: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        engine = make_engine(url)
        upgrade(engine)
        populate(engine, items)
        config = settings(url)
        sessions = make_session_factory(engine)
        files = FileStore(Path(folder) / "store")
        clock = FixedClock(NOW)

        def send() -> int:
            with sessions.begin() as session:
                queued = queue_digest(session, config, clock, files)
                assert queued is not None
                return len(session.scalars(select(OutgoingMail.raw).where(
                    OutgoingMail.id == queued.outbox_id)).one())

        wall, cpu, size = timed(send)
        print(f"{items:>7} items  first digest: {wall:6.2f} s wall {cpu:6.2f} s CPU, "
              f"mail {int(size) // 1024} KiB")  # type: ignore[call-overload]
        _next_day(engine, items)
        clock.advance(timedelta(days=1))
        wall, cpu, size = timed(send)
        print(f"{items:>7} items  next day (50 mails, 10 decisions): {wall:6.2f} s wall "
              f"{cpu:6.2f} s CPU, mail {int(size) // 1024} KiB")  # type: ignore[call-overload]
        engine.dispose()


def _next_day(engine: object, items: int) -> None:
    at = NOW + timedelta(hours=2)
    with engine.begin() as connection:  # type: ignore[attr-defined]
        last = connection.execute(select(func.max(Message.id))).scalar()
        rows = [_message(pk, at, "u1.1@example.cn") | {"kind": "roster"}
                for pk in range(last + 1, last + 51)]
        connection.execute(insert(Message), rows)
        first = connection.execute(select(func.min(Submission.id))).scalar()
        connection.execute(insert(Decision), [
            {"submission_id": first + k, "action": "instruct", "detail": {"leader": "某"},
             "by": "clerk", "at": at, "source": "cli", "message_pk": None}
            for k in range(10)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        measure(size)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"peak RSS {peak} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
