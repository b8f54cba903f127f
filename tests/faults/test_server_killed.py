"""A server process killed during sends: no acknowledged message is lost; its clients move to
the other process, resend what was not acknowledged and catch up with `after`."""

import os
import signal
import threading
import time
import uuid

import pytest
import requests
import sqlalchemy as sa

from tests.helpers.clients import connect
from tests.helpers.servers import gunicorn_server, signup, wait_until

pytestmark = pytest.mark.services
CLIENTS, PER_CLIENT = 6, 80


class Sender(threading.Thread):
    """Sends with acks; when its server dies it reconnects to the survivor and resends."""

    def __init__(self, bases, token, room_id, index):
        super().__init__(daemon=True)
        self.bases, self.token, self.room_id, self.index = bases, token, room_id, index
        self.client = connect(bases[0], token)
        self.client.call("join_room", room_id, namespace="/chat", timeout=5)
        self.acked, self.moved = {}, False

    def run(self):
        for n in range(PER_CLIENT):
            client_id = f"k{self.index}-{n}"
            while client_id not in self.acked:
                try:
                    ack = self.client.call(
                        "send_message",
                        {"roomId": self.room_id, "text": f"m{n}", "clientMessageId": client_id},
                        namespace="/chat",
                        timeout=3,
                    )
                    if ack.get("ok"):
                        self.acked[client_id] = ack["message"]["id"]
                except Exception:  # the server went away mid-call: move over and resend
                    self._move_to_survivor()
            time.sleep(0.05)

    def _move_to_survivor(self):
        try:
            self.client.disconnect()
        except Exception:
            pass
        self.client = connect(self.bases[1], self.token)
        self.client.call("join_room", self.room_id, namespace="/chat", timeout=5)
        self.moved = True


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_no_acknowledged_message_is_lost_when_a_server_dies(how, postgres_url, postgres_engine, redis_namespace):
    from tests.helpers.settings import truncate_all

    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": postgres_url,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "REDIS_NAMESPACE": f"{redis_namespace}-kill-{how.name}",
        "LOG_LEVEL": "ERROR",
        "GRACEFUL_TIMEOUT": "2",
        "RATE_LIMIT_DEFAULT": "100000/minute",
        "RATE_LIMIT_ANONYMOUS": "100000/minute",
        "RATE_LIMIT_SIGNUP": "100000/hour",
        "RATE_LIMIT_MESSAGES": "100000 per 10 seconds",
    }
    try:
        with gunicorn_server(env) as doomed, gunicorn_server(env) as survivor:
            owner = signup(survivor)[0]
            room = requests.post(
                f"{survivor}/api/v1/chat/rooms",
                json={"name": "Kill"},
                headers={"Authorization": f"Bearer {owner}"},
                timeout=10,
            ).json()
            tokens = [signup(survivor)[0] for _ in range(CLIENTS)]
            for token in tokens:
                requests.post(
                    f"{survivor}/api/v1/chat/rooms/{room['id']}/join",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                )
            senders = [Sender((doomed, survivor), token, room["id"], i) for i, token in enumerate(tokens)]
            for sender in senders:
                sender.start()
            assert wait_until(lambda: sum(len(s.acked) for s in senders) >= 60, timeout=60)
            os.killpg(doomed.process.pid, how)
            killed_at = time.monotonic()
            for sender in senders:
                sender.join(120)
            moved_within = time.monotonic() - killed_at
            # a client that saw message X catches up on the survivor with after=X
            first_ids = [s.acked[f"k{s.index}-0"] for s in senders]
            caught_up = requests.get(
                f"{survivor}/api/v1/chat/rooms/{room['id']}/messages",
                params={"after": first_ids[0], "limit": 100},
                headers={"Authorization": f"Bearer {owner}"},
                timeout=10,
            ).json()

        acked = {cid: mid for s in senders for cid, mid in s.acked.items()}
        with postgres_engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT client_message_id, id, seq FROM messages WHERE room_id = :r ORDER BY seq"),
                {"r": uuid.UUID(room["id"])},
            ).all()
        stored = {cid: str(mid) for cid, mid, _seq in rows}
        print(
            f"\n{how.name}: {len(acked)} acked, all {CLIENTS} clients moved: "
            f"{all(s.moved for s in senders)}, done {moved_within:.1f} s after the kill"
        )
        assert len(acked) == CLIENTS * PER_CLIENT
        assert all(stored.get(cid) == mid for cid, mid in acked.items())
        assert len(rows) == len(acked)  # no duplicates from the resends
        assert [seq for _c, _m, seq in rows] == list(range(1, len(rows) + 1))
        first_seq = next(seq for cid, mid, seq in rows if str(mid) == first_ids[0])
        assert [m["seq"] for m in caught_up] == list(range(first_seq + 1, min(first_seq + 100, len(rows)) + 1))
        assert all(s.moved for s in senders)
    finally:
        truncate_all(postgres_engine)
