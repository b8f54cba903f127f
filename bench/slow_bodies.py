"""Slow bodies (#35): clients that send a POST's headers and then trickle its body one byte at a
time must never keep a process's other requests waiting.

One seda process (gunicorn, PostgreSQL, Redis). A baseline first: `--requests` sequential
`GET /api/v1/users/me` with nothing else going on. Then `--tricklers` connections each send a
POST's headers and one body byte every `--interval` seconds (each is answered 408 after
REQUEST_BODY_TIMEOUT_SECONDS and opens again, until the run ends), and the same requests run
again, with /health read every 0.5 s. Printed: both p50/p99, their ratio, the 408s, and what
/health said about the process's turns.

    .venv/bin/python bench/slow_bodies.py [--tricklers 50] [--requests 400]
"""

import argparse
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

import requests
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from seeding import access_token, fresh_database, seed_users, server_env  # noqa: E402

from tests.helpers.servers import gunicorn_server  # noqa: E402

TARGETS = "p99 with the tricklers <= 50 ms; /health degraded only while requests wait for a turn"


def trickle(base, stop, answered):
    """Headers, then one body byte every interval, again after every answer, until `stop`."""
    host, port = base.removeprefix("http://").split(":")
    while not stop.is_set():
        with socket.create_connection((host, int(port)), timeout=1) as sock:
            sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
            received = b""
            while not stop.is_set() and b" 408 " not in received:
                try:
                    sock.sendall(b" ")
                    received += sock.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    break
            if b" 408 " in received:
                answered.append(time.monotonic())


def timed_requests(base, token, count):
    timings = []
    with requests.Session() as session:
        for _ in range(count):
            started = time.perf_counter()
            response = session.get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=60)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    return timings


def p99(values):
    return statistics.quantiles(values, n=100)[98]


def watch_health(base, stop, seen):
    while not stop.is_set():
        body = requests.get(f"{base}/api/v1/health", timeout=5).json()
        seen.append((body["checks"]["admission"], body["admission"]["waiting"]))
        stop.wait(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tricklers", type=int, default=50)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    with fresh_database() as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            [user_id] = seed_users(conn, 1)
        engine.dispose()
        env = server_env(url, REQUEST_BODY_TIMEOUT_SECONDS="10")
        with gunicorn_server(env) as base:
            token = access_token(user_id)
            timed_requests(base, token, 50)  # warm up
            baseline = timed_requests(base, token, args.requests)
            stop, answered, health = threading.Event(), [], []
            threads = [threading.Thread(target=trickle, args=(base, stop, answered)) for _ in range(args.tricklers)]
            threads.append(threading.Thread(target=watch_health, args=(base, stop, health)))
            for thread in threads:
                thread.start()
            time.sleep(1)  # every trickler holds a connection
            loaded = timed_requests(base, token, args.requests)
            time.sleep(max(0, 11 - 1))  # past the body deadline: every trickler has had its 408
            stop.set()
            for thread in threads:
                thread.join(15)
    # No Celery worker runs here, so /health's status is `degraded` for that; its admission check
    # is the one this measures.
    congested = sum(1 for admission_ok, _waiting in health if not admission_ok)
    waiting = max((w for _ok, w in health), default=0)
    print(f"GET /api/v1/users/me, {args.requests} sequential requests, one process (PostgreSQL, Redis):")
    print(f"  alone (baseline):          p50 {statistics.median(baseline):.2f} ms, p99 {p99(baseline):.2f} ms")
    print(
        f"  with {args.tricklers} tricklers:         p50 {statistics.median(loaded):.2f} ms, "
        f"p99 {p99(loaded):.2f} ms (x{p99(loaded) / p99(baseline):.2f} of the baseline)"
    )
    print(f"  tricklers answered 408:    {len(answered)} (each within REQUEST_BODY_TIMEOUT_SECONDS = 10 s)")
    print(
        f"  /health: {len(health)} reads, {congested} with checks.admission false, at most {waiting} waiting for a turn"
    )
    print(f"  targets: {TARGETS}")


if __name__ == "__main__":
    main()
