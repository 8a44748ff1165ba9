"""Ingest benchmark: `import` and `poll --once` mails/s next to mail-parser's parse rate.

    .venv/bin/python benchmarks/ingest.py                  # 1,000 mails, SQLite and PostgreSQL
    .venv/bin/python benchmarks/ingest.py --large          # and 10,000 mails (takes a while)
    .venv/bin/python benchmarks/ingest.py --mails 500 --databases sqlite
    .venv/bin/python benchmarks/ingest.py --mails 500 --databases sqlite --modes import \
        --profile /tmp/ingest.prof                         # cProfile of the recording process

N realistic generated mails (the bureau's own: Chinese, .docx / .pdf attachments, many
look-alikes for the first-report decision) go through, in one run and side by side:

- `import`: `mailroom import --maildir` of a Maildir holding them (no receipts), the very
  code of the command (importing.run_import);
- `poll --once`: the mails APPENDed to a private Dovecot on 127.0.0.1, then one pass of
  `poll --once` (daemon.poll_once): fetch, record, queue a receipt per submission (rendered
  and written as .eml by the drain, no [smtp]), file away. The pass and the drain are timed
  apart: the drain's rate is SMTP's in real life (throttled to `max_per_minute`).

each on a fresh SQLite file and a fresh database on a private PostgreSQL server. The same
mails are parsed by mail-parser alone (`mailparser.parse_from_bytes`) before and after each
measurement; the median is the reference (past 2,000 mails, on an evenly spread sample
of 2,000 of them: the rate per mail does not depend on how many there are). Target: every
ratio ≥ 0.5. The machine's speed drifts (other work on it): compare ratios of one run, not
rates of different runs; each row shows the 1-minute load average at its end.

Rates move with the load; CPU time a mail hardly does. So the run first prints the CPU
milliseconds a mail of mail-parser's parse and of a preparing worker's work (parse, file
store, attachments' text in the text worker, R3 content and sketch) on a sample, and the
import row the recording process's. On C cores the ratio cannot pass
parse / max(recording, (preparing + recording) / C): README "Ingest speed" has the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import mailparser  # noqa: E402

from mailroom import daemon, importing, preparing, textworker  # noqa: E402
from mailroom.app import App  # noqa: E402
from mailroom.clock import FixedClock  # noqa: E402
from mailroom.config import parse_settings  # noqa: E402
from mailroom.mailbox.backlog import MaildirBacklog  # noqa: E402
from mailroom.sample.generate import UNITS, iter_generated_mails  # noqa: E402
from mailroom.store.files import sha256_hex  # noqa: E402
from support.dovecot import DovecotServer, find_dovecot  # noqa: E402
from support.mail import deliver  # noqa: E402
from support.postgres import PostgresServer  # noqa: E402

Mails = list[tuple[bytes, datetime]]


PARSE_SAMPLE = 2000  # mails parsed for the reference rate, at most


def parse_only_rate(mails: Mails) -> float:
    if len(mails) > PARSE_SAMPLE:
        mails = mails[::len(mails) // PARSE_SAMPLE][:PARSE_SAMPLE]
    started = time.perf_counter()
    for raw, _received in mails:
        mailparser.parse_from_bytes(raw)
    return len(mails) / (time.perf_counter() - started)


class _Silent:
    def start(self, total: int) -> None: ...

    def update(self, done: int) -> None: ...

    def close(self) -> None: ...


@dataclass
class Row:
    database: str
    mails: int
    mode: str
    rate: float
    parse_rate: float
    note: str = ""
    load: float = 0.0  # the 1-minute load average when the run ended

    @property
    def ratio(self) -> float:
        return self.rate / self.parse_rate


def _settings(work: Path, url: str, **sections: Any) -> dict[str, Any]:
    return {"database": {"url": url}, "storage": {"path": str(work / "store")},
            "outbox": {"path": str(work / "sent")},
            "office": {"addresses": ["office@example.cn"]},
            "units": [{"name": name, "aliases": list(aliases)} for name, aliases in UNITS],
            **sections}


def _app(data: dict[str, Any]) -> App:
    return App.build(parse_settings(data), FixedClock(datetime(2019, 6, 1, tzinfo=UTC)))


def measure_import(mails: Mails, work: Path, url: str) -> tuple[float, str]:
    inbox = work / "backlog"
    for raw, received in mails:
        deliver(inbox, raw, received)
    app = _app(_settings(work, url, maildir={"path": str(work / "unused")}))
    try:
        source = MaildirBacklog(inbox)
        started, cpu = time.perf_counter(), time.process_time()
        report = importing.run_import(app, source, False, daemon.Stopper(), _Silent())
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        app.close()
    assert report is not None and report.fetched == len(mails), report
    return len(mails) / elapsed, (f"recording process CPU {cpu / len(mails) * 1000:.1f} ms a mail;"
                                  f" {_stages(report.seconds, len(mails), elapsed)}")


def measure_poll(mails: Mails, work: Path, url: str, dovecot: DovecotServer) -> tuple[float,
                                                                                      float, str]:
    user = dovecot.user()
    with dovecot.client(user) as client:
        for raw, received in mails:
            client.append("INBOX", raw, msg_time=received)
    app = _app(_settings(work, url, imap={
        "host": "127.0.0.1", "port": dovecot.port, "security": "plain",
        "username": user.username, "password": user.password}))
    try:
        pipeline_seconds: dict[str, float] = {}
        original = app.pipeline

        def timed_pipeline() -> Any:  # the pass alone, as the drain is timed apart
            pipeline = original()
            run_pass = pipeline.run_pass

            def run(*args: Any, **kwargs: Any) -> Any:
                started, cpu = time.perf_counter(), time.process_time()
                try:
                    return run_pass(*args, **kwargs)
                finally:
                    pipeline_seconds["pass"] = time.perf_counter() - started
                    pipeline_seconds["pass cpu"] = time.process_time() - cpu
            pipeline.run_pass = run  # type: ignore[method-assign]
            return pipeline

        app.pipeline = timed_pipeline  # type: ignore[method-assign]
        started, cpu = time.perf_counter(), time.process_time()
        report = daemon.poll_once(app)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        app.close()
    assert report.fetched == len(mails) and report.outbox is not None, report.summary()
    drain = elapsed - pipeline_seconds["pass"]
    sent = report.outbox.sent
    drain_cpu = cpu - pipeline_seconds["pass cpu"]
    return (len(mails) / elapsed, len(mails) / pipeline_seconds["pass"],
            f"{sent} receipts rendered and written: {drain / len(mails) * 1000:.1f} ms a mail"
            f" (CPU {drain_cpu / max(sent, 1) * 1000:.1f} ms a receipt); recording process CPU"
            f" in the pass {pipeline_seconds['pass cpu'] / len(mails) * 1000:.1f} ms a mail;"
            f" pass: {_stages(report.seconds, len(mails), pipeline_seconds['pass'])}")


def _stages(seconds: dict[str, float], count: int, elapsed: float) -> str:
    """Where the recording process spent a mail's time (PassReport.seconds)."""
    def ms(value: float) -> str:
        return f"{value / count * 1000:.1f}"

    first = seconds.get("first report", 0.0)
    queue = seconds.get("queue replies", 0.0)
    record = seconds.get("record (incl. first report, replies)", 0.0) - first - queue
    waiting = seconds.get("parse (waiting for the workers)", 0.0)
    rest = elapsed - first - queue - record - waiting
    return (f"ms a mail: {ms(elapsed)} = first report {ms(first)} + queue replies {ms(queue)}"
            f" + record {ms(record)} + waiting for the workers {ms(waiting)}"
            f" + fetch, commit, file away {ms(rest)}")


