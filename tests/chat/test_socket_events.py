"""The /chat namespace through Flask-SocketIO's test client (in process, both tiers)."""

import dataclasses
import time

import pytest
import sqlalchemy as sa

from seda.auth.tokens import issue_access_token
from seda.chat import messages
from tests.helpers.chat import Chat, events, joined
from tests.helpers.fixtures import UserFactory
from tests.helpers.servers import wait_until
from tests.helpers.tiers import services_only


def test_connect_needs_a_valid_token(app, socket_for, users):
    from seda.extensions import socketio

    user = users.make()
    assert socket_for(user).is_connected("/chat")
    for auth in ({}, {"token": "garbage"}, None):
        sock = socketio.test_client(app, namespace="/chat", auth=auth)
        assert not sock.is_connected("/chat")
    banned = users.make(banned=True)
    assert not socketio.test_client(app, namespace="/chat", auth={"token": banned.token}).is_connected("/chat")


def test_a_valid_token_of_an_account_that_is_gone_cannot_connect(app, users):
    import uuid as uuid_module

    from seda.extensions import db, socketio
    from seda.users.models import User

    gone = users.make()
    with app.app_context():
        db.session.execute(sa.delete(User).where(User.id == uuid_module.UUID(gone.id)))
        db.session.commit()
    assert not socketio.test_client(app, namespace="/chat", auth={"token": gone.token}).is_connected("/chat")


def test_join_acks_the_latest_seq_and_tells_the_others(chat, socket_for):
    owner, fan = chat(), chat()
    room = owner.room()
    owner.send(room["id"], "before anyone came")
    owner_sock, fan_sock = socket_for(owner.user), socket_for(fan.user)
    joined(owner_sock, room["id"])
    events(owner_sock)
    ack = joined(fan_sock, room["id"])
    assert ack == {"ok": True, "roomId": room["id"], "seq": 1, "session": None}
    received = events(owner_sock)
    assert ("user_joined", [room["id"], fan.user.id]) in received
    assert ("presence", [room["id"], fan.user.id, True]) in received
    assert owner.get(f"/rooms/{room['id']}")[1]["memberCount"] == 2


def test_send_message_is_stored_acked_and_broadcast_to_rest_and_socket_clients(app, chat, socket_for):
    owner, fan = chat(), chat()
    room = owner.room()
    owner_sock, fan_sock = socket_for(owner.user), socket_for(fan.user)
    joined(owner_sock, room["id"])
    joined(fan_sock, room["id"])
    events(owner_sock), events(fan_sock)
    ack = fan_sock.emit(
        "send_message",
        {"roomId": room["id"], "text": "from a socket", "clientMessageId": "k1"},
        namespace="/chat",
        callback=True,
    )
    assert ack["ok"] is True and ack["message"]["text"] == "from a socket" and ack["message"]["seq"] == 1
    stored = owner.get(f"/messages/{ack['message']['id']}")[1]
    assert stored["id"] == ack["message"]["id"]
    assert events(owner_sock, "message_created") == [("message_created", [ack["message"]])]
    assert events(fan_sock, "message_created") == [("message_created", [ack["message"]])]  # sender included
    rest = owner.send(room["id"], "from REST")
    assert events(fan_sock, "message_created") == [("message_created", [rest])]


def test_every_change_reaches_the_room(chat, socket_for):
    owner, fan = chat(), chat()
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    listener = socket_for(fan.user)
    joined(listener, room["id"])
    events(listener)  # its own presence
    message = owner.send(room["id"], "hi")
    owner.patch(f"/messages/{message['id']}", json={"text": "hi!"})
    _, reaction = owner.post(f"/messages/{message['id']}/reactions", json={"emoji": "🔥"})
    owner.delete(f"/messages/{message['id']}/reactions/%F0%9F%94%A5")
    owner.delete(f"/messages/{message['id']}")
    received = events(listener)
    names = [name for name, _ in received]
    assert names == ["message_created", "message_updated", "reaction_added", "reaction_removed", "message_deleted"]
    assert received[1][1][0]["text"] == "hi!" and received[1][1][0]["editedAt"]
    assert received[2][1] == [reaction]
    assert received[3][1] == [message["id"], owner.user.id, "🔥"]
    assert received[4][1] == [message["id"], room["id"]]


