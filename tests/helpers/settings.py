"""Where the test tiers' services are, and the configuration of a test app (used by conftest,
the fixtures and the tests that start processes of their own)."""

import os
import uuid

import sqlalchemy as sa

from config import TestingConfig
from seda.extensions import db

PG_ADMIN_URL = os.environ.get("SEDA_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("SEDA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:10]
REQUIRE_SERVICES = os.environ.get("SEDA_REQUIRE_SERVICES") == "1"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def make_config(database_url, redis_url=None, namespace="seda-test", **overrides):
    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "REDIS_NAMESPACE": namespace,
        "JWT_SECRET": "test-secret-" + "x" * 40,
        "LOG_LEVEL": "WARNING",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update({k: str(v) for k, v in overrides.items() if k.isupper()})
    return TestingConfig(env)


def truncate_all(engine):
    """Empty every table of the PostgreSQL test database (between tests, and after a module's servers).

    DELETE with foreign-key triggers off (the test role is a superuser): ~6 ms for the small
    tables a test leaves, where TRUNCATE of them all took ~100 ms, some 3 minutes of a CI run."""
    tables = [t.name for t in db.metadata.sorted_tables]
    if not tables:
        return
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for table in reversed(tables):
            conn.execute(sa.text(f"DELETE FROM {table}"))
