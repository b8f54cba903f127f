"""The notification inbox (API.md section 8) on both tiers: who is told about what, the pushed
events, the inbox routes, and the read state across devices."""

import uuid

import pytest
import sqlalchemy as sa

from seda.common.tasks import wait_for_in_process_tasks
from seda.extensions import db
from seda.notifications import services
from seda.notifications.models import Notification
from seda.notifications.schemas import NotificationSchema
from tests.helpers.chat import events

KEYS = {
    "id",
    "type",
    "createdAt",
    "readAt",
    "actor",
    "roomId",
    "roomName",
    "messageId",
    "parentId",
    "excerpt",
    "verificationRequestId",
    "verificationStatus",
    "invitationId",
}


def api(client, user, method, path, **kwargs):
    response = client.open(f"/api/v1{path}", method=method, headers=user.headers, **kwargs)
    return response.status_code, response.get_json(silent=True)


def inbox(client, user, query=""):
    wait_for_in_process_tasks()
    status, body = api(client, user, "GET", f"/notifications{query}")
    assert status == 200, body
    return body


def unread(client, user):
    wait_for_in_process_tasks()
    return api(client, user, "GET", "/notifications/unread-count")[1]["count"]


def pushed(sock, name="notification_created"):
    wait_for_in_process_tasks()
    return [args[0] for event, args in events(sock) if event == name]


@pytest.fixture
def band(chat):
    """owner's public room with members ada and bo; cy stays outside."""
    owner = chat(username="owner_1", display_name="Owner")
    room = owner.room(name="Band Room")
    members = {name: chat(username=name) for name in ("ada", "bo_bass")}
    for member in members.values():
        member.post(f"/rooms/{room['id']}/join")
    return owner, room, members, chat(username="cy_out")


def test_a_mention_is_stored_and_pushed_to_its_recipient_only(client, band, socket_for):
    owner, room, members, _ = band
    ada_phone, bo_phone, owner_phone = (socket_for(m.user) for m in (members["ada"], members["bo_bass"], owner))
    sent = owner.send(room["id"], "@ada " + "x" * 300)
    [listed] = inbox(client, members["ada"].user)
    assert set(listed) == KEYS
    assert listed["type"] == "MENTION" and listed["readAt"] is None
    assert (listed["roomId"], listed["roomName"], listed["messageId"]) == (room["id"], "Band Room", sent["id"])
    assert listed["parentId"] is None and listed["excerpt"] == sent["text"][:200]
    assert listed["actor"]["id"] == owner.user.id and listed["actor"]["username"] == "owner_1"
    assert (listed["verificationRequestId"], listed["verificationStatus"]) == (None, None)
    assert pushed(ada_phone) == [listed]
    assert pushed(bo_phone) == [] and pushed(owner_phone) == []
    assert inbox(client, owner.user) == [] and inbox(client, members["bo_bass"].user) == []


def test_the_payload_matches_its_documented_schema(client, band):
    owner, room, members, _ = band
    owner.send(room["id"], "@ada hi")
    [listed] = inbox(client, members["ada"].user)
    assert NotificationSchema().dump(NotificationSchema().load(listed)) == listed


def test_a_reply_tells_the_parent_author_once_even_when_it_also_mentions_them(client, band):
    owner, room, members, _ = band
    ada, bo = members["ada"], members["bo_bass"]
    parent = ada.send(room["id"], "who is in?")
    reply = bo.send(room["id"], "me", parentId=parent["id"])
    both = bo.send(room["id"], "@ada me too", parentId=parent["id"])
    bo.send(room["id"], "and my own thread", parentId=reply["id"])  # threads are one level: still ada's
    own = ada.send(room["id"], "answering myself", parentId=parent["id"])
    listed = inbox(client, ada.user)
    assert [(n["type"], n["messageId"]) for n in listed][1:] == [("MENTION", both["id"]), ("REPLY", reply["id"])]
    assert listed[0]["type"] == "REPLY" and listed[0]["parentId"] == parent["id"]
    assert own["id"] not in {n["messageId"] for n in listed}


