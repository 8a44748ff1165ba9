"""Parsing raw mail into typed values: charsets, file names, text."""
