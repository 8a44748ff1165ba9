"""Storage: the database models, queries, and the file store for raw mail and attachments."""
