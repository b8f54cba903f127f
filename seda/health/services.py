"""Readiness checks of the services seda depends on; each answers True, False or None."""

import logging
import time

import redis
from sqlalchemy import text

from seda.common.admission import DEGRADED_AFTER_SECONDS
from seda.extensions import db

log = logging.getLogger(__name__)
STARTED_AT = time.monotonic()
CHECK_TIMEOUT_SECONDS = 0.5


def check_database():
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any failure means "down" to a health probe
        log.warning("health: database check failed: %s", exc)
        db.session.rollback()
        return False


def check_redis(redis_url):
    if not redis_url:
        return None
    try:
        client = redis.Redis.from_url(
            redis_url, socket_timeout=CHECK_TIMEOUT_SECONDS, socket_connect_timeout=CHECK_TIMEOUT_SECONDS
        )
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError as exc:
        log.warning("health: redis check failed: %s", exc)
        return False


def check_worker(celery, redis_url):
    """Ping the Celery workers through the broker; None in embedded mode (tasks run in process)."""
    if not redis_url:
        return None
    try:
        return bool(celery.control.ping(timeout=CHECK_TIMEOUT_SECONDS))
    except Exception as exc:  # broker down or unreachable
        log.warning("health: worker check failed: %s", exc)
        return False


def health_report(celery, redis_url, version, admission):
    """`admission`: this process's turns (common/admission.py); requests waiting longer than
    DEGRADED_AFTER_SECONDS for one make the process `degraded` (API.md §1)."""
    turns = admission.state()
    checks = {
        "database": check_database(),
        "redis": check_redis(redis_url),
        "worker": check_worker(celery, redis_url),
        "admission": turns["longestWaitMs"] <= DEGRADED_AFTER_SECONDS * 1000,
    }
    if not checks["database"]:
        status = "unhealthy"
    elif False in checks.values():
        status = "degraded"
    else:
        status = "healthy"
    return {
        "status": status,
        "checks": checks,
        "admission": turns,
        "uptime": round(time.monotonic() - STARTED_AT, 3),
        "version": version,
    }
