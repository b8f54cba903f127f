"""Listening sessions on the production stack: two gunicorn processes, Redis, real Celery
workers and a real beat. Playback advances on time with no request in flight, events reach the
sockets of both processes, and a worker killed holding the scheduled advance delays it by at
most the sweep period."""

import signal
import time
from datetime import datetime

import pytest
import redis

from seda.sessions.tasks import SWEEP_SECONDS
from tests.helpers.clients import Api, Listener
from tests.helpers.servers import celery_beat, celery_worker, gunicorn_server, wait_until
from tests.helpers.sessions import track

pytestmark = pytest.mark.services
JWT_SECRET = "sessions-multiprocess-secret-" + "s" * 32


class SessionListener(Listener):
    EVENTS = (*Listener.EVENTS, "session_started", "now_playing", "queue_updated", "skip_votes", "session_ended")

    def playing(self):
        """(arrival time, now_playing payload) of every now_playing received."""
        with self.lock:
            return [(at, args[0]) for name, args, at in self.timed if name == "now_playing"]

    def _recorder(self, name):
        def record(*args):
            with self.lock:
                self.received.append((name, list(args)))
                self.timed.append((name, list(args), time.time()))

        return record

    def __init__(self, base, token):
        self.timed = []
        super().__init__(base, token)


@pytest.fixture(scope="module")
def stack(postgres_url, postgres_engine, redis_namespace, tmp_path_factory):
    from tests.helpers.settings import truncate_all

    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": postgres_url,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "REDIS_NAMESPACE": f"{redis_namespace}-sessions",
        "JWT_SECRET": JWT_SECRET,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_DEFAULT": "100000/minute",
        "RATE_LIMIT_SIGNUP": "100000/hour",
    }
    with (
        gunicorn_server(env) as first,
        gunicorn_server(env) as second,
        celery_beat(env, tmp_path_factory.mktemp("beat")),
    ):
        yield env, first, second
    truncate_all(postgres_engine)


@pytest.fixture
def party(stack):
    """A room with a session: its host listening on the first process, a member on the second."""
    env, first, second = stack
    host, member = Api.signup(first), Api.signup(second)
    room_id = host.call("POST", "/chat/rooms", json={"name": "Listening party"}).json()["id"]
    assert member.call("POST", f"/chat/rooms/{room_id}/join").ok
    listeners = [SessionListener(first, host.token), SessionListener(second, member.token)]
    for listener in listeners:
        assert listener.call("join_room", room_id)["ok"]
    assert host.call("POST", f"/chat/rooms/{room_id}/session").status_code == 201
    yield env, host, room_id, listeners
    for listener in listeners:
        listener.close()


def moment(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_playback_advances_within_a_second_of_ends_at_on_every_process(party):
    env, host, room_id, listeners = party
    with celery_worker(env):
        items = [
            host.call("POST", f"/chat/rooms/{room_id}/session/queue", json={"trackRef": track(duration=2)})
            for _ in range(2)
        ]
        assert [r.status_code for r in items] == [201, 201]
        first, second = (r.json()["id"] for r in items)
        for listener in listeners:
            assert wait_until(lambda listener=listener: len(listener.playing()) == 3, timeout=10), listener.playing()
    for listener in listeners:
        started, advanced, ran_dry = listener.playing()
        assert started[1]["item"]["id"] == first and advanced[1]["item"]["id"] == second
        assert ran_dry[1]["item"] is None
        for (_, before), (arrived, after) in ((started, advanced), (advanced, ran_dry)):
            late = arrived - moment(before["endsAt"])
            assert 0 <= late < 1.0, late
            assert moment(after["serverTime"]) - moment(before["endsAt"]) < 1.0
    history = host.call("GET", f"/chat/rooms/{room_id}/session/history").json()
    assert [(i["id"], i["skipped"]) for i in history] == [(second, False), (first, False)]


def test_a_worker_killed_holding_the_advance_delays_it_by_at_most_the_sweep_period(party):
    env, host, room_id, listeners = party
    with celery_worker(env, name="doomed") as doomed:
        response = host.call("POST", f"/chat/rooms/{room_id}/session/queue", json={"trackRef": track(duration=4)})
        assert response.status_code == 201
        # The scheduled advance waits in the doomed worker's memory (Redis lists it as unacked).
        assert wait_until(lambda: _held_by_a_worker(env, "sessions.advance"), timeout=10)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    ends_at = moment(host.call("GET", f"/chat/rooms/{room_id}/session").json()["nowPlaying"]["endsAt"])
    with celery_worker(env, name="rescuer"):
        assert wait_until(lambda: len(listeners[1].playing()) == 2, timeout=SWEEP_SECONDS + 10)
    arrived, ran_dry = listeners[1].playing()[1]
    assert ran_dry["item"] is None
    assert arrived - ends_at <= SWEEP_SECONDS + 1.5, arrived - ends_at
    history = host.call("GET", f"/chat/rooms/{room_id}/session/history").json()
    assert len(history) == 1 and history[0]["endedAt"] is not None


def _held_by_a_worker(env, task_name):
    unacked = redis.Redis.from_url(env["REDIS_URL"]).hvals(f"{env['REDIS_NAMESPACE']}-celery:unacked")
    return any(task_name.encode() in message for message in unacked)
