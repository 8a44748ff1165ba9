"""The bundled sample: a month of 永宁县自然资源局's submission mailbox (May 2019) as a
Maildir with its config, and a generator of realistic mail (see `generate`)."""
