"""Real clients over real sockets: two gunicorn processes sharing rooms through Redis."""

import json
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import socketio
import sqlalchemy as sa
import time_machine

from seda.auth.tokens import issue_access_token
from tests.helpers.clients import Api
from tests.helpers.origin import ORIGIN_IP
from tests.helpers.servers import celery_worker, gunicorn_server, wait_until

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[2]
JWT_SECRET = "multiprocess-secret-" + "z" * 32
ADMIN_KEY = "multiprocess-admin-key"


@pytest.fixture(scope="module")
def servers(postgres_url, postgres_engine, redis_namespace, origin_server, ca_file):
    from tests.helpers.settings import truncate_all

    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": postgres_url,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "REDIS_NAMESPACE": f"{redis_namespace}-mp",
        "JWT_SECRET": JWT_SECRET,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_DEFAULT": "100000/minute",
        "RATE_LIMIT_ANONYMOUS": "100000/minute",
        "RATE_LIMIT_SIGNUP": "100000/hour",
        "RATE_LIMIT_MESSAGES": "100000 per 10 seconds",
        "ADMIN_API_KEY": ADMIN_KEY,
        "ROOM_PRESENCE_EVENTS_MAX_MEMBERS": "2",  # rooms of 3 or more get presence_count
        "CRAWLER_ALLOWED_PRIVATE_NETWORKS": f"{ORIGIN_IP}/32",
        "CRAWLER_CA_BUNDLE": ca_file,
        "TRACKS_OEMBED_ENDPOINTS": json.dumps({"spotify": f"https://{ORIGIN_IP}:{origin_server.port}/oembed"}),
    }
    with gunicorn_server(env) as first, gunicorn_server(env) as second, celery_worker(env):
        yield first, second
    truncate_all(postgres_engine)


def test_a_message_sent_on_one_process_reaches_a_client_on_the_other(servers, listeners):
    first, second = servers
    alice, bob = Api.signup(first), Api.signup(second)
    room = alice.call("POST", "/chat/rooms", json={"name": "Cross"}).json()
    assert bob.call("POST", f"/chat/rooms/{room['id']}/join").status_code == 200
    on_first, on_second = listeners(first, alice.token), listeners(second, bob.token)
    assert on_first.call("join_room", room["id"])["ok"]
    assert on_second.call("join_room", room["id"])["ok"]

    by_rest = alice.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": "REST on first"}).json()
    ack = on_second.call("send_message", {"roomId": room["id"], "text": "socket on second"})
    assert ack["ok"] is True
    expected = {by_rest["id"], ack["message"]["id"]}
    for listener in (on_first, on_second):
        assert wait_until(lambda got=listener: {m["id"] for m in got.messages()} >= expected, timeout=10)


def test_a_client_that_reconnects_catches_up_exactly_the_missed_messages(servers, listeners):
    first, second = servers
    alice, bob = Api.signup(first), Api.signup(second)
    room = alice.call("POST", "/chat/rooms", json={"name": "Catch-up"}).json()
    bob.call("POST", f"/chat/rooms/{room['id']}/join")
    listener = listeners(second, bob.token)
    listener.call("join_room", room["id"])
    seen = alice.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": "seen"}).json()
    assert wait_until(lambda: [m["id"] for m in listener.messages()] == [seen["id"]])
    listener.close()
    missed = [
        alice.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": f"missed {n}"}).json() for n in range(5)
    ]
    again = listeners(first, bob.token)
    assert again.call("join_room", room["id"])["ok"]
    after = bob.on(first).call("GET", f"/chat/rooms/{room['id']}/messages", params={"after": seen["id"]}).json()
    assert [m["id"] for m in after] == [m["id"] for m in missed]
    new = alice.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": "live again"}).json()
    assert wait_until(lambda: new["id"] in [m["id"] for m in again.messages()])


