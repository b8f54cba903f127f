"""Test tiers.

Fast tier: SQLite, no Redis, tasks in process; runs anywhere. Service tier (`services` mark):
PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379, a fresh database and key namespace
per run. With SEDA_REQUIRE_SERVICES=1 (CI) a missing service fails the run; without it the
service tier is skipped with one line saying so.
"""

import uuid
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from seda import create_app
from tests.helpers.apps import close_apps, tier_config
from tests.helpers.settings import (
    CHROMEDRIVER,
    CHROMIUM,
    PG_ADMIN_URL,
    REDIS_TEST_URL,
    REQUIRE_SERVICES,
    RUN_ID,
    make_config,
)

pytest_plugins = ["tests.helpers.fixtures", "tests.helpers.origin", "tests.helpers.providers"]


def _postgres_problem():
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # unreachable, auth, driver: all mean "not available"
        return f"PostgreSQL ({PG_ADMIN_URL}): {exc.__class__.__name__}"


def _redis_problem():
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
        return None
    except Exception as exc:
        return f"Redis ({REDIS_TEST_URL}): {exc.__class__.__name__}"


def _browser_problem():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    return f"{' and '.join(missing)} missing (Debian packages chromium, chromium-driver)" if missing else None


def pytest_configure(config):
    config.addinivalue_line("markers", "services: needs PostgreSQL and Redis (service tier)")
    config.addinivalue_line("markers", "browser: needs Debian's chromium and chromium-driver (service tier)")
    problems = [p for p in (_postgres_problem(), _redis_problem()) if p]
    config.seda_service_problems = problems
    config.seda_browser_problems = problems + [p for p in (_browser_problem(),) if p]
    if config.seda_browser_problems and REQUIRE_SERVICES:
        raise pytest.UsageError(
            "SEDA_REQUIRE_SERVICES=1 but the service tier cannot run: " + "; ".join(config.seda_browser_problems)
        )


def pytest_collection_modifyitems(config, items):
    for marker, problems in (("services", config.seda_service_problems), ("browser", config.seda_browser_problems)):
        if not problems:
            continue
        skip = pytest.mark.skip(reason="service tier not run: " + "; ".join(problems))
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


def pytest_report_header(config):
    problems = config.seda_service_problems
    if problems:
        return "seda: SERVICE TIER NOT RUN (" + "; ".join(problems) + "); fast tier only"
    return f"seda: both tiers (PostgreSQL and Redis reachable), run id {RUN_ID}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if config.seda_service_problems:
        terminalreporter.write_line(
            "seda: service tier NOT run: " + "; ".join(config.seda_service_problems),
            yellow=True,
        )


# -- databases ----------------------------------------------------------------------------


def _migrate(app):
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One migrated SQLite file per run; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    _migrate(create_app(make_config(database_url=f"sqlite:///{path}")))
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A database of its own for this run, migrated once, dropped at the end."""
    name = f"seda_test_{RUN_ID}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    _migrate(create_app(make_config(database_url=url)))
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_engine(postgres_url):
    engine = sa.create_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def redis_namespace():
    namespace = f"seda-test-{RUN_ID}"
    yield namespace
    client = redis.Redis.from_url(REDIS_TEST_URL)
    keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def tier(request):
    """The storage tier; `tests.helpers.tiers.services_only` narrows a test to PostgreSQL."""
    return request.param


@pytest.fixture
def app_factory(tier, request, tmp_path):
    """Build apps on the current tier; `app_factory(**ENV_OVERRIDES)` gives a configured app."""
    built = []
    namespace = None

    def build(redis=None, **overrides):
        nonlocal namespace
        if tier == "postgres" and namespace is None:
            namespace = f"{request.getfixturevalue('redis_namespace')}-{uuid.uuid4().hex[:8]}"
        app = create_app(tier_config(tier, request, tmp_path, namespace, redis, **overrides))
        built.append(app)
        return app

    yield build
    close_apps(built, tier, request)


@pytest.fixture
def app(app_factory):
    return app_factory()


@pytest.fixture
def client(app):
    return app.test_client()
