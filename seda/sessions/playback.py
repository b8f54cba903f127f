"""Playback that advances by itself, exactly once (API.md section 10).

Every change of a session starts with `lock`, one UPDATE that bumps its revision: PostgreSQL
holds the row lock and SQLite the write lock until the commit, so changes of one session happen
one after another on every process. Advancing checks, under that lock, that the item it was
asked to end is still the one playing: a duplicate task, a second worker, two beats or a sweep
racing the scheduled task find another item playing and change nothing.
"""

import logging
from datetime import timedelta

import sqlalchemy as sa

from seda.common.db import utcnow
from seda.common.tasks import enqueue_at
from seda.extensions import db
from seda.sessions import notify
from seda.sessions.models import ItemState, ListeningSession, QueueItem, SessionStatus
from seda.sessions.payloads import now_playing_payload

log = logging.getLogger(__name__)
ADVANCE_TASK = "sessions.advance"
# A task that runs this early (clocks of two hosts disagree) is queued again for `endsAt`.
EARLY_TOLERANCE = timedelta(milliseconds=50)


def lock(*where):
    """The ACTIVE session matching `where`, locked until the commit; None when there is none."""
    return db.session.scalars(
        sa.update(ListeningSession)
        .where(*where, ListeningSession.status == SessionStatus.ACTIVE)
        .values(revision=ListeningSession.revision + 1)
        .returning(ListeningSession),
        execution_options={"populate_existing": True},
    ).first()


def play(session, item, now):
    """Start `item` now (the session is locked and nothing is playing)."""
    item.state, item.started_at = ItemState.PLAYING, now
    session.playing_item_id, session.started_at = item.id, now
    session.ends_at = now + timedelta(seconds=item.duration) if item.duration else None


def finish_playing(session, now, state):
    """End the playing item as PLAYED or SKIPPED and start the next one waiting, if any."""
    if session.playing_item_id is not None:
        db.session.execute(
            sa.update(QueueItem)
            .where(QueueItem.id == session.playing_item_id, QueueItem.state == ItemState.PLAYING)
            .values(state=state, ended_at=now)
        )
    following = db.session.scalar(
        sa.select(QueueItem)
        .where(QueueItem.session_id == session.id, QueueItem.state == ItemState.QUEUED)
        .order_by(QueueItem.position)
        .limit(1)
    )
    if following is None:
        session.playing_item_id = session.started_at = session.ends_at = None
    else:
        play(session, following, now)


def announce(session):
    """After the commit that changed what plays: tell the room, and schedule the next advance."""
    notify.now_playing(now_playing_payload(session))
    schedule(session)


def schedule(session):
    if session.ends_at is not None:
        enqueue_at(ADVANCE_TASK, session.ends_at, str(session.id), str(session.playing_item_id))


def advance_when_due(session_id, item_id):
    """The scheduled task: end `item_id` if it is still playing and its time is up."""
    session = lock(ListeningSession.id == session_id)
    if session is None or session.playing_item_id != item_id or session.ends_at is None:
        db.session.rollback()
        return False
    now = utcnow()
    if session.ends_at - now > EARLY_TOLERANCE:
        db.session.rollback()
        schedule(session)
        return False
    finish_playing(session, now, ItemState.PLAYED)
    db.session.commit()
    announce(session)
    return True


def sweep():
    """The backstop: advance every session whose playing item is past its end (a worker that
    died holding the scheduled task, a broker that was down)."""
    due = db.session.execute(
        sa.select(ListeningSession.id, ListeningSession.playing_item_id).where(
            ListeningSession.status == SessionStatus.ACTIVE, ListeningSession.ends_at <= utcnow()
        )
    ).all()
    db.session.rollback()
    advanced = 0
    for session_id, item_id in due:
        try:
            advanced += advance_when_due(session_id, item_id)
        except Exception:  # one session failing must not hold up the others
            db.session.rollback()
            log.exception("advancing listening session %s failed", session_id)
    return advanced
