"""Redis stops for 5 s while clients on two processes send 1,000 messages.

Every acknowledged message must be stored exactly once, REST must keep answering, and
delivery across processes must resume within 10 s of Redis coming back.
"""

import threading
import time
import uuid

import pytest
import requests
import socketio
import sqlalchemy as sa

from tests.helpers.servers import RedisServer, gunicorn_server, signup, wait_until

pytestmark = pytest.mark.services
SENDERS, PER_SENDER = 20, 50


def headers(token):
    return {"Authorization": f"Bearer {token}"}


class Sender(threading.Thread):
    def __init__(self, base, token, room_id, index):
        super().__init__(daemon=True)
        self.client = socketio.Client(reconnection=False)
        self.client.connect(
            base, namespaces=["/chat"], auth={"token": token}, transports=["websocket"], wait_timeout=10
        )
        self.room_id, self.index = room_id, index
        self.acked = {}  # clientMessageId -> message id
        self.failures = []

    def run(self):
        for n in range(PER_SENDER):
            client_id = f"s{self.index}-m{n}"
            for _attempt in range(20):
                try:
                    ack = self.client.call(
                        "send_message",
                        {"roomId": self.room_id, "text": f"message {n}", "clientMessageId": client_id},
                        namespace="/chat",
                        timeout=5,
                    )
                except Exception as exc:  # a timeout: retry with the same clientMessageId
                    self.failures.append(repr(exc))
                    time.sleep(0.3)
                    continue
                if ack.get("ok"):
                    self.acked[client_id] = ack["message"]["id"]
                    break
                self.failures.append(ack["error"]["statusCode"])
                time.sleep(0.3)
            time.sleep(0.15)


def test_a_redis_outage_loses_no_acknowledged_message(postgres_url, postgres_engine, redis_namespace):
    from tests.helpers.settings import truncate_all

    redis_server = RedisServer().start()
    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_server.url,
        "REDIS_NAMESPACE": f"{redis_namespace}-outage",
        "LOG_LEVEL": "ERROR",
        "RATE_LIMIT_DEFAULT": "100000/minute",
        "RATE_LIMIT_ANONYMOUS": "100000/minute",
        "RATE_LIMIT_SIGNUP": "100000/hour",
        "RATE_LIMIT_MESSAGES": "100000 per 10 seconds",
    }
    try:
        with gunicorn_server(env) as first, gunicorn_server(env) as second:
            owner_token, _ = signup(first)
            room = requests.post(
                f"{first}/api/v1/chat/rooms", json={"name": "Outage"}, headers=headers(owner_token), timeout=10
            ).json()
            senders = []
            for index in range(SENDERS):
                base = (first, second)[index % 2]
                token, _ = signup(base)
                requests.post(f"{base}/api/v1/chat/rooms/{room['id']}/join", headers=headers(token), timeout=10)
                senders.append(Sender(base, token, room["id"], index))
            watcher_token, _ = signup(second)
            requests.post(f"{second}/api/v1/chat/rooms/{room['id']}/join", headers=headers(watcher_token), timeout=10)
            seen_on_second = set()
            watcher = socketio.Client(reconnection=False)
            watcher.on("message_created", lambda m: seen_on_second.add(m["text"]), namespace="/chat")
            watcher.connect(second, namespaces=["/chat"], auth={"token": watcher_token}, transports=["websocket"])
            watcher.call("join_room", room["id"], namespace="/chat", timeout=5)

            for sender in senders:
                sender.start()
            assert wait_until(lambda: sum(len(s.acked) for s in senders) >= 300, timeout=60)
            redis_server.stop()
            outage_started = time.monotonic()
            rest = []
            while time.monotonic() - outage_started < 5:
                for base in (first, second):
                    started = time.monotonic()
                    status = requests.get(
                        f"{base}/api/v1/chat/rooms/{room['id']}/messages?limit=5",
                        headers=headers(owner_token),
                        timeout=5,
                    ).status_code
                    rest.append((status, time.monotonic() - started))
                time.sleep(0.2)
            redis_server.start()
            back = time.monotonic()

            # delivery across processes resumes: a REST message on the first reaches the second
            recovered_after = None
            for attempt in range(40):
                probe = f"probe {attempt}"
                requests.post(
                    f"{first}/api/v1/chat/rooms/{room['id']}/messages",
                    json={"text": probe},
                    headers=headers(owner_token),
                    timeout=5,
                )
                if wait_until(lambda p=probe: p in seen_on_second, timeout=0.5):
                    recovered_after = time.monotonic() - back
                    break
            for sender in senders:
                sender.join(120)
            watcher.disconnect()
            for sender in senders:
                sender.client.disconnect()

        acked = {cid: mid for s in senders for cid, mid in s.acked.items()}
        with postgres_engine.connect() as conn:
            stored = dict(
                conn.execute(
                    sa.text(
                        "SELECT client_message_id, id FROM messages"
                        " WHERE room_id = :r AND client_message_id IS NOT NULL"
                    ),
                    {"r": uuid.UUID(room["id"])},
                ).all()
            )
        print(
            f"\nredis outage: {len(acked)} acked, {sum(len(s.failures) for s in senders)} send attempts failed "
            f"and were retried, REST statuses during outage {sorted({s for s, _ in rest})}, "
            f"slowest REST {max(t for _, t in rest) * 1000:.0f} ms, cross-process delivery back after "
            f"{recovered_after if recovered_after is None else round(recovered_after, 2)} s"
        )
        assert len(acked) == SENDERS * PER_SENDER
        assert all(str(stored[cid]) == mid for cid, mid in acked.items())  # each stored, exactly once
        assert len(stored) == len(acked)
        assert {status for status, _ in rest} == {200} and max(t for _, t in rest) < 2
        assert recovered_after is not None and recovered_after < 10
    finally:
        redis_server.stop()
        truncate_all(postgres_engine)


