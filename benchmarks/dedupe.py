"""Dedupe benchmark: the time of one dedupe decision with 1k, 10k and 100k stored items.

    .venv/bin/python benchmarks/dedupe.py                  # 1000,10000,100000
    .venv/bin/python benchmarks/dedupe.py --sizes 1000,10000 --queries 300
    .venv/bin/python benchmarks/dedupe.py --postgres --sizes 100000,1000000
    .venv/bin/python benchmarks/dedupe.py --database postgresql+psycopg://USER@HOST/DB

Stored items are realistic Chinese 政务信息 made by the ingest benchmark's generator
(mailroom.sample.synth: the sample's sentence templates with other units, towns, topics,
dates and numbers, 300–2000 characters), all inside the `[dedupe] window_days` (the worst
case: every item is a possible first report). Each is indexed as the pipeline would
(normalised text + LSH band keys). The first `--base` items (50,000) come from the generator
and are normalised in full; the rest are variants of them — every figure and date drawn
again in the normalised sentences, then sketched — one more issue of a template each, the
hardest kind of store for the index, made in a fraction of the time. Rows go in batches of
10,000: executemany on SQLite, COPY on PostgreSQL, where a fill of 100,000 or more drops the
band table's indexes and builds them again at the end. A decision is `Dedupe.judge` on a new
submission: normalise, band keys, index insert, candidate look-up, scoring, verdict — in its
transaction (rolled back, so every size is measured on the same store). "judge ms" is the
part left to the recording process when, as in the pipeline, the worker processes that parse
the mail have normalised its content and computed its MinHash. Half the queries are
near-duplicates of stored items, half new. Also printed: candidates scored per decision and
peak RSS. Target: median ≤ 5 ms at 100,000 stored items.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from mailroom.config import DedupeSettings
from mailroom.dedupe import index as dedupe_index
from mailroom.dedupe.engine import Dedupe, Item
from mailroom.dedupe.normalize import normalize, normalize_content
from mailroom.dedupe.signature import content_sketch, sketch
from mailroom.sample.synth import _fresh_article
from mailroom.store.database import make_engine, make_session_factory, upgrade
from mailroom.store.models import DedupeBand, DedupeText, Message, Submission

START = datetime(2019, 3, 1, tzinfo=UTC)
SPAN_DAYS = 80  # every stored item inside the 90-day window of the queries
TOWNS = ["望洪镇", "望远镇", "闽宁镇", "李俊镇", "胜利乡", "杨和镇", "增岗镇", "黄羊滩"]
UNITS = ["办公室", "耕地保护股", "国土空间规划股", "自然资源综合执法大队", "望洪林业站",
         "黄河生态林场", "不动产登记中心", "林业和草原股"]


def make_item(seed: int, index: int) -> tuple[str, str]:
    _reporter, article = _fresh_article(seed, index)
    return article.title, article.text()


def near_duplicate(rng: random.Random, title: str, body: str) -> tuple[str, str]:
    cut = rng.randint(0, max(1, len(body) - 20))
    return "转发：" + title, "各位领导：\n" + body[:cut] + "，" + body[cut:] + "\n信息员 张三"


BASE_ITEMS = 50_000  # items written and normalised in full; later ones are variants of them
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Prepared:
    """One stored item's rows, ready to insert: what the pipeline would have indexed."""

    title: str           # as in the subject
    normalized_title: str
    sentences: tuple[str, ...]
    numbers: frozenset[str]
    minhash: bytes
    keys: list[int]


def prepare(seed: int, index: int, stored: list[tuple[str, str]]) -> Prepared:
    """An item of the generator, normalised and sketched as the pipeline does."""
    title, body = make_item(seed, index)
    stored.append((title, body))
    n = normalize(title, body, ())
    sketched = sketch(n.title, n.content, None, n.sentences)
    return Prepared(title, n.title, n.sentences, n.numbers, sketched.minhash, sketched.keys)


def variant(rng: random.Random, base: Prepared) -> Prepared:
    """Another issue of `base`'s template: every figure and date drawn again (its sentences
    and keys differ where the numbers are), re-sketched but not re-normalised — filling a
    million items costs minutes instead of hours, and each is one more look-alike."""
    drawn: dict[str, str] = {}

    def draw(match: re.Match[str]) -> str:
        digits = match.group(0)
        return drawn.setdefault(digits, str(rng.randrange(10 ** (len(digits) - 1) if
                                                          len(digits) > 1 else 1,
                                                          10 ** len(digits))))

    sentences = tuple(_DIGITS.sub(draw, sentence) for sentence in base.sentences)
    normalized_title = _DIGITS.sub(draw, base.normalized_title)
    numbers = frozenset(drawn.get(value, value) for value in base.numbers)
    sketched = sketch(normalized_title, "".join(sentences), None, sentences)
    return Prepared(_DIGITS.sub(draw, base.title), normalized_title, sentences, numbers,
                    sketched.minhash, sketched.keys)


