"""Scheduled jobs (SPEC: Schedule): the cron strings of `[schedule]` and their triggers."""
