"""Column types and helpers shared by every model."""

import logging
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

# A pooled connection idle this long is pinged before use (ping_idle_connections).
IDLE_BEFORE_PING_SECONDS = 5.0


def string_enum(cls, name):
    """An enum column stored as its member names in a VARCHAR(20), the same on both databases."""
    return sa.Enum(cls, name=name, native_enum=False, length=20)


def utcnow():
    return datetime.now(UTC)


def iso_utc(moment):
    """The contract's timestamp: ISO 8601 in UTC with milliseconds and `Z` (API.md §1)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id():
    return uuid.uuid4()


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on PostgreSQL and SQLite alike (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def escape_like(text):
    """`text` as a literal inside a LIKE pattern (with ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse_uuid(value):
    """Return a UUID for a valid id string, else None (an unknown id is a 404, not a 400)."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, _record):
    """SQLite ignores ON DELETE CASCADE unless foreign keys are switched on per connection."""
    if dbapi_connection.__class__.__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@contextmanager
def autocommit_connection(engine):
    """A pooled connection whose statements each commit by themselves: no BEGIN before the first
    and no COMMIT or ROLLBACK after the last. For reads (two round trips of the three a kept
    history page cost in the session's transaction) and for a write that is one statement;
    never for writes that must go together."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def partial_index(name, *columns, where, **options):
    """An index of the rows `where` keeps only, the same on PostgreSQL and SQLite."""
    return sa.Index(name, *columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where), **options)


class DriverStatement:
    """A hot statement run as the driver's own SQL, compiled once per dialect: it skips
    SQLAlchemy's handling of the statement's text and parameters on every call (the engine's
    events, pool and error translation stay). Its parameters reach the driver as they are, so
    they must need no SQLAlchemy type processing (a text() with CASTs in the SQL, PostgreSQL)."""

    def __init__(self, statement):
        self._statement = statement
        self._compiled = {}

    def execute(self, connection, parameters):
        dialect = connection.dialect
        sql = self._compiled.get(dialect)
        if sql is None:
            sql = self._compiled[dialect] = str(self._statement.compile(dialect=dialect))
        return connection.exec_driver_sql(sql, parameters)


def statements_on_their_own(session):
    """Until the session's next commit, each of its statements commits by itself: no BEGIN before
    the first read and no COMMIT or ROLLBACK after the last. For a service that reads, then
    writes in transactions of its own after committing; its objects stay readable after that
    commit (the session does not expire them). Whatever the session began before is committed."""
    session.commit()
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def ping_idle_connections(engine, idle_seconds=IDLE_BEFORE_PING_SECONDS):
    """Check a pooled connection on checkout only when it sat idle for `idle_seconds`.

    pool_pre_ping checks every checkout with a round trip: on a busy server that was one more
    round trip for each request and socket event (5 % of a history page's CPU, py-spy). A
    connection in steady use is as fresh as its last statement; the ones that go stale are the
    idle ones (a database restart or a firewall in a quiet hour), and those are pinged. A
    connection that breaks while in use fails its statement once: SQLAlchemy then invalidates
    the whole pool (that request answers 503 "Database unavailable" with Retry-After), and the
    next checkout connects anew."""

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:
            raise sa.exc.DisconnectionError(f"idle connection is gone: {exc}") from exc  # the pool reconnects


def init_session_teardown(app, db):
    """Release the request's session even when its connection died with the database.

    Flask-SQLAlchemy's own teardown closes the session, which rolls back on the dead connection
    and raises outside every error handler: gunicorn then answers its own HTML 500 in place of
    the 503 envelope. This runs first (teardowns run in reverse order) and never raises.
    """

    @app.teardown_appcontext
    def release_session(_exc):
        try:
            db.session.remove()
        except Exception as exc:  # the connection is gone; the pool has already invalidated it
            logging.getLogger(__name__).warning("session closed on a dead connection: %s", exc)
            db.session.registry.clear()
