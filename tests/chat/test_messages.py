import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from seda.auth.tokens import issue_access_token
from seda.chat.models import Message, Reaction
from seda.extensions import db
from tests.helpers.chat import TRACK
from tests.helpers.queries import count_queries
from tests.helpers.tiers import services_only

MESSAGE_KEYS = {
    "id",
    "roomId",
    "userId",
    "type",
    "text",
    "trackRef",
    "parentId",
    "clientMessageId",
    "seq",
    "replyCount",
    "createdAt",
    "updatedAt",
    "editedAt",
    "user",
    "reactions",
    "mentions",
    "unfurl",
}


@pytest.fixture
def room_with(chat):
    def make(*members, **room_fields):
        owner = chat()
        room = owner.room(**room_fields)
        for member in members:
            member.post(f"/rooms/{room['id']}/join")
        return owner, room

    return make


def test_send_stores_a_text_message_with_the_contract_shape(chat, room_with):
    owner, room = room_with()
    status, message = owner.post(f"/rooms/{room['id']}/messages", json={"text": "  first!  "})
    assert status == 201
    assert set(message) == MESSAGE_KEYS
    assert (message["text"], message["type"], message["seq"], message["replyCount"]) == ("first!", "TEXT", 1, 0)
    assert message["user"] == {
        "id": owner.user.id,
        "username": owner.user.username,
        "displayName": message["user"]["displayName"],
        "avatarUrl": None,
        "role": "USER",
        "artistProfile": None,
        "deleted": False,
    }
    assert message["reactions"] == [] and message["editedAt"] is None and message["trackRef"] is None


