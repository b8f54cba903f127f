"""PostgreSQL restarted under load: 503 envelopes during the outage, success soon after."""

import threading
import time
import uuid

import pytest
import requests
import socketio

from config import TestingConfig
from seda import create_app
from tests.helpers.servers import PostgresServer, gunicorn_server

pytestmark = pytest.mark.services


def attempt_connect(base, token):
    """'connected', the connect_error message, or 'no answer' (the client gave up waiting)."""
    errors = []
    client = socketio.Client(reconnection=False)
    client.on("connect_error", lambda data: errors.append(data), namespace="/chat")
    try:
        client.connect(base, namespaces=["/chat"], transports=["websocket"], auth={"token": token}, wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return errors[0]["message"] if errors else "no answer"
    client.disconnect()
    return "connected"


def test_requests_during_a_postgres_restart_get_503_and_recover():
    pg = PostgresServer().init()
    try:
        from flask_migrate import upgrade

        with create_app(TestingConfig({"DATABASE_URL": pg.url, "LOG_LEVEL": "ERROR"})).app_context():
            upgrade()
        env = {
            "APP_ENV": "testing",
            "DATABASE_URL": pg.url,
            "LOG_LEVEL": "ERROR",
            "RATE_LIMIT_DEFAULT": "100000/minute",
            "RATE_LIMIT_MESSAGES": "100000 per 10 seconds",
        }
        with gunicorn_server(env) as base:
            session = requests.post(
                f"{base}/api/v1/auth/signup",
                timeout=10,
                json={"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": "long enough"},
            ).json()
            auth = {"Authorization": f"Bearer {session['accessToken']}"}
            room = requests.post(f"{base}/api/v1/chat/rooms", json={"name": "Load"}, headers=auth, timeout=10).json()
            results, stop = [], threading.Event()

            def load(kind):
                while not stop.is_set():
                    started = time.monotonic()
                    try:
                        if kind == "read":
                            response = requests.get(
                                f"{base}/api/v1/chat/rooms/{room['id']}/messages", headers=auth, timeout=10
                            )
                        else:
                            response = requests.post(
                                f"{base}/api/v1/chat/rooms/{room['id']}/messages",
                                json={"text": "under load"},
                                headers=auth,
                                timeout=10,
                            )
                        outcome = response.status_code
                        try:
                            body = response.json()
                        except ValueError:
                            outcome, body = f"{response.status_code} not JSON", response.text[:300]
                    except requests.RequestException as exc:
                        outcome, body = repr(exc), None
                    results.append((started, time.monotonic() - started, outcome, body))
                    time.sleep(0.02)

            sock = socketio.Client(reconnection=False)
            sock.connect(base, namespaces=["/chat"], transports=["websocket"], auth={"token": session["accessToken"]})
            assert sock.call("join_room", room["id"], namespace="/chat", timeout=10)["ok"]

            def socket_send():
                return sock.call(
                    "send_message", {"roomId": room["id"], "text": "by socket"}, namespace="/chat", timeout=10
                )

            threads = [threading.Thread(target=load, args=(k,), daemon=True) for k in ("read", "write") * 3]
            for thread in threads:
                thread.start()
            time.sleep(1.5)
            pg.stop()
            down = time.monotonic()
            time.sleep(1)
            during_outage = socket_send()
            connect_during_outage = attempt_connect(base, session["accessToken"])
            time.sleep(2)
            pg.start()
            up = time.monotonic()
            time.sleep(7)
            stop.set()
            for thread in threads:
                thread.join(15)
            after_outage = socket_send()
            connect_after_outage = attempt_connect(base, session["accessToken"])
            sock.disconnect()

        outages = [r for r in results if down <= r[0] < up]
        after = [r for r in results if r[0] >= up + 5]
        first_success = min((r[0] + r[1] for r in results if r[0] >= up and r[2] in (200, 201)), default=None)
        print(
            f"\npostgres restart: {len(results)} requests, {len(outages)} during the outage "
            f"({sorted({str(r[2]) for r in outages})}), slowest {max(r[1] for r in results):.2f} s, "
            f"first success {first_success - up if first_success else None:.2f} s after restart"
        )
        assert all(r[2] in (200, 201, 503) for r in results), [r[2:] for r in results if r[2] not in (200, 201, 503)][
            :3
        ]
        # (the last moments of the window may already succeed: pg_ctl returns once it accepts connections)
        refused = [r for r in outages if r[2] == 503]
        assert len(refused) > len(outages) / 2
        assert all(r[3]["statusCode"] == 503 and r[3]["message"] == ["Database unavailable"] for r in refused)
        assert max(r[1] for r in results) < 5
        assert after and all(r[2] in (200, 201) for r in after)
        assert first_success is not None and first_success - up < 5
        # A socket event meets the outage as a 503 ack, and the same connection works after it.
        assert during_outage["ok"] is False and during_outage["error"]["statusCode"] == 503, during_outage
        assert during_outage["error"]["message"] == ["Database unavailable"]
        assert after_outage["ok"] is True, after_outage
        # A connect that cannot be checked is refused with a reason, never left hanging; a retry works.
        assert connect_during_outage == "Server busy, retry"
        assert connect_after_outage == "connected"
    finally:
        pg.destroy()
