import uuid

from celery import shared_task

from seda.tracks import services


@shared_task(name="tracks.unfurl_message")
def unfurl_message(message_id):
    services.unfurl_message(uuid.UUID(message_id))
