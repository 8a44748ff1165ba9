"""Scheduled jobs of `run` (SPEC: Schedule): cron → triggers (cron.py), periods, the job table
(jobs.py), the runner the daemon's loop calls (runner.py), the ledger, `jobs list`."""