def test_concurrent_senders_on_both_processes_get_gap_free_seq_and_every_answer_is_stored_once(
    servers, postgres_engine
):
    first, second = servers
    owner = Api.signup(first)
    rooms = [owner.call("POST", "/chat/rooms", json={"name": f"Race {n}"}).json()["id"] for n in range(2)]
    senders = [Api.signup(base) for base in (first, second) * 4]
    for sender in senders:
        for room_id in rooms:
            sender.call("POST", f"/chat/rooms/{room_id}/join")

    def send_many(index):
        sender = senders[index]
        answers = []
        for n in range(30):
            room_id = rooms[n % 2]
            response = sender.call("POST", f"/chat/rooms/{room_id}/messages", json={"text": f"{index}:{n}"})
            answers.append((response.status_code, room_id, response.json()))
        return answers

    def retry(_):  # one client retrying through both processes at once: the same clientMessageId
        body = {"text": "retried", "clientMessageId": "retry-1"}
        response = senders[0].on((first, second)[_ % 2]).call("POST", f"/chat/rooms/{rooms[0]}/messages", json=body)
        return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(len(senders) + 6) as pool:
        sent = pool.map(send_many, range(len(senders)))
        retried = list(pool.map(retry, range(6)))
        answers = [answer for batch in sent for answer in batch]
    assert [status for status, _, _ in answers] == [201] * 240
    assert sorted(status for status, _ in retried) == [200] * 5 + [201] and len({id_ for _, id_ in retried}) == 1
    with postgres_engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, room_id, seq, text FROM messages WHERE room_id IN :rooms").bindparams(
                sa.bindparam("rooms", expanding=True)
            ),
            {"rooms": [uuid.UUID(room_id) for room_id in rooms]},
        ).all()
    by_id = {str(row.id): row for row in rows}
    for room_id, expected in zip(rooms, (121, 120), strict=True):  # 120 + the retried one in the first
        assert sorted(row.seq for row in rows if str(row.room_id) == room_id) == list(range(1, expected + 1))
    assert len(by_id) == 241 and len({row.text for row in rows}) == 241
    for _, room_id, body in answers:  # each answer is its own row, in its own room, at its seq
        row = by_id[body["id"]]
        assert (str(row.room_id), row.seq, row.text) == (room_id, body["seq"], body["text"])


def test_a_room_ban_on_one_process_drops_the_sockets_held_by_the_other(servers, listeners):
    first, second = servers
    owner, fan = Api.signup(first), Api.signup(second)
    room = owner.call("POST", "/chat/rooms", json={"name": "Strict"}).json()
    fan.call("POST", f"/chat/rooms/{room['id']}/join")
    watcher, banned = listeners(first, owner.token), listeners(second, fan.token)
    watcher.call("join_room", room["id"]), banned.call("join_room", room["id"])
    assert owner.call("POST", f"/chat/rooms/{room['id']}/bans", json={"userId": fan.user["id"]}).status_code == 201
    assert wait_until(lambda: any(name == "user_banned" for name, _ in banned.received), timeout=10)
    later = owner.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": "not for you"}).json()
    assert wait_until(lambda: later["id"] in [m["id"] for m in watcher.messages()])
    assert later["id"] not in [m["id"] for m in banned.messages()]


def test_an_account_ban_on_one_process_disconnects_sockets_on_the_other(servers, listeners):
    first, second = servers
    target = Api.signup(second)
    on_second = listeners(second, target.token)
    assert on_second.client.connected
    response = requests.post(
        f"{first}/api/v1/admin/users/{target.user['id']}/ban",
        json={"reason": "spam"},
        headers={"X-Admin-Api-Key": ADMIN_KEY},
        timeout=10,
    )
    assert response.status_code == 200
    assert wait_until(lambda: not on_second.client.connected, timeout=10)
    assert target.call("GET", "/users/me").status_code == 403
    errors = []
    refused = socketio.Client(reconnection=False)
    refused.on("connect_error", lambda data: errors.append(data), namespace="/chat")
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(
            second, namespaces=["/chat"], auth={"token": target.token}, transports=["websocket"], wait_timeout=5
        )
    assert errors and errors[0]["message"] == "Account suspended"


