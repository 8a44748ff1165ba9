"""The office digest (R11): records.py (what is new, from the database), build.py (pure:
the digest's values), sending.py (queued through the outbox, marked sent), commands.py
(`report digest`)."""
