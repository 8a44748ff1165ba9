"""Wiring: settings → engine, sessions, file store, mail source, pipeline. No logic of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mailroom.clock import Clock, SystemClock
from mailroom.config import Settings
from mailroom.mailbox.base import MailSource
from mailroom.mailbox.maildir import MaildirSource
from mailroom.outbox.sender import OutboxSender, Sleep, plain_sleep
from mailroom.pipeline import Pipeline
from mailroom.store.database import make_engine, make_session_factory, prepare_schema
from mailroom.store.files import FileStore
from mailroom.store.instance import InstanceLock, instance_lock
from mailroom.store.locks import SCHEMA_LOCK


@dataclass
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    files: FileStore
    clock: Clock

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> App:
        engine = make_engine(settings.database.url)
        return cls(settings, engine, make_session_factory(engine),
                   FileStore(Path(settings.storage.path)), clock or SystemClock())

    def pipeline(self) -> Pipeline:
        prepare_schema(self.engine, self.files.root / SCHEMA_LOCK)
        return Pipeline(self.settings, self.sessions, self.files, self.clock)

    def outbox(self, sleep: Sleep = plain_sleep,
               stop: Callable[[], bool] = lambda: False) -> OutboxSender:
        return OutboxSender(self.settings, self.sessions, self.clock, sleep, stop)

    def open_source(self) -> MailSource:
        """Connect to the configured mailbox: [imap] when present, else [maildir]."""
        if self.settings.imap is not None:
            from mailroom.mailbox.imap import ImapSource

            return ImapSource(self.settings.imap, timeout=self.settings.imap.timeout)
        assert self.settings.maildir is not None
        return MaildirSource(Path(self.settings.maildir.path), "mailroom/processed",
                             "mailroom/failed")

    def mailbox_name(self) -> str:
        """The configured mailbox's identity (as stored with every message)."""
        if self.settings.imap is not None:
            from mailroom.mailbox.imap import mailbox_name

            return mailbox_name(self.settings.imap)
        assert self.settings.maildir is not None
        return f"maildir:{Path(self.settings.maildir.path).resolve()}"

    def instance_lock(self, command: str) -> InstanceLock:
        """One `run` (or `import`) per mailbox and database (store/instance.py)."""
        return instance_lock(self.engine, self.mailbox_name(), command, self.files.root)

    def close(self) -> None:
        self.engine.dispose()
