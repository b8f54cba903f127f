import uuid

import pytest

ROOM_KEYS = {
    "id",
    "name",
    "description",
    "type",
    "isPrivate",
    "createdBy",
    "createdAt",
    "updatedAt",
    "memberCount",
    "myRole",
    "slowModeSeconds",
    "lastMessageAt",
    "unreadCount",
    "activeSessionId",
}


def test_create_room_makes_the_creator_its_owner(chat):
    owner = chat()
    room = owner.room(name="  Ambient  ", description="drones", slowModeSeconds=5)
    assert set(room) == ROOM_KEYS
    assert room["name"] == "Ambient" and room["type"] == "PUBLIC" and room["isPrivate"] is False
    assert (room["myRole"], room["memberCount"], room["unreadCount"]) == ("OWNER", 1, 0)
    assert room["createdBy"] == owner.user.id and room["slowModeSeconds"] == 5


@pytest.mark.parametrize(
    "body,message",
    [
        ({}, "name: Missing data for required field."),
        ({"name": "   "}, "name: Length must be between 1 and 100."),
        (
            {"name": "x", "slowModeSeconds": 21601},
            "slowModeSeconds: Must be greater than or equal to 0 and less than or equal to 21600.",
        ),
        ({"name": "x", "ownerId": str(uuid.uuid4())}, "ownerId: property should not exist"),
    ],
)
def test_create_room_validation(chat, body, message):
    status, error = chat().post("/rooms", json=body)
    assert status == 400 and message in error["message"]


def test_private_rooms_are_invisible_to_non_members(chat):
    owner, stranger = chat(), chat()
    room = owner.room(isPrivate=True)
    assert room["type"] == "PRIVATE" and room["isPrivate"] is True
    for call in (
        lambda: stranger.get(f"/rooms/{room['id']}"),
        lambda: stranger.post(f"/rooms/{room['id']}/join"),
        lambda: stranger.get(f"/rooms/{room['id']}/messages"),
        lambda: stranger.post(f"/rooms/{room['id']}/messages", json={"text": "hi"}),
        lambda: stranger.get(f"/rooms/{room['id']}/members"),
    ):
        status, body = call()
        assert status == 404, body
    assert stranger.get("/rooms?scope=discover")[1] == []


def test_join_is_idempotent_and_counts_members(chat):
    owner, fan = chat(), chat()
    room = owner.room()
    for _ in range(2):
        status, body = fan.post(f"/rooms/{room['id']}/join")
        assert (status, body) == (200, {"message": "Successfully joined room"})
    _, seen = fan.get(f"/rooms/{room['id']}")
    assert seen["memberCount"] == 2 and seen["myRole"] == "MEMBER"


def test_a_non_member_of_a_public_room_must_join_before_posting(chat):
    owner, fan = chat(), chat()
    room = owner.room()
    status, body = fan.post(f"/rooms/{room['id']}/messages", json={"text": "hi"})
    assert status == 403 and body["message"] == ["Join the room first"]
    _, seen = fan.get(f"/rooms/{room['id']}")
    assert seen["myRole"] is None and seen["unreadCount"] == 0


def test_private_rooms_get_members_from_moderators(chat):
    owner, friend, outsider = chat(), chat(), chat()
    room = owner.room(isPrivate=True)
    status, membership = owner.post(f"/rooms/{room['id']}/members", json={"userId": friend.user.id})
    assert status == 201 and membership["role"] == "MEMBER" and membership["user"]["id"] == friend.user.id
    assert friend.get(f"/rooms/{room['id']}")[0] == 200
    status, _ = friend.post(f"/rooms/{room['id']}/members", json={"userId": outsider.user.id})
    assert status == 403


def test_room_lists_joined_by_activity_and_discover_by_members(chat):
    alice, bob, carol = chat(), chat(), chat()
    quiet = alice.room(name="Quiet")
    busy = alice.room(name="Busy")
    alice.send(quiet["id"], "latest activity here")
    bob.post(f"/rooms/{busy['id']}/join")
    carol.post(f"/rooms/{busy['id']}/join")
    _, joined = alice.get("/rooms")
    assert [r["name"] for r in joined] == ["Quiet", "Busy"]
    _, discover = carol.get("/rooms?scope=discover")
    assert [r["name"] for r in discover] == ["Busy", "Quiet"]
    _, found = carol.get("/rooms?scope=discover&q=bus")
    assert [r["name"] for r in found] == ["Busy"]


def test_room_lists_page_with_cursor_and_link(client, chat):
    owner = chat()
    for n in range(5):
        owner.room(name=f"Room {n}")
    response = client.get("/api/v1/chat/rooms?scope=joined&limit=2", headers=owner.user.headers)
    first = response.get_json()
    assert len(first) == 2
    cursor = response.headers["X-Next-Cursor"]
    assert cursor == first[-1]["id"]
    assert f"cursor={cursor}" in response.headers["Link"] and 'rel="next"' in response.headers["Link"]
    seen = [r["id"] for r in first]
    while cursor:
        response = client.get(f"/api/v1/chat/rooms?limit=2&cursor={cursor}", headers=owner.user.headers)
        seen += [r["id"] for r in response.get_json()]
        cursor = response.headers.get("X-Next-Cursor")
    assert len(seen) == len(set(seen)) == 5
    assert "Link" not in response.headers


def test_bad_list_queries_are_400(chat):
    user = chat()
    for query in ("limit=0", "limit=101", "scope=everything", "cursor=not-a-room", "sort=name"):
        status, body = user.get(f"/rooms?{query}")
        assert status == 400, query


