"""Celery tasks of verification; the state lives in the database, so every task is idempotent."""

import uuid

from celery import shared_task

from seda.common.scheduler import register_periodic
from seda.verification import checks


@shared_task(name=checks.CHECK_TASK)
def check_verification(request_id):
    """Check one CRAWLING request (a duplicate delivery finds it no longer CRAWLING)."""
    checks.run_check(uuid.UUID(request_id))


@shared_task(name="verification.expire")
def expire_verifications():
    checks.expire_requests()


@shared_task(name="verification.requeue_stuck")
def requeue_stuck_checks():
    checks.requeue_stuck()


@shared_task(name="verification.recheck")
def recheck_pending():
    checks.start_rechecks()


register_periodic(expire_verifications, 3600)
register_periodic(requeue_stuck_checks, 300)
register_periodic(recheck_pending, 900)
