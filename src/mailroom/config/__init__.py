"""The TOML config, loaded and validated once into typed settings (SPEC: Config).

``sections`` holds one strict pydantic model per section with the checks of its own keys,
``settings`` the whole config with the checks that span sections, and ``loading`` reads the
file (encoding, TOML, relative paths) and turns every error into one line. Import from here:
``from mailroom.config import Settings, load_settings``.
"""

from mailroom.config.loading import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    config_path,
    load_settings,
    parse_settings,
    resolve_sqlite_url,
)
from mailroom.config.sections import (
    Action,
    Address,
    AdoptionChannel,
    CheckSettings,
    ClientId,
    DatabaseSettings,
    DedupeSettings,
    ImapSettings,
    Label,
    MaildirSettings,
    OfficeSettings,
    OutboxSettings,
    PasswordSource,
    Port,
    QuotaSettings,
    ReceiptSettings,
    ScheduleSettings,
    ScoringSettings,
    Section,
    Security,
    SmtpSettings,
    StorageSettings,
    Unit,
    UrgentElement,
    UrgentSettings,
    WebSettings,
)
from mailroom.config.settings import Settings

__all__ = [
    "CONFIG_ENV", "DEFAULT_CONFIG", "Action", "Address", "AdoptionChannel", "CheckSettings",
    "ClientId", "DatabaseSettings", "DedupeSettings", "ImapSettings", "Label",
    "MaildirSettings", "OfficeSettings", "OutboxSettings", "PasswordSource", "Port",
    "QuotaSettings", "ReceiptSettings", "ScheduleSettings", "ScoringSettings", "Section",
    "Security", "Settings", "SmtpSettings", "StorageSettings", "Unit", "UrgentElement",
    "UrgentSettings", "WebSettings", "config_path", "load_settings", "parse_settings",
    "resolve_sqlite_url",
]