class Profiled:
    """cProfile of the measured calls only (the recording process: the parse workers are
    other processes), written to `path` and its top entries printed at the end."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.profile = cProfile.Profile() if path else None

    def __call__(self, measure: Callable[[], Any]) -> Callable[[], Any]:
        profile = self.profile
        if profile is None:
            return measure

        def profiled() -> Any:
            profile.enable()
            try:
                return measure()
            finally:
                profile.disable()
        return profiled

    def report(self, top: int = 30) -> None:
        if self.profile is None or self.path is None:
            return
        import pstats

        self.profile.dump_stats(self.path)
        print(f"\nprofile of the recording process: {self.path}; top {top} by own time")
        pstats.Stats(self.path, stream=sys.stdout).sort_stats("tottime").print_stats(top)


CPU_SAMPLE = 300


def cpu_per_mail(mails: Mails) -> tuple[float, float]:
    """CPU milliseconds a mail (hardly moved by the load, unlike rates): mail-parser's parse,
    and what a preparing worker does (parse, store, attachments' text in its text worker,
    R3 content and sketch), on an evenly spread sample."""
    sample = mails[::max(1, len(mails) // CPU_SAMPLE)][:CPU_SAMPLE]
    started = time.process_time()
    for raw, _received in sample:
        mailparser.parse_from_bytes(raw)
    parse = (time.process_time() - started) / len(sample)
    textworker.close_workers()
    with tempfile.TemporaryDirectory() as store:
        for raw, received in sample[:5]:  # the text worker started: its start not counted
            preparing.prepare(raw, received, sha256_hex(raw), store)
        started, child = time.process_time(), _text_workers_cpu()
        for raw, received in sample:
            preparing.prepare(raw, received, sha256_hex(raw), store)
        spent = time.process_time() - started + _text_workers_cpu() - child
        textworker.close_workers()
    return parse * 1000, spent / len(sample) * 1000


def _text_workers_cpu() -> float:
    """CPU seconds of this process's text workers and their finished children (antiword)."""
    total = 0.0
    for worker in textworker._workers.values():
        process = worker._process
        if process is None:
            continue
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def _with_parse_rate(mails: Mails, measure: Callable[[], Any]) -> tuple[Any, float]:
    """The measurement, and the median parse-only rate around it (before, after twice)."""
    rates = [parse_only_rate(mails)]
    result = measure()
    rates += [parse_only_rate(mails), parse_only_rate(mails)]
    return result, statistics.median(rates)


