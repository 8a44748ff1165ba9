"""The console's users: who may log in, with which role, and their password's Argon2id hash.

Set by the admin (`mailroom web user add|remove|list`, cli_web.py); read by the login
(auth.py). A password is never stored, logged or taken from the command line.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailroom.errors import InvalidInput
from mailroom.store.models import WebUser

ROLES = ("office", "viewer")
MIN_PASSWORD = 8
_HASHER = PasswordHasher()  # argon2-cffi's defaults: Argon2id, 64 MiB, 3 passes (RFC 9106)
# Verified against when the name is unknown, so that a wrong name takes as long as a wrong
# password (no telling which names exist by the time a login takes)
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Account:
    """A user as the console sees one (no hash)."""

    id: int
    name: str
    role: str
    session_key: str

    @property
    def office(self) -> bool:
        return self.role == "office"


def _account(row: WebUser) -> Account:
    return Account(row.id, row.name, row.role, row.session_key)


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(not char.isprintable() for char in name):
        raise InvalidInput(f"a user name is 1–100 printable characters, got {name!r}")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")
    return password


def add_user(session: Session, name: str, role: str, password: str, at: datetime) -> Account:
    """A new user; an existing name gets the new role and password (and loses its sessions)."""
    name = check_name(name)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    hashed = _HASHER.hash(check_password(password))
    row = session.scalar(select(WebUser).where(WebUser.name == name))
    if row is None:
        row = WebUser(name=name, created_at=at)
        session.add(row)
    row.role, row.password_hash, row.password_set_at = role, hashed, at
    row.session_key = secrets.token_hex(16)
    session.flush()
    return _account(row)


def remove_user(session: Session, name: str) -> Account:
    row = session.scalar(select(WebUser).where(WebUser.name == name.strip()))
    if row is None:
        raise InvalidInput(f"no console user named {name!r}")
    account = _account(row)
    session.delete(row)
    return account


def list_users(session: Session) -> list[WebUser]:
    return list(session.scalars(select(WebUser).order_by(WebUser.name)))


def authenticate(session: Session, name: str, password: str) -> Account | None:
    """The user if `password` is theirs, else None (same work for an unknown name)."""
    row = session.scalar(select(WebUser).where(WebUser.name == name.strip()))
    try:
        _HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = _HASHER.hash(password)
    return _account(row)


def account(session: Session, user_id: int, session_key: str) -> Account | None:
    """The user a session cookie names, if it still may: same key (no new password since)."""
    row = session.get(WebUser, user_id)
    if row is None or not secrets.compare_digest(row.session_key, session_key):
        return None
    return _account(row)
