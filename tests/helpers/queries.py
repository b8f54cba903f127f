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


CONNECTION_SETUP = frozenset({"CLIENT", "HELLO", "AUTH", "SELECT"})


def record_redis_commands(monkeypatch):
    """A list that collects the name of each Redis command sent from this thread from now on
    (not the presence beats of other apps' threads), whichever path sent it: redis-py's client
    and pipelines, or a connection used directly (the rate limiter's round trips)."""
    from redis.connection import AbstractConnection

    commands = []
    send_command, pack_commands, this_thread = (
        AbstractConnection.send_command,
        AbstractConnection.pack_commands,
        threading.get_ident(),
    )

    def name(command):
        return command[0] if isinstance(command[0], str) else command[0].decode()

    def keep(command_name):  # not the handshake of a new connection
        return threading.get_ident() == this_thread and command_name not in CONNECTION_SETUP

    def recording_one(self, *args, **kwargs):
        if keep(name(args).split()[0]):
            commands.append(name(args).split()[0])
        return send_command(self, *args, **kwargs)

    def recording_many(self, many):
        commands.extend(n for n in (name(command).split()[0] for command in many) if keep(n))
        return pack_commands(self, many)

    monkeypatch.setattr(AbstractConnection, "send_command", recording_one)
    monkeypatch.setattr(AbstractConnection, "pack_commands", recording_many)
    return commands


def flask_requests(app):
    """A list that grows by one for each request Flask's request cycle handles from now on
    (a kept answer, common/kept_responses.py, is sent before it)."""
    handled = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: handled.append(1))
    return handled
