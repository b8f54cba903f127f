"""Listening sessions: the rules of API.md section 10, free of HTTP and Socket.IO.

What plays and when it advances is `seda.sessions.playback`; this module is who may do what:
start, end, queue, remove, vote and skip, and what happens when the host leaves the room.
"""

import sqlalchemy as sa

from seda.chat import hooks
from seda.chat.access import is_moderator, member_room, visible_room
from seda.chat.cards import card_for
from seda.chat.models import MemberRole, Room, RoomMembership, RoomType
from seda.chat.senders import SENDER_STATE_UNCHANGED
from seda.common import audit
from seda.common.db import iso_utc, parse_uuid, utcnow
from seda.common.errors import Conflict, Forbidden, NotFound
from seda.common.pagination import keyset_page
from seda.extensions import db
from seda.sessions import notify
from seda.sessions.models import ItemState, ListeningSession, QueueItem, SessionStatus, SkipVote
from seda.sessions.payloads import (
    count_if,
    history_payload,
    item_payload,
    queue_payload,
    session_payload,
    skip_needed,
    vote_count,
)
from seda.sessions.playback import announce, finish_playing, lock, play
from seda.tracks.services import unfurl

QUEUE_MAX = 100
QUEUE_MAX_PER_MEMBER = 3
NO_SESSION = "No listening session in this room"


def start_session(user, room_id):
    """Start the room's session with the caller as host (members only; one ACTIVE per room)."""
    room, _membership = member_room(user, room_id)
    session = ListeningSession(room_id=room.id, host_id=user.id)
    db.session.add(session)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise Conflict("This room already has an active listening session") from None
    _set_active(room.id, session.id)
    db.session.commit()
    notify.session_started(session_payload(session))
    return session_payload(session, user.id)


def get_session(user, room_id):
    room, _membership = visible_room(user, room_id)
    return session_payload(_active(room.id), user.id)


def end_session(user, room_id, admin=None):
    """End the session (its host, the room's owner or moderators, or an admin)."""
    room, membership = visible_room(user, room_id)
    session = _locked(room.id)
    if session.host_id != user.id and not is_moderator(user, membership):
        raise Forbidden("Only the host or the room's owner or moderators may end the session")
    _end(session)
    if admin is not None:
        audit.record(admin, "session.end", "room", room.id, {"sessionId": str(session.id)})
    db.session.commit()
    notify.session_ended(room.id, session.id)


def add_to_queue(user, room_id, track_ref=None, url=None):
    """Queue a track (members only): a TrackRef the client chose, or a link seda unfurls."""
    room, _membership = member_room(user, room_id)
    room_uuid, user_uuid = room.id, user.id
    _active(room_uuid)  # first: no link is fetched for a room with nothing to queue into
    db.session.rollback()  # and no transaction stays open while one is
    track = _queued_track(track_ref, url)
    session = _locked(room_uuid)
    waiting, mine = db.session.execute(
        sa.select(sa.func.count(), count_if(QueueItem.added_by == user_uuid)).where(
            QueueItem.session_id == session.id, QueueItem.state == ItemState.QUEUED
        )
    ).one()
    if mine >= QUEUE_MAX_PER_MEMBER:
        raise Conflict(f"You already have {QUEUE_MAX_PER_MEMBER} tracks waiting in the queue")
    if waiting >= QUEUE_MAX:
        raise Conflict(f"The queue is full ({QUEUE_MAX} tracks)")
    item = QueueItem(
        session_id=session.id,
        room_id=room_uuid,
        position=session.revision,
        track_ref=track,
        track_url=track["url"],
        duration=track["duration"],
        added_by=user_uuid,
        added_at=utcnow(),
    )
    db.session.add(item)
    db.session.flush()
    starts_now = session.playing_item_id is None
    if starts_now:  # the queue had run dry: the new track plays at once
        play(session, item, item.added_at)
    db.session.commit()
    if starts_now:
        announce(session)
    else:
        notify.queue_updated(queue_payload(session))
    return item_payload(item)


