"""Email digests (API.md §13): unread notifications mailed to whoever has been away, on their
terms, at most once per interval, each notification in one digest, with a one-click unsubscribe
that cannot be forged."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine

from seda.common.tasks import wait_for_in_process_tasks
from seda.notifications import digests
from tests.helpers.chat import Chat
from tests.helpers.mail import mails_to, outbox

DIGEST = "You have unread notifications on seda"


def mentioned(client, users, text="hey @{name}, listen"):
    """A guest mentioned once in a room they joined; (guest, room, mentioner)."""
    guest, friend = users.make(), Chat(client, users.make())
    room = friend.room(name="lofi beats")
    Chat(client, guest).post(f"/rooms/{room['id']}/join")
    friend.send(room["id"], text.format(name=guest.username))
    wait_for_in_process_tasks()
    return guest, room, friend


def check(app, minutes=16):
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=minutes)), app.app_context():
        sent = digests.send_due()
    wait_for_in_process_tasks()
    return sent


def test_an_away_member_gets_their_unread_mention_once(app, client, users):
    guest, room, friend = mentioned(client, users)
    assert check(app, minutes=5) == 0  # not yet EMAIL_DIGEST_DELAY_SECONDS old
    assert check(app) == 1
    [mail] = mails_to(app, guest.email, DIGEST)
    text = mail.get_content()
    assert f"User {friend.user.username.split('_')[1]} in lofi beats: hey @{guest.username}, listen" in text
    assert f"{app.config['PUBLIC_BASE_URL']}/rooms/{room['id']}?message=" in text
    token = mail["List-Unsubscribe"].split("token=")[1].rstrip(">")
    assert f"{app.config['PUBLIC_BASE_URL']}/unsubscribe?token={token}" in text
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    raw = next(p.read_bytes() for p in Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml") if b"lofi" in p.read_bytes())
    expected = f"List-Unsubscribe: <{app.config['PUBLIC_API_URL']}/api/v1/notifications/unsubscribe?token={token}>"
    assert expected.encode() in raw.splitlines()  # one line, never folded nor RFC 2047-encoded
    assert check(app, minutes=120) == 0  # each notification in one digest
    unread = client.get("/api/v1/notifications/unread-count", headers=guest.headers).get_json()
    assert unread == {"count": 1}  # mailed, not read


def test_nobody_gets_one_who_was_here_turned_them_off_or_is_asleep(app, client, users, socket_for):
    here, _, _ = mentioned(client, users)
    socket_for(here)
    recently, _, _ = mentioned(client, users)
    off, _, _ = mentioned(client, users)
    client.patch("/api/v1/users/me/notification-settings", json={"emailDigest": "OFF"}, headers=off.headers)
    asleep, _, _ = mentioned(client, users)
    night = {"quietHours": {"start": "00:00", "end": "23:59"}, "timeZone": "Pacific/Auckland"}
    client.patch("/api/v1/users/me/notification-settings", json=night, headers=asleep.headers)
    muted, _, _ = mentioned(client, users)
    body = {"types": {"MENTION": {"email": False}}}
    client.patch("/api/v1/users/me/notification-settings", json=body, headers=muted.headers)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=10)):
        sock = socket_for(recently)
        sock.disconnect("/chat")  # seen 10 minutes after the mention: 6 minutes before the check
    assert check(app) == 0
    assert [m["To"] for m in outbox(app) if m["Subject"] == DIGEST] == []


def test_an_hourly_digest_waits_an_hour_for_the_next(app, client, users):
    guest, room, friend = mentioned(client, users)
    assert check(app) == 1
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=10)):  # within the token's life
        friend.send(room["id"], f"@{guest.username} again")
        wait_for_in_process_tasks()
    assert check(app, minutes=40) == 0  # due, but the last digest is 24 minutes old
    assert check(app, minutes=80) == 1


def test_two_checks_at_once_send_one_digest(app, client, users):
    guest, _, _ = mentioned(client, users)

    def run(_):
        with app.app_context():
            return digests.send_due()

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=16)), ThreadPoolExecutor(3) as pool:
        assert sum(pool.map(run, range(3))) == 1


def test_one_click_unsubscribe_turns_digests_off_and_a_forged_token_is_refused(app, client, users):
    guest = users.make()
    with app.app_context():
        token = digests.unsubscribe_token(guest.id)
    one_click = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = client.post(
        f"/api/v1/notifications/unsubscribe?token={token}", data="List-Unsubscribe=One-Click", headers=one_click
    )
    assert (answer.status_code, answer.get_json()) == (200, {"message": "Unsubscribed"})
    settings = client.get("/api/v1/users/me/notification-settings", headers=guest.headers).get_json()
    assert settings["emailDigest"] == "OFF"
    assert client.post(f"/api/v1/notifications/unsubscribe?token={token}", json={}).status_code == 200
    assert client.post(f"/api/v1/notifications/unsubscribe?token={token}").status_code == 200
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    refused = client.post(f"/api/v1/notifications/unsubscribe?token={forged}")
    assert (refused.status_code, refused.get_json()["message"]) == (400, ["Invalid or expired token"])


def test_the_digest_command(app, client, users):
    mentioned(client, users)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=16)):
        result = app.test_cli_runner().invoke(args=["seda", "digest"])
    assert result.exit_code == 0 and result.output.strip() == "digests_sent=1"
