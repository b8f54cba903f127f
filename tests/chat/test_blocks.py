"""Blocks (API.md section 8): routes, and direct messages refused both ways, on both tiers."""

import uuid

import pytest

CANNOT = ["You cannot message this user"]


def api(client, user, method, path):
    response = client.open(f"/api/v1{path}", method=method, headers=user.headers)
    return response.status_code, response.get_json(silent=True)


@pytest.fixture
def pair(chat):
    """alice and bob with a direct conversation holding one message of bob's."""
    alice, bob = chat(username="alice"), chat(username="bob")
    _status, room = alice.post("/direct", json={"userId": bob.user.id})
    message = bob.send(room["id"], "hey alice")
    return alice, bob, room, message


def test_block_and_unblock_are_idempotent_and_listed_most_recent_first(client, users):
    me, first, second = users.make(), users.make(), users.make()
    assert api(client, me, "POST", f"/users/{first.id}/block")[0] == 204
    assert api(client, me, "POST", f"/users/{second.id}/block")[0] == 204
    assert api(client, me, "POST", f"/users/{first.id}/block")[0] == 204
    status, listed = api(client, me, "GET", "/users/me/blocks")
    assert status == 200 and [u["id"] for u in listed] == [second.id, first.id]
    assert set(listed[0]) == {"id", "username", "displayName", "avatarUrl", "role", "artistProfile", "deleted"}
    assert api(client, me, "DELETE", f"/users/{second.id}/block")[0] == 204
    assert api(client, me, "DELETE", f"/users/{second.id}/block")[0] == 204
    assert [u["id"] for u in api(client, me, "GET", "/users/me/blocks")[1]] == [first.id]


def test_the_block_list_pages(client, users):
    me = users.make()
    blocked = [users.make() for _ in range(5)]
    for other in blocked:
        api(client, me, "POST", f"/users/{other.id}/block")
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(f"/api/v1/users/me/blocks{query}", headers=me.headers)
        seen += [u["id"] for u in response.get_json()]
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            break
    assert sorted(seen) == sorted(u.id for u in blocked) and len(seen) == 5


def test_blocking_yourself_is_400_and_an_unknown_user_404(client, users):
    me = users.make()
    status, body = api(client, me, "POST", f"/users/{me.id}/block")
    assert status == 400 and body["message"] == ["userId: You cannot block yourself."]
    assert api(client, me, "POST", f"/users/{uuid.uuid4()}/block")[0] == 404
    assert api(client, me, "DELETE", "/users/not-an-id/block")[0] == 404


@pytest.mark.parametrize("blocker", ["alice", "bob"])
def test_a_block_either_way_stops_direct_messages_both_ways(client, pair, blocker):
    alice, bob, room, message = pair
    who = {"alice": alice, "bob": bob}
    api(client, who[blocker].user, "POST", f"/users/{(bob if blocker == 'alice' else alice).user.id}/block")
    for person, other in ((alice, bob), (bob, alice)):
        status, body = person.post(f"/rooms/{room['id']}/messages", json={"text": "still there?"})
        assert (status, body["message"]) == (403, CANNOT)
        status, body = person.post("/direct", json={"userId": other.user.id})
        assert (status, body["message"]) == (403, CANNOT)
        status, room_seen = person.get(f"/rooms/{room['id']}")
        assert status == 200 and room_seen["canSend"] is False  # still readable
        assert person.get(f"/rooms/{room['id']}/messages")[0] == 200
    status, body = bob.patch(f"/messages/{message['id']}", json={"text": "edited"})
    assert (status, body["message"]) == (403, CANNOT)
    status, body = alice.post(f"/messages/{message['id']}/reactions", json={"emoji": "🔥"})
    assert (status, body["message"]) == (403, CANNOT)


def test_after_unblocking_they_can_write_again(client, pair):
    alice, bob, room, _message = pair
    api(client, alice.user, "POST", f"/users/{bob.user.id}/block")
    api(client, alice.user, "DELETE", f"/users/{bob.user.id}/block")
    assert bob.post(f"/rooms/{room['id']}/messages", json={"text": "back"})[0] == 201
    _status, rooms = alice.get("/rooms?scope=joined")
    assert [r["canSend"] for r in rooms if r["id"] == room["id"]] == [True]


def test_can_send_appears_on_direct_rooms_only(pair):
    alice, _bob, direct, _message = pair
    public = alice.room("Open")
    _status, rooms = alice.get("/rooms?scope=joined")
    by_id = {r["id"]: r for r in rooms}
    assert by_id[direct["id"]]["canSend"] is True and "canSend" not in by_id[public["id"]]


def test_a_block_leaves_shared_rooms_alone(client, chat):
    owner, other = chat(), chat()
    room = owner.room()
    other.post(f"/rooms/{room['id']}/join")
    api(client, owner.user, "POST", f"/users/{other.user.id}/block")
    assert other.post(f"/rooms/{room['id']}/messages", json={"text": "hello room"})[0] == 201


def test_the_blocked_user_is_not_told(client, users):
    me, other = users.make(), users.make()
    api(client, me, "POST", f"/users/{other.id}/block")
    assert api(client, other, "GET", "/users/me/blocks")[1] == []
    assert api(client, other, "GET", f"/users/{me.id}")[0] == 200


def test_a_socket_send_into_a_blocked_conversation_is_refused(client, pair, socket_for):
    alice, bob, room, _message = pair
    api(client, alice.user, "POST", f"/users/{bob.user.id}/block")
    sock = socket_for(bob.user)
    assert sock.emit("join_room", room["id"], namespace="/chat", callback=True)["ok"]
    ack = sock.emit("send_message", {"roomId": room["id"], "text": "hi"}, namespace="/chat", callback=True)
    assert ack["ok"] is False and ack["error"]["statusCode"] == 403 and ack["error"]["message"] == CANNOT
