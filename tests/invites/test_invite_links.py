"""Invite links (API.md §13): who may make them, what the preview shows anyone, and a use that
joins (private rooms too), counted once and never past maxUses."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import time_machine

from seda.users.models import Role
from tests.helpers.chat import TRACK, Chat, events, joined

INVALID = ["Invite is invalid or has expired"]


def make_invite(member, room, **body):
    return member.post(f"/rooms/{room['id']}/invites", json=body)


def preview(client, code, user=None):
    response = client.get(f"/api/v1/invites/{code}", headers=user.headers if user else {})
    return response.status_code, response.get_json()


def accept(client, code, user):
    response = client.post(f"/api/v1/invites/{code}/accept", headers=user.headers)
    return response.status_code, response.get_json()


def test_a_member_makes_a_link_anyone_can_preview_and_a_stranger_joins_by(app, client, chat, users, socket_for):
    owner = chat()
    room = owner.room(description="late night")
    status, invite = make_invite(owner, room, maxUses=2)
    assert status == 201, invite
    assert set(invite) == {"code", "url", "roomId", "createdBy", "createdAt", "expiresAt", "maxUses", "uses"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", invite["code"])
    assert invite["url"] == f"{app.config['PUBLIC_BASE_URL']}/invite/{invite['code']}"
    assert (invite["maxUses"], invite["uses"], invite["createdBy"]["id"]) == (2, 0, owner.user.id)
    created = datetime.fromisoformat(invite["createdAt"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(invite["expiresAt"].replace("Z", "+00:00")) - created == timedelta(days=1)

    status, shown = preview(client, invite["code"])  # no token at all
    assert status == 200 and "alreadyMember" not in shown
    assert shown["room"] == {
        "id": room["id"],
        "name": room["name"],
        "description": "late night",
        "isPrivate": False,
        "memberCount": 1,
        "online": 0,
    }
    assert shown["nowPlaying"] is None and shown["inviter"]["id"] == owner.user.id

    watcher = socket_for(owner.user)
    joined(watcher, room["id"])
    stranger = users.make()
    assert preview(client, invite["code"], stranger)[1]["alreadyMember"] is False
    status, body = accept(client, invite["code"], stranger)
    assert status == 200 and body["room"]["myRole"] == "MEMBER"
    assert ("user_joined", [room["id"], stranger.id]) in [(n, a[:2]) for n, a in events(watcher, "user_joined")]
    assert accept(client, invite["code"], stranger)[0] == 200  # already a member: no use counted
    assert preview(client, invite["code"], stranger)[1]["alreadyMember"] is True
    assert preview(client, invite["code"])[1]["uses"] == 1


def test_the_preview_shows_a_private_room_playing_and_nothing_more(app, client, chat, users):
    owner = chat()
    room = owner.room(isPrivate=True)
    owner.post(f"/rooms/{room['id']}/session")
    owner.post(f"/rooms/{room['id']}/session/queue", json={"trackRef": TRACK})
    code = make_invite(owner, room)[1]["code"]
    status, shown = preview(client, code)
    assert status == 200 and shown["room"]["isPrivate"] is True
    assert shown["nowPlaying"]["trackRef"]["providerId"] == TRACK["providerId"]
    outsider = Chat(client, users.make())
    assert outsider.get(f"/rooms/{room['id']}/messages")[0] == 404
    assert accept(client, code, outsider.user)[0] == 200
    assert outsider.get(f"/rooms/{room['id']}/messages")[0] == 200


def test_who_may_make_a_link(app, client, chat, users):
    owner, member, stranger = chat(), chat(), chat()
    public, private = owner.room(), owner.room(name="Private", isPrivate=True)
    member.post(f"/rooms/{public['id']}/join")
    assert make_invite(member, public)[0] == 201
    status, body = make_invite(stranger, public)
    assert (status, body["message"]) == (403, ["Join the room first"])
    owner.post(f"/rooms/{private['id']}/members", json={"userId": member.user.id})
    assert make_invite(member, private)[0] == 403  # a plain member of a private room
    assert make_invite(stranger, private)[0] == 404
    assert make_invite(Chat(client, users.make(role=Role.ADMIN)), private)[0] == 201
    status, direct = owner.post("/direct", json={"userId": member.user.id})
    status, body = make_invite(owner, direct)
    assert (status, body["message"]) == (403, ["Direct rooms cannot have invites"])
    assert make_invite(owner, public, maxUses=101)[0] == 400
    assert make_invite(owner, public, expiresInSeconds=604801)[0] == 400


def test_a_link_dies_when_revoked_expired_used_up_or_its_maker_may_no_longer_invite(app, client, chat, users):
    owner, member = chat(), chat()
    room = owner.room()
    member.post(f"/rooms/{room['id']}/join")
    revoked = make_invite(owner, room)[1]["code"]
    assert owner.delete(f"/rooms/{room['id']}/invites/{revoked}")[0] == 204
    status, body = preview(client, revoked)
    assert (status, body["message"]) == (404, INVALID)
    once = make_invite(owner, room, maxUses=1)[1]["code"]
    assert accept(client, once, users.make())[0] == 200
    status, body = accept(client, once, users.make())
    assert (status, body["message"]) == (404, INVALID)
    soon = make_invite(owner, room, expiresInSeconds=60)[1]["code"]
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=61)):
        assert preview(client, soon)[0] == 404
    members_link = make_invite(member, room)[1]["code"]
    member.post(f"/rooms/{room['id']}/leave")
    assert preview(client, members_link)[0] == 404  # its maker left the room
    never = make_invite(owner, room, expiresInSeconds=0)[1]
    assert never["expiresAt"] is None
    listed = owner.get(f"/rooms/{room['id']}/invites")[1]
    assert [invite["code"] for invite in listed] == [never["code"], soon]  # usable ones, newest first


def test_a_banned_member_cannot_use_a_link_and_uses_nothing(app, client, chat, users):
    owner, banned = chat(), chat()
    room = owner.room()
    banned.post(f"/rooms/{room['id']}/join")
    owner.post(f"/rooms/{room['id']}/bans", json={"userId": banned.user.id})
    code = make_invite(owner, room)[1]["code"]
    status, body = accept(client, code, banned.user)
    assert (status, body["message"]) == (403, ["You are banned from this room"])
    assert preview(client, code)[1]["uses"] == 0


def test_others_see_their_own_links_and_cannot_revoke_the_owners(app, client, chat):
    owner, member = chat(), chat()
    room = owner.room()
    member.post(f"/rooms/{room['id']}/join")
    owners = make_invite(owner, room)[1]["code"]
    mine = make_invite(member, room)[1]["code"]
    assert [i["code"] for i in member.get(f"/rooms/{room['id']}/invites")[1]] == [mine]
    assert {i["code"] for i in owner.get(f"/rooms/{room['id']}/invites")[1]} == {owners, mine}
    assert member.delete(f"/rooms/{room['id']}/invites/{owners}")[0] == 403
    assert owner.delete(f"/rooms/{room['id']}/invites/{mine}")[0] == 204


def test_the_last_use_goes_to_exactly_one_of_many_accepting_at_once(app, chat, users):
    owner = chat()
    room = owner.room()
    code = make_invite(owner, room, maxUses=1)[1]["code"]
    people = [users.make() for _ in range(6)]

    def use(person):
        return app.test_client().post(f"/api/v1/invites/{code}/accept", headers=person.headers).status_code

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(use, people)) == [200] + [404] * 5
    status, members = owner.get(f"/rooms/{room['id']}/members")
    assert len(members) == 2
