"""Chat's real-time events, each one emitted through `seda.realtime.emits` after commit."""

from seda.chat import hooks
from seda.realtime.emits import to_room, to_room_later, to_user
from seda.realtime.presence import presence_store

PRESENCE_COUNT_INTERVAL_SECONDS = 1.0


def read_updated(user_id, room_id, message_id, unread_count):
    """The user's read marker moved: every device of theirs updates the room's unread count."""
    to_user(
        user_id, "read_updated", {"roomId": str(room_id), "messageId": str(message_id), "unreadCount": unread_count}
    )


def message_created(message):
    to_room(message["roomId"], "message_created", message)


def message_updated(message):
    to_room(message["roomId"], "message_updated", message)


def message_deleted(room_id, message_id):
    to_room(room_id, "message_deleted", str(message_id), str(room_id))


def reactions_cleared(room_id, message_id):
    to_room(room_id, "reactions_cleared", str(message_id), str(room_id))


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


def presence_changed(room_id, user_id, online, large_room):
    """A user's first socket came into the room, or their last one left. In a large room, one
    `presence` per change would be a storm of its own: its members get `presence_count` instead,
    at most once a second (across processes) while the count changes, sent a second after the
    first change so that it carries every change of that second."""
    hooks.presence_changed(room_id)
    if not large_room:
        to_room(room_id, "presence", str(room_id), str(user_id), online)
        return
    store, room_id = presence_store(), str(room_id)
    if store.claim_count_slot(room_id, PRESENCE_COUNT_INTERVAL_SECONDS):
        to_room_later(
            PRESENCE_COUNT_INTERVAL_SECONDS,
            room_id,
            "presence_count",
            lambda: {"roomId": room_id, "online": store.room_online_count(room_id)},
        )
