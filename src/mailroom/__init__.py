"""mailroom: a bureau's submission mailbox as a system of record."""

__version__ = "0.1.0"
