"""The search migration indexes the messages already stored (both tiers), and the index then
follows their edits."""

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_migrate import upgrade

from seda import create_app
from seda.auth.tokens import issue_access_token
from seda.common.db import UTCDateTime
from tests.helpers.chat import Chat
from tests.helpers.fixtures import TestUser
from tests.helpers.settings import make_config

BEFORE_SEARCH = "d4e1b7c9a2f0"


def found(member, q):
    response = member.client.get(f"/api/v1/search/messages?q={q}", headers=member.user.headers)
    assert response.status_code == 200, response.get_json()
    return [hit["message"]["text"] for hit in response.get_json()]


def _table(name, *columns):
    """A table as it was before the migration, typed as the app stores it."""
    types = {
        "id": sa.Uuid(),
        "room_id": sa.Uuid(),
        "user_id": sa.Uuid(),
        "created_by": sa.Uuid(),
        "mentions": sa.JSON(),
    }
    return sa.table(name, *(sa.column(c, UTCDateTime() if c.endswith("_at") else types.get(c)) for c in columns))


ROOMS = _table(
    "rooms",
    "id",
    "name",
    "type",
    "created_by",
    "slow_mode_seconds",
    "last_seq",
    "member_count",
    "created_at",
    "updated_at",
)
MEMBERSHIPS = _table("room_memberships", "id", "room_id", "user_id", "role", "last_read_seq", "joined_at")
MESSAGES = _table(
    "messages",
    "id",
    "room_id",
    "user_id",
    "seq",
    "type",
    "text",
    "track_ref_auto",
    "reply_count",
    "mentions",
    "created_at",
    "updated_at",
)


USERS = _table("users", "id", "email", "role", "username", "display_name", "banned", "created_at", "updated_at")


def user_before(url, app):
    """A user written as the schema of that time (today's model knows columns added since)."""
    engine = sa.create_engine(url)
    user_id, now = uuid.uuid4(), datetime(2026, 11, 1, tzinfo=UTC)
    username = f"old_{user_id.hex[:8]}"
    with engine.begin() as conn:
        conn.execute(
            USERS.insert(),
            {
                "id": user_id,
                "email": f"{username}@example.com",
                "role": "USER",
                "username": username,
                "display_name": "Old",
                "banned": False,
                "created_at": now,
                "updated_at": now,
            },
        )
    engine.dispose()
    token = issue_access_token(app.config["JWT_SECRET"], user_id)
    return TestUser(str(user_id), f"{username}@example.com", token, username)


def store_before(url, user_id, texts):
    """A room of `user_id` with `texts` as its messages, written as the schema of that time
    (today's models know columns added since)."""
    engine = sa.create_engine(url)
    room_id, start = uuid.uuid4(), datetime(2026, 11, 1, tzinfo=UTC)
    ids = [uuid.uuid4() for _ in texts]
    with engine.begin() as conn:
        conn.execute(
            ROOMS.insert(),
            {
                "id": room_id,
                "name": "Archive",
                "type": "PUBLIC",
                "created_by": user_id,
                "slow_mode_seconds": 0,
                "last_seq": len(texts),
                "member_count": 1,
                "created_at": start,
                "updated_at": start,
            },
        )
        conn.execute(
            MEMBERSHIPS.insert(),
            {
                "id": uuid.uuid4(),
                "room_id": room_id,
                "user_id": user_id,
                "role": "OWNER",
                "last_read_seq": 0,
                "joined_at": start,
            },
        )
        for seq, (message_id, text) in enumerate(zip(ids, texts, strict=True), 1):
            moment = start + timedelta(minutes=seq)
            conn.execute(
                MESSAGES.insert(),
                {
                    "id": message_id,
                    "room_id": room_id,
                    "user_id": user_id,
                    "seq": seq,
                    "type": "TEXT",
                    "text": text,
                    "track_ref_auto": False,
                    "reply_count": 0,
                    "mentions": [],
                    "created_at": moment,
                    "updated_at": moment,
                },
            )
    engine.dispose()
    return ids


def test_messages_stored_before_the_migration_are_found_after_it(database_url):  # noqa: F811
    app = create_app(make_config(database_url))
    with app.app_context():
        upgrade(revision=BEFORE_SEARCH)
    member = Chat(app.test_client(), user_before(database_url, app))
    old, _ = store_before(database_url, uuid.UUID(member.user.id), ["an old saxophone story", "another old tune"])
    with app.app_context():
        upgrade()
    assert found(member, "saxophone") == ["an old saxophone story"]
    assert found(member, "old") == ["another old tune", "an old saxophone story"]
    status, _ = member.patch(f"/messages/{old}", json={"text": "a new trumpet story"})
    assert status == 200
    assert found(member, "saxophone") == []
    assert found(member, "trumpet%20story") == ["a new trumpet story"]