def fill(sessions, rng: random.Random, seed: int, start: int, stop: int,  # type: ignore[no-untyped-def]
         stored: list[tuple[str, str]], bases: list[Prepared],
         base_items: int = BASE_ITEMS) -> None:
    """Insert items start..stop-1 (submission, index rows) in batches, as judged items: the
    first `BASE_ITEMS` from the generator, the rest variants of them (`variant`); on
    PostgreSQL with COPY."""
    batch = 10_000
    for first in range(start, stop, batch):
        messages, submissions, texts, bands = [], [], [], []
        for index in range(first, min(stop, first + batch)):
            if index < base_items:
                item = prepare(seed, index, stored)
                bases.append(item)
            else:
                item = variant(rng, bases[index % base_items])
            pk = index + 1
            at = START + timedelta(seconds=rng.randint(0, SPAN_DAYS * 86400))
            messages.append({"id": pk, "mailbox": "INBOX", "uidvalidity": 1, "uid": str(pk),
                             "raw_sha256": f"{pk:064x}", "raw_size": 1, "raw_path": "-",
                             "message_id": "", "sender": "", "subject": item.title,
                             "date_header": None, "received_at": at, "kind": "submission",
                             "reason": None, "detail": {}, "processed_at": at})
            submissions.append({"id": pk, "message_pk": pk, "number": f"B-{pk}",
                                "month": "2019-03", "unit": rng.choice(UNITS),
                                "unit_source": "subject", "title": item.title, "sender": "",
                                "received_at": at, "status": "counted",
                                "priority": "general", "followup": None, "warnings": []})
            texts.append({"submission_id": pk, "received_at": at,
                          "title": item.normalized_title, "content": "\n".join(item.sentences),
                          "source": "body", "numbers": " ".join(sorted(item.numbers)),
                          "minhash": item.minhash})
            bands += [{"band_key": k, "submission_id": pk, "received_at": at}
                      for k in dict.fromkeys(item.keys)]
        write(sessions, ((Message, messages), (Submission, submissions),
                         (DedupeText, texts), (DedupeBand, bands)))
        if stop - start > 100_000:
            print(f"  … {min(stop, first + batch):,} stored", flush=True)


def write(sessions, tables) -> None:  # type: ignore[no-untyped-def]
    """One batch of rows per table: COPY on PostgreSQL, executemany elsewhere."""
    with sessions.begin() as session:
        connection = session.connection()
        if connection.dialect.name != "postgresql":
            for model, rows in tables:
                session.execute(insert(model.__table__), rows)
            return
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute("SET LOCAL session_replication_role = replica")  # no FK trigger per row
        for model, rows in tables:
            columns = list(rows[0])
            table = model.__table__
            processors = [table.c[name].type.bind_processor(connection.dialect)
                          for name in columns]
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([
                        (json.dumps(value) if isinstance(value, dict | list) else
                         processor(value) if processor is not None and value is not None
                         else value)
                        for value, processor in zip(row.values(), processors, strict=True)])


cpu_ms: list[float] = []  # the judge part's CPU time: steadier than wall time on a busy machine


