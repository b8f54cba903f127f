"""Listening session payloads in the contract's shapes (API.md section 10)."""

import sqlalchemy as sa

from seda.chat.payloads import user_ref_of
from seda.common.db import iso_utc, utcnow
from seda.extensions import db
from seda.realtime.presence import presence_store
from seda.sessions.models import ItemState, QueueItem, SkipVote


def item_payload(item):
    return {
        "id": str(item.id),
        "trackRef": item.track_ref,
        "addedBy": user_ref_of(item.adder),
        "addedAt": iso_utc(item.added_at),
    }


def history_payload(item):
    return {
        **item_payload(item),
        "startedAt": iso_utc(item.started_at),
        "endedAt": iso_utc(item.ended_at) if item.ended_at else None,
        "skipped": item.state == ItemState.SKIPPED,
    }


def skip_needed(room_id):
    """More than half of the members online in the room (at least one vote)."""
    return presence_store().room_online_count(room_id) // 2 + 1


def live_items(session_id):
    """The playing item (or None) and the waiting ones in play order."""
    items = db.session.scalars(
        sa.select(QueueItem)
        .where(QueueItem.session_id == session_id, QueueItem.state.in_((ItemState.PLAYING, ItemState.QUEUED)))
        .order_by(QueueItem.position)
    ).all()
    playing = next((item for item in items if item.state == ItemState.PLAYING), None)
    return playing, [item for item in items if item.state == ItemState.QUEUED]


def vote_count(item_id, voter_id=None):
    """Votes to skip `item_id`, and whether `voter_id` is among them."""
    votes, mine = db.session.execute(
        sa.select(sa.func.count(), count_if(SkipVote.user_id == voter_id)).where(SkipVote.item_id == item_id)
    ).one()
    return votes, bool(mine)


def count_if(condition):
    """How many rows of the group meet `condition` (0, not null, for none)."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def session_payload(session, viewer_id=None):
    """The Session; `myVote` is the viewer's (false in broadcasts, which have no viewer)."""
    playing, queue = live_items(session.id)
    votes, mine = vote_count(playing.id, viewer_id) if playing is not None else (0, False)
    return {
        "id": str(session.id),
        "roomId": str(session.room_id),
        "host": user_ref_of(session.host) if session.host is not None else None,
        "status": session.status.name,
        "nowPlaying": _now_playing(session, playing),
        "queue": [item_payload(item) for item in queue],
        "skipVotes": votes,
        "skipNeeded": skip_needed(session.room_id),
        "myVote": mine,
        "createdAt": iso_utc(session.created_at),
        "endedAt": iso_utc(session.ended_at) if session.ended_at else None,
        "serverTime": iso_utc(utcnow()),
    }


def now_playing_payload(session):
    playing, queue = live_items(session.id)
    return {
        "roomId": str(session.room_id),
        "sessionId": str(session.id),
        "item": item_payload(playing) if playing is not None else None,
        "startedAt": iso_utc(session.started_at) if playing is not None else None,
        "endsAt": iso_utc(session.ends_at) if session.ends_at else None,
        "serverTime": iso_utc(utcnow()),
        "queue": [item_payload(item) for item in queue],
    }


def queue_payload(session):
    _playing, queue = live_items(session.id)
    return {"roomId": str(session.room_id), "sessionId": str(session.id), "queue": [item_payload(i) for i in queue]}


def _now_playing(session, playing):
    if playing is None:
        return None
    return {
        **item_payload(playing),
        "startedAt": iso_utc(session.started_at),
        "endsAt": iso_utc(session.ends_at) if session.ends_at else None,
    }