def test_a_music_link_becomes_a_track_card_on_every_process(servers, listeners, origin):
    first, second = servers
    origin.expect_request("/oembed").respond_with_json({"title": "Across Processes", "author_name": "The Queue"})
    alice, bob = Api.signup(first), Api.signup(second)
    room = alice.call("POST", "/chat/rooms", json={"name": "Cards"}).json()
    bob.call("POST", f"/chat/rooms/{room['id']}/join")
    on_second = listeners(second, bob.token)
    on_second.call("join_room", room["id"])
    sent = alice.call(
        "POST",
        f"/chat/rooms/{room['id']}/messages",
        json={"text": "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT?si=x"},
    ).json()
    assert wait_until(lambda: on_second.messages("message_updated"), timeout=20)
    updated = on_second.messages("message_updated")[0]
    assert updated["id"] == sent["id"] and updated["type"] == "TRACK_CARD"
    assert updated["trackRef"]["title"] == "Across Processes" and updated["trackRef"]["artist"] == "The Queue"


def test_connect_errors_say_why(servers):
    first, _ = servers
    with time_machine.travel(datetime.now(UTC) - timedelta(hours=1)):
        expired = issue_access_token(JWT_SECRET, uuid.uuid4())
    for token, why in (("garbage", "Authentication failed"), (expired, "Token expired")):
        errors = []
        client = socketio.Client(reconnection=False)
        client.on("connect_error", lambda data, errors=errors: errors.append(data), namespace="/chat")
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(first, namespaces=["/chat"], auth={"token": token}, transports=["websocket"], wait_timeout=5)
        assert errors and errors[0]["message"] == why


def test_the_official_socket_io_js_client_connects_joins_sends_and_receives(servers):
    first, second = servers
    alice, bob = Api.signup(first), Api.signup(second)
    room = alice.call("POST", "/chat/rooms", json={"name": "JS"}).json()
    bob.call("POST", f"/chat/rooms/{room['id']}/join")
    script = ROOT / "tests" / "chat" / "js_client.js"
    node_modules = ROOT / "bench" / "node_modules"
    if not (node_modules / "socket.io-client").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=ROOT / "bench", check=True)
    proc = subprocess.Popen(
        ["node", str(script), first, alice.token, room["id"]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"NODE_PATH": str(node_modules), "PATH": "/usr/local/bin:/usr/bin:/bin"},
    )
    # the JS client prints "ready" once joined; then a message from the other process must reach it
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read()
    bob.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": "hello JS"})
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["ackOk"] is True and result["ackSeq"] == 1
    assert "hello JS" in result["received"] and "from JS" in result["received"]


@pytest.mark.parametrize("reserved", ["disconnect", "connect", "disconnecting", "connect_error"])
def test_a_client_event_with_a_reserved_name_is_refused_and_removal_still_works(servers, listeners, reserved):
    first, second = servers
    owner, fan = Api.signup(first), Api.signup(second)
    room = owner.call("POST", "/chat/rooms", json={"name": "Private", "isPrivate": True}).json()
    owner.call("POST", f"/chat/rooms/{room['id']}/members", json={"userId": fan.user["id"]})
    watcher, intruder = listeners(first, owner.token), listeners(second, fan.token)
    assert watcher.call("join_room", room["id"])["ok"] and intruder.call("join_room", room["id"])["ok"]
    ack = intruder.call(reserved, {})
    assert ack["ok"] is False and ack["error"]["statusCode"] == 400
    assert ack["error"]["message"] == [f"'{reserved}' is a reserved event name"]
    assert owner.call("POST", f"/chat/rooms/{room['id']}/bans", json={"userId": fan.user["id"]}).status_code == 201
    later = owner.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": "not for you"}).json()
    assert wait_until(lambda: later["id"] in [m["id"] for m in watcher.messages()])
    time.sleep(0.5)  # anything still on its way to the banned socket arrives by now
    assert later["id"] not in [m["id"] for m in intruder.messages()]