def test_bad_events_get_error_acks_and_the_connection_stays(chat, socket_for):
    owner = chat()
    room = owner.room()
    sock = socket_for(owner.user)
    joined(sock, room["id"])
    bad = [
        ("send_message", {"roomId": room["id"], "text": "   "}, 400),
        ("send_message", {"roomId": room["id"], "text": "x", "admin": True}, 400),
        ("send_message", "not an object", 400),
        ("send_message", {"roomId": "nope", "text": "x"}, 400),
        ("edit_message", {"messageId": "00000000-0000-0000-0000-000000000000", "text": "x"}, 404),
        ("join_room", "00000000-0000-0000-0000-000000000000", 404),
        ("join_room", {"nothing": 1}, 400),
        ("typing_start", "00000000-0000-0000-0000-000000000000", 403),
        ("send_message", {"roomId": room["id"], "text": "x" * 70000}, 413),
    ]
    for event, payload, status in bad:
        ack = sock.emit(event, payload, namespace="/chat", callback=True)
        assert ack["ok"] is False, (event, payload)
        assert ack["error"]["statusCode"] == status, (event, payload, ack)
        assert ack["error"]["path"] == event and isinstance(ack["error"]["message"], list)
    assert sock.is_connected("/chat")
    assert sock.emit("send_message", {"roomId": room["id"], "text": "still fine"}, namespace="/chat", callback=True)[
        "ok"
    ]


def test_failures_without_an_ack_arrive_as_error_events(chat, socket_for):
    owner = chat()
    sock = socket_for(owner.user)
    sock.emit("join_room", "00000000-0000-0000-0000-000000000000", namespace="/chat")
    errors = events(sock, "error")
    assert len(errors) == 1 and errors[0][1][0]["statusCode"] == 404


def test_more_than_20_events_a_second_are_refused(chat, socket_for):
    owner = chat()
    sock = socket_for(owner.user)
    acks = [sock.emit("ping", namespace="/chat", callback=True) for _ in range(25)]
    refused = [a for a in acks if not a["ok"]]
    assert len(refused) >= 5 and all(a["error"]["statusCode"] == 429 for a in refused)
    time.sleep(1.05)
    assert sock.emit("ping", namespace="/chat", callback=True)["ok"] is True
    assert ("pong", []) in events(sock, "pong")


def test_the_socket_event_limit_is_configurable(app_factory, users):
    from seda.extensions import socketio

    app = app_factory(RATE_LIMIT_SOCKET_EVENTS_PER_SECOND="5")
    user = users.make()
    sock = socketio.test_client(
        app, namespace="/chat", auth={"token": issue_access_token(app.config["JWT_SECRET"], user.id)}
    )
    acks = [sock.emit("ping", namespace="/chat", callback=True) for _ in range(8)]
    assert [a["ok"] for a in acks] == [True] * 5 + [False] * 3
    assert acks[5]["error"]["message"] == ["More than 5 events per second"]
    sock.disconnect("/chat")


@services_only
def test_an_event_finding_no_free_database_connection_answers_503(app_factory, users):
    from seda.extensions import db, socketio

    app = app_factory(DB_POOL_SIZE="1", DB_MAX_OVERFLOW="0", DB_POOL_TIMEOUT_MS="200")
    user = users.make()
    sock = socketio.test_client(
        app, namespace="/chat", auth={"token": issue_access_token(app.config["JWT_SECRET"], user.id)}
    )
    with app.app_context():
        held = db.engine.connect()
        try:
            ack = sock.emit("ping", namespace="/chat", callback=True)
        finally:
            held.close()
    assert ack["ok"] is False and ack["error"]["statusCode"] == 503
    assert ack["error"]["message"] == ["Database busy, retry shortly"]
    assert sock.emit("ping", namespace="/chat", callback=True)["ok"] is True
    sock.disconnect("/chat")


