"""SMTP connections: TLS verified by default, STARTTLS, AUTH; never a silent plaintext fallback."""

from __future__ import annotations

import smtplib
import socket
import ssl

from mailroom.config import SmtpSettings
from mailroom.errors import MailroomError


class SmtpError(MailroomError):
    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


def tls_context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """A connected, authenticated SMTP client, or SmtpError naming the stage that failed."""
    host, port = settings.host, settings.effective_port
    where = f"smtp {host}:{port}"
    try:
        if settings.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=settings.timeout,
                                                     context=tls_context(settings.ca_file))
        else:
            client = smtplib.SMTP(host, port, timeout=settings.timeout)
            if settings.security == "starttls":
                client.ehlo()
                if not client.has_extn("starttls"):
                    client.close()
                    raise SmtpError("tls", f"{where} does not offer STARTTLS; refusing to send "
                                           "in plaintext (set security = \"plain\" to allow it)")
                client.starttls(context=tls_context(settings.ca_file))
    except socket.gaierror as exc:
        raise SmtpError("dns", f"cannot resolve smtp host {host}: {exc.strerror}") from None
    except ssl.SSLError as exc:
        raise SmtpError("tls", f"TLS with {where} failed: {exc.reason or exc}; "
                               "check ca_file and the server certificate") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpError("tcp", f"cannot connect to {where}: {exc}") from None
    if settings.has_password():
        password = settings.resolve_password()
        try:
            client.login(settings.username, password)
        except smtplib.SMTPNotSupportedError:
            client.close()
            raise SmtpError("login", f"{where} offers no AUTH; check security and port, or "
                                     "remove the password if the server needs no login") from None
        except smtplib.SMTPException as exc:
            client.close()
            code = getattr(exc, "smtp_code", "")
            raise SmtpError("login", f"{where} refused the login of {settings.username} "
                                     f"({code}); check username and password") from None
    return client


def probe(settings: SmtpSettings) -> str:
    client = connect(settings)
    try:
        client.noop()
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return f"{settings.host}:{settings.effective_port} ({settings.security}) accepted us"
