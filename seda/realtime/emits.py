"""The one way a change reaches sockets: services call it after commit, from REST handlers,
socket handlers and Celery tasks alike. With a Redis message queue every emit reaches the
sockets of every process; payloads are built once per change, not per recipient.

Each user's sockets share a private channel (`user:<id>`) and a room's subscribers the room's
channel (`room:<id>`); features name their own events and never touch Socket.IO themselves.
"""

from seda.common.after_ack import after_ack
from seda.extensions import socketio
from seda.realtime.presence import presence_store

NAMESPACE = "/chat"
LAST_WORD_SECONDS = 0.5  # well within the 2 s a revoked device's sockets have to be gone


def room_channel(room_id):
    return f"room:{room_id}"


def user_channel(user_id):
    return f"user:{user_id}"


def device_group(device_id):
    """The presence group of the sockets opened with one device's tokens (joined like a room)."""
    return f"device:{device_id}"


def to_room(room_id, event, *args, skip_sid=None):
    after_ack(socketio.emit, event, _payload(args), to=room_channel(room_id), namespace=NAMESPACE, skip_sid=skip_sid)


def to_user(user_id, event, *args):
    after_ack(socketio.emit, event, _payload(args), to=user_channel(user_id), namespace=NAMESPACE)


def to_room_later(seconds, room_id, event, payload_of):
    """Emit `event` to the room after `seconds`, with the payload `payload_of()` gives then
    (a background greenlet: the caller does not wait)."""

    def emit_later():
        socketio.sleep(seconds)
        to_room(room_id, event, payload_of())

    socketio.start_background_task(emit_later)


def _payload(args):
    """One argument goes as itself; several as the event's argument list."""
    return args if len(args) != 1 else args[0]


def remove_user_from_room(room_id, user_id):
    """Unsubscribe every socket of `user_id` from the room, on whichever process holds it.

    Every socket the user has connected, not only those recorded as joined: a socket must not
    stay subscribed because the room bookkeeping missed it."""
    for sid in presence_store().user_sids(user_id):
        socketio.server.leave_room(sid, room_channel(room_id), namespace=NAMESPACE)


def disconnect_user(user_id):
    """Close every socket of `user_id` on every process (account banned)."""
    for sid in presence_store().user_sids(user_id):
        socketio.server.disconnect(sid, namespace=NAMESPACE)


def last_word_to_user(user_id, event, payload):
    """Send `event` to every socket `user_id` has now, then close them, on every process (a
    socket opened after this call, with a new token, is left alone)."""
    _last_word(presence_store().user_sids(user_id), event, payload)


def last_word_to_device(user_id, device_id, event, payload):
    """Send `event` to the sockets opened with a device's tokens, then close them, on every process."""
    _last_word(presence_store().room_sids(device_group(device_id), user_id), event, payload)


def _last_word(sids, event, payload):
    for sid in sids:
        after_ack(socketio.emit, event, payload, to=sid, namespace=NAMESPACE)
    _disconnect_later(sids)


def _disconnect_later(sids):
    """A broadcast reaches even this process's sockets through the message queue, while a
    disconnect of a local socket is immediate: the disconnect waits a moment (a background
    task), so the last word arrives first."""

    def disconnect_later():
        socketio.sleep(LAST_WORD_SECONDS)
        for sid in sids:
            socketio.server.disconnect(sid, namespace=NAMESPACE)

    socketio.start_background_task(disconnect_later)