def test_typing_reaches_others_and_stop_ends_it(chat, socket_for):
    owner, fan = chat(), chat()
    room = owner.room()
    a, b = socket_for(owner.user), socket_for(fan.user)
    joined(a, room["id"]), joined(b, room["id"])
    events(a), events(b)
    assert b.emit("typing_start", room["id"], namespace="/chat", callback=True)["ok"]
    assert events(a, "user_typing") == [("user_typing", [room["id"], fan.user.id, True])]
    assert events(b, "user_typing") == []
    b.emit("typing_stop", room["id"], namespace="/chat", callback=True)
    assert events(a, "user_typing") == [("user_typing", [room["id"], fan.user.id, False])]


def test_typing_expires_after_10_seconds_without_renewal(chat, socket_for, monkeypatch):
    from seda.chat import events as chat_events

    monkeypatch.setattr(chat_events, "TYPING_EXPIRY_SECONDS", 0.2)
    owner, fan = chat(), chat()
    room = owner.room()
    a, b = socket_for(owner.user), socket_for(fan.user)
    joined(a, room["id"]), joined(b, room["id"])
    events(a)
    b.emit("typing_start", room["id"], namespace="/chat", callback=True)
    time.sleep(0.5)
    assert events(a, "user_typing") == [
        ("user_typing", [room["id"], fan.user.id, True]),
        ("user_typing", [room["id"], fan.user.id, False]),
    ]


def test_leave_room_unsubscribes_and_presence_goes_offline(chat, socket_for):
    owner, fan = chat(), chat()
    room = owner.room()
    a, b = socket_for(owner.user), socket_for(fan.user)
    joined(a, room["id"]), joined(b, room["id"])
    events(a)
    assert b.emit("leave_room", room["id"], namespace="/chat", callback=True)["ok"]
    received = events(a)
    assert ("user_left", [room["id"], fan.user.id]) in received
    assert ("presence", [room["id"], fan.user.id, False]) in received
    owner.send(room["id"], "anyone?")
    assert events(b, "message_created") == []
    assert fan.get(f"/rooms/{room['id']}")[1]["myRole"] == "MEMBER"  # membership unchanged


def test_a_room_ban_drops_the_users_sockets_from_the_room(chat, socket_for):
    owner, fan = chat(), chat()
    room = owner.room()
    a, b = socket_for(owner.user), socket_for(fan.user)
    joined(a, room["id"]), joined(b, room["id"])
    events(b)
    owner.post(f"/rooms/{room['id']}/bans", json={"userId": fan.user.id})
    assert ("user_banned", [room["id"], fan.user.id]) in events(a)
    owner.send(room["id"], "after the ban")
    assert events(b, "message_created") == []
    ack = b.emit("send_message", {"roomId": room["id"], "text": "let me in"}, namespace="/chat", callback=True)
    assert ack["ok"] is False and ack["error"]["statusCode"] == 403


def test_mark_read_edit_delete_and_reactions_by_socket(chat, socket_for):
    owner, fan = chat(), chat()
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    sock = socket_for(fan.user)
    joined(sock, room["id"])
    mine = fan.send(room["id"], "mine")
    theirs = owner.send(room["id"], "theirs")

    def emit(event, payload):
        return sock.emit(event, payload, namespace="/chat", callback=True)

    assert emit("mark_read", {"roomId": room["id"], "messageId": theirs["id"]}) == {"ok": True}
    assert fan.get(f"/rooms/{room['id']}")[1]["unreadCount"] == 0
    edited = emit("edit_message", {"messageId": mine["id"], "text": "mine, edited"})
    assert edited["ok"] and edited["message"]["editedAt"]
    assert emit("edit_message", {"messageId": theirs["id"], "text": "nope"})["error"]["statusCode"] == 403
    added = emit("add_reaction", {"messageId": theirs["id"], "emoji": "🎺"})
    assert added["ok"] and added["reaction"]["emoji"] == "🎺"
    assert emit("remove_reaction", {"messageId": theirs["id"], "emoji": "🎺"}) == {"ok": True}
    assert emit("delete_message", {"messageId": mine["id"]}) == {"ok": True}
    assert emit("delete_message", {"messageId": theirs["id"]})["error"]["statusCode"] == 403


