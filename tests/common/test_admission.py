"""Admission control: a process does at most MAX_ACTIVE_REQUESTS requests and socket events at
once; the others wait their turn, and after ADMISSION_WAIT_SECONDS answer 503 `Server busy,
retry` (never a hang). Health answers while everything else waits."""

import threading
import time

import pytest

from seda.common.admission import ARRIVALS, BUSY, EVENTS, REST, admission, outside
from seda.common.errors import ServiceUnavailable
from seda.extensions import socketio
from tests.helpers.servers import wait_until


@pytest.fixture
def busy_app(app_factory):
    return app_factory(MAX_ACTIVE_REQUESTS="1", ADMISSION_WAIT_SECONDS="1")


class SlotHolder:
    """Holds the only slot of a lane from another thread until released."""

    def __init__(self, app, lane=REST):
        self.app, self.lane, self.taken, self.release = app, lane, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self):
        with self.app.app_context(), admission().admitted(self.lane):
            self.taken.set()
            self.release.wait(10)

    def __enter__(self):
        self.thread.start()
        assert self.taken.wait(5)
        return self

    def __exit__(self, *_exc):
        self.release.set()
        self.thread.join(5)


def test_a_request_that_waits_too_long_for_its_turn_gets_503_and_health_still_answers(busy_app, users):
    user = users.make()
    client = busy_app.test_client()
    with SlotHolder(busy_app):
        started = time.monotonic()
        response = client.get("/api/v1/users/me", headers=user.headers)
        waited = time.monotonic() - started
        assert response.status_code == 503 and response.get_json()["message"] == [BUSY]
        assert response.headers["Retry-After"] == "1" and 0.9 <= waited < 3
        assert client.get("/api/v1/health/live").status_code == 200
    assert client.get("/api/v1/users/me", headers=user.headers).status_code == 200
    text = client.get("/metrics").get_data(as_text=True)
    assert 'seda_admission_refused_total{lane="requests and arrivals"}' in text
    assert 'seda_admission_wait_seconds_count{lane="requests and arrivals"}' in text
    assert 'seda_unavailable_total{cause="server_busy"}' in text


def test_a_request_waits_for_a_slot_that_frees_in_time(busy_app, users):
    user = users.make()
    with SlotHolder(busy_app) as holder:
        threading.Timer(0.3, holder.release.set).start()
        response = busy_app.test_client().get("/api/v1/users/me", headers=user.headers)
    assert response.status_code == 200


def test_a_socket_that_cannot_get_a_turn_is_told_server_busy(busy_app, users):
    user = users.make()
    room = busy_app.test_client().post("/api/v1/chat/rooms", json={"name": "Turns"}, headers=user.headers).get_json()
    connected = socketio.test_client(busy_app, namespace="/chat", auth={"token": user.token})
    with SlotHolder(busy_app, ARRIVALS):
        refused = socketio.test_client(busy_app, namespace="/chat", auth={"token": user.token})
        assert not refused.is_connected("/chat")
        ack = connected.emit("join_room", room["id"], namespace="/chat", callback=True)
        assert ack["ok"] is False and ack["error"]["statusCode"] == 503 and ack["error"]["message"] == [BUSY]
    assert socketio.test_client(busy_app, namespace="/chat", auth={"token": user.token}).is_connected("/chat")
    assert connected.emit("join_room", room["id"], namespace="/chat", callback=True)["ok"] is True


def test_a_freed_slot_goes_to_the_events_of_sockets_already_in_before_arrivals(busy_app):
    served = []

    def wait_turn(lane, name):
        with busy_app.app_context(), admission().admitted(lane):
            served.append(name)

    with SlotHolder(busy_app):
        arrival = threading.Thread(target=wait_turn, args=(ARRIVALS, "join_room"))
        arrival.start()
        time.sleep(0.1)  # the arrival has waited longer
        event = threading.Thread(target=wait_turn, args=(EVENTS, "send_message"))
        event.start()
        time.sleep(0.1)
    arrival.join(5)
    event.join(5)
    assert served == ["send_message", "join_room"]


def _served_in_turn(app, waiters):
    """Hold the only slot while `waiters` [(lane, who, name)] queue in that order; the names in
    the order their turns came."""
    served = []

    def wait_turn(lane, who, name):
        with app.app_context(), admission().admitted(lane, who=who):
            served.append(name)

    with SlotHolder(app):
        threads = []
        for lane, who, name in waiters:
            threads.append(threading.Thread(target=wait_turn, args=(lane, who, name)))
            threads[-1].start()
            queued = len(threads)
            assert wait_until(lambda queued=queued: admission_state(app)["waiting"] == queued, timeout=5)
    for thread in threads:
        thread.join(5)
    return served


def admission_state(app):
    with app.app_context():
        return admission().state()


def test_a_flood_of_events_leaves_every_third_turn_to_waiting_requests(busy_app):
    flood = [(EVENTS, f"user-{n}", f"event {n}") for n in range(6)]
    served = _served_in_turn(busy_app, [*flood, (REST, "10.0.0.1", "request")])
    assert served.index("request") == 2  # not after all six


def test_callers_of_a_lane_take_turns_one_for_one(busy_app):
    flood = [(EVENTS, "flooder", f"flood {n}") for n in range(4)]
    served = _served_in_turn(busy_app, [*flood, (EVENTS, "someone", "other")])
    assert served[:2] == ["flood 0", "other"]


def test_waiting_on_another_server_gives_the_slot_back(busy_app):
    def try_a_turn(outcomes):
        with busy_app.app_context():
            try:
                with admission().admitted():
                    outcomes.append("admitted")
            except ServiceUnavailable:
                outcomes.append("busy")

    def in_another_thread(outcomes):
        thread = threading.Thread(target=try_a_turn, args=(outcomes,))
        thread.start()
        thread.join(5)

    while_fetching, after_fetching = [], []
    with busy_app.app_context(), admission().admitted():
        with outside():  # e.g. an unfurl waiting on a provider
            in_another_thread(while_fetching)
        in_another_thread(after_fetching)
    assert while_fetching == ["admitted"] and after_fetching == ["busy"]
