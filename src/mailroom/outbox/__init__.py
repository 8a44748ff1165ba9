"""Outgoing mail: composing, queueing and sending (SMTP or .eml files)."""