def test_seq_increases_by_one_per_room(chat, room_with):
    owner, room = room_with()
    other_owner, other = room_with()
    seqs = [owner.send(room["id"], str(n))["seq"] for n in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert other_owner.send(other["id"], "mine")["seq"] == 1  # each room counts on its own


@pytest.mark.parametrize(
    "body,message",
    [
        ({"text": ""}, "text: Text must not be empty."),
        ({"text": "   \n\t "}, "text: Text must not be empty."),
        ({"text": "x" * 4001}, "text: Longer than maximum length 4000."),
        ({"text": "hi", "userId": str(uuid.uuid4())}, "userId: property should not exist"),
        ({"text": "hi", "type": "SYSTEM"}, "type: Must be one of: TEXT, TRACK_CARD, REPLY."),
        ({"text": "hi", "clientMessageId": "x" * 65}, "clientMessageId: Length must be between 1 and 64."),
        (
            {"text": "hi", "trackRef": {"provider": "myspace", "providerId": "1", "url": "https://x.example"}},
            "trackRef.provider: Must be one of: spotify, apple_music, youtube, soundcloud, bandcamp, tidal, deezer.",
        ),
    ],
)
def test_send_validation(room_with, body, message):
    owner, room = room_with()
    status, error = owner.post(f"/rooms/{room['id']}/messages", json=body)
    assert status == 400 and message in error["message"]
    assert owner.get(f"/rooms/{room['id']}/messages")[1] == []


def test_4000_characters_are_fine_and_track_cards_may_have_no_text(room_with):
    owner, room = room_with()
    assert owner.post(f"/rooms/{room['id']}/messages", json={"text": "x" * 4000})[0] == 201
    status, card = owner.post(f"/rooms/{room['id']}/messages", json={"text": "", "trackRef": TRACK})
    assert status == 201 and card["type"] == "TRACK_CARD"
    assert card["trackRef"] == {**TRACK, "title": None, "artist": None, "artwork": None, "duration": None}


def test_replies_form_threads_with_reply_counts(chat, room_with):
    fan = chat()
    owner, room = room_with(fan)
    _, other_room = room_with()
    parent = owner.send(room["id"], "what are you listening to?")
    reply = fan.send(room["id"], "krautrock", parentId=parent["id"])
    nested = owner.send(room["id"], "nice", parentId=reply["id"])
    assert reply["type"] == "REPLY" and reply["parentId"] == parent["id"]
    assert nested["parentId"] == parent["id"]  # threads are one level deep
    _, top = owner.get(f"/rooms/{room['id']}/messages")
    assert [m["id"] for m in top] == [parent["id"]] and top[0]["replyCount"] == 2
    _, thread = owner.get(f"/rooms/{room['id']}/messages?parentId={parent['id']}")
    assert [m["id"] for m in thread] == [nested["id"], reply["id"]]
    status, error = owner.post(f"/rooms/{other_room['id']}/messages", json={"text": "x", "parentId": parent["id"]})
    assert status == 403 and error["message"] == ["Join the room first"]
    own_other = room_with()
    status, error = own_other[0].post(
        f"/rooms/{own_other[1]['id']}/messages", json={"text": "x", "parentId": parent["id"]}
    )
    assert status == 400 and error["message"] == ["parentId: Not a message of this room."]


def test_client_message_id_dedupes_within_24_hours(app, room_with):
    owner, room = room_with()
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        status, first = owner.post(f"/rooms/{room['id']}/messages", json={"text": "once", "clientMessageId": "c-1"})
        assert status == 201
        status, again = owner.post(f"/rooms/{room['id']}/messages", json={"text": "once", "clientMessageId": "c-1"})
        assert status == 200 and again["id"] == first["id"]
        clock.shift(timedelta(hours=23))
        owner.user.token = issue_access_token(app.config["JWT_SECRET"], owner.user.id)
        assert owner.post(f"/rooms/{room['id']}/messages", json={"text": "once", "clientMessageId": "c-1"})[0] == 200
        clock.shift(timedelta(hours=2))
        owner.user.token = issue_access_token(app.config["JWT_SECRET"], owner.user.id)
        status, late = owner.post(f"/rooms/{room['id']}/messages", json={"text": "once", "clientMessageId": "c-1"})
        assert status == 409
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_history_pages_newest_first_and_catches_up_oldest_first(client, room_with):
    owner, room = room_with()
    sent = [owner.send(room["id"], f"m{n}") for n in range(7)]
    path = f"/api/v1/chat/rooms/{room['id']}/messages"
    first = client.get(f"{path}?limit=3", headers=owner.user.headers)
    assert [m["text"] for m in first.get_json()] == ["m6", "m5", "m4"]
    cursor = first.headers["X-Next-Cursor"]
    second = client.get(f"{path}?limit=3&cursor={cursor}", headers=owner.user.headers)
    assert [m["text"] for m in second.get_json()] == ["m3", "m2", "m1"]
    third = client.get(f"{path}?limit=3&cursor={second.headers['X-Next-Cursor']}", headers=owner.user.headers)
    assert [m["text"] for m in third.get_json()] == ["m0"] and "X-Next-Cursor" not in third.headers
    caught_up = client.get(f"{path}?after={sent[2]['id']}", headers=owner.user.headers).get_json()
    assert [m["text"] for m in caught_up] == ["m3", "m4", "m5", "m6"]
    page = client.get(f"{path}?after={sent[2]['id']}&limit=2", headers=owner.user.headers)
    assert [m["text"] for m in page.get_json()] == ["m3", "m4"] and page.headers["X-Next-Cursor"] == sent[4]["id"]


def test_bad_history_queries_are_400_never_500(room_with):
    owner, room = room_with()
    _, other = room_with()
    foreign = owner.send(room["id"])
    for query in (
        "limit=0",
        "limit=101",
        "cursor=nope",
        f"cursor={uuid.uuid4()}",
        "after=1",
        f"cursor={foreign['id']}&after={foreign['id']}",
        "order=asc",
    ):
        status, _ = owner.get(f"/rooms/{room['id']}/messages?{query}")
        assert status == 400, query


def test_a_page_of_50_messages_costs_at_most_3_queries(app_factory, users):
    from tests.helpers.chat import Chat
    from tests.helpers.fixtures import UserFactory

    app = app_factory(RATE_LIMIT_MESSAGES="1000 per 10 seconds", RATE_LIMIT_DEFAULT="10000/minute")
    client = app.test_client()
    factory = UserFactory(app)
    owner = Chat(client, factory.make())
    room = owner.room()
    members = [Chat(client, factory.make(artist_name=f"Artist {n}")) for n in range(5)]
    for member in members:
        member.post(f"/rooms/{room['id']}/join")
    sent = []
    for n in range(55):
        author = members[n % 5]
        sent.append(author.send(room["id"], f"track {n}"))
    for n, message in enumerate(sent[-50:]):
        for reactor in members[: n % 4]:
            reactor.post(f"/messages/{message['id']}/reactions", json={"emoji": "🔥"})
    with count_queries(app) as statements:
        response = client.get(f"/api/v1/chat/rooms/{room['id']}/messages?limit=50", headers=owner.user.headers)
    page = response.get_json()
    assert response.status_code == 200 and len(page) == 50
    assert sum(len(m["reactions"]) for m in page) > 50
    assert page[0]["user"]["artistProfile"]["artistName"].startswith("Artist")
    assert len(statements) <= 3, statements


def test_edit_is_for_authors_and_stamps_edited_at(chat, room_with):
    fan = chat()
    owner, room = room_with(fan)
    message = owner.send(room["id"], "typo")
    assert fan.patch(f"/messages/{message['id']}", json={"text": "hacked"})[0] == 403
    status, edited = owner.patch(f"/messages/{message['id']}", json={"text": "fixed"})
    assert status == 200 and edited["text"] == "fixed" and edited["editedAt"] is not None
    assert owner.patch(f"/messages/{message['id']}", json={"text": " "})[0] == 400
    assert owner.get(f"/messages/{message['id']}")[1]["text"] == "fixed"


def test_delete_is_soft_and_allowed_to_authors_and_moderators(app, chat, room_with):
    fan, other = chat(), chat()
    owner, room = room_with(fan, other)
    by_fan, by_other = fan.send(room["id"], "mine"), other.send(room["id"], "theirs")
    assert fan.delete(f"/messages/{by_other['id']}")[0] == 403
    assert fan.delete(f"/messages/{by_fan['id']}")[0] == 204
    assert owner.delete(f"/messages/{by_other['id']}")[0] == 204
    assert owner.get(f"/rooms/{room['id']}/messages")[1] == []
    assert owner.get(f"/messages/{by_fan['id']}")[0] == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Message.deleted_at.is_not(None))) == 2


