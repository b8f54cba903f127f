"""A process killed with SIGKILL cleans nothing up: its users must not look online forever."""

import os
import signal

import pytest
import requests

from tests.helpers.clients import connect
from tests.helpers.servers import gunicorn_server, signup, wait_until

pytestmark = pytest.mark.services


def test_the_users_of_a_killed_process_stop_looking_online(postgres_url, postgres_engine, redis_namespace):
    from tests.helpers.settings import truncate_all

    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": postgres_url,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "REDIS_NAMESPACE": f"{redis_namespace}-presence",
        "PRESENCE_TTL_SECONDS": "3",
        "LOG_LEVEL": "ERROR",
    }
    try:
        with gunicorn_server(env) as doomed, gunicorn_server(env) as survivor:
            (owner, _), (fan, _) = signup(survivor), signup(survivor)
            headers = {"Authorization": f"Bearer {owner}"}
            room = requests.post(f"{survivor}/api/v1/chat/rooms", json={"name": "Who"}, headers=headers, timeout=10)
            room_id = room.json()["id"]
            requests.post(
                f"{survivor}/api/v1/chat/rooms/{room_id}/join", headers={"Authorization": f"Bearer {fan}"}, timeout=10
            )
            watcher = connect(survivor, owner)  # the survivor has a socket too, so it beats
            client = connect(doomed, fan)
            assert client.call("join_room", room_id, namespace="/chat", timeout=5)["ok"]

            def fan_online():
                members = requests.get(f"{survivor}/api/v1/chat/rooms/{room_id}/members", headers=headers, timeout=10)
                return next(m["online"] for m in members.json() if m["role"] != "OWNER")

            assert fan_online() is True
            os.killpg(doomed.process.pid, signal.SIGKILL)
            assert wait_until(lambda: fan_online() is False, timeout=15, interval=0.5)
            assert watcher.connected
            watcher.disconnect()
    finally:
        truncate_all(postgres_engine)