def remove_item(user, room_id, item_id, admin=None):
    """Take an item out of the queue (its adder, the host, the room's owner or moderators, an
    admin); removing the playing item skips it."""
    room, membership = visible_room(user, room_id)
    session = _locked(room.id)
    item = _live_item(session, item_id)
    if user.id not in (item.added_by, session.host_id) and not is_moderator(user, membership):
        raise Forbidden("Only who added the track, the host or the room's owner or moderators may remove it")
    now = utcnow()
    playing = item.state == ItemState.PLAYING
    if playing:
        finish_playing(session, now, ItemState.SKIPPED)
    else:
        item.state, item.ended_at = ItemState.REMOVED, now
    if admin is not None:
        audit.record(admin, "session.remove_item", "room", room.id, {"sessionId": str(session.id), "itemId": item_id})
    db.session.commit()
    if playing:
        announce(session)
    else:
        notify.queue_updated(queue_payload(session))


def skip(user, room_id, admin=None, item_id=None):
    """The host, the room's owner or moderators and admins skip at once; other members vote.
    `item_id`: the item the caller means; once another plays, nothing changes (409), so that
    skips sent together for one track never skip the next ones (checked under the row lock)."""
    room, membership = member_room(user, room_id)
    session = _locked(room.id)
    if session.playing_item_id is None:
        raise Conflict("Nothing is playing")
    if item_id is not None and session.playing_item_id != item_id:
        raise Conflict("That track is no longer playing")
    if session.host_id == user.id or is_moderator(user, membership):
        finish_playing(session, utcnow(), ItemState.SKIPPED)
        if admin is not None:
            audit.record(admin, "session.skip", "room", room.id, {"sessionId": str(session.id)})
        db.session.commit()
        announce(session)
        return session_payload(session, user.id)
    already = db.session.get(SkipVote, (session.playing_item_id, user.id))
    if already is None:
        db.session.add(SkipVote(item_id=session.playing_item_id, user_id=user.id))
        db.session.flush()
        _count_votes(session)
    else:
        db.session.rollback()
    return session_payload(session, user.id)


def history(user, room_id, limit, cursor=None):
    """What the room's sessions played, most recent first."""
    room, _membership = visible_room(user, room_id)
    _active(room.id)
    items, next_cursor = keyset_page(
        sa.select(QueueItem).where(QueueItem.room_id == room.id, QueueItem.started_at.is_not(None)),
        (QueueItem.started_at,),
        QueueItem.id,
        cursor,
        limit,
        anchor_where=(QueueItem.room_id == room.id, QueueItem.started_at.is_not(None)),
    )
    return [history_payload(item) for item in items], next_cursor


# -- what chat tells us (seda.chat.hooks) -----------------------------------------------------


@hooks.provide_session_view
def session_for_join(user, room_id):
    """The `session` of a `join_room` ack."""
    try:
        return get_session(user, room_id)
    except NotFound:
        return None


@hooks.on_presence_change
def recount_votes(room_id):
    """The skip threshold follows the members online: a leaver can make the votes enough."""
    room_id = parse_uuid(room_id)
    session_id = db.session.scalar(
        sa.select(ListeningSession.id)
        .join(SkipVote, SkipVote.item_id == ListeningSession.playing_item_id)
        .where(ListeningSession.room_id == room_id, ListeningSession.status == SessionStatus.ACTIVE)
        .limit(1)
    )
    db.session.rollback()
    if session_id is None:
        return
    session = lock(ListeningSession.id == session_id)
    if session is None or session.playing_item_id is None:
        db.session.rollback()
        return
    _count_votes(session)


@hooks.on_member_gone
def replace_departed_host(room_id, user_id):
    """The room's owner, else its longest-standing moderator, hosts in place of a host who left;
    with neither, the session ends."""
    session = lock(ListeningSession.room_id == room_id, ListeningSession.host_id == user_id)
    if session is None:
        db.session.rollback()
        return
    successor = db.session.scalar(
        sa.select(RoomMembership.user_id)
        .where(
            RoomMembership.room_id == room_id,
            RoomMembership.user_id != user_id,
            RoomMembership.role.in_((MemberRole.OWNER, MemberRole.MODERATOR)),
        )
        .order_by(sa.case((RoomMembership.role == MemberRole.OWNER, 0), else_=1), RoomMembership.joined_at)
        .limit(1)
    )
    if successor is None:
        _end(session)
        db.session.commit()
        notify.session_ended(room_id, session.id)
        return
    session.host_id = successor
    db.session.commit()
    notify.session_updated(session_payload(session))