def test_an_event_over_64_kib_is_refused_with_413_and_the_connection_stays(servers, listeners):
    first, _ = servers
    alice = Api.signup(first)
    room = alice.call("POST", "/chat/rooms", json={"name": "Big"}).json()
    listener = listeners(first, alice.token)
    assert listener.call("join_room", room["id"])["ok"]
    ack = listener.call("send_message", {"roomId": room["id"], "text": "x" * (65 * 1024)})
    assert ack["ok"] is False and ack["error"]["statusCode"] == 413
    assert listener.client.connected
    assert listener.call("send_message", {"roomId": room["id"], "text": "still here"})["ok"] is True


def test_a_malformed_payload_over_a_real_socket_answers_an_error_event(servers, listeners):
    first, _ = servers
    listener = listeners(first, Api.signup(first).token)
    listener.client.eio.send('2/chat,["send_message", ' + "[" * 1000 + "]" * 1000 + "]")
    assert wait_until(lambda: [args for name, args in listener.received if name == "error"], timeout=10)
    error = next(args[0] for name, args in listener.received if name == "error")
    assert error["statusCode"] == 400 and error["message"] == ["Malformed event payload"]
    assert listener.client.connected


def test_a_large_room_counts_presence_across_processes(servers, listeners):
    first, second = servers
    people = [Api.signup(base) for base in (first, second, second)]
    room = people[0].call("POST", "/chat/rooms", json={"name": "Big room"}).json()
    for person in people[1:]:
        person.call("POST", f"/chat/rooms/{room['id']}/join")
    watcher = listeners(first, people[0].token)
    assert watcher.call("join_room", room["id"])["ok"]
    for person, base in zip(people[1:], (second, second), strict=True):
        assert listeners(base, person.token).call("join_room", room["id"])["ok"]

    def latest_count():
        counts = watcher.messages("presence_count")
        return counts[-1]["online"] if counts else None

    assert wait_until(lambda: latest_count() == 3, timeout=10)
    assert watcher.messages("presence") == []


def test_a_re_join_after_a_reconnect_announces_nothing(servers, listeners):
    first, second = servers
    owner, fan = Api.signup(first), Api.signup(second)
    room = owner.call("POST", "/chat/rooms", json={"name": "Quiet"}).json()
    watcher = listeners(first, owner.token)
    assert watcher.call("join_room", room["id"])["ok"]
    joiner = listeners(second, fan.token)
    assert joiner.call("join_room", room["id"])["ok"]  # the join that makes a member
    assert wait_until(lambda: watcher.messages("user_joined") == [room["id"]], timeout=10)
    joiner.close()
    again = listeners(first, fan.token)  # reconnected, to the other process this time
    assert again.call("join_room", room["id"])["ok"]
    marker = owner.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": "after the re-join"}).json()
    assert wait_until(lambda: marker["id"] in [m["id"] for m in watcher.messages()], timeout=10)
    assert watcher.messages("user_joined") == [room["id"]]  # still only the first


def test_notifications_reach_every_device_within_two_seconds_and_reads_sync(servers, listeners):
    first, second = servers
    alice, bob = Api.signup(first), Api.signup(second)
    room = alice.call("POST", "/chat/rooms", json={"name": "Inbox"}).json()
    bob.call("POST", f"/chat/rooms/{room['id']}/join")
    phone, laptop = listeners(first, bob.token), listeners(second, bob.token)
    mention = f"@{bob.user['username']}"
    alice.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": f"{mention} warm-up"})
    assert wait_until(lambda: laptop.messages("notification_created"), timeout=30)  # the worker is up

    sent_at = time.monotonic()
    sent = alice.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": f"{mention} look"}).json()
    for device in (phone, laptop):  # stored by the Celery worker, pushed through Redis
        assert wait_until(lambda d=device: len(d.messages("notification_created")) == 2, timeout=2)
    assert time.monotonic() - sent_at < 2
    notification = phone.messages("notification_created")[-1]
    assert (notification["type"], notification["messageId"]) == ("MENTION", sent["id"])
    assert laptop.messages("notification_created")[-1] == notification
    assert bob.on(first).call("GET", "/notifications").json()[0] == notification

    read = bob.on(second).call("POST", "/notifications/read", json={"ids": [notification["id"]]})
    assert read.json() == {"count": 1}
    assert wait_until(lambda: phone.messages("notifications_read") == [{"count": 1, "ids": [notification["id"]]}])