def test_during_a_redis_outage_the_sending_process_still_reaches_its_own_sockets(
    postgres_url, postgres_engine, redis_namespace
):
    from tests.helpers.settings import truncate_all

    redis_server = RedisServer().start()
    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_server.url,
        "REDIS_NAMESPACE": f"{redis_namespace}-local",
        "LOG_LEVEL": "ERROR",
    }
    try:
        with gunicorn_server(env) as base:
            owner_token, _ = signup(base)
            fan_token, _ = signup(base)
            room = requests.post(
                f"{base}/api/v1/chat/rooms", json={"name": "Local"}, headers=headers(owner_token), timeout=10
            ).json()
            requests.post(f"{base}/api/v1/chat/rooms/{room['id']}/join", headers=headers(fan_token), timeout=10)
            seen = []
            listener = socketio.Client(reconnection=False)
            listener.on("message_created", lambda m: seen.append(m["text"]), namespace="/chat")
            listener.connect(
                base, namespaces=["/chat"], auth={"token": fan_token}, transports=["websocket"], wait_timeout=10
            )
            assert listener.call("join_room", room["id"], namespace="/chat", timeout=5)["ok"]
            redis_server.stop()
            for n in range(3):
                sent = requests.post(
                    f"{base}/api/v1/chat/rooms/{room['id']}/messages",
                    json={"text": f"during the outage {n}"},
                    headers=headers(owner_token),
                    timeout=10,
                )
                assert sent.status_code == 201
            sender = socketio.Client(reconnection=False)
            sender.connect(
                base, namespaces=["/chat"], auth={"token": owner_token}, transports=["websocket"], wait_timeout=10
            )
            assert sender.call("join_room", room["id"], namespace="/chat", timeout=5)["ok"]
            payload = {"roomId": room["id"], "text": "by socket during the outage"}
            assert sender.call("send_message", payload, namespace="/chat", timeout=5)["ok"]
            assert wait_until(lambda: len(seen) == 4, timeout=10), seen
            listener.disconnect()
            sender.disconnect()
    finally:
        redis_server.stop()
        truncate_all(postgres_engine)
