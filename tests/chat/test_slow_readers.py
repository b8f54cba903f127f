"""A reader that stops reading: its frames stay whole, and past the queue limit it is cut off."""

import json
import socket
import time

import pytest
import requests
import socketio
import websocket

from tests.helpers.servers import gunicorn_server, signup, wait_until

pytestmark = pytest.mark.services
QUEUE_LIMIT = 256 * 1024  # without a limit the stalled reader stays connected and is fed all 1,500


class StalledReader:
    """A Socket.IO client over a raw websocket with a tiny receive buffer, which reads only
    when told to: the server's writes to it back up as they do for a phone in a tunnel."""

    def __init__(self, base, token, room_id):
        url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url, timeout=10, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
        assert self.ws.recv().startswith("0")  # engine.io open
        self.ws.send("40/chat," + json.dumps({"token": token}))
        assert self.ws.recv().startswith("40/chat,")
        self.ws.send(f'42/chat,1["join_room","{room_id}"]')
        while not (frame := self.ws.recv()).startswith("43/chat,1"):
            pass
        assert json.loads(frame[len("43/chat,1") :])[0]["ok"]

    def drain(self, seconds):
        """Read everything that arrives for `seconds`; every frame must parse (none corrupt)."""
        frames, closed = [], False
        deadline = time.monotonic() + seconds
        self.ws.settimeout(1)
        while time.monotonic() < deadline:
            try:
                frame = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketConnectionClosedException, ConnectionError):
                closed = True
                break
            if frame == "":
                closed = True
                break
            frames.append(frame)
        return frames, closed


def test_a_reader_that_stops_reading_is_disconnected_at_the_queue_limit_with_every_frame_whole(
    postgres_url, postgres_engine
):
    from tests.helpers.settings import truncate_all

    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": postgres_url,
        "LOG_LEVEL": "ERROR",
        "SOCKET_MAX_QUEUED_BYTES": str(QUEUE_LIMIT),
        "RATE_LIMIT_MESSAGES": "100000 per 10 seconds",
        "RATE_LIMIT_SOCKET_EVENTS_PER_SECOND": "100000",
        "RATE_LIMIT_SOCKET_EVENTS_USER": "100000/second",
        "RATE_LIMIT_DEFAULT": "100000/minute",
        "RATE_LIMIT_SIGNUP": "100000/hour",
    }
    with gunicorn_server(env) as base:
        owner, reader_token, watcher_token = signup(base)[0], signup(base)[0], signup(base)[0]
        headers = {"Authorization": f"Bearer {owner}"}
        room = requests.post(f"{base}/api/v1/chat/rooms", json={"name": "Flood"}, headers=headers, timeout=10).json()
        for token in (reader_token, watcher_token):
            requests.post(
                f"{base}/api/v1/chat/rooms/{room['id']}/join", headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
        stalled = StalledReader(base, reader_token, room["id"])
        seen = []
        watcher = socketio.Client(reconnection=False)
        watcher.on("message_created", lambda m: seen.append(m["seq"]), namespace="/chat")
        watcher.connect(base, namespaces=["/chat"], auth={"token": watcher_token}, transports=["websocket"])
        watcher.call("join_room", room["id"], namespace="/chat", timeout=5)
        sender = socketio.Client(reconnection=False)
        sender.connect(base, namespaces=["/chat"], auth={"token": owner}, transports=["websocket"])
        sender.call("join_room", room["id"], namespace="/chat", timeout=5)
        text = "x" * 3000
        sent = 0
        for _ in range(1500):
            ack = sender.call("send_message", {"roomId": room["id"], "text": text}, namespace="/chat", timeout=10)
            assert ack["ok"], ack
            sent += 1
        frames, closed = stalled.drain(20)
        assert closed, f"still connected after {len(frames)} frames"
        for frame in frames:  # every frame that did arrive is a whole Socket.IO packet
            assert frame in ("2",) or frame.startswith(("42/chat,", "43/chat,")), frame[:80]
            if frame.startswith("42/chat,"):
                json.loads(frame[len("42/chat,") :])
        assert len(frames) < sent  # it was cut off, not fed everything
        assert wait_until(lambda: len(seen) == sent, timeout=20), (len(seen), sent)  # others got it all
        watcher.disconnect()
        sender.disconnect()
    truncate_all(postgres_engine)
