"""What the third outside attack found on the wire (API.md §4), on real gunicorn processes and
real sockets, on both tiers: a cap on one user's sockets and events across their connections,
JSON-only payloads, polling batches handled in order and never dropped in silence, only `/chat`,
and no typing in a direct conversation either person blocks."""

import socket
import time

import pytest
import requests
import socketio

from tests.helpers.chat import joined
from tests.helpers.polling import PollingClient
from tests.helpers.queries import record_redis_commands
from tests.helpers.servers import gunicorn_server, signup, wait_until
from tests.helpers.tiers import services_only

LIFTED = {
    "RATE_LIMIT_DEFAULT": "100000/minute",
    "RATE_LIMIT_ANONYMOUS": "100000/minute",
    "RATE_LIMIT_SIGNUP": "100000/hour",
}


@pytest.fixture
def server(server_env):
    with gunicorn_server({**server_env, **LIFTED, "SOCKET_MAX_PER_USER": "3"}) as base:
        yield base


def api(base, token, method, path, **kwargs):
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, f"{base}/api/v1{path}", headers=headers, timeout=10, **kwargs)


def connect(base, token, namespace="/chat", transport="websocket"):
    """A connected client, or the connect_error's message (str)."""
    errors = []
    client = socketio.Client(reconnection=False)
    client.on("connect_error", lambda data: errors.append(data), namespace=namespace)
    try:
        client.connect(base, namespaces=[namespace], auth={"token": token}, transports=[transport], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return errors[0]["message"] if errors else "no answer"
    return client


def test_a_user_holds_at_most_socket_max_per_user_sockets(server):
    token, _ = signup(server)
    clients = [connect(server, token) for _ in range(3)]
    assert all(isinstance(client, socketio.Client) for client in clients)
    assert connect(server, token) == "Too many connections"
    other_token, _ = signup(server)
    assert isinstance(connect(server, other_token), socketio.Client)  # someone else's sockets count apart
    clients[0].disconnect()
    assert wait_until(lambda: isinstance(replacement := connect(server, token), socketio.Client) and replacement)


@services_only
def test_the_socket_cap_holds_across_processes(server_env):
    env = {**server_env, **LIFTED, "SOCKET_MAX_PER_USER": "2"}
    with gunicorn_server(env) as first, gunicorn_server(env) as second:
        token, _ = signup(first)
        assert isinstance(connect(first, token), socketio.Client)
        assert isinstance(connect(second, token), socketio.Client)
        assert connect(first, token) == "Too many connections"
        assert connect(second, token) == "Too many connections"


def test_a_users_events_share_one_budget_across_their_sockets(server_env):
    env = {**server_env, **LIFTED, "RATE_LIMIT_SOCKET_EVENTS_USER": "10/second"}
    with gunicorn_server(env) as base:
        token, _ = signup(base)
        first, second = connect(base, token), connect(base, token)
        outcomes = []
        started = time.monotonic()
        for index in range(16):  # 8 a socket: under the per-socket limit, over the user's
            client = (first, second)[index % 2]
            outcomes.append(client.call("ping", None, namespace="/chat", timeout=5))
        took = time.monotonic() - started
        refused = [ack for ack in outcomes if not ack["ok"]]
    if took < 1:  # all in one second's window (a slow machine may straddle two)
        assert len(refused) == 6
    assert refused and all(ack["error"]["statusCode"] == 429 for ack in refused)
    assert "across their connections" in refused[0]["error"]["message"][0]


def test_only_chat_accepts_connections(server):
    token, _ = signup(server)
    assert connect(server, token, namespace="/") == "Unknown namespace"
    assert connect(server, token, namespace="/admin") == "Unknown namespace"
    assert isinstance(connect(server, token), socketio.Client)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_binary_payload_is_refused_and_nothing_is_stored(server, transport):
    token, _ = signup(server)
    room = api(server, token, "POST", "/chat/rooms", json={"name": "Bytes"}).json()
    client = connect(server, token, transport=transport)
    assert client.call("join_room", room["id"], namespace="/chat", timeout=5)["ok"] is True
    ack = client.call("send_message", {"roomId": room["id"], "text": b"nul \x00 inside"}, namespace="/chat", timeout=5)
    assert ack["ok"] is False and ack["error"]["statusCode"] == 400
    assert ack["error"]["message"] == ["Binary payloads are not accepted"] and ack["error"]["path"] == "send_message"
    assert client.call("ping", None, namespace="/chat", timeout=5)["ok"] is True  # the connection stays
    assert api(server, token, "GET", f"/chat/rooms/{room['id']}/messages").json() == []


def test_a_polling_post_of_64_packets_is_handled_in_order_and_one_of_65_is_refused(server):
    token, _ = signup(server)
    room = api(server, token, "POST", "/chat/rooms", json={"name": "Batch"}).json()
    client = PollingClient(server)
    assert "sid" in client.connect({"token": token})
    # join and type in one POST, as socket.io-client sends emits queued while a POST is on its way
    batch = [client.event(0, "join_room", room["id"]), client.event(1, "typing_start", room["id"])]
    batch += [client.event(n, "mark_read", {"roomId": room["id"], "messageId": "nope"}) for n in range(2, 64)]
    assert client.post(batch).status_code == 200
    acks = client.acks(64)
    assert list(acks) == list(range(64))  # every one answered, in the order sent
    assert acks[0]["ok"] is True and acks[1]["ok"] is True  # typing after a join in the same POST
    # each answered as if it came alone: an unknown message (400), or past 20 events a second (429)
    assert {acks[n]["error"]["statusCode"] for n in range(2, 64)} == {400, 429}

    started = time.monotonic()
    refused = client.post([client.event(100 + n, "ping", None) for n in range(65)])
    assert time.monotonic() - started < 3  # the session is closed without waiting for its queue
    assert refused.status_code == 400
    assert refused.json()["message"] == ["A polling request may carry at most 64 packets"]
    assert client.poll() is None  # the session is gone: the client reconnects
    assert client.post([client.event(200, "ping", None)]).status_code == 400


def test_one_sockets_events_run_one_at_a_time_in_order(server):
    token, _ = signup(server)
    rooms = [api(server, token, "POST", "/chat/rooms", json={"name": f"R{n}"}).json() for n in range(5)]
    client = PollingClient(server)
    client.connect({"token": token})
    batch = []
    for n, room in enumerate(rooms):
        batch += [client.event(3 * n, "join_room", room["id"]), client.event(3 * n + 1, "typing_start", room["id"])]
        batch.append(client.event(3 * n + 2, "send_message", {"roomId": room["id"], "text": f"in order {n}"}))
    assert client.post(batch).status_code == 200
    acks = client.acks(len(batch))
    assert list(acks) == list(range(len(batch)))
    assert all(ack["ok"] for ack in acks.values()), [a for a in acks.values() if not a["ok"]]


def test_typing_in_a_direct_conversation_either_person_blocks_is_refused(server):
    (token, _), (other_token, other_id) = signup(server), signup(server)
    room = api(server, token, "POST", "/chat/direct", json={"userId": other_id}).json()
    client = connect(server, token)
    assert client.call("join_room", room["id"], namespace="/chat", timeout=5)["ok"] is True
    assert client.call("typing_start", room["id"], namespace="/chat", timeout=5)["ok"] is True
    assert api(server, other_token, "POST", f"/users/{_id_of(server, token)}/block").status_code in (200, 201, 204)
    ack = client.call("typing_start", room["id"], namespace="/chat", timeout=5)
    assert ack["ok"] is False and ack["error"]["statusCode"] == 403
    assert ack["error"]["message"] == ["You cannot message this user"]


def _id_of(base, token):
    return api(base, token, "GET", "/users/me").json()["id"]


def test_sends_kept_in_flight_on_one_socket_are_stored_and_answered_in_the_order_sent(server):
    """A send lets the socket's next event start once it is queued for its room's store, so
    sends in flight still leave together; their seq and their acks keep the order they came in."""
    token, _ = signup(server)
    room = api(server, token, "POST", "/chat/rooms", json={"name": "Flight"}).json()
    client = PollingClient(server)
    client.connect({"token": token})
    batch = [client.event(0, "join_room", room["id"])]  # and 9 sends: within the message limit
    batch += [client.event(n, "send_message", {"roomId": room["id"], "text": f"#{n}"}) for n in range(1, 10)]
    assert client.post(batch).status_code == 200
    acks = client.acks(len(batch))
    assert list(acks) == list(range(10))
    assert [(acks[n]["message"]["text"], acks[n]["message"]["seq"]) for n in range(1, 10)] == [
        (f"#{n}", n) for n in range(1, 10)
    ]
    stored = api(server, token, "GET", f"/chat/rooms/{room['id']}/messages").json()
    assert [m["text"] for m in reversed(stored)] == [f"#{n}" for n in range(1, 10)]


@services_only
def test_a_cheap_events_user_budget_and_user_are_one_redis_round_trip(app, chat, socket_for, monkeypatch):
    """The budget shared across processes costs no round trip of its own: the user's version
    is read in the script call that counts it."""
    owner = chat()
    room_id = owner.room()["id"]
    sock = socket_for(owner.user)
    joined(sock, room_id)
    commands = record_redis_commands(monkeypatch)
    for event, payload in (("typing_start", room_id), ("ping", None)):
        assert sock.emit(event, payload, namespace="/chat", callback=True)["ok"]
        assert commands[:1] == ["EVALSHA"] and "MGET" not in commands, (event, commands)
        commands.clear()


def test_a_polling_post_over_1_mib_is_refused_at_once_and_closes_its_session(server):
    """Neither read (a declared 2 MiB is never waited for) nor left hanging on engine.io's
    disconnect, which waits for the session's queue to drain."""
    token, _ = signup(server)
    client = PollingClient(server)
    client.connect({"token": token})
    host, port = server.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            f"POST /socket.io/?EIO=4&transport=polling&sid={client.sid} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {2 * 1024 * 1024}\r\n\r\n".encode()
        )
        answer = sock.recv(65536)
        while b"larger than" not in answer and time.monotonic() - started < 3:
            chunk = sock.recv(65536)  # the body may come in a segment of its own
            if not chunk:
                break
            answer += chunk
        answer = answer.decode("latin-1")
    assert time.monotonic() - started < 3
    assert answer.startswith("HTTP/1.1 413 ") and "Request body is larger than 1 MiB" in answer
    assert client.poll() is None  # the session is gone: the client reconnects