def test_the_socket_send_limit_is_shared_with_rest(app_factory, users):
    from seda.extensions import socketio
    from tests.helpers.chat import Chat

    app = app_factory(RATE_LIMIT_MESSAGES="4 per 10 seconds")
    user = users.make()
    user.token = issue_access_token(app.config["JWT_SECRET"], user.id)
    rest = Chat(app.test_client(), user)
    room = rest.room()
    for n in range(2):
        rest.send(room["id"], f"rest {n}")
    sock = socketio.test_client(app, namespace="/chat", auth={"token": user.token})
    acks = [
        sock.emit("send_message", {"roomId": room["id"], "text": f"s{n}"}, namespace="/chat", callback=True)
        for n in range(3)
    ]
    assert [a["ok"] for a in acks] == [True, True, False]
    assert acks[2]["error"]["statusCode"] == 429
    sock.disconnect("/chat")


def test_an_account_deleted_while_connected_gets_401_acks(app, chat, socket_for):
    import uuid as uuid_module

    import sqlalchemy as sa

    from seda.extensions import db
    from seda.users.models import User

    owner = chat()
    sock = socket_for(owner.user)
    assert sock.emit("ping", namespace="/chat", callback=True)["ok"] is True  # its user is now kept
    with app.app_context():
        db.session.execute(sa.delete(User).where(User.id == uuid_module.UUID(owner.user.id)))
        db.session.commit()
    ack = sock.emit("ping", namespace="/chat", callback=True)
    assert ack["ok"] is False and ack["error"]["statusCode"] == 401


@pytest.mark.parametrize(
    ("failure", "status", "message"),
    [
        (
            sa.exc.IntegrityError("INSERT …", {}, Exception("duplicate key")),
            409,
            "Conflict: the resource already exists",
        ),
        (sa.exc.DataError("INSERT …", {}, Exception("value too long")), 400, "A value is out of range or not storable"),
    ],
)
def test_a_database_refusal_in_a_socket_event_answers_as_rest_does(
    chat, socket_for, monkeypatch, failure, status, message
):
    owner = chat()
    room = owner.room()
    sock = socket_for(owner.user)
    joined(sock, room["id"])

    def refuse(*_args, **_kwargs):
        raise failure

    monkeypatch.setattr(messages, "send_message", refuse)
    ack = sock.emit("send_message", {"roomId": room["id"], "text": "x"}, namespace="/chat", callback=True)
    assert ack["ok"] is False and ack["error"]["statusCode"] == status
    assert ack["error"]["message"][0].startswith(message)
    assert joined(sock, room["id"])["ok"]  # the connection and its session carry on


def test_room_events_take_the_room_id_bare_or_as_an_object(chat, socket_for):
    owner = chat()
    room = owner.room()
    sock = socket_for(owner.user)
    ack = sock.emit("join_room", {"roomId": room["id"]}, namespace="/chat", callback=True)
    assert ack["ok"] is True and ack["roomId"] == room["id"]
    assert sock.emit("leave_room", {"roomId": room["id"]}, namespace="/chat", callback=True)["ok"] is True
    refused = sock.emit("join_room", {"room": room["id"]}, namespace="/chat", callback=True)
    assert refused["ok"] is False and refused["error"]["message"] == ["roomId: Missing data for required field."]


def test_a_re_join_announces_nothing_and_a_first_join_does(chat, socket_for):
    owner, fan = chat(), chat()
    room = owner.room()
    owner_sock = socket_for(owner.user)
    joined(owner_sock, room["id"])
    events(owner_sock)
    first = socket_for(fan.user)
    joined(first, room["id"])  # makes fan a member
    assert ("user_joined", [room["id"], fan.user.id]) in events(owner_sock)
    first.disconnect(namespace="/chat")
    events(owner_sock)
    again = socket_for(fan.user)  # a reconnect re-subscribes
    joined(again, room["id"])
    assert [name for name, _ in events(owner_sock) if name == "user_joined"] == []


