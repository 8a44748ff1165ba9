"""The office digest (R11): records.py (what is new, from the database), values.py and
build.py (pure: the records → the digest's values), sending.py (queued through the outbox,
marked sent; the schedule's job), commands.py (`report digest`)."""