def test_a_direct_message_tells_the_other_person(client, chat):
    alice, bob = chat(username="alice"), chat(username="bob")
    _status, room = alice.post("/direct", json={"userId": bob.user.id})
    plain = alice.send(room["id"], "hey")
    named = alice.send(room["id"], "hey @bob")
    listed = inbox(client, bob.user)
    assert [(n["type"], n["messageId"]) for n in listed] == [("MENTION", named["id"]), ("DIRECT_MESSAGE", plain["id"])]
    assert inbox(client, alice.user) == []


def test_nobody_hears_from_a_user_they_block(client, band):
    owner, room, members, _ = band
    ada = members["ada"]
    assert api(client, ada.user, "POST", f"/users/{owner.user.id}/block")[0] == 204
    parent = ada.send(room["id"], "hello room")
    owner.send(room["id"], "@ada and @bo_bass", parentId=parent["id"])
    assert inbox(client, ada.user) == []
    assert [n["type"] for n in inbox(client, members["bo_bass"].user)] == ["MENTION"]


def test_banned_users_and_those_who_left_are_not_told(app, client, band):
    owner, room, members, _ = band
    sent = owner.send(room["id"], "@ada @bo_bass")
    wait_for_in_process_tasks()
    members["ada"].post(f"/rooms/{room['id']}/leave")
    with app.app_context():
        db.session.execute(sa.delete(Notification))  # as though the task ran only now
        db.session.commit()
        assert services.notify_about_message(uuid.UUID(sent["id"])) != []
    assert inbox(client, members["ada"].user) == []
    assert [n["messageId"] for n in inbox(client, members["bo_bass"].user)] == [sent["id"]]


def test_an_edit_tells_only_the_newly_mentioned(client, band):
    owner, room, members, outsider = band
    sent = owner.send(room["id"], "hi @ada")
    wait_for_in_process_tasks()
    owner.patch(f"/messages/{sent['id']}", json={"text": "hi @ada and @bo_bass and @cy_out"})
    owner.patch(f"/messages/{sent['id']}", json={"text": "hi @bo_bass"})
    owner.patch(f"/messages/{sent['id']}", json={"text": "hi @bo_bass and @ada"})  # ada again: still one
    assert [n["messageId"] for n in inbox(client, members["ada"].user)] == [sent["id"]]
    [bo] = inbox(client, members["bo_bass"].user)
    assert bo["type"] == "MENTION" and bo["excerpt"] == "hi @ada and @bo_bass and @cy_out"
    assert inbox(client, outsider.user) == []


def test_a_task_run_twice_stores_and_pushes_nothing_twice(app, client, band):
    owner, room, members, _ = band
    sent = owner.send(room["id"], "@ada")
    wait_for_in_process_tasks()
    with app.app_context():
        assert services.notify_about_message(uuid.UUID(sent["id"])) == []
    assert len(inbox(client, members["ada"].user)) == 1


def test_hundreds_of_mentions_take_four_statements(app, chat, client):
    """The message, its recipients, the insert, and which of those away have push subscriptions."""
    owner = chat(username="big_owner")
    room = owner.room(name="Big")
    fans = [chat(username=f"fan_{n}") for n in range(150)]
    for fan in fans:
        fan.post(f"/rooms/{room['id']}/join")
    sent = owner.send(room["id"], " ".join(f"@fan_{n}" for n in range(150)))
    wait_for_in_process_tasks()
    with app.app_context():
        db.session.execute(sa.delete(Notification))
        db.session.commit()
        statements = []

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            told = services.notify_about_message(uuid.UUID(sent["id"]))
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        assert len(told) == 150
        assert len([s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]) == 4
    assert len(inbox(client, fans[-1].user)) == 1


def test_a_message_deleted_since_leaves_the_inbox(client, band):
    owner, room, members, _ = band
    first, second = owner.send(room["id"], "@ada one"), owner.send(room["id"], "@ada two")
    assert unread(client, members["ada"].user) == 2
    assert owner.delete(f"/messages/{first['id']}")[0] == 204
    assert [n["messageId"] for n in inbox(client, members["ada"].user)] == [second["id"]]
    assert unread(client, members["ada"].user) == 1