def test_a_member_who_joins_on_one_process_is_mentioned_on_the_other(servers):
    first, second = servers
    alice, bob = Api.signup(first), Api.signup(second)
    room = alice.call("POST", "/chat/rooms", json={"name": "Names"}).json()
    mention = f"@{bob.user['username']}"
    sent = alice.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": f"{mention} before"}).json()
    assert sent["mentions"] == []  # the first process keeps the room's names now
    assert bob.call("POST", f"/chat/rooms/{room['id']}/join").status_code == 200
    sent = alice.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": f"{mention} after"}).json()
    assert sent["mentions"] == [bob.user["id"]]


def test_a_senders_ack_never_waits_behind_the_rooms_broadcast(servers, listeners):
    first, _second = servers
    sender = Api.signup(first)
    room = sender.call("POST", "/chat/rooms", json={"name": "Ack first"}).json()
    sock = listeners(first, sender.token)
    assert sock.call("join_room", room["id"])["ok"]
    for n in range(20):
        acked = threading.Event()

        def record_ack(ack, done=acked):  # in the client's reader thread, in arrival order
            with sock.lock:
                sock.received.append(("ack", [ack["message"]["id"]]))
            done.set()

        payload = {"roomId": room["id"], "text": f"n{n}"}
        sock.client.emit("send_message", payload, namespace="/chat", callback=record_ack)
        assert acked.wait(10)
        time.sleep(0.06)  # under the 20 events a second a socket may send
    assert wait_until(lambda: len(sock.messages()) == 20)
    arrivals = [
        (name, args[0] if name == "ack" else args[0]["id"])
        for name, args in sock.received
        if name in ("ack", "message_created")
    ]
    for message_id in (m["id"] for m in sock.messages()):
        # the broadcast is published once the ack is on its way
        assert arrivals.index(("ack", message_id)) < arrivals.index(("message_created", message_id))


def test_automod_counts_repeats_across_processes(servers):
    first, second = servers
    owner, fan = Api.signup(first), Api.signup(first)
    room = owner.call("POST", "/chat/rooms", json={"name": "No spam"}).json()
    fan.call("POST", f"/chat/rooms/{room['id']}/join")
    rules = {"blockedWords": [], "linkPolicy": "ANY", "maxMentions": 0, "blockRepeats": True, "autoMuteAfter": 0}
    assert owner.call("PUT", f"/chat/rooms/{room['id']}/automod", json=rules).status_code == 200
    path = f"/chat/rooms/{room['id']}/messages"
    assert fan.call("POST", path, json={"text": "follow me"}).status_code == 201
    assert fan.on(second).call("POST", path, json={"text": "follow me"}).status_code == 201
    third = fan.call("POST", path, json={"text": "Follow me"})
    assert third.status_code == 422 and third.json()["message"] == ["Blocked by room rules: repeated message"]


