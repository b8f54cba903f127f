"""The AutoMod memory migration keeps what AutoMod remembered: a member's recent texts become the
memory's `texts`, on both tiers, and a downgrade gives them back."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from seda import create_app
from tests.helpers.settings import make_config

BEFORE = "c3f8a2d6e9b1"
TEXTS = [[1765000000.5, "buy my album"], [1765000001.25, "buy my album"]]


def table(name, *columns):
    """The table as it was before the migration, typed as the app stores it."""
    return sa.table(name, *(sa.column(column, kind) for column, kind in columns))


USERS = table(
    "users",
    ("id", sa.Uuid()),
    ("email", sa.String()),
    ("role", sa.String()),
    ("display_name", sa.String()),
    ("username", sa.String()),
    ("banned", sa.Boolean()),
    ("created_at", sa.DateTime(timezone=True)),
    ("updated_at", sa.DateTime(timezone=True)),
)
ROOMS = table(
    "rooms",
    ("id", sa.Uuid()),
    ("name", sa.String()),
    ("type", sa.String()),
    ("created_by", sa.Uuid()),
    ("slow_mode_seconds", sa.Integer()),
    ("last_seq", sa.BigInteger()),
    ("member_count", sa.Integer()),
    ("history_revision", sa.BigInteger()),
    ("created_at", sa.DateTime(timezone=True)),
    ("updated_at", sa.DateTime(timezone=True)),
)
MEMBERSHIPS = table(
    "room_memberships",
    ("id", sa.Uuid()),
    ("room_id", sa.Uuid()),
    ("user_id", sa.Uuid()),
    ("role", sa.String()),
    ("last_read_seq", sa.BigInteger()),
    ("joined_at", sa.DateTime(timezone=True)),
    ("recent_texts", sa.JSON(none_as_null=True)),
)
AT = datetime(2026, 12, 1, tzinfo=UTC)


def seed(conn):
    """A room and two memberships: one with recent texts, one without."""
    user_ids, room_id = [uuid.uuid4(), uuid.uuid4()], uuid.uuid4()
    conn.execute(
        USERS.insert(),
        [
            {
                "id": user_id,
                "email": f"fan{n}@example.com",
                "role": "USER",
                "display_name": "Fan",
                "username": f"fan{n}",
                "banned": False,
                "created_at": AT,
                "updated_at": AT,
            }
            for n, user_id in enumerate(user_ids)
        ],
    )
    conn.execute(
        ROOMS.insert(),
        {
            "id": room_id,
            "name": "Room",
            "type": "PUBLIC",
            "created_by": user_ids[0],
            "slow_mode_seconds": 0,
            "last_seq": 0,
            "member_count": 2,
            "history_revision": 0,
            "created_at": AT,
            "updated_at": AT,
        },
    )
    conn.execute(
        MEMBERSHIPS.insert(),
        [
            {
                "id": uuid.uuid4(),
                "room_id": room_id,
                "user_id": user_id,
                "role": "MEMBER",
                "last_read_seq": 0,
                "joined_at": AT,
                "recent_texts": texts,
            }
            for user_id, texts in zip(user_ids, (TEXTS, None), strict=True)
        ],
    )
    return user_ids


def stored(engine, column, user_ids):
    memberships = table("room_memberships", ("user_id", sa.Uuid()), (column, sa.JSON()))
    with engine.connect() as conn:
        found = dict(conn.execute(sa.select(memberships.c.user_id, memberships.c[column])).all())
    return [found[user_id] for user_id in user_ids]


def test_recent_texts_become_the_memorys_texts_and_come_back_on_downgrade(database_url):
    app = create_app(make_config(database_url))
    engine = sa.create_engine(database_url)
    with app.app_context():
        upgrade(revision=BEFORE)
    with engine.begin() as conn:
        user_ids = seed(conn)
    with app.app_context():
        upgrade()
    assert stored(engine, "automod_memory", user_ids) == [{"texts": TEXTS}, None]
    with app.app_context():
        downgrade(revision=BEFORE)
    assert stored(engine, "recent_texts", user_ids) == [TEXTS, None]
    engine.dispose()
