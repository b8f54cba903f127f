"""Column types and helpers shared by every model."""

import logging
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


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
