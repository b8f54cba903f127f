"""The usernames migration backfills every existing user with a unique, valid name (both tiers)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from seda import create_app
from seda.users.usernames import problem_with
from tests.helpers.settings import make_config

BEFORE_USERNAMES = "edb63cab904c"
USERNAMES = "5a1c0e7d9b21"  # required from here on, until a purged account (b7e2d4f8a1c3) has none
USERS = sa.table(  # the table as it was before the migration, typed as the app stores it
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("role", sa.String()),
    sa.column("display_name", sa.String()),
    sa.column("banned", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)

# (display name, email) in sign-up order, and the name each must end up with
EXISTING = [
    ("Same Name", "first@example.com", "same_name"),
    ("Same Name", "second@example.com", "same_name2"),
    ("42", "drummer@example.com", "drummer"),
    ("Admin", "boss@example.com", "admin_listener"),
    ("Ünïcode Star", "u@example.com", "unicode_star"),
    ("!!", "x@example.com", "listener"),
    ("listener", None, "listener2"),
    ("A" * 50, "long@example.com", "a" * 30),
]


def row(user_id, email, display_name, at):
    return {
        "id": user_id,
        "email": email,
        "role": "USER",
        "display_name": display_name,
        "banned": False,
        "created_at": at,
        "updated_at": at,
    }


def test_existing_users_get_unique_valid_usernames_oldest_first(database_url):
    app = create_app(make_config(database_url))
    engine = sa.create_engine(database_url)
    with app.app_context():
        upgrade(revision=BEFORE_USERNAMES)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [uuid.uuid4() for _ in EXISTING]
    with engine.begin() as conn:
        conn.execute(
            USERS.insert(),
            [
                row(user_id, email, name, start + timedelta(minutes=n))
                for n, (user_id, (name, email, _)) in enumerate(zip(ids, EXISTING, strict=True))
            ],
        )
    with app.app_context():
        upgrade(revision=USERNAMES)
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT id, username FROM users")).all())
    by_id = {k if isinstance(k, uuid.UUID) else uuid.UUID(k): v for k, v in stored.items()}
    assert [by_id[user_id] for user_id in ids] == [expected for _, _, expected in EXISTING]
    assert all(problem_with(name) is None for name in by_id.values())
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # now required
        conn.execute(USERS.insert(), row(uuid.uuid4(), "late@example.com", "Late", start))
    engine.dispose()