@pytest.mark.parametrize(
    "failure",
    [sa.exc.TimeoutError("QueuePool limit reached"), sa.exc.OperationalError("SELECT 1", {}, Exception("gone"))],
    ids=["pool exhausted", "database down"],
)
def test_a_connect_the_database_cannot_check_now_is_refused_with_server_busy(app, users, monkeypatch, failure):
    from seda.extensions import socketio

    user = users.make()
    real = app.extensions["seda_auth"]

    def fail(_identity):
        raise failure

    monkeypatch.setitem(app.extensions, "seda_auth", dataclasses.replace(real, active_user_id=fail))
    refused = socketio.test_client(app, namespace="/chat", auth={"token": user.token})
    assert not refused.is_connected("/chat")  # refused with a CONNECT_ERROR, not left hanging
    monkeypatch.setitem(app.extensions, "seda_auth", real)
    assert socketio.test_client(app, namespace="/chat", auth={"token": user.token}).is_connected("/chat")


def test_a_large_room_gets_presence_counts_at_most_once_a_second_instead_of_presence(app_factory):
    from seda.extensions import socketio

    app = app_factory(ROOM_PRESENCE_EVENTS_MAX_MEMBERS="2")
    people = [UserFactory(app).make() for _ in range(4)]
    room = Chat(app.test_client(), people[0]).room()
    for person in people[1:]:
        Chat(app.test_client(), person).post(f"/rooms/{room['id']}/join")
    watcher = socketio.test_client(app, namespace="/chat", auth={"token": people[0].token})
    collected = []

    def counts():
        collected.extend(events(watcher))
        return [args[0] for name, args in collected if name == "presence_count"]

    joined(watcher, room["id"])
    started = time.monotonic()
    others = [socketio.test_client(app, namespace="/chat", auth={"token": p.token}) for p in people[1:]]
    for sock in others:
        joined(sock, room["id"])
    assert wait_until(counts, timeout=5)
    assert time.monotonic() - started >= 0.9  # held back a second to carry the whole second's changes
    assert counts() == [{"roomId": room["id"], "online": 4}]
    assert [name for name, _ in collected if name == "presence"] == []
    others[0].disconnect(namespace="/chat")
    assert wait_until(lambda: {"roomId": room["id"], "online": 3} in counts(), timeout=5)


def test_a_sockets_events_after_the_first_do_not_load_its_user_again(app, chat, socket_for):
    from tests.helpers.queries import count_queries

    owner = chat()
    room = owner.room()
    sock = socket_for(owner.user)
    joined(sock, room["id"])
    with count_queries(app) as statements:
        ack = sock.emit("send_message", {"roomId": room["id"], "text": "no user row"}, namespace="/chat", callback=True)
    assert ack["ok"] is True
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT USERS.")], statements


def test_a_profile_and_a_role_change_reach_the_sockets_next_event(client, chat, socket_for, users):
    from seda.users.models import Role

    author, admin = chat(), users.make(role=Role.ADMIN)
    room = author.room()
    sock = socket_for(author.user)
    joined(sock, room["id"])
    send = {"roomId": room["id"], "text": "hi"}
    before = sock.emit("send_message", send, namespace="/chat", callback=True)["message"]["user"]
    assert (before["displayName"], before["role"]) != ("New Name", "ARTIST")
    renamed = client.patch("/api/v1/users/me", json={"displayName": "New Name"}, headers=author.user.headers)
    promoted = client.patch(f"/api/v1/admin/users/{author.user.id}", json={"role": "ARTIST"}, headers=admin.headers)
    assert renamed.status_code == 200 and promoted.status_code == 200, promoted.get_json()
    after = sock.emit("send_message", send, namespace="/chat", callback=True)["message"]["user"]
    assert (after["displayName"], after["role"]) == ("New Name", "ARTIST")


def test_an_event_the_server_does_not_know_is_answered_404_not_ignored(socket_for, users):
    sock = socket_for(users.make())
    ack = sock.emit("dance", {"roomId": "x"}, namespace="/chat", callback=True)
    assert ack["ok"] is False
    assert (ack["error"]["statusCode"], ack["error"]["message"]) == (404, ["Unknown event: dance"])
    sock.get_received("/chat")
    sock.emit("dance", namespace="/chat")  # no ack: the answer comes as an `error` event
    [error] = [e["args"][0] for e in sock.get_received("/chat") if e["name"] == "error"]
    assert error["message"] == ["Unknown event: dance"]
    assert sock.emit("ping", {}, namespace="/chat", callback=True)["ok"] is True  # the socket stays usable