def test_reactions_are_unique_per_user_and_capped_at_20_emoji(chat, room_with):
    fan = chat()
    owner, room = room_with(fan)
    message = owner.send(room["id"])
    status, reaction = fan.post(f"/messages/{message['id']}/reactions", json={"emoji": "🔥"})
    assert status == 201 and set(reaction) == {"id", "messageId", "userId", "emoji", "createdAt"}
    status, same = fan.post(f"/messages/{message['id']}/reactions", json={"emoji": "🔥"})
    assert status == 200 and same["id"] == reaction["id"]
    for n in range(19):
        assert owner.post(f"/messages/{message['id']}/reactions", json={"emoji": f"e{n}"})[0] == 201
    assert fan.post(f"/messages/{message['id']}/reactions", json={"emoji": "🎷"})[0] == 409
    assert fan.post(f"/messages/{message['id']}/reactions", json={"emoji": "e3"})[0] == 201  # existing emoji is fine
    assert fan.post(f"/messages/{message['id']}/reactions", json={"emoji": "two words"})[0] == 400
    status, error = fan.post(f"/messages/{message['id']}/reactions", json={"emoji": "a/b"})
    assert status == 400 and error["message"] == ["emoji: Must not contain spaces or slashes."]
    assert fan.delete(f"/messages/{message['id']}/reactions/%F0%9F%94%A5")[0] == 204
    assert fan.delete(f"/messages/{message['id']}/reactions/%F0%9F%94%A5")[0] == 404
    assert chat().post(f"/messages/{message['id']}/reactions", json={"emoji": "👀"})[0] == 404


def test_reports_are_one_open_per_user(chat, room_with):
    fan = chat()
    owner, room = room_with(fan)
    message = owner.send(room["id"])
    status, report = fan.post(f"/messages/{message['id']}/report", json={"reason": "spam"})
    assert status == 201 and report["status"] == "OPEN" and uuid.UUID(report["id"])
    assert fan.post(f"/messages/{message['id']}/report", json={"reason": "again"})[0] == 409
    assert fan.post(f"/messages/{message['id']}/report", json={"reason": ""})[0] == 400


def test_mutes_block_sending_until_they_end(chat, room_with):
    fan = chat()
    owner, room = room_with(fan)
    status, mute = owner.post(f"/rooms/{room['id']}/mutes", json={"userId": fan.user.id, "durationSeconds": 60})
    assert status == 201 and mute["userId"] == fan.user.id and mute["mutedUntil"].endswith("Z")
    status, error = fan.post(f"/rooms/{room['id']}/messages", json={"text": "let me talk"})
    assert status == 403 and error["message"] == [f"You are muted until {mute['mutedUntil']}"]
    assert fan.post(f"/rooms/{room['id']}/mutes", json={"userId": owner.user.id, "durationSeconds": 60})[0] == 403
    assert owner.post(f"/rooms/{room['id']}/mutes", json={"userId": fan.user.id, "durationSeconds": 59})[0] == 400
    assert owner.delete(f"/rooms/{room['id']}/mutes/{fan.user.id}")[0] == 204
    assert fan.post(f"/rooms/{room['id']}/messages", json={"text": "thanks"})[0] == 201


def test_a_muted_member_cannot_edit_or_react_either(chat, room_with, socket_for):
    fan = chat()
    owner, room = room_with(fan)
    mine, theirs = fan.send(room["id"], "before the mute"), owner.send(room["id"], "theirs")
    assert fan.post(f"/messages/{theirs['id']}/reactions", json={"emoji": "👍"})[0] == 201
    status, mute = owner.post(f"/rooms/{room['id']}/mutes", json={"userId": fan.user.id, "durationSeconds": 60})
    muted = [f"You are muted until {mute['mutedUntil']}"]
    assert fan.patch(f"/messages/{mine['id']}", json={"text": "sneaky edit"}) == (403, ANY_ENVELOPE(muted))
    assert fan.post(f"/messages/{theirs['id']}/reactions", json={"emoji": "🔥"}) == (403, ANY_ENVELOPE(muted))
    assert fan.delete(f"/messages/{theirs['id']}/reactions/%F0%9F%91%8D") == (403, ANY_ENVELOPE(muted))
    sock = socket_for(fan.user)
    ack = sock.emit("add_reaction", {"messageId": theirs["id"], "emoji": "🔥"}, namespace="/chat", callback=True)
    assert ack["ok"] is False and ack["error"]["statusCode"] == 403
    assert owner.get(f"/messages/{mine['id']}")[1]["text"] == "before the mute"
    assert owner.delete(f"/rooms/{room['id']}/mutes/{fan.user.id}")[0] == 204
    assert fan.patch(f"/messages/{mine['id']}", json={"text": "edited after"})[0] == 200


