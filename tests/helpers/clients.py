"""Real clients of real server processes: the REST API over HTTP, and python-socketio sockets."""

import threading
import uuid

import requests
import socketio


class Api:
    def __init__(self, base, token=None, user=None):
        self.base, self.token, self.user = base, token, user

    def on(self, base):
        return Api(base, self.token, self.user)

    def call(self, method, path, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = requests.request(method, f"{self.base}/api/v1{path}", headers=headers, timeout=10, **kwargs)
        return response

    @classmethod
    def signup(cls, base):
        body = requests.post(
            f"{base}/api/v1/auth/signup",
            json={"email": f"{uuid.uuid4().hex[:10]}@example.com", "password": "long enough"},
            timeout=10,
        ).json()
        return cls(base, body["accessToken"], body["user"])


class Listener:
    """A python-socketio client recording every event it receives."""

    EVENTS = (
        "message_created",
        "message_updated",
        "message_deleted",
        "user_joined",
        "user_left",
        "user_banned",
        "presence",
        "presence_count",
        "notification_created",
        "notifications_read",
        "signed_out",
        "error",
    )

    def __init__(self, base, token):
        self.received = []
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        for name in self.EVENTS:
            self.client.on(name, self._recorder(name), namespace="/chat")
        self.client.connect(
            base, namespaces=["/chat"], auth={"token": token}, transports=["websocket"], wait_timeout=10
        )

    def _recorder(self, name):
        def record(*args):
            with self.lock:
                self.received.append((name, list(args)))

        return record

    def call(self, event, payload):
        return self.client.call(event, payload, namespace="/chat", timeout=10)

    def messages(self, event="message_created"):
        with self.lock:
            return [args[0] for name, args in self.received if name == event]

    def close(self):
        self.client.disconnect()


def connect(base, token):
    """A python-socketio client on /chat over a websocket."""
    client = socketio.Client(reconnection=False)
    client.connect(base, namespaces=["/chat"], auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return client
