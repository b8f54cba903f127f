import pytest

from seda.extensions import socketio


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


@pytest.fixture
def chat(client, users):
    """`chat()` → a Chat for a new user; `chat(user)` for an existing one."""

    def make(user=None, **kwargs):
        return Chat(client, user or users.make(**kwargs))

    return make


@pytest.fixture
def socket_for(app):
    clients = []

    def connect(user, token=None):
        sock = socketio.test_client(app, namespace="/chat", auth={"token": token or user.token})
        clients.append(sock)
        return sock

    yield connect
    for sock in clients:
        if sock.is_connected("/chat"):
            sock.disconnect("/chat")


def events(sock, name=None):
    received = sock.get_received("/chat")
    return [(e["name"], e["args"]) for e in received if name is None or e["name"] == name]
