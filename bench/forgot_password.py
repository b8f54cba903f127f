"""Forgot password (#36, API.md §12): the answer must not tell an existing address from an
unknown one, by status, body or time, and must not wait on mail, even when the SMTP server hangs.

One seda process (gunicorn, PostgreSQL, Redis) and a Celery worker whose SMTP server is a
loopback socket that accepts and never answers (each attempt waits out its 10 s deadline). One
account exists. `--tries` requests for its address and as many for unknown addresses,
alternated, one at a time; printed: both medians and p99s, their difference, and the bodies.
Baseline: the unknown address, which sends no mail, measured in the same run.

    .venv/bin/python bench/forgot_password.py [--tries 200]
"""

import argparse
import socket
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import requests
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from seeding import fresh_database, seed_users, server_env  # noqa: E402

from tests.helpers.servers import celery_worker, gunicorn_server  # noqa: E402

TARGETS = "medians within 10 ms of each other over 200 tries each; p99 < 100 ms while SMTP hangs"


class HangingSmtp:
    """Accepts connections and never says a word: every SMTP attempt waits for its deadline."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port, self.held, self.accepted = self.sock.getsockname()[1], [], 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)
            self.accepted += 1


def p99(values):
    return statistics.quantiles(values, n=100)[98]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tries", type=int, default=200)
    args = parser.parse_args()
    smtp = HangingSmtp()
    with fresh_database("seda_bench_forgot") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            [user_id] = seed_users(conn, 1)
            email = conn.execute(sa.text("SELECT email FROM users WHERE id = :id"), {"id": user_id}).scalar_one()
        engine.dispose()
        env = server_env(
            url,
            SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
            RATE_LIMIT_MAIL="100000/hour",
            RATE_LIMIT_MAIL_IP="100000/hour",
            RATE_LIMIT_ANONYMOUS="100000/minute",
        )
        with gunicorn_server(env) as base, celery_worker(env), requests.Session() as session:
            timings, bodies = {"existing": [], "unknown": []}, {"existing": set(), "unknown": set()}
            for n in range(args.tries * 2 + 20):
                kind = "existing" if n % 2 == 0 else "unknown"
                address = email if kind == "existing" else f"{uuid.uuid4().hex[:12]}@bench.example"
                started = time.perf_counter()
                response = session.post(f"{base}/api/v1/auth/password/forgot", json={"email": address}, timeout=30)
                elapsed = (time.perf_counter() - started) * 1000
                if n >= 20:  # the first ten of each warm the process up
                    timings[kind].append(elapsed)
                    bodies[kind].add((response.status_code, response.text))
            time.sleep(1)
            hanging = smtp.accepted
    existing, unknown = timings["existing"], timings["unknown"]
    print(f"POST /api/v1/auth/password/forgot, {args.tries} tries each, alternated, one process + worker:")
    print(f"  existing address: p50 {statistics.median(existing):.2f} ms, p99 {p99(existing):.2f} ms")
    print(f"  unknown address (baseline): p50 {statistics.median(unknown):.2f} ms, p99 {p99(unknown):.2f} ms")
    print(f"  median difference: {statistics.median(existing) - statistics.median(unknown):+.2f} ms")
    print(f"  distinct answers: existing {sorted(bodies['existing'])}, unknown {sorted(bodies['unknown'])}")
    print(f"  SMTP connections held open by the hanging server meanwhile: {hanging}")
    print(f"  targets: {TARGETS}")


if __name__ == "__main__":
    main()
