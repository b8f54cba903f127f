"""Throwaway PostgreSQL databases for the benchmarks, migrated and seeded with plain SQL.

Rows go in through multi-row INSERTs (or `generate_series` for the big history table) rather
than the API, so seeding a million messages takes seconds, not hours.
"""

import os
import sys
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("SEDA_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SEDA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
JWT_SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789"


@contextmanager
def fresh_database(prefix="seda_bench"):
    """A new, migrated database; yields its URL and drops it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url):
    from flask_migrate import upgrade

    from config import TestingConfig
    from seda import create_app

    with create_app(TestingConfig({"DATABASE_URL": url, "LOG_LEVEL": "ERROR"})).app_context():
        upgrade()


def seed_users(conn, count, artists=0):
    now = datetime.now(UTC)
    users = [uuid.uuid4() for _ in range(count)]
    for start in range(0, count, 5000):
        conn.execute(
            sa.text(
                "INSERT INTO users (id, email, username, role, display_name, banned, created_at, updated_at) "
                "VALUES (:id, :email, :username, 'USER', :name, false, :now, :now)"
            ),
            [
                {
                    "id": u,
                    "email": f"{u.hex[:12]}@bench.example",
                    "username": f"user_{u.hex[:20]}",
                    "name": f"User {n}",
                    "now": now,
                }
                for n, u in enumerate(users[start : start + 5000], start)
            ],
        )
    if artists:
        conn.execute(
            sa.text(
                "INSERT INTO artist_profiles (id, user_id, artist_name, verified, created_at, updated_at) "
                "VALUES (:id, :user, :name, true, :now, :now)"
            ),
            [{"id": uuid.uuid4(), "user": u, "name": f"Artist {n}", "now": now} for n, u in enumerate(users[:artists])],
        )
    return users


def seed_room(conn, members, name="Bench", last_seq=0):
    """A public room whose members are `members` (the first one owns it)."""
    now = datetime.now(UTC)
    room = uuid.uuid4()
    conn.execute(
        sa.text(
            "INSERT INTO rooms (id, name, type, slow_mode_seconds, last_seq, member_count, created_at, updated_at) "
            "VALUES (:id, :name, 'PUBLIC', 0, :seq, :count, :now, :now)"
        ),
        {"id": room, "name": name, "seq": last_seq, "count": len(members), "now": now},
    )
    conn.execute(
        sa.text(
            "INSERT INTO room_memberships (id, room_id, user_id, role, last_read_seq, joined_at) "
            "VALUES (:id, :room, :user, :role, 0, :now)"
        ),
        [
            {"id": uuid.uuid4(), "room": room, "user": u, "role": "OWNER" if n == 0 else "MEMBER", "now": now}
            for n, u in enumerate(members)
        ],
    )
    return room


def access_token(user_id):
    from seda.auth.tokens import issue_access_token

    return issue_access_token(JWT_SECRET, user_id)


def server_env(database_url, **extra):
    """Environment for a seda server in its production shape (PostgreSQL + Redis), limits lifted."""
    return {
        "APP_ENV": "production",
        "PUBLIC_BASE_URL": "https://seda.test",
        "PUBLIC_API_URL": "https://api.seda.test",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_NAMESPACE": f"bench{uuid.uuid4().hex[:8]}",
        "JWT_SECRET": JWT_SECRET,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_DEFAULT": "10000000/minute",
        "RATE_LIMIT_MESSAGES": "10000000 per 10 seconds",
        "RATE_LIMIT_SOCKET_EVENTS_PER_SECOND": "100000",
        "RATE_LIMIT_SOCKET_EVENTS_USER": "100000/second",
        "WORKER_CONNECTIONS": "8000",
        **extra,
    }