def test_update_and_delete_follow_roles(chat):
    owner, member = chat(), chat()
    room = owner.room()
    member.post(f"/rooms/{room['id']}/join")
    assert member.patch(f"/rooms/{room['id']}", json={"name": "Mine"})[0] == 403
    status, body = owner.patch(f"/rooms/{room['id']}", json={"name": "Renamed", "slowModeSeconds": 30})
    assert status == 200 and body["name"] == "Renamed" and body["slowModeSeconds"] == 30
    assert member.delete(f"/rooms/{room['id']}")[0] == 403
    assert owner.delete(f"/rooms/{room['id']}")[0] == 204
    assert owner.get(f"/rooms/{room['id']}")[0] == 404


def test_leaving_owner_hands_over_to_the_longest_standing_moderator(chat):
    owner, early, moderator = chat(), chat(), chat()
    room = owner.room()
    early.post(f"/rooms/{room['id']}/join")
    moderator.post(f"/rooms/{room['id']}/join")
    owner.patch(f"/rooms/{room['id']}/members/{moderator.user.id}", json={"role": "MODERATOR"})
    assert owner.post(f"/rooms/{room['id']}/leave") == (200, {"message": "Successfully left room"})
    assert moderator.get(f"/rooms/{room['id']}")[1]["myRole"] == "OWNER"
    assert early.get(f"/rooms/{room['id']}")[1]["memberCount"] == 2


def test_members_list_roles_and_online_flag(chat):
    owner, fan = chat(), chat()
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    status, members = fan.get(f"/rooms/{room['id']}/members")
    assert status == 200
    assert [(m["user"]["id"], m["role"]) for m in members] == [(owner.user.id, "OWNER"), (fan.user.id, "MEMBER")]
    assert all(m["online"] is False and "email" not in m["user"] for m in members)


def test_only_the_owner_changes_roles_and_nobody_kicks_the_owner(chat):
    owner, moderator, member = chat(), chat(), chat()
    room = owner.room()
    for u in (moderator, member):
        u.post(f"/rooms/{room['id']}/join")
    assert owner.patch(f"/rooms/{room['id']}/members/{moderator.user.id}", json={"role": "MODERATOR"})[0] == 200
    assert moderator.patch(f"/rooms/{room['id']}/members/{member.user.id}", json={"role": "MODERATOR"})[0] == 403
    assert owner.patch(f"/rooms/{room['id']}/members/{member.user.id}", json={"role": "OWNER"})[0] == 400
    assert moderator.delete(f"/rooms/{room['id']}/members/{owner.user.id}")[0] == 403
    assert member.delete(f"/rooms/{room['id']}/members/{moderator.user.id}")[0] == 403
    assert moderator.delete(f"/rooms/{room['id']}/members/{member.user.id}")[0] == 204
    assert member.get(f"/rooms/{room['id']}")[1]["myRole"] is None


def test_direct_conversations_are_get_or_create(chat):
    alice, bob = chat(), chat()
    status, room = alice.post("/direct", json={"userId": bob.user.id})
    assert status == 201 and room["type"] == "DIRECT" and room["memberCount"] == 2 and room["isPrivate"] is True
    status, again = bob.post("/direct", json={"userId": alice.user.id})
    assert status == 200 and again["id"] == room["id"]
    assert alice.post("/direct", json={"userId": alice.user.id})[0] == 400
    assert alice.post("/direct", json={"userId": str(uuid.uuid4())})[0] == 404
    assert chat().get(f"/rooms/{room['id']}")[0] == 404


def test_leaving_a_direct_conversation_hides_it_until_it_is_used_again(chat):
    alice, bob = chat(), chat()
    room = alice.post("/direct", json={"userId": bob.user.id})[1]
    assert alice.post(f"/rooms/{room['id']}/leave")[0] == 200
    assert room["id"] not in [r["id"] for r in alice.get("/rooms")[1]]
    assert alice.get(f"/rooms/{room['id']}")[0] == 404
    status, again = alice.post("/direct", json={"userId": bob.user.id})
    assert status == 200 and again["id"] == room["id"] and again["myRole"] == "MEMBER" and again["memberCount"] == 2
    assert alice.send(room["id"], "I'm back")["text"] == "I'm back"

    assert bob.post(f"/rooms/{room['id']}/leave")[0] == 200
    assert room["id"] not in [r["id"] for r in bob.get("/rooms")[1]]
    alice.send(room["id"], "are you there?")
    rooms = {r["id"]: r for r in bob.get("/rooms")[1]}
    assert rooms[room["id"]]["myRole"] == "MEMBER" and rooms[room["id"]]["unreadCount"] == 1
    assert [m["text"] for m in bob.get(f"/rooms/{room['id']}/messages")[1]][:1] == ["are you there?"]


def test_read_marker_only_moves_forward(chat):
    owner, fan = chat(), chat()
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    first, second, third = (owner.send(room["id"], t) for t in ("one", "two", "three"))
    assert fan.get(f"/rooms/{room['id']}")[1]["unreadCount"] == 3
    assert fan.put(f"/rooms/{room['id']}/read", json={"messageId": second["id"]})[0] == 204
    assert fan.get(f"/rooms/{room['id']}")[1]["unreadCount"] == 1
    assert fan.put(f"/rooms/{room['id']}/read", json={"messageId": first["id"]})[0] == 204
    assert fan.get(f"/rooms/{room['id']}")[1]["unreadCount"] == 1
    assert owner.get(f"/rooms/{room['id']}")[1]["unreadCount"] == 0  # own messages are read
    assert fan.put(f"/rooms/{room['id']}/read", json={"messageId": str(uuid.uuid4())})[0] == 404
