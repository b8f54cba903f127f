"""Celery tasks of chat."""

import uuid

from celery import shared_task

from seda.chat import cards


@shared_task(name=cards.UNFURL_TASK)
def unfurl_message(message_id, attempt=0):
    cards.attach_card(uuid.UUID(message_id), attempt)
