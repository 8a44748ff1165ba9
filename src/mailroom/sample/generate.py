"""Write the bundled sample Maildir, and generate realistic mail for benchmarks.

    python -m mailroom.sample.generate OUTDIR      # OUTDIR/cur, new, tmp

The output is deterministic: fixed times, Message-IDs and boundaries, so running it again
gives byte-identical files with identical names (tests/test_sample.py checks that the
committed `src/mailroom/sample/maildir` is exactly this output). Each file is named by its
delivery time, `1557300000.M…P….mailroom-sample,S=<size>` (plus `:2,S` in cur/), and its
mtime is set to that time.

The API:
- `sample_mails()`: the sample month with each mail's expected kind, unit, title, priority
  and attachment names (`SampleMail`).
- `write_maildir(path)`: write them.
- `bureau_mail(i, seed=…)`, `iter_generated_mails(n, seed)`: endless varied submissions
  for benchmarks, as (raw bytes, received time).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mailroom.sample.corpus import SampleMail, sample_mails
from mailroom.sample.synth import BENCH_START, UNITS, bureau_mail, iter_generated_mails

__all__ = [
    "BENCH_START",
    "SAMPLE_DIR",
    "UNITS",
    "SampleMail",
    "bureau_mail",
    "iter_generated_mails",
    "main",
    "sample_mails",
    "write_maildir",
]

SAMPLE_DIR = Path(__file__).resolve().parent  # holds maildir/ and mailroom.toml


def write_maildir(path: Path, mails: list[SampleMail] | None = None) -> list[Path]:
    """Write the sample (or `mails`) as a Maildir at `path`; returns the files written.
    Files already there with other names are left alone."""
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    keep = path / "tmp" / ".gitkeep"  # git keeps no empty folder; readers skip dot files
    keep.write_bytes(b"")
    written = []
    for mail in mails if mails is not None else sample_mails():
        target = path / mail.maildir_path
        target.write_bytes(mail.raw)
        os.utime(target, (mail.timestamp, mail.timestamp))
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m mailroom.sample.generate OUTDIR", file=sys.stderr)
        return 2
    written = write_maildir(Path(args[0]))
    print(f"wrote {len(written)} mails to {args[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
