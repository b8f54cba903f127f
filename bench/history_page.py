"""A 50-message history page from PostgreSQL holding 100,000 messages, next to a baseline.

Seeds a fresh database (dropped afterwards), then times `GET …/messages?limit=50` through the
app in process (newest page and a page deep in history via cursor) against a bare Flask
endpoint returning the same 50-message JSON from memory, and counts SQL queries per page.

    .venv/bin/python bench/history_page.py [--messages 100000] [--requests 300]
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, Response

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from config import TestingConfig  # noqa: E402
from seda import create_app  # noqa: E402
from seda.auth.tokens import issue_access_token  # noqa: E402
from tests.helpers.queries import count_queries  # noqa: E402

ADMIN_URL = os.environ.get("SEDA_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def seed(url, messages):
    engine = sa.create_engine(url)
    now = datetime.now(timezone.utc)
    users = [uuid.uuid4() for _ in range(20)]
    room = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO users (id, email, role, display_name, banned, created_at, updated_at) "
            "VALUES (:id, :email, 'USER', :name, false, :now, :now)"),
            [{"id": u, "email": f"u{n}@bench.example", "name": f"User {n}", "now": now} for n, u in enumerate(users)])
        conn.execute(sa.text(
            "INSERT INTO artist_profiles (id, user_id, artist_name, verified, created_at, updated_at) "
            "VALUES (:id, :user, :name, true, :now, :now)"),
            [{"id": uuid.uuid4(), "user": u, "name": f"Artist {n}", "now": now} for n, u in enumerate(users[:10])])
        conn.execute(sa.text(
            "INSERT INTO rooms (id, name, type, slow_mode_seconds, last_seq, member_count, created_at, updated_at) "
            "VALUES (:id, 'Bench', 'PUBLIC', 0, :seq, :count, :now, :now)"),
            {"id": room, "seq": messages, "count": len(users), "now": now})
        conn.execute(sa.text(
            "INSERT INTO room_memberships (id, room_id, user_id, role, last_read_seq, joined_at) "
            "VALUES (:id, :room, :user, 'MEMBER', 0, :now)"),
            [{"id": uuid.uuid4(), "room": room, "user": u, "now": now} for u in users])
        batch = []
        message_ids = []
        for seq in range(1, messages + 1):
            mid = uuid.uuid4()
            message_ids.append(mid)
            at = now - timedelta(seconds=messages - seq)
            batch.append({"id": mid, "room": room, "user": users[seq % len(users)], "seq": seq,
                          "text": f"message number {seq} with a few words of text", "at": at})
            if len(batch) == 5000:
                _insert_messages(conn, batch)
                batch = []
        if batch:
            _insert_messages(conn, batch)
        conn.execute(sa.text(
            "INSERT INTO reactions (id, message_id, user_id, emoji, created_at) VALUES (:id, :m, :u, :e, :now)"),
            [{"id": uuid.uuid4(), "m": message_ids[i], "u": users[j], "e": "🔥", "now": now}
             for i in range(0, messages, 3) for j in range(2)])
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return room, users[0], message_ids


def _insert_messages(conn, batch):
    conn.execute(sa.text(
        "INSERT INTO messages (id, room_id, user_id, seq, type, text, reply_count, created_at, updated_at) "
        "VALUES (:id, :room, :user, :seq, 'TEXT', :text, 0, :at, :at)"), batch)


def timed(client, path, headers, count):
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.99) - 1] * 1000, count / sum(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    name = f"seda_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        config = TestingConfig({"APP_ENV": "testing", "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
                                "RATE_LIMIT_DEFAULT": "1000000/minute"})
        app = create_app(config)
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()
        started = time.perf_counter()
        room, user, message_ids = seed(url, args.messages)
        print(f"seeded {args.messages} messages in {time.perf_counter() - started:.1f} s")
        headers = {"Authorization": f"Bearer {issue_access_token(app.config['JWT_SECRET'], user)}"}
        client = app.test_client()
        newest = f"/api/v1/chat/rooms/{room}/messages?limit=50"
        deep = f"{newest}&cursor={message_ids[args.messages // 2]}"
        body = client.get(newest, headers=headers).get_data()
        with count_queries(app) as statements:
            client.get(newest, headers=headers)
        for label, path in (("newest page", newest), ("deep page (cursor)", deep)):
            p50, p99, rps = timed(client, path, headers, args.requests)
            print(f"seda {label:<20} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  {rps:7.0f} req/s (one process, in-process client)")
        baseline = Flask("baseline")
        baseline.add_url_rule("/page", view_func=lambda: Response(body, content_type="application/json"))
        b50, b99, brps = timed(baseline.test_client(), "/page", {}, args.requests)
        print(f"baseline (same JSON from memory)  p50 {b50:6.2f} ms  p99 {b99:6.2f} ms  {brps:7.0f} req/s")
        print(f"SQL statements per page request (auth included): {len(statements)}")
        p50, _, rps = timed(client, newest, headers, args.requests)
        print(f"seda / baseline throughput: x{rps / brps:.2f}")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
