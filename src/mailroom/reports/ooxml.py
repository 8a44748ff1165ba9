"""Deterministic Office files: the zip that openpyxl / python-docx write stamps every
member with the time of writing; `fixed` rewrites it with one given time, so the same
report gives the same bytes."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime


def fixed(data: bytes, when: datetime) -> bytes:
    """`data` (a zip) with every member dated `when` (local wall time, as zip keeps it),
    members in their order, deflated."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=stamp)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


def utc_naive(when: datetime) -> datetime:
    """An aware time as the naive UTC that Office document properties hold."""
    offset = when.utcoffset()
    return when.replace(tzinfo=None) - offset if offset is not None else when
