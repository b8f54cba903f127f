"""Soak: mixed REST and Socket.IO traffic against two gunicorn processes, a worker and Redis.

Not a test and not in CI. Reports the 5xx rate (target 0, at most 0.025 %), REST p99 (target
< 2 s) and each server's memory at the start and the end (target flat).

    .venv/bin/python bench/soak.py --minutes 10 [--sockets 40] [--rest-threads 8]

Needs PostgreSQL and Redis as the service tier does (SEDA_TEST_PG_ADMIN_URL, SEDA_TEST_REDIS_URL);
it creates and drops its own database.
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import requests
import socketio
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from procs import rss_kib  # noqa: E402

from tests.helpers.servers import celery_worker, gunicorn_server, signup  # noqa: E402

ADMIN_URL = os.environ.get("SEDA_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SEDA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--sockets", type=int, default=40)
    parser.add_argument("--rest-threads", type=int, default=8)
    args = parser.parse_args()
    name = f"seda_soak_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "REDIS_NAMESPACE": name,
        "LOG_LEVEL": "ERROR",
        "RATE_LIMIT_DEFAULT": "1000000/minute",
        "RATE_LIMIT_ANONYMOUS": "1000000/minute",
        "RATE_LIMIT_SIGNUP": "1000000/hour",
        "RATE_LIMIT_MESSAGES": "1000000 per 10 seconds",
    }
    try:
        from flask_migrate import upgrade

        from config import TestingConfig
        from seda import create_app

        with create_app(TestingConfig({"DATABASE_URL": url, "LOG_LEVEL": "ERROR"})).app_context():
            upgrade()
        with gunicorn_server(env) as first, gunicorn_server(env) as second, celery_worker(env):
            run(args, (first, second))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(args, bases):
    owner = signup(bases[0])[0]
    auth = {"Authorization": f"Bearer {owner}"}
    rooms = [
        requests.post(f"{bases[0]}/api/v1/chat/rooms", json={"name": f"Soak {n}"}, headers=auth, timeout=10).json()[
            "id"
        ]
        for n in range(4)
    ]
    stop = threading.Event()
    lock = threading.Lock()
    statuses, latencies, socket_errors, received = {}, [], [0], [0]

    def record(status, seconds):
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(seconds)

    def rest_user(index):
        base = bases[index % 2]
        token = signup(base)[0]
        headers = {"Authorization": f"Bearer {token}"}
        for room in rooms:
            requests.post(f"{base}/api/v1/chat/rooms/{room}/join", headers=headers, timeout=10)
        while not stop.is_set():
            room = random.choice(rooms)
            kind = random.random()
            started = time.monotonic()
            try:
                if kind < 0.5:
                    response = requests.get(
                        f"{base}/api/v1/chat/rooms/{room}/messages?limit=50", headers=headers, timeout=10
                    )
                elif kind < 0.8:
                    response = requests.post(
                        f"{base}/api/v1/chat/rooms/{room}/messages",
                        json={"text": f"rest {random.random()}"},
                        headers=headers,
                        timeout=10,
                    )
                else:
                    response = requests.get(f"{base}/api/v1/chat/rooms?scope=discover", headers=headers, timeout=10)
                record(response.status_code, time.monotonic() - started)
            except requests.RequestException:
                record("error", time.monotonic() - started)
            time.sleep(0.05)

    def socket_user(index):
        base = bases[index % 2]
        token = signup(base)[0]
        client = socketio.Client(reconnection=True)
        client.on("message_created", lambda *_: received.__setitem__(0, received[0] + 1), namespace="/chat")
        try:
            client.connect(base, namespaces=["/chat"], auth={"token": token}, transports=["websocket"], wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            socket_errors[0] += 1  # counted as a failure, the soak goes on
            return
        room = rooms[index % len(rooms)]
        client.call("join_room", room, namespace="/chat", timeout=10)
        while not stop.is_set():
            try:
                ack = client.call(
                    "send_message",
                    {"roomId": room, "text": "socket", "clientMessageId": uuid.uuid4().hex},
                    namespace="/chat",
                    timeout=10,
                )
                if not ack.get("ok"):
                    socket_errors[0] += 1
            except Exception:
                socket_errors[0] += 1
            time.sleep(random.uniform(1.0, 3.0))
        client.disconnect()

    workers = [threading.Thread(target=rest_user, args=(i,), daemon=True) for i in range(args.rest_threads)]
    workers += [threading.Thread(target=socket_user, args=(i,), daemon=True) for i in range(args.sockets)]
    for worker in workers:
        worker.start()
    time.sleep(30)  # warm-up: imports, pools, caches
    memory_start = [rss_kib(b.process.pid) for b in bases]
    with lock:
        statuses.clear()
        latencies.clear()
    time.sleep(max(0, args.minutes * 60 - 30))
    memory_end = [rss_kib(b.process.pid) for b in bases]
    stop.set()
    for worker in workers:
        worker.join(30)
    total = sum(statuses.values())
    server_errors = sum(v for k, v in statuses.items() if isinstance(k, int) and k >= 500) + statuses.get("error", 0)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    print(f"soak {args.minutes:g} min: {total} REST requests {dict(sorted(statuses.items(), key=str))}")
    print(f"5xx/error rate {server_errors / max(total, 1) * 100:.4f} % (target 0, at most 0.025 %)")
    print(f"REST p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms (target < 2000 ms)")
    print(f"socket sends failed: {socket_errors[0]}, message_created received: {received[0]}")
    for n, (start, end) in enumerate(zip(memory_start, memory_end, strict=True)):
        print(
            f"server {n + 1} RSS: {start / 1024:.1f} MiB after warm-up, {end / 1024:.1f} MiB at the end "
            f"({(end - start) / max(start, 1) * 100:+.1f} %)"
        )


if __name__ == "__main__":
    main()
