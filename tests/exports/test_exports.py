"""Taking my data with me (API.md §12): a zip of JSON in the API's own shapes, one a day, for
24 hours; and what is never in it."""

import io
import json
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pyotp
import time_machine

from seda.auth.tokens import issue_access_token
from seda.common.db import utcnow
from seda.common.tasks import wait_for_in_process_tasks
from seda.exports import services
from seda.exports.models import DataExport, ExportStatus
from seda.extensions import db
from tests.helpers.chat import events
from tests.helpers.fixtures import TestUser
from tests.helpers.mail import mails_to

FILES = [
    "profile.json",
    "messages.json",
    "rooms.json",
    "reactions.json",
    "notifications.json",
    "blocks.json",
    "devices.json",
    "verification-requests.json",
    "queue-items.json",
    "invitations.json",
    "push-subscriptions.json",
]


def exported(client, user, export_id):
    response = client.get(f"/api/v1/users/me/exports/{export_id}/download", headers=user.headers)
    assert response.status_code == 200, response.get_json()
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    return response, {name: json.loads(archive.read(name)) for name in archive.namelist()}, archive


def signed_in_again(app, user):
    """`user` with a fresh access token (after a jump in time past the first one's expiry)."""
    return TestUser(user.id, user.email, issue_access_token(app.config["JWT_SECRET"], user.id), user.username)


def ask(client, user):
    response = client.post("/api/v1/users/me/exports", headers=user.headers)
    wait_for_in_process_tasks()
    return response.status_code, response.get_json()


def test_an_export_holds_my_data_in_the_apis_shapes_and_nothing_of_anyone_else(app, client, chat, users):
    me, friend = chat(), chat()
    room = me.room("Mine")["id"]
    friend.post(f"/rooms/{room}/join")
    mine = me.send(room, "my words")
    their = friend.send(room, f"hi @{me.user.username}")
    me.post(f"/messages/{their['id']}/reactions", json={"emoji": "🔥"})
    left = friend.room("Left later")["id"]
    me.post(f"/rooms/{left}/join")
    me.send(left, "said before leaving")
    me.post(f"/rooms/{left}/leave")
    status, direct = me.post("/direct", json={"userId": friend.user.id})
    friend.send(direct["id"], "a secret for you")
    invited = me.post(f"/rooms/{room}/invitations", json={"userId": users.make().id})[1]
    quiet = {"quietHours": {"start": "23:00", "end": "07:00"}, "timeZone": "Europe/Berlin"}
    client.patch("/api/v1/users/me/notification-settings", json=quiet, headers=me.user.headers)
    wait_for_in_process_tasks()  # its notification is made before the block, which would stop it
    client.post(f"/api/v1/users/{friend.user.id}/block", headers=me.user.headers)

    status, export = ask(client, me.user)
    assert status == 202 and export["status"] == "PENDING" and export["downloadUrl"] is None
    [ready] = client.get("/api/v1/users/me/exports", headers=me.user.headers).get_json()
    assert ready["status"] == "READY" and ready["sizeBytes"] > 0
    assert ready["downloadUrl"] == f"/api/v1/users/me/exports/{export['id']}/download"
    response, files, archive = exported(client, me.user, export["id"])
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == f'attachment; filename="seda-export-{utcnow():%Y-%m-%d}.zip"'
    assert files["manifest.json"]["format"] == "seda-export/1" and files["manifest.json"]["files"] == FILES
    assert files["profile.json"]["email"] == me.user.email
    assert files["profile.json"]["notificationSettings"]["quietHours"] == quiet["quietHours"]
    assert [(i["id"], i["status"]) for i in files["invitations.json"]] == [(invited["id"], "PENDING")]
    texts = [m["text"] for m in files["messages.json"]]
    assert texts == ["my words", "said before leaving"]  # oldest first, rooms I left too; none of theirs
    assert files["messages.json"][0]["id"] == mine["id"] and files["messages.json"][0]["roomName"] == "Mine"
    assert [r["roomId"] for r in files["rooms.json"]] == [room, direct["id"]]
    assert [r["emoji"] for r in files["reactions.json"]] == ["🔥"]
    assert files["reactions.json"][0]["messageId"] == their["id"]
    assert [n["type"] for n in files["notifications.json"]] == ["DIRECT_MESSAGE", "MENTION"]
    assert [b["id"] for b in files["blocks.json"]] == [friend.user.id]
    raw = b"".join(archive.read(name) for name in archive.namelist()).decode()
    assert friend.user.email not in raw and "a secret for you" not in raw and "hi @" not in raw
    for never in ("$argon2", "password", "secret", "token", "recovery"):
        assert never not in raw.lower(), never