def test_a_profile_or_role_change_on_one_process_reaches_a_socket_held_by_the_other(servers, listeners):
    first, second = servers
    author = Api.signup(second)
    room = author.call("POST", "/chat/rooms", json={"name": "Renames"}).json()
    on_second = listeners(second, author.token)
    assert on_second.call("join_room", room["id"])["ok"]
    before = on_second.call("send_message", {"roomId": room["id"], "text": "before"})["message"]["user"]
    history = f"/chat/rooms/{room['id']}/messages"
    kept_page = author.on(second).call("GET", history).json()  # now kept by the second process
    renamed = author.on(first).call("PATCH", "/users/me", json={"displayName": "Renamed On First"})
    assert renamed.status_code == 200
    promoted = requests.patch(
        f"{first}/api/v1/admin/users/{author.user['id']}",
        json={"role": "ARTIST"},
        headers={"X-Admin-Api-Key": ADMIN_KEY},
        timeout=10,
    )
    assert promoted.status_code == 200, promoted.text
    after = on_second.call("send_message", {"roomId": room["id"], "text": "after"})["message"]["user"]
    assert (before["displayName"], before["role"]) != ("Renamed On First", "ARTIST")
    assert (after["displayName"], after["role"]) == ("Renamed On First", "ARTIST")
    page = author.on(second).call("GET", history).json()
    assert kept_page[0]["user"]["displayName"] == before["displayName"]
    assert [m["user"]["displayName"] for m in page] == ["Renamed On First", "Renamed On First"]


def test_answers_kept_by_one_process_follow_changes_made_on_the_other(servers):
    """GET /users/me and a history page kept in front of Flask (common/kept_responses.py) on the
    second process show a rename, a new message and a departure made through the first."""
    first, second = servers
    owner, fan = Api.signup(first), Api.signup(first)
    room = owner.call("POST", "/chat/rooms", json={"name": "Kept elsewhere"}).json()
    fan.call("POST", f"/chat/rooms/{room['id']}/join")
    history = f"/chat/rooms/{room['id']}/messages?limit=5"
    owner.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": "one"})
    for _ in range(2):  # built, then kept and answered in front of Flask
        assert fan.on(second).call("GET", "/users/me").json()["displayName"] != "Renamed"
        assert [m["text"] for m in fan.on(second).call("GET", history).json()] == ["one"]

    assert fan.call("PATCH", "/users/me", json={"displayName": "Renamed"}).status_code == 200
    owner.call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": "two"})
    assert fan.on(second).call("GET", "/users/me").json()["displayName"] == "Renamed"
    assert [m["text"] for m in fan.on(second).call("GET", history).json()] == ["two", "one"]
    assert fan.on(second).call("GET", history).status_code == 200  # kept again
    assert fan.call("POST", f"/chat/rooms/{room['id']}/leave").status_code in (200, 204)
    assert fan.on(second).call("GET", history).status_code == 403


def test_a_mute_and_a_kick_on_one_process_reach_a_sender_kept_by_the_other(servers, listeners):
    """The second process keeps the fan's room, membership and mute between sends
    (chat/senders.py); what the owner changes through the first reaches its next send."""
    first, second = servers
    owner, fan = Api.signup(first), Api.signup(first)
    room = owner.call("POST", "/chat/rooms", json={"name": "Kept senders"}).json()
    fan.call("POST", f"/chat/rooms/{room['id']}/join")
    sock = listeners(second, fan.token)
    assert sock.call("join_room", room["id"])["ok"]

    def send(text):
        return sock.call("send_message", {"roomId": room["id"], "text": text})

    assert send("kept")["ok"] and send("still kept")["ok"]
    mute = {"userId": fan.user["id"], "durationSeconds": 60}
    assert owner.call("POST", f"/chat/rooms/{room['id']}/mutes", json=mute).status_code == 201
    assert send("muted")["error"]["statusCode"] == 403
    rest = fan.on(second).call("POST", f"/chat/rooms/{room['id']}/messages", json={"text": "muted too"})
    assert rest.status_code == 403
    assert owner.call("DELETE", f"/chat/rooms/{room['id']}/mutes/{fan.user['id']}").status_code in (200, 204)
    assert send("unmuted")["ok"]
    assert owner.call("DELETE", f"/chat/rooms/{room['id']}/members/{fan.user['id']}").status_code in (200, 204)
    assert send("kicked")["error"]["message"] == ["Join the room first"]
