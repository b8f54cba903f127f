"""seda's mail: each mail of API.md §12's table composed in one place, sent after the commit
that caused it and off the request path (a task), through SMTP (`SMTP_URL`) or, in the embedded
default, written into the outbox folder. No route waits on SMTP and no answer depends on
whether a mail went out."""
