"""Mailbox access: where mail comes from (IMAP, Maildir) and where it goes once processed."""
