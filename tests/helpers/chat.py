"""Speaking the chat API and the /chat namespace in process, as one user at a time."""

import time

# A track card's TrackRef as a client sends it: a Spotify link seda recognises without a network call.
TRACK = {
    "provider": "spotify",
    "providerId": "4uLU6hMCjMI75M1A2tKUQC",
    "url": "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC",
    "title": "Song",
    "artist": "Band",
    "artwork": "https://i.scdn.co/image/x",
    "duration": 213,
}


class Chat:
    """Speaks the chat API as one user: `chat.post("/rooms", json=…)` → (status, body)."""

    def __init__(self, client, user):
        self.client, self.user = client, user

    def call(self, method, path, **kwargs):
        response = self.client.open(f"/api/v1/chat{path}", method=method, headers=self.user.headers, **kwargs)
        return response.status_code, response.get_json(silent=True)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)

    def patch(self, path, **kw):
        return self.call("PATCH", path, **kw)

    def put(self, path, **kw):
        return self.call("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def room(self, name="Late Night Jazz", **extra):
        status, body = self.post("/rooms", json={"name": name, **extra})
        assert status == 201, body
        return body

    def send(self, room_id, text="hello", **extra):
        status, body = self.post(f"/rooms/{room_id}/messages", json={"text": text, **extra})
        assert status in (200, 201), body
        return body


def events(sock, name=None):
    received = sock.get_received("/chat")
    return [(e["name"], e["args"]) for e in received if name is None or e["name"] == name]


def cut_within(sock, seconds=2.0):
    """Whether the server disconnects the test socket within `seconds`."""
    deadline = time.monotonic() + seconds
    while sock.is_connected("/chat") and time.monotonic() < deadline:
        time.sleep(0.05)
    return not sock.is_connected("/chat")


def joined(sock, room_id):
    ack = sock.emit("join_room", room_id, namespace="/chat", callback=True)
    assert ack["ok"] is True, ack
    return ack


def history(member, room, query="", etag=None):
    headers = dict(member.user.headers)
    if etag is not None:
        headers["If-None-Match"] = etag
    return member.client.get(f"/api/v1/chat/rooms/{room['id']}/messages{query}", headers=headers)