@hooks.add_share_source
def played_tracks(since):
    """Tracks played in public rooms count as shares for `GET /tracks/popular`."""
    return (
        sa.select(
            QueueItem.track_url.label("url"),
            QueueItem.started_at.label("shared_at"),
            QueueItem.track_ref.label("track_ref"),
        )
        .join(Room, Room.id == QueueItem.room_id)
        .where(QueueItem.started_at >= since, Room.type == RoomType.PUBLIC)
    )


# -- helpers ----------------------------------------------------------------------------------


def _active(room_id):
    """The room's ACTIVE session, read without its lock; NotFound when there is none."""
    session = db.session.scalar(
        sa.select(ListeningSession).where(
            ListeningSession.room_id == room_id, ListeningSession.status == SessionStatus.ACTIVE
        )
    )
    if session is None:
        raise NotFound(NO_SESSION)
    return session


def _locked(room_id):
    session = lock(ListeningSession.room_id == room_id)
    if session is None:
        db.session.rollback()
        raise NotFound(NO_SESSION)
    return session


def _live_item(session, item_id):
    uuid = parse_uuid(item_id)
    item = (
        db.session.scalar(
            sa.select(QueueItem).where(
                QueueItem.id == uuid,
                QueueItem.session_id == session.id,
                QueueItem.state.in_((ItemState.QUEUED, ItemState.PLAYING)),
            )
        )
        if uuid
        else None
    )
    if item is None:
        raise NotFound("Queue item not found")
    return item


def _count_votes(session):
    """Within the session's lock: skip when the votes are enough, else tell the room the count."""
    votes, _mine = vote_count(session.playing_item_id)
    needed = skip_needed(session.room_id)
    if votes >= needed:
        finish_playing(session, utcnow(), ItemState.SKIPPED)
        db.session.commit()
        announce(session)
        return
    item_id = session.playing_item_id
    db.session.commit()
    notify.skip_votes(session.room_id, session.id, item_id, votes, needed)


def _end(session):
    now = utcnow()
    if session.playing_item_id is not None:
        db.session.execute(
            sa.update(QueueItem)
            .where(QueueItem.id == session.playing_item_id, QueueItem.state == ItemState.PLAYING)
            .values(state=ItemState.PLAYED, ended_at=now)
        )
    session.status, session.ended_at = SessionStatus.ENDED, now
    session.playing_item_id = session.started_at = session.ends_at = None
    _set_active(session.room_id, None)


def _set_active(room_id, session_id):
    db.session.execute(
        sa.update(Room)
        .where(Room.id == room_id)
        .values(active_session_id=session_id)
        .execution_options(**{SENDER_STATE_UNCHANGED: True})  # nothing a send checks
    )


def _queued_track(track_ref, url):
    """The TrackRef to queue: seda's unfurl of the link; for a TrackRef the client chose, its
    link must be a supported one, and details seda has not unfurled yet are the client's."""
    if url is not None:
        return unfurl(url)
    known, link_url = card_for(track_ref)
    if known.get("title") is not None:
        return {**known, "duration": known.get("duration") or track_ref.get("duration")}
    return {
        **known,
        "url": link_url,
        "title": track_ref.get("title"),
        "artist": track_ref.get("artist"),
        "artwork": track_ref.get("artwork"),
        "duration": track_ref.get("duration"),
    }


def now_playing(room_id):
    """What the room's ACTIVE session plays now, `{trackRef, startedAt, endsAt}`, or None (an
    invite's preview shows it to people outside the room)."""
    row = db.session.execute(
        sa.select(QueueItem.track_ref, ListeningSession.started_at, ListeningSession.ends_at)
        .join(QueueItem, QueueItem.id == ListeningSession.playing_item_id)
        .where(ListeningSession.room_id == room_id, ListeningSession.status == SessionStatus.ACTIVE)
        .limit(1)
    ).first()
    if row is None:
        return None
    return {
        "trackRef": row.track_ref,
        "startedAt": iso_utc(row.started_at) if row.started_at else None,
        "endsAt": iso_utc(row.ends_at) if row.ends_at else None,
    }
