"""How a feature above chat follows a room's life without chat knowing it (API.md section 10: a
listening session's host, its skip threshold, the `join_room` ack and the shares of popular
tracks). Chat calls these; the feature registers its listener when its package is imported."""

import logging
import threading

from flask import current_app

from seda.common.after_ack import after_ack
from seda.extensions import db, socketio

log = logging.getLogger(__name__)

_session_views = []
_presence_listeners = []
_departure_listeners = []
_share_sources = []
PRESENCE_SETTLE_SECONDS = 1.0
_settling: set[str] = set()
_settling_lock = threading.Lock()


def provide_session_view(view):
    """`view(user, room_id)`: the room's active listening session as `user` sees it, or None."""
    _session_views.append(view)
    return view


def session_view(user, room_id):
    for view in _session_views:
        session = view(user, room_id)
        if session is not None:
            return session
    return None


def on_presence_change(listener):
    """`listener(room_id)` about a second after users' first sockets joined the room or their last
    ones left (once for all the changes of that second)."""
    _presence_listeners.append(listener)
    return listener


def presence_changed(room_id):
    """Tell the listeners, a second after the first change of a room's presence: a storm of a
    thousand joins costs each process one call per room and second, not a thousand, and that
    call sees every change of the second."""
    if not _presence_listeners:
        return
    room_id = str(room_id)
    with _settling_lock:
        if room_id in _settling:
            return
        _settling.add(room_id)
    socketio.start_background_task(_settle_presence, current_app._get_current_object(), room_id)


def _settle_presence(app, room_id):
    socketio.sleep(PRESENCE_SETTLE_SECONDS)
    with _settling_lock:
        _settling.discard(room_id)
    with app.app_context():
        for listener in _presence_listeners:
            _tolerant(listener)(room_id)


def on_member_gone(listener):
    """`listener(room_id, user_id)` after a member left the room or was removed from it (committed)."""
    _departure_listeners.append(listener)
    return listener


def member_gone(room_id, user_id):
    for listener in _departure_listeners:
        after_ack(_tolerant(listener), room_id, user_id)


def add_share_source(source):
    """`source(since)`: a select of (url, shared_at, track_ref) of tracks shared in public rooms
    since `since`, counted with the track cards of messages by `GET /tracks/popular`."""
    _share_sources.append(source)
    return source


def share_sources(since):
    return [source(since) for source in _share_sources]


def _tolerant(listener):
    """A listener's failure is logged: the join, leave or disconnect that caused it goes on."""

    def run(*args):
        try:
            listener(*args)
        except Exception:
            log.exception("room hook %s failed", listener.__name__)
            db.session.rollback()

    return run
