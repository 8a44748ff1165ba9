"""Where outgoing rows go: SMTP, .eml files (no [smtp]), or a group-robot webhook.

Each transport's `send` returns a short note of what the other side said, or raises
SendError saying whether trying again later may help (4xx, network) or not (5xx), and
whether the connection itself failed (then the rest of the queue waits too).
"""

from __future__ import annotations

import os
import re
import smtplib
from pathlib import Path
from typing import Protocol

from mailroom.clock import Clock
from mailroom.config import SmtpSettings, UrgentSettings
from mailroom.errors import MailroomError
from mailroom.outbox import webhook
from mailroom.outbox.smtp import SmtpError, connect
from mailroom.store.models import OutgoingMail

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


class SendError(MailroomError):
    def __init__(self, message: str, *, temporary: bool, connection: bool = False,
                 login: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.connection = connection
        self.login = login  # the server refused our login (an expired authorisation code)


class Transport(Protocol):
    def send(self, row: OutgoingMail) -> str: ...

    def close(self) -> None: ...


class SmtpTransport:
    """One SMTP connection reused across a drain; reopened after any error."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._client: smtplib.SMTP | None = None

    def _connected(self) -> smtplib.SMTP:
        if self._client is None:
            try:
                self._client = connect(self.settings)
            except SmtpError as exc:
                raise SendError(str(exc), temporary=True, connection=True,
                                login=exc.stage == "login") from None
        return self._client

    def send(self, row: OutgoingMail) -> str:
        client = self._connected()
        try:
            refused = client.sendmail(row.sender, list(row.recipients), row.raw)
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{rcpt}: {code} {_text(msg)}"
                               for rcpt, (code, msg) in exc.recipients.items())
            raise SendError(f"all recipients refused: {detail}",
                            temporary=all(400 <= c < 500 for c in codes)) from None
        except smtplib.SMTPNotSupportedError as exc:  # e.g. a non-ASCII address, no SMTPUTF8
            self.close()
            raise SendError(f"server cannot take this mail: {exc}", temporary=False) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise SendError(f"server answered {exc.smtp_code} {_text(exc.smtp_error)}",
                            temporary=400 <= exc.smtp_code < 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendError(f"connection lost while sending: {exc or type(exc).__name__}",
                            temporary=True) from None
        note = "accepted"
        if refused:
            note += "; refused " + ", ".join(f"{r} ({c})" for r, (c, _) in refused.items())
        return note

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


class EmlTransport:
    """No [smtp]: each mail becomes `<Message-ID>.eml` in [outbox] path, written atomically;
    the name comes from the deterministic Message-ID, so a re-run rewrites the same file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, row: OutgoingMail) -> str:
        path = self.directory / f"{_UNSAFE.sub('_', row.message_id)[:200]}.eml"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.tmp")
            with open(temporary, "wb") as out:
                out.write(row.raw)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except OSError as exc:
            raise SendError(f"cannot write {path}: {exc.strerror}", temporary=True,
                            connection=True) from None
        return f"written to {path}"

    def close(self) -> None:
        pass


class WebhookTransport:
    """The urgent-alert robot; signs each call afresh (DingTalk wants a recent timestamp)."""

    def __init__(self, settings: UrgentSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def send(self, row: OutgoingMail) -> str:
        url = self.settings.webhook_url
        try:
            kind = webhook.kind_of(url, self.settings.webhook_kind)
        except webhook.WebhookError as exc:
            raise SendError(str(exc), temporary=False) from None
        secret = ""
        if self.settings.webhook_secret_env:
            secret = os.environ.get(self.settings.webhook_secret_env, "")
            if not secret:
                raise SendError(f"${self.settings.webhook_secret_env} (webhook_secret_env) is "
                                "not set", temporary=True, connection=True)
        timestamp = int(self.clock.now().timestamp() * 1000)
        body = webhook.payload(kind, row.subject, row.raw.decode("utf-8"))
        try:
            delivery = webhook.post(webhook.signed_url(url, kind, secret, timestamp), body)
        except webhook.WebhookError as exc:
            raise SendError(str(exc), temporary=exc.temporary) from None
        return f"{kind} robot: HTTP {delivery.status}"

    def close(self) -> None:
        pass


def _text(message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return " ".join(text.split())[:300]
