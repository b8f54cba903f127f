"""Apps on a storage tier for tests: their config, and closing them afterwards (the conftest's
app_factory, and modules that share one app among tests that store nothing of consequence)."""

import shutil

from seda.common.tasks import wait_for_in_process_tasks
from seda.extensions import db
from tests.helpers.settings import REDIS_TEST_URL, make_config, truncate_all


def tier_config(tier, request, folder, namespace=None, redis=None, **overrides):
    """The config of an app on `tier` whose files live in `folder` (its SQLite database copied from
    the template; on PostgreSQL, the session's database and a Redis namespace of its own)."""
    overrides.setdefault("MAIL_OUTBOX_DIR", str(folder / "outbox"))
    overrides.setdefault("EXPORT_DIR", str(folder / "exports"))
    if tier == "sqlite":
        path = folder / "seda.db"
        if not path.exists():
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return make_config(f"sqlite:///{path}", **overrides)
    use_redis = True if redis is None else redis
    config = make_config(
        request.getfixturevalue("postgres_url"), REDIS_TEST_URL if use_redis else None, namespace, **overrides
    )
    # In-process tests drive sockets with the test client (no queue allowed) and run tasks in
    # process; tests of the worker and of several processes opt in.
    config.SOCKETIO_MESSAGE_QUEUE = None
    config.CELERY = {**config.CELERY, "task_always_eager": True}
    return config


def close_apps(apps, tier, request):
    """After a test (or a module) with its apps: tasks finished, connections closed, PostgreSQL emptied."""
    wait_for_in_process_tasks()
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if tier == "postgres":
        truncate_all(request.getfixturevalue("postgres_engine"))
