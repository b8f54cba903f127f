"""Celery tasks of listening sessions: the advance scheduled at `endsAt`, and the sweep behind it."""

import uuid

from celery import shared_task

from seda.common.scheduler import register_periodic
from seda.sessions import playback

# The longest a worker killed at `endsAt` delays the advance (API.md section 10 asks ≤ 10 s).
SWEEP_SECONDS = 5


@shared_task(name=playback.ADVANCE_TASK)
def advance(session_id, item_id):
    playback.advance_when_due(uuid.UUID(session_id), uuid.UUID(item_id))


@shared_task(name="sessions.sweep")
def sweep():
    return playback.sweep()


register_periodic(sweep, SWEEP_SECONDS)
