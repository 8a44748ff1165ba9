"""The whole config: every section with its default, and the checks that span sections.

The time zone must exist, and the roster must not be able to credit a mail to the wrong unit:
every name and alias names one unit only, every officer's address belongs to one unit only
(``rules.units.roster_problems``, which compares them as the unit matcher does).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import model_validator

from mailroom.config.sections import (
    AdoptionChannel,
    CheckSettings,
    DatabaseSettings,
    DedupeSettings,
    ImapSettings,
    LimitsSettings,
    MaildirSettings,
    OfficeSettings,
    OutboxSettings,
    QuotaSettings,
    ReceiptSettings,
    ScheduleSettings,
    ScoringSettings,
    Section,
    SmtpSettings,
    StorageSettings,
    Unit,
    UrgentSettings,
    WebSettings,
)
from mailroom.rules.units import roster_problems


class Settings(Section):
    timezone: str = "Asia/Shanghai"
    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    imap: ImapSettings | None = None
    maildir: MaildirSettings | None = None
    smtp: SmtpSettings | None = None
    outbox: OutboxSettings = OutboxSettings()
    office: OfficeSettings = OfficeSettings()
    quota: QuotaSettings = QuotaSettings()
    dedupe: DedupeSettings = DedupeSettings()
    receipts: ReceiptSettings = ReceiptSettings()
    checks: CheckSettings = CheckSettings()
    limits: LimitsSettings = LimitsSettings()
    urgent: UrgentSettings = UrgentSettings()
    scoring: ScoringSettings = ScoringSettings()
    units: list[Unit] = []
    adoption_channels: list[AdoptionChannel] = []
    schedule: ScheduleSettings = ScheduleSettings()
    web: WebSettings = WebSettings()

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None
        problems = roster_problems(self.units)
        if problems:
            raise ValueError("units: " + "; ".join(problems))
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def quota_of(self, unit: Unit) -> int:
        return unit.quota if unit.quota is not None else self.quota.monthly_minimum

    @property
    def own_addresses(self) -> set[str]:
        """Addresses mailroom sends from or reads: mail from them is our own."""
        own = set()
        if self.smtp:
            own.add(self.smtp.sender.lower())
            if self.smtp.username and "@" in self.smtp.username:
                own.add(self.smtp.username.lower())
        if self.imap and "@" in self.imap.username:
            own.add(self.imap.username.lower())
        return own
