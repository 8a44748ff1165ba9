"""R1 / R7: a roster the subject rules can use without crediting a mail to the wrong unit.

Checked once, when the config is loaded: every name and alias must name one unit only, as
the subject matcher compares them (`subject._key`: full-width folded, no spaces, no wrapping
brackets), and a reporter's address must belong to one unit only (addresses compare
case-insensitively).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mailroom.rules.subject import _key  # the matcher's own comparison, not a look-alike


class RosterUnit(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def aliases(self) -> list[str]: ...
    @property
    def officers(self) -> list[str]: ...


def roster_problems(units: Sequence[RosterUnit]) -> list[str]:
    """What makes the roster ambiguous, one phrase each naming the units; [] when nothing."""
    by_name: dict[str, list[str]] = {}
    for unit in units:
        by_name.setdefault(_key(unit.name), []).append(unit.name)
    problems = [f"name given more than once: {' / '.join(dict.fromkeys(names))}"
                for names in by_name.values() if len(names) > 1]
    named = {key: names[0] for key, names in by_name.items()}
    aliased: dict[str, str] = {}
    officers: dict[str, str] = {}
    for unit in units:
        for alias in unit.aliases:
            other = named.get(_key(alias), unit.name)
            if other != unit.name:
                problems.append(f"alias {alias!r} of {unit.name!r} is the name of the unit "
                                f"{other!r}")
            owner = aliased.setdefault(_key(alias), unit.name)
            if owner != unit.name:
                problems.append(f"alias {alias!r} is given to both {owner!r} and "
                                f"{unit.name!r}")
        for address in unit.officers:
            owner = officers.setdefault(address.lower(), unit.name)
            if owner != unit.name:
                problems.append(f"officer {address!r} is listed under both {owner!r} and "
                                f"{unit.name!r}")
    return list(dict.fromkeys(problems))
