"""Celery tasks of chat."""

import uuid

from celery import shared_task

from seda.chat import cards
from seda.common.scheduler import register_periodic


@shared_task(name=cards.UNFURL_TASK)
def unfurl_message(message_id, attempt=0):
    cards.attach_card(uuid.UUID(message_id), attempt)


@shared_task(name="chat.resume_stale_unfurls")
def resume_stale_unfurls():
    return cards.resume_stale_unfurls()


register_periodic(resume_stale_unfurls, 600)