def test_bans_remove_the_member_and_block_rejoining(chat, room_with):
    fan = chat()
    owner, room = room_with(fan)
    status, ban = owner.post(f"/rooms/{room['id']}/bans", json={"userId": fan.user.id, "reason": "spam"})
    assert status == 201 and ban["userId"] == fan.user.id
    status, error = fan.post(f"/rooms/{room['id']}/join")
    assert status == 403 and error["message"] == ["You are banned from this room"]
    assert fan.post(f"/rooms/{room['id']}/messages", json={"text": "hi"})[0] == 403
    assert owner.delete(f"/rooms/{room['id']}/bans/{fan.user.id}")[0] == 204
    assert fan.post(f"/rooms/{room['id']}/join")[0] == 200


def test_slow_mode_and_the_send_limit_answer_429(app_factory, users):
    from tests.helpers.chat import Chat

    app = app_factory(RATE_LIMIT_MESSAGES="3 per 10 seconds")
    client = app.test_client()
    owner, fan = Chat(client, users.make()), Chat(client, users.make())
    room = owner.room(slowModeSeconds=30)
    fan.post(f"/rooms/{room['id']}/join")
    assert fan.post(f"/rooms/{room['id']}/messages", json={"text": "one"})[0] == 201
    status, error = fan.post(f"/rooms/{room['id']}/messages", json={"text": "two"})
    assert status == 429 and error["message"] == ["Slow mode: one message every 30 seconds"]
    statuses = [owner.post(f"/rooms/{room['id']}/messages", json={"text": str(n)})[0] for n in range(4)]
    assert statuses == [201, 201, 201, 429]  # moderators skip slow mode, not the send limit
    response = client.post(f"/api/v1/chat/rooms/{room['id']}/messages", json={"text": "x"}, headers=owner.user.headers)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1


def test_a_lone_surrogate_anywhere_in_a_message_is_refused_and_history_stays_readable(room_with, socket_for):
    owner, room = room_with()
    owner.send(room["id"], "before")
    broken_card = {**TRACK, "title": "caf" + chr(0xD800)}
    status, error = owner.post(f"/rooms/{room['id']}/messages", json={"text": "x", "trackRef": broken_card})
    assert status == 400 and error["message"] == ["trackRef.title: Invalid Unicode (a lone surrogate) is not allowed."]
    sock = socket_for(owner.user)
    ack = sock.emit("send_message", {"roomId": room["id"], "text": chr(0xDFFF)}, namespace="/chat", callback=True)
    assert ack["ok"] is False and ack["error"]["statusCode"] == 400
    status, history = owner.get(f"/rooms/{room['id']}/messages")
    assert status == 200 and [m["text"] for m in history] == ["before"]


class ANY_ENVELOPE:  # noqa: N801 - reads as a value in assertions
    """Equal to an error envelope carrying exactly `messages`."""

    def __init__(self, messages):
        self.messages = messages

    def __eq__(self, other):
        return isinstance(other, dict) and other.get("message") == self.messages

    def __repr__(self):
        return f"<envelope {self.messages}>"


@services_only
def test_the_distinct_emoji_cap_holds_when_new_emoji_arrive_at_once(tier, app, chat, room_with):
    reactors = [chat() for _ in range(10)]
    owner, room = room_with(*reactors)
    message = owner.send(room["id"])
    for n in range(19):
        assert owner.post(f"/messages/{message['id']}/reactions", json={"emoji": f"e{n}"})[0] == 201
    barrier = threading.Barrier(len(reactors))

    def react(index):
        with app.test_client() as client:
            barrier.wait()
            return client.post(
                f"/api/v1/chat/messages/{message['id']}/reactions",
                json={"emoji": f"new{index}"},
                headers=reactors[index].user.headers,
            ).status_code

    with ThreadPoolExecutor(len(reactors)) as pool:
        statuses = sorted(pool.map(react, range(len(reactors))))
    assert statuses == [201] + [409] * 9
    with app.app_context():
        distinct = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Reaction.emoji))).where(Reaction.message_id == uuid.UUID(message["id"]))
        )
    assert distinct == 20
