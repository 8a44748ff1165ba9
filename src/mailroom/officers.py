"""R7 roster from the command line: list, add and remove officers (信息员).

Officers are also registered by roster mails (handlers/roster.py) and by the config's `[[units]]
officers`; this module is the CLI's use case and holds no I/O of its own beyond the session
it is given.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailroom.config import Settings
from mailroom.errors import InvalidInput
from mailroom.listing import table
from mailroom.store import queries
from mailroom.store.models import Officer
from mailroom.vocabulary import local_iso

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def sync_from_config(session: Session, settings: Settings, at: datetime) -> None:
    """Register the config's `[[units]] officers` that are not registered yet."""
    assignments = [(address, unit.name) for unit in settings.units for address in unit.officers]
    queries.sync_config_officers(session, assignments, at)


def officer_rows(session: Session, zone: ZoneInfo) -> list[dict[str, Any]]:
    officers = session.scalars(select(Officer).order_by(Officer.unit, Officer.address))
    return [{"address": o.address, "unit": o.unit, "name": o.name, "source": o.source,
             "registered_at": local_iso(o.registered_at, zone),
             "registered_by": o.registered_by} for o in officers]


def officers_table(rows: list[dict[str, Any]]) -> str:
    body = [[r["unit"], r["address"], r["name"] or "-", r["source"],
             r["registered_at"][:16].replace("T", " ")] for r in rows]
    headers = ["unit", "address", "name", "source", "registered"]
    return table(headers, body, [22, 32, 10, 7, 16]) + f"\n{len(rows)} officers"


def configured_unit(settings: Settings, given: str) -> str:
    """The configured unit `given` names exactly, by name or alias; anything else is refused
    (a typo must not register an officer for a unit that does not exist)."""
    wanted = given.strip()
    for unit in settings.units:
        if wanted == unit.name or wanted in unit.aliases:
            return unit.name
    names = "、".join(u.name for u in settings.units) or "(none configured)"
    raise InvalidInput(f"no unit named {given!r} in the config; units: {names}")


def add_officer(
    session: Session, settings: Settings, address: str, unit: str, name: str, at: datetime,
    *, source: str = "cli", by: str | None = None,
) -> Officer:
    """Register (or move) `address` for a configured unit, from the CLI or the console
    (`source`), recording who did it (`by`)."""
    address = address.strip().lower()
    if not _ADDRESS.match(address):
        raise InvalidInput(f"{address!r} is not a mail address")
    return queries.register_officer(session, address=address, unit=configured_unit(settings, unit),
                                    source=source, at=at, name=name.strip(), by=by)


def remove_officer(session: Session, settings: Settings, address: str) -> Officer:
    address = address.strip().lower()
    officer = session.scalars(select(Officer).where(Officer.address == address)).first()
    if officer is None:
        raise InvalidInput(f"{address} is not a registered officer")
    in_config = [u.name for u in settings.units if address in (a.lower() for a in u.officers)]
    if in_config:
        # the next poll would register it again from the config
        raise InvalidInput(f"{address} is listed in the config under [[units]] name = "
                           f"{in_config[0]!r} officers; remove it there")
    session.delete(officer)
    return officer
