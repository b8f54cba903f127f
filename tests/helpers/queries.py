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