def run(counts: list[int], databases: list[str], seed: int, modes: tuple[str, ...] = (
        "import", "poll --once"), profiled: Profiled | None = None) -> list[Row]:
    profiled = profiled or Profiled(None)
    rows: list[Row] = []
    root = Path(tempfile.mkdtemp(prefix="mailroom-bench-"))
    root.chmod(0o711)
    (root / "dovecot").mkdir()
    (root / "dovecot").chmod(0o711)
    dovecot = DovecotServer(find_dovecot(), root / "dovecot")
    dovecot.start()
    postgres = PostgresServer() if "postgresql" in databases else None
    try:
        if postgres is not None:
            postgres.start()
        for count in counts:
            mails = list(iter_generated_mails(count, seed=seed))
            size = sum(len(raw) for raw, _ in mails) / count / 1024
            print(f"{count} generated mails, {size:.1f} KiB on average", flush=True)
            parse_cpu, prepare_cpu = cpu_per_mail(mails)
            print(f"CPU a mail: mail-parser {parse_cpu:.1f} ms; preparing (a worker: parse, "
                  f"store, attachments' text, R3 content) {prepare_cpu:.1f} ms", flush=True)
            for database in databases:
                for mode in modes:
                    work = root / f"{database}-{count}-{mode.split()[0]}"
                    work.mkdir()
                    url = (f"sqlite:///{work / 'bench.db'}" if database == "sqlite" else
                           postgres.create_database(f"bench_{count}_{mode.split()[0]}")
                           if postgres else "")
                    if mode == "import":
                        (rate, note), parse = _with_parse_rate(
                            mails, profiled(partial(measure_import, mails, work, url)))
                        rows.append(Row(database, count, mode, rate, parse, note, _load()))
                    else:
                        (rate, pass_rate, note), parse = _with_parse_rate(
                            mails, profiled(partial(measure_poll, mails, work, url, dovecot)))
                        rows.append(Row(database, count, mode, rate, parse,
                                        f"incl. the drain; {note}", _load()))
                        rows.append(Row(database, count, "  the pass alone", pass_rate, parse,
                                        "fetch, record, queue receipts, file away", _load()))
                    _print_row(rows[-2] if mode != "import" else rows[-1])
                    if mode != "import":
                        _print_row(rows[-1])
                    shutil.rmtree(work, ignore_errors=True)
    finally:
        dovecot.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
    return rows


def _load() -> float:
    return os.getloadavg()[0]


HEADER = (f"{'database':10s} {'mails':>6s}  {'run':18s} {'mails/s':>8s} {'parse-only':>10s} "
          f"{'ratio':>6s}  {'':4s} {'load':>5s}")


def _print_row(row: Row) -> None:
    verdict = "" if row.mode.startswith(" ") else ("ok" if row.ratio >= 0.5 else "MISS")
    print(f"{row.database:10s} {row.mails:6d}  {row.mode:18s} {row.rate:8.1f} "
          f"{row.parse_rate:10.1f} {row.ratio:6.2f}  {verdict:4s} {row.load:5.1f} {row.note}",
          flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--large", action="store_true", help="also 10,000 mails")
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--modes", default="import,poll --once",
                        help="comma-separated: import, poll --once")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the recording process into FILE, print its top entries")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("mailparser").setLevel(logging.CRITICAL)
    counts = [args.mails, 10_000] if args.large else [args.mails]
    print("ratio = rate / mail-parser-only rate, measured around each run; target ≥ 0.50")
    print(f"{os.cpu_count()} cores; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}"
          " at the start (the load column: the 1-minute average as each run ended)")
    print(HEADER)
    profiled = Profiled(args.profile)
    rows = run(counts, args.databases.split(","), args.seed,
               tuple(m.strip() for m in args.modes.split(",")), profiled)
    profiled.report()
    return 0 if all(r.rate > 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
