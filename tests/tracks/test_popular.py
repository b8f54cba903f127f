import uuid
from datetime import UTC, datetime, timedelta

import redis
import sqlalchemy as sa
import time_machine

from seda.auth.tokens import issue_access_token
from seda.chat.models import Message
from seda.extensions import db
from tests.helpers.chat import Chat


def track_id(n):
    return f"{n:022d}"[-22:].replace("0", "A")


def card(n):
    return {"provider": "spotify", "providerId": track_id(n), "url": f"https://open.spotify.com/track/{track_id(n)}"}


def share(chat, room_id, n):
    return chat.send(room_id, f"listen {n}", trackRef=card(n))


def popular(app, user, query=""):
    response = app.test_client().get(f"/api/v1/tracks/popular{query}", headers=user.headers)
    return response.status_code, response.get_json()


def test_popular_counts_public_shares_and_never_private_ones(app, users):
    alice, bob = users.make(), users.make()
    chat_a, chat_b = Chat(app.test_client(), alice), Chat(app.test_client(), bob)
    public, private = chat_a.room(name="Open"), chat_a.room(name="Secret", isPrivate=True)
    chat_b.post(f"/rooms/{public['id']}/join")
    for _ in range(3):
        share(chat_a, public["id"], 1)
    share(chat_b, public["id"], 2)
    for _ in range(5):
        share(chat_a, private["id"], 3)
    deleted = share(chat_a, public["id"], 4)
    chat_a.delete(f"/messages/{deleted['id']}")
    status, tracks = popular(app, bob)
    assert status == 200
    assert [(t["providerId"], t["shareCount"]) for t in tracks] == [(track_id(1), 3), (track_id(2), 1)]
    assert set(tracks[0]) == {
        "provider",
        "providerId",
        "url",
        "title",
        "artist",
        "artwork",
        "duration",
        "shareCount",
        "lastSharedAt",
    }
    assert tracks[0]["lastSharedAt"].endswith("Z")


def test_the_window_and_limit(app, users):
    alice = users.make()
    chat = Chat(app.test_client(), alice)
    room = chat.room()
    old = share(chat, room["id"], 1)
    share(chat, room["id"], 2)
    with app.app_context():
        db.session.execute(
            sa.update(Message)
            .where(Message.id == uuid.UUID(old["id"]))
            .values(created_at=datetime.now(UTC) - timedelta(days=10))
        )
        db.session.commit()
    assert [t["providerId"] for t in popular(app, alice, "?days=30&limit=50")[1]] == [track_id(2), track_id(1)]
    assert [t["providerId"] for t in popular(app, alice, "?days=7")[1]] == [track_id(2)]
    assert [t["providerId"] for t in popular(app, alice, "?days=30&limit=1")[1]] == [track_id(2)]
    for bad in ("?days=0", "?days=31", "?limit=51", "?sort=new"):
        assert popular(app, alice, bad)[0] == 400


def test_one_answer_for_every_caller_cached_five_minutes(app, users, tier):
    alice, bob = users.make(), users.make()
    chat = Chat(app.test_client(), alice)
    room = chat.room()
    share(chat, room["id"], 1)
    first = popular(app, alice)[1]
    share(chat, room["id"], 2)
    assert popular(app, bob)[1] == first  # cached, and shared across callers
    assert popular(app, bob, "?days=8")[1] != first  # another query is another entry
    if tier == "sqlite":
        with time_machine.travel(datetime.now(UTC) + timedelta(seconds=301), tick=False):
            bob.token = issue_access_token(app.config["JWT_SECRET"], bob.id)
            assert len(popular(app, bob)[1]) == 2
    else:
        client = redis.Redis.from_url(app.config["REDIS_URL"])
        keys = list(client.scan_iter(match=f"{app.config['CACHE_KEY_PREFIX']}*popular*"))
        assert keys and all(0 < client.ttl(k) <= 300 for k in keys)
