"""催报 reminders (R12): to the officers and heads of each unit below its quota this month.
build.py (pure: who gets what), records.py (the month's records), sending.py (queueing, the
scheduled job)."""
