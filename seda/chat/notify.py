"""The one way a change reaches sockets: called by services after commit, from REST handlers,
socket handlers and Celery tasks alike. With a Redis message queue every emit reaches the
sockets of every process; serialised payloads are built once per change, not per recipient.
"""

from seda.chat.presence import presence_store
from seda.extensions import socketio

NAMESPACE = "/chat"


def room_channel(room_id):
    return f"room:{room_id}"


def user_channel(user_id):
    return f"user:{user_id}"


def to_room(room_id, event, *args, skip_sid=None):
    socketio.emit(event, args if len(args) != 1 else args[0], to=room_channel(room_id),
                  namespace=NAMESPACE, skip_sid=skip_sid)


def to_user(user_id, event, *args):
    socketio.emit(event, args if len(args) != 1 else args[0], to=user_channel(user_id), namespace=NAMESPACE)


def message_created(message):
    to_room(message["roomId"], "message_created", message)


def message_updated(message):
    to_room(message["roomId"], "message_updated", message)


def message_deleted(room_id, message_id):
    to_room(room_id, "message_deleted", str(message_id), str(room_id))


def reaction_added(room_id, reaction):
    to_room(room_id, "reaction_added", reaction)


def reaction_removed(room_id, message_id, user_id, emoji):
    to_room(room_id, "reaction_removed", str(message_id), str(user_id), emoji)


def user_joined(room_id, user_id, skip_sid=None):
    to_room(room_id, "user_joined", str(room_id), str(user_id), skip_sid=skip_sid)


def user_left(room_id, user_id, skip_sid=None):
    to_room(room_id, "user_left", str(room_id), str(user_id), skip_sid=skip_sid)


def user_muted(room_id, user_id, muted_until):
    to_room(room_id, "user_muted", str(room_id), str(user_id), muted_until)


def user_banned(room_id, user_id):
    """To the room, and to the banned user, whose sockets have just left it."""
    to_room(room_id, "user_banned", str(room_id), str(user_id))
    to_user(user_id, "user_banned", str(room_id), str(user_id))


def user_removed(room_id, user_id):
    """A kick: the room sees the member leave, and so does the removed user's own sockets."""
    to_room(room_id, "user_left", str(room_id), str(user_id))
    to_user(user_id, "user_left", str(room_id), str(user_id))


def user_typing(room_id, user_id, is_typing, skip_sid=None):
    to_room(room_id, "user_typing", str(room_id), str(user_id), is_typing, skip_sid=skip_sid)


def presence(room_id, user_id, online):
    to_room(room_id, "presence", str(room_id), str(user_id), online)


def remove_user_from_room(room_id, user_id):
    """Unsubscribe every socket of `user_id` from the room, on whichever process holds it."""
    for sid in presence_store().room_sids(room_id, user_id):
        socketio.server.leave_room(sid, room_channel(room_id), namespace=NAMESPACE)


def disconnect_user(user_id):
    """Close every socket of `user_id` on every process (account banned)."""
    for sid in presence_store().user_sids(user_id):
        socketio.server.disconnect(sid, namespace=NAMESPACE)