@pytest.fixture
def mentioned(client, band):
    """ada, mentioned in five messages (newest last), with her inbox."""
    owner, room, members, _ = band
    for n in range(5):
        owner.send(room["id"], f"@ada {n}")
    return members["ada"], [n["id"] for n in inbox(client, members["ada"].user)]


def test_the_inbox_pages_newest_first(client, mentioned):
    ada, ids = mentioned
    assert [n["excerpt"] for n in inbox(client, ada.user)] == [f"@ada {n}" for n in (4, 3, 2, 1, 0)]
    response = client.get("/api/v1/notifications?limit=2", headers=ada.user.headers)
    assert [n["id"] for n in response.get_json()] == ids[:2]
    cursor = response.headers["X-Next-Cursor"]
    assert [n["id"] for n in inbox(client, ada.user, f"?limit=2&cursor={cursor}")] == ids[2:4]
    assert api(client, ada.user, "GET", f"/notifications?cursor={uuid.uuid4()}")[0] == 400


def test_the_inbox_lists_messages_in_their_order_whatever_order_their_tasks_ran(app, client, band, monkeypatch):
    """Tasks run concurrently (worker processes; a thread each in the embedded default)."""
    from seda.chat import messages

    owner, room, members, _ = band
    monkeypatch.setattr(messages.notifications, "message_stored", lambda message_id: None)
    first, second = (owner.send(room["id"], f"@ada {n}") for n in ("first", "second"))
    with app.app_context():
        for sent in (second, first):  # the second message's task ran first
            services.notify_about_message(uuid.UUID(sent["id"]))
    assert [n["excerpt"] for n in inbox(client, members["ada"].user)] == ["@ada second", "@ada first"]


def test_reading_some_or_all_moves_the_count_and_tells_every_device(client, mentioned, socket_for):
    ada, ids = mentioned
    phone, laptop = socket_for(ada.user), socket_for(ada.user)
    for sock in (phone, laptop):
        events(sock)
    status, body = api(client, ada.user, "POST", "/notifications/read", json={"ids": [ids[0], ids[1].upper()]})
    assert (status, body) == (200, {"count": 3})
    assert pushed(laptop, "notifications_read") == [{"count": 3, "ids": [ids[0], ids[1]]}]
    assert pushed(phone, "notifications_read") == [{"count": 3, "ids": [ids[0], ids[1]]}]
    assert [n["id"] for n in inbox(client, ada.user, "?unread=true")] == ids[2:]
    assert inbox(client, ada.user)[0]["readAt"] is not None
    assert unread(client, ada.user) == 3
    assert api(client, ada.user, "POST", "/notifications/read", json={"all": True}) == (200, {"count": 0})
    assert pushed(laptop, "notifications_read") == [{"count": 0, "ids": None}]
    assert inbox(client, ada.user, "?unread=true") == []


def test_others_notifications_cannot_be_read_for_them(client, mentioned, users):
    ada, ids = mentioned
    stranger = users.make()
    assert api(client, stranger, "POST", "/notifications/read", json={"ids": ids}) == (200, {"count": 0})
    assert api(client, stranger, "POST", "/notifications/read", json={"all": True}) == (200, {"count": 0})
    assert unread(client, ada.user) == 5
    assert inbox(client, stranger) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": [], "all": True},
        {"ids": []},
        {"ids": [str(uuid.uuid4()) for _ in range(101)]},
        {"ids": ["not-an-id"]},
        {"ids": "x"},
        {"all": False},
        {"all": "true"},
        {"all": True, "extra": 1},
    ],
)
def test_a_read_request_names_ids_or_all(client, users, body):
    status, error = api(client, users.make(), "POST", "/notifications/read", json=body)
    assert status == 400 and error["message"], error


@pytest.mark.parametrize("query", ["?unread=maybe", "?limit=0", "?limit=101", "?other=1"])
def test_inbox_query_validation(client, users, query):
    assert api(client, users.make(), "GET", f"/notifications{query}")[0] == 400


def test_the_inbox_needs_a_token(client):
    for method, path in (("GET", ""), ("GET", "/unread-count"), ("POST", "/read")):
        assert client.open(f"/api/v1/notifications{path}", method=method).status_code == 401
