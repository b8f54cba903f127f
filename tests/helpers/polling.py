"""A Socket.IO client over raw long-polling HTTP (Engine.IO 4), to send what the official clients
send when they coalesce queued emits into one POST, and more than they ever would."""

import json
import time

import requests

SEPARATOR = "\x1e"


class PollingClient:
    def __init__(self, base, namespace="/chat"):
        self.base, self.namespace = base, namespace
        self.http = requests.Session()
        opened = self.http.get(self._url(), timeout=5)
        assert opened.status_code == 200, opened.text
        self.sid = json.loads(opened.text[1:])["sid"]
        self.received = []

    def _url(self, sid=None):
        url = f"{self.base}/socket.io/?EIO=4&transport=polling"
        return url if sid is None else f"{url}&sid={sid}"

    def post(self, packets):
        """POST Engine.IO packets (Socket.IO packets as text) in one payload."""
        return self.http.post(self._url(self.sid), data=SEPARATOR.join(packets).encode(), timeout=15)

    def poll(self):
        """One long-polling GET: the packets it brings (text), or None when the server refused it."""
        response = self.http.get(self._url(self.sid), timeout=35)
        if response.status_code != 200:
            return None
        packets = response.text.split(SEPARATOR)
        self.received.extend(packets)
        return packets

    def connect(self, auth):
        assert self.post([f"40{self.namespace},{json.dumps(auth)}"]).status_code == 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for packet in self.poll() or ():
                if packet.startswith((f"40{self.namespace},", f"44{self.namespace},")):
                    return json.loads(packet.split(",", 1)[1])
        raise AssertionError("no answer to the namespace connect")

    def event(self, ack_id, name, payload):
        """The text of an EVENT packet asking for ack `ack_id`."""
        return f"42{self.namespace},{ack_id}{json.dumps([name, payload])}"

    def acks(self, count, timeout=20):
        """{ack id: ack payload} once `count` acks have arrived, in the order they arrived."""
        found, deadline = {}, time.monotonic() + timeout
        prefix = f"43{self.namespace},"
        for packet in self.received:
            if packet.startswith(prefix):
                _collect_ack(found, packet[len(prefix) :])
        while len(found) < count and time.monotonic() < deadline:
            for packet in self.poll() or ():
                if packet.startswith(prefix):
                    _collect_ack(found, packet[len(prefix) :])
        return found


def _collect_ack(found, text):
    digits = len(text) - len(text.lstrip("0123456789"))
    found[int(text[:digits])] = json.loads(text[digits:])[0]
