"""Deleting my account (API.md §12): gone at once everywhere (tokens, sockets, rooms, search),
"Deleted user" wherever I appeared, restorable until purgeAt, then erased by the sweep or an
admin, with my email and username free again."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from seda.accounts import deletion
from seda.auth.passwords import hash_password
from seda.common.audit import AdminAction
from seda.common.tasks import wait_for_in_process_tasks
from seda.extensions import db
from seda.users.models import Role, User
from seda.verification.models import VerificationRequest, VerificationStatus
from tests.helpers.chat import Chat, cut_within, events, joined
from tests.helpers.fixtures import PASSWORD, TestUser, bearer
from tests.helpers.mail import mails_to

DELETED_REF = {
    "username": None,
    "displayName": "Deleted user",
    "avatarUrl": None,
    "role": "USER",
    "artistProfile": None,
    "deleted": True,
}
SCHEDULED = "Your seda account will be deleted"
SUPABASE_SECRET = "supabase-legacy-jwt-secret-0123456789abcdef"


@pytest.fixture
def app(app_factory):
    return app_factory(RATE_LIMIT_LOGIN_ACCOUNT="1000/minute", RATE_LIMIT_LOGIN_IP="1000/minute")


def signup(client, email="ada@example.com", username=None):
    body = {"email": email, "password": PASSWORD, **({"username": username} if username else {})}
    response = client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def delete_me(client, token, password=PASSWORD, **extra):
    response = client.delete("/api/v1/users/me", json={"password": password, **extra}, headers=bearer(token))
    return response.status_code, response.get_json()


def restore(client, email="ada@example.com", password=PASSWORD, **extra):
    response = client.post("/api/v1/auth/account/restore", json={"email": email, "password": password, **extra})
    return response.status_code, response.get_json()


def login(client, email="ada@example.com", password=PASSWORD):
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return response.status_code, response.get_json()


def sweep(app, days=15):
    with time_machine.travel(datetime.now(UTC) + timedelta(days=days)):
        result = app.test_cli_runner().invoke(args=["seda", "sweep"])
    assert result.exit_code == 0, result.output
    return result.output


def as_user(session):
    user = session["user"]
    return TestUser(user["id"], user["email"], session["accessToken"], user["username"])


def test_deleting_answers_when_it_will_be_purged_and_signs_every_token_out(app, client):
    session = signup(client)
    status, body = delete_me(client, session["accessToken"])
    assert status == 202, body
    deleted_at, purge_at = (datetime.fromisoformat(body[k].replace("Z", "+00:00")) for k in ("deletedAt", "purgeAt"))
    assert purge_at - deleted_at == timedelta(days=14)
    assert client.get("/api/v1/users/me", headers=bearer(session["accessToken"])).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refreshToken": session["refreshToken"]})
    assert refreshed.status_code == 401
    [mail] = mails_to(app, "ada@example.com", SCHEDULED)
    assert purge_at.strftime("%Y-%m-%d at %H:%M") in mail.get_content()


def test_signing_in_to_a_deleted_account_says_so_only_to_its_password(app, client):
    session = signup(client, username="ada_lovelace")
    delete_me(client, session["accessToken"])
    status, body = login(client)
    assert (status, body["message"]) == (403, ["Account scheduled for deletion"])
    assert login(client, password="wrong password")[0] == 401
    taken = client.post("/api/v1/auth/signup", json={"email": "ada@example.com", "password": PASSWORD})
    assert taken.status_code == 409  # the email stays taken until the purge
    name = client.post(
        "/api/v1/auth/signup", json={"email": "bob@example.com", "password": PASSWORD, "username": "ada_lovelace"}
    )
    assert name.status_code == 409


def test_a_wrong_password_or_code_deletes_nothing(app, client):
    session = signup(client)
    status, body = delete_me(client, session["accessToken"], password="not it at all")
    assert (status, body["message"]) == (403, ["Incorrect password"])
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        token = session["accessToken"]
        setup = client.post("/api/v1/auth/2fa/setup", json={"password": PASSWORD}, headers=bearer(token)).get_json()
        totp = pyotp.TOTP(setup["secret"])
        enabled = client.post("/api/v1/auth/2fa/enable", json={"code": totp.now()}, headers=bearer(token))
        assert enabled.status_code == 200
        traveller.shift(timedelta(seconds=30))
        for code in ({}, {"code": "000000"}):
            status, body = delete_me(client, token, **code)
            assert (status, body["message"]) == (403, ["Invalid two-factor code"])
        assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
        status, _ = delete_me(client, token, code=totp.now())
    assert status == 202


def test_missing_password_is_a_validation_error(client):
    session = signup(client)
    response = client.delete("/api/v1/users/me", json={}, headers=bearer(session["accessToken"]))
    assert response.status_code == 400
    assert response.get_json()["message"] == ["password: Missing data for required field."]


def test_an_account_without_a_password_sets_one_first(app, client, users):
    user = users.make()
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == user.email).values(password_hash=None))
        db.session.commit()
    status, body = delete_me(client, user.token)
    assert (status, body["message"]) == (409, ["Set a password first"])


def test_the_last_super_admin_cannot_leave_but_one_of_two_can(app, client, users):
    first, second = users.make(role=Role.SUPER_ADMIN), users.make(role=Role.SUPER_ADMIN)
    assert delete_me(client, first.token)[0] == 202
    status, body = delete_me(client, second.token, password="wrong but state answers first")
    assert (status, body["message"]) == (409, ["The last super admin cannot be deleted"])


def test_a_banned_account_cannot_delete_itself(client, users):
    banned = users.make(banned=True)
    status, body = delete_me(client, banned.token)
    assert (status, body["message"]) == (403, ["Account suspended"])


def test_my_sockets_hear_signed_out_and_are_cut(app, client, socket_for):
    session = signup(client)
    sock = socket_for(None, token=session["accessToken"])
    assert sock.is_connected("/chat")
    delete_me(client, session["accessToken"])
    assert ("signed_out", [{"reason": "ACCOUNT_DELETED"}]) in events(sock, "signed_out")
    assert cut_within(sock)


def test_i_leave_every_room_and_ownership_passes_on(app, client, users, socket_for):
    me, member = Chat(client, users.make()), Chat(client, users.make())
    room = me.room()
    member.post(f"/rooms/{room['id']}/join")
    watcher = socket_for(member.user)
    joined(watcher, room["id"])
    me.send(room["id"], "my last words")
    delete_me(client, me.user.token)
    assert ("user_left", [room["id"], me.user.id]) in events(watcher, "user_left")
    status, members = member.get(f"/rooms/{room['id']}/members")
    assert status == 200 and [(m["user"]["id"], m["role"]) for m in members] == [(member.user.id, "OWNER")]
    status, page = member.get(f"/rooms/{room['id']}/messages")
    [message] = [m for m in page if m["text"] == "my last words"]
    assert message["userId"] == me.user.id and message["user"] == {"id": me.user.id, **DELETED_REF}


def test_a_direct_conversation_stays_readable_but_closed(app, client, users):
    me, friend = Chat(client, users.make()), Chat(client, users.make())
    status, room = me.post("/direct", json={"userId": friend.user.id})
    assert status in (200, 201), room
    me.send(room["id"], "bye")
    delete_me(client, me.user.token)
    status, seen = friend.get(f"/rooms/{room['id']}")
    assert status == 200 and seen["canSend"] is False
    status, body = friend.post(f"/rooms/{room['id']}/messages", json={"text": "are you there?"})
    assert (status, body["message"]) == (403, ["You cannot message this user"])
    assert friend.post("/direct", json={"userId": me.user.id})[0] == 404
    status, page = friend.get(f"/rooms/{room['id']}/messages")
    assert [m["user"]["displayName"] for m in page] == ["Deleted user"]


def test_nobody_finds_me_any_more(app, client, users):
    me, other = users.make(username="findme"), Chat(client, users.make())
    room = other.room()
    Chat(client, me).post(f"/rooms/{room['id']}/join")
    delete_me(client, me.token)
    headers = other.user.headers
    assert client.get(f"/api/v1/users/{me.id}", headers=headers).status_code == 404
    assert client.get("/api/v1/users/by-username/findme", headers=headers).status_code == 404
    assert client.get("/api/v1/users?q=findme", headers=headers).get_json() == []
    assert client.post(f"/api/v1/users/{me.id}/block", headers=headers).status_code == 404
    added = other.post(f"/rooms/{room['id']}/members", json={"userId": me.id})
    assert added[0] == 404  # nothing brings a deleted account back into a room
    message = other.send(room["id"], "hey @findme")
    assert message["mentions"] == []


def test_my_reactions_and_notifications_i_caused_read_deleted_user(app, client, users):
    me, friend = Chat(client, users.make()), Chat(client, users.make())
    room = friend.room()
    me.post(f"/rooms/{room['id']}/join")
    message = friend.send(room["id"], "a tune")
    me.post(f"/messages/{message['id']}/reactions", json={"emoji": "🔥"})
    me.send(room["id"], f"@{friend.user.username} nice", parentId=message["id"])
    wait_for_in_process_tasks()
    delete_me(client, me.user.token)
    inbox = client.get("/api/v1/notifications", headers=friend.user.headers).get_json()
    assert inbox and all(n["actor"] == {"id": me.user.id, **DELETED_REF} for n in inbox)
    status, page = friend.get(f"/rooms/{room['id']}/messages")
    reacted = next(m for m in page if m["id"] == message["id"])
    assert [r["userId"] for r in reacted["reactions"]] == [me.user.id]


def test_open_verification_requests_expire_and_unbuilt_exports_are_dropped(app, client, users):
    session = signup(client)
    token = session["accessToken"]
    with app.app_context():
        db.session.execute(sa.update(User).values(email_verified=True))
        db.session.commit()
    code = client.post("/api/v1/artist/verification/request", headers=bearer(token))
    assert code.status_code in (200, 201), code.get_json()
    delete_me(client, token)
    with app.app_context():
        statuses = db.session.scalars(sa.select(VerificationRequest.status)).all()
    assert statuses == [VerificationStatus.EXPIRED]
    assert mails_to(app, "ada@example.com", "Your seda data export is ready") == []


def test_restore_brings_the_account_back_without_its_rooms(app, client, users):
    session = signup(client, username="comeback")
    me = Chat(client, as_user(session))
    room = me.room()
    delete_me(client, session["accessToken"])
    assert restore(client, password="wrong password")[0] == 401
    assert restore(client, email="nobody@example.com")[0] == 401
    status, body = restore(client)
    assert status == 200, body
    assert set(body) == {"user", "accessToken", "refreshToken", "tokenType", "expiresIn"}
    assert body["user"]["username"] == "comeback" and body["user"]["deleted"] is False
    back = Chat(client, as_user(body))
    status, seen = back.get(f"/rooms/{room['id']}")
    assert status == 200 and seen["myRole"] is None  # the room stayed; my membership did not
    assert login(client)[0] == 200
    status, again = restore(client)
    assert (status, again["message"]) == (409, ["Account is not deleted"])


def test_restore_asks_a_two_factor_account_for_its_code(app, client):
    session = signup(client)
    token = session["accessToken"]
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        setup = client.post("/api/v1/auth/2fa/setup", json={"password": PASSWORD}, headers=bearer(token)).get_json()
        totp = pyotp.TOTP(setup["secret"])
        client.post("/api/v1/auth/2fa/enable", json={"code": totp.now()}, headers=bearer(token))
        traveller.shift(timedelta(seconds=30))
        assert delete_me(client, token, code=totp.now())[0] == 202
        traveller.shift(timedelta(seconds=30))
        status, body = restore(client)
        assert (status, body["message"]) == (401, ["Invalid two-factor code"])
        assert restore(client, code=totp.now())[0] == 200


def test_the_sweep_purges_after_purge_at_and_frees_email_and_username(app, client, users):
    session = signup(client, username="gone_soon")
    other = Chat(client, users.make())
    room = other.room()
    me = Chat(client, as_user(session))
    me.post(f"/rooms/{room['id']}/join")
    me.send(room["id"], "remember me")
    client.post(f"/api/v1/users/{other.user.id}/block", headers=bearer(session["accessToken"]))
    client.post("/api/v1/users/me/exports", headers=bearer(session["accessToken"]))
    wait_for_in_process_tasks()
    delete_me(client, session["accessToken"])
    assert "accounts_purged=0" in sweep(app, days=13)
    assert "accounts_purged=1" in sweep(app, days=15)
    assert restore(client)[0] == 401
    again = signup(client, username="gone_soon")  # the same email and username, free at once
    assert again["user"]["id"] != session["user"]["id"]
    status, page = other.get(f"/rooms/{room['id']}/messages")
    [kept] = [m for m in page if m["text"] == "remember me"]
    assert kept["userId"] == session["user"]["id"] and kept["user"]["deleted"] is True
    with app.app_context():
        purged = db.session.get(User, uuid.UUID(session["user"]["id"]))
        assert (purged.email, purged.username, purged.password_hash, purged.artist_profile) == (None, None, None, None)
        assert purged.purged_at is not None
    listed = client.get("/api/v1/admin/users", headers=users.make(role=Role.ADMIN).headers).get_json()
    assert session["user"]["id"] not in [u["id"] for u in listed]
    assert list(Path(app.config["EXPORT_DIR"]).glob("*.zip")) == []


def test_admins_see_a_deleted_account_until_they_purge_it(app, client, users):
    admin = users.make(role=Role.ADMIN)
    session = signup(client)
    status, body = delete_me(client, session["accessToken"])
    listed = client.get("/api/v1/admin/users?q=ada", headers=admin.headers).get_json()
    assert [(u["deleted"], u["deletedAt"], u["purgeAt"]) for u in listed] == [
        (True, body["deletedAt"], body["purgeAt"])
    ]
    user_id = session["user"]["id"]
    assert client.post(f"/api/v1/admin/users/{admin.id}/purge", headers=admin.headers).status_code == 409
    assert client.post(f"/api/v1/admin/users/{user_id}/purge", headers=admin.headers).status_code == 204
    assert client.post(f"/api/v1/admin/users/{user_id}/purge", headers=admin.headers).status_code == 404
    with app.app_context():
        actions = db.session.scalars(sa.select(AdminAction.action).where(AdminAction.target_id == user_id)).all()
    assert actions == ["user.purge"]
    assert client.get("/api/v1/admin/users?q=ada", headers=admin.headers).get_json() == []


def test_a_supabase_token_of_a_deleted_account_is_refused_until_the_purge(app_factory):
    app = app_factory(SUPABASE_URL="https://project.supabase.co", SUPABASE_JWT_SECRET=SUPABASE_SECRET)
    client = app.test_client()
    first = client.get("/api/v1/users/me", headers=bearer(supabase_token())).get_json()
    status, body = delete_me(client, supabase_token())
    assert (status, body["message"]) == (409, ["Set a password first"])
    with app.app_context():  # as a password reset would have set it
        db.session.get(User, uuid.UUID(first["id"])).password_hash = hash_password(PASSWORD)
        db.session.commit()
    assert delete_me(client, supabase_token())[0] == 202
    assert client.get("/api/v1/users/me", headers=bearer(supabase_token())).status_code == 401
    with app.app_context():
        assert deletion.purge(uuid.UUID(first["id"])) is True
    fresh = client.get("/api/v1/users/me", headers=bearer(supabase_token()))
    assert fresh.status_code == 200 and fresh.get_json()["id"] != first["id"]


def supabase_token():
    now = datetime.now(UTC)
    claims = {
        "iss": "https://project.supabase.co/auth/v1",
        "aud": "authenticated",
        "sub": "sb-user-7",
        "role": "authenticated",
        "email": "sb@example.com",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    return jwt.encode(claims, SUPABASE_SECRET, algorithm="HS256")
