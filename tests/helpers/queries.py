import threading
from contextlib import contextmanager

import sqlalchemy as sa

from seda.extensions import db


@contextmanager
def count_queries(app):
    """Collect the SQL statements the app's engine runs inside the block."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def record_redis_commands(monkeypatch):
    """A list that collects the name of each Redis command sent from this thread from now on
    (not the presence beats of other apps' threads)."""
    import redis

    commands = []
    execute, this_thread = redis.Redis.execute_command, threading.get_ident()

    def recording(self, *args, **options):
        if threading.get_ident() == this_thread:
            commands.append(args[0])
        return execute(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", recording)
    return commands


def flask_requests(app):
    """A list that grows by one for each request Flask's request cycle handles from now on
    (a kept answer, common/kept_responses.py, is sent before it)."""
    handled = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: handled.append(1))
    return handled
