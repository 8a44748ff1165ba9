"""The labelled first-report (首报) evaluation set: data, builder and metrics.

The set is kept as readable TOML (`reporters.toml`, and per variant `<v>/stories.toml`,
`<v>/families.toml`, `<v>/items.toml`); `build.py` turns it into the mails the bureau's
reporters' programs would really send, deterministically; `metrics.py` scores a run.
`benchmarks/dedupe_eval.py` is the command that puts them together.
"""
