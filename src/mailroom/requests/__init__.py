"""约稿 (R14): requests the office sends to named units, and the submissions that answer
them. `codes` and `matching` are pure; `service` is the use case (store, mail, links),
`reminding` the scheduled due-date reminder."""