def test_one_export_a_day_and_a_failed_one_does_not_count(app, client, users, monkeypatch):
    me = users.make()
    assert ask(client, me)[0] == 202
    response = client.post("/api/v1/users/me/exports", headers=me.headers)
    assert (response.status_code, response.get_json()["message"]) == (429, ["One export per day"])
    assert 86_000 < int(response.headers["Retry-After"]) <= 86_400
    with time_machine.travel(utcnow() + timedelta(hours=24, seconds=1), tick=False):
        assert ask(client, signed_in_again(app, me))[0] == 202


def test_a_failed_export_does_not_count(app, client, users, monkeypatch):
    me = users.make()

    def broken(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(services.archive, "write", broken)
    status, export = ask(client, me)
    assert status == 202
    assert client.get(f"/api/v1/users/me/exports/{export['id']}", headers=me.headers).get_json()["status"] == "FAILED"
    monkeypatch.undo()
    assert ask(client, me)[0] == 202


def test_many_requests_at_once_make_one_export(app, users):
    me = users.make()
    with ThreadPoolExecutor(5) as pool:
        statuses = list(pool.map(lambda _: ask(app.test_client(), me)[0], range(5)))
    assert sorted(statuses) == [202, 429, 429, 429, 429]


def test_an_export_tells_my_sockets_and_mails_me_when_ready(app, client, users, socket_for):
    me = users.make()
    sock = socket_for(me)
    status, export = ask(client, me)
    [(name, [payload])] = events(sock, "export_updated")
    assert payload["export"]["id"] == export["id"] and payload["export"]["status"] == "READY"
    assert len(mails_to(app, me.email, "Your seda data export is ready")) == 1


def test_only_a_ready_export_of_mine_downloads_and_an_expired_one_is_gone(app, client, users):
    me, other = users.make(), users.make()
    status, export = ask(client, me)
    path = f"/api/v1/users/me/exports/{export['id']}"
    assert client.get(path, headers=other.headers).status_code == 404
    assert client.get(f"{path}/download", headers=other.headers).status_code == 404
    with app.app_context():
        pending = DataExport(user_id=uuid.UUID(other.id), status=ExportStatus.PENDING)
        db.session.add(pending)
        db.session.commit()
        pending_id = pending.id
    busy = client.get(f"/api/v1/users/me/exports/{pending_id}/download", headers=other.headers)
    assert (busy.status_code, busy.get_json()["message"]) == (409, ["Export is not ready"])
    with time_machine.travel(utcnow() + timedelta(hours=24, seconds=1), tick=False):
        later = signed_in_again(app, me)
        gone = client.get(f"{path}/download", headers=later.headers)
        assert (gone.status_code, gone.get_json()["message"]) == (410, ["Export expired"])
        with app.app_context():
            assert services.expire() == 1
        assert client.get(path, headers=later.headers).get_json()["status"] == "EXPIRED"


def test_secrets_of_two_factor_and_devices_are_never_exported(app, client):
    body = client.post("/api/v1/auth/signup", json={"email": "ada@example.com", "password": "long enough"}).get_json()
    headers = {"Authorization": f"Bearer {body['accessToken']}"}
    secret = client.post("/api/v1/auth/2fa/setup", headers=headers, json={"password": "long enough"}).get_json()
    codes = client.post(
        "/api/v1/auth/2fa/enable", headers=headers, json={"code": pyotp.TOTP(secret["secret"]).now()}
    ).get_json()["recoveryCodes"]
    assert client.post("/api/v1/users/me/exports", headers=headers).status_code == 202
    wait_for_in_process_tasks()
    [export] = client.get("/api/v1/users/me/exports", headers=headers).get_json()
    data = client.get(export["downloadUrl"], headers=headers).data
    archive = zipfile.ZipFile(io.BytesIO(data))
    raw = b"".join(archive.read(name) for name in archive.namelist()).decode()
    for never in (secret["secret"], body["accessToken"], body["refreshToken"], *codes, "$argon2"):
        assert never not in raw
    assert json.loads(archive.read("devices.json"))[0].keys() == {
        "id",
        "createdAt",
        "lastUsedAt",
        "userAgent",
        "ipAddress",
        "current",
    }


def test_a_ready_export_whose_file_is_gone_is_410_not_a_500(app, client, users):
    me = users.make()
    status, export = ask(client, me)
    Path(app.config["EXPORT_DIR"], f"{export['id']}.zip").unlink()  # swept, or another host's disk
    gone = client.get(f"/api/v1/users/me/exports/{export['id']}/download", headers=me.headers)
    assert (gone.status_code, gone.get_json()["message"]) == (410, ["Export expired"])
