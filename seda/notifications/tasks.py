"""Celery tasks of notifications: the work `seda.common.notifications` queues."""

import uuid

from celery import shared_task

from seda.common.notifications import FOR_MESSAGE_TASK, FOR_VERIFICATION_TASK
from seda.common.scheduler import register_periodic
from seda.notifications import digests, services

DIGEST_TASK = "notifications.send_digests"


@shared_task(name=FOR_MESSAGE_TASK)
def notify_about_message(message_id, newly_mentioned=None):
    services.notify_about_message(uuid.UUID(message_id), newly_mentioned)


@shared_task(name=FOR_VERIFICATION_TASK)
def notify_about_verification(request_id, status):
    services.notify_about_verification(uuid.UUID(request_id), status)


@shared_task(name=DIGEST_TASK)
def send_digests():
    return digests.send_due()


register_periodic(send_digests, every_seconds_from="EMAIL_DIGEST_CHECK_SECONDS")