def measure(sessions, dedupe: Dedupe, rng: random.Random, seed: int,  # type: ignore[no-untyped-def]
            stored: list[tuple[str, str]], queries: int
            ) -> tuple[list[float], list[float], list[int]]:
    times: list[float] = []
    judged: list[float] = []
    cpu_ms.clear()
    candidates: list[int] = []
    original = dedupe_index.candidate_ids

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = original(*args, **kwargs)
        candidates.append(len(found))
        return found

    dedupe_index.candidate_ids = counting  # type: ignore[assignment]
    try:
        for q in range(queries):
            title, body = (near_duplicate(rng, *rng.choice(stored)) if q % 2 == 0
                           else make_item(seed + 1, rng.randrange(200_000)))
            at = START + timedelta(days=SPAN_DAYS + 5, seconds=q)
            session = sessions()
            try:
                with session.begin():
                    pk = 10_000_000 + q
                    session.execute(insert(Message.__table__), [{
                        "id": pk, "mailbox": "Q", "uidvalidity": 1, "uid": str(q),
                        "raw_sha256": f"q{q:063x}", "raw_size": 1, "raw_path": "-",
                        "message_id": "", "sender": "", "subject": title,
                        "date_header": None, "received_at": at, "kind": "submission",
                        "reason": None, "detail": {}, "processed_at": at}])
                    session.execute(insert(Submission.__table__), [{
                        "id": pk, "message_pk": pk, "number": f"Q-{q}", "month": "2019-05",
                        "unit": "办公室", "unit_source": "subject", "title": title,
                        "sender": "", "received_at": at, "status": "counted",
                        "priority": "general", "followup": None, "warnings": []}])
                    started = time.perf_counter()
                    content = normalize_content(body, ())  # in the pipeline: a worker's job
                    sketched = content_sketch(content.text) if content.text else None
                    prepared = time.perf_counter()
                    cpu = time.process_time()
                    dedupe.judge(session, pk, Item(title, body, (), content, sketched))
                    done = time.perf_counter()
                    cpu_ms.append((time.process_time() - cpu) * 1000)
                    times.append((done - started) * 1000)
                    judged.append((done - prepared) * 1000)
                    session.rollback()
            finally:
                session.close()
    finally:
        dedupe_index.candidate_ids = original  # type: ignore[assignment]
    return times, judged, candidates


@contextlib.contextmanager
def bulk_load(engine, rows: int):  # type: ignore[no-untyped-def]
    """On PostgreSQL, a big fill goes in without the band table's indexes, which are built
    again afterwards (one sort instead of tens of millions of B-tree insertions)."""
    bands = DedupeBand.__table__
    if engine.dialect.name != "postgresql" or rows < 100_000:
        yield
        return
    with engine.begin() as connection:
        for index in bands.indexes:
            connection.exec_driver_sql(f"DROP INDEX {index.name}")
    try:
        yield
    finally:
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            for index in bands.indexes:
                index.create(connection)
            connection.exec_driver_sql("ANALYZE")
        print(f"  … indexes built again in {time.perf_counter() - started:.0f} s", flush=True)


def settle(engine) -> None:  # type: ignore[no-untyped-def]
    """Measure a store at rest, as the daemon meets it, not one that has just taken a bulk
    write: fold SQLite's write-ahead log into the database and start new connections."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--base", type=int, default=BASE_ITEMS,
                        help="items made by the generator and normalised in full; the rest "
                             "are variants of them with other figures (default %(default)s)")
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in a temp dir)")
    parser.add_argument("--postgres", action="store_true",
                        help="start a private PostgreSQL server (as the tests do) and use it")
    parser.add_argument("--reuse", action="store_true",
                        help="the --database already holds the items of an earlier run "
                             "(same --seed): only measure")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mailroom-dedupe-bench-"))
    server = None
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from support.postgres import PostgresServer

        server = PostgresServer()
        server.start()
        args.database = server.url()
    try:
        return run(args, work)
    finally:
        if server is not None:
            server.stop()


def run(args: argparse.Namespace, work: Path) -> int:
    sizes = sorted(int(s) for s in args.sizes.split(","))
    engine = make_engine(args.database or f"sqlite:///{work / 'bench.db'}")
    upgrade(engine)
    sessions = make_session_factory(engine)
    rng = random.Random(args.seed)
    dedupe = Dedupe(DedupeSettings())
    stored: list[tuple[str, str]] = []  # (title, body) of the generator's items
    bases: list[Prepared] = []
    count = 0  # items in the store
    print(f"database {engine.url.render_as_string()}")
    print(f"{'stored':>8} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'judge ms':>9} "
          f"{'candidates':>11} {'peak RSS MiB':>13} {'judge CPU ms':>13}")
    for size in sizes:
        started = time.perf_counter()
        if args.reuse:
            stored += [make_item(args.seed, index)
                       for index in range(len(stored), min(size, args.base))]
        else:
            with bulk_load(engine, size - count):
                fill(sessions, rng, args.seed, count, size, stored, bases, args.base)
        count = size
        filled = time.perf_counter() - started
        settle(engine)
        measure(sessions, dedupe, rng, args.seed, stored, 50)  # warm caches
        times, judged, candidates = measure(sessions, dedupe, rng, args.seed, stored,
                                            args.queries)
        times.sort()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>8} {statistics.median(times):>10.2f} "
              f"{times[int(len(times) * 0.95)]:>8.2f} {times[-1]:>8.2f} "
              f"{statistics.median(judged):>9.2f} {statistics.mean(candidates):>11.1f} "
              f"{rss:>13.0f} {statistics.median(cpu_ms):>13.2f}   (filled in {filled:.0f} s)")
        sys.stdout.flush()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
