"""Listening session events (API.md sections 4 and 10), emitted to the room after commit."""

from seda.realtime.emits import to_room


def session_started(session):
    to_room(session["roomId"], "session_started", session)


def session_updated(session):
    to_room(session["roomId"], "session_updated", session)


def session_ended(room_id, session_id):
    to_room(room_id, "session_ended", str(room_id), str(session_id))


def now_playing(payload):
    to_room(payload["roomId"], "now_playing", payload)


def queue_updated(payload):
    to_room(payload["roomId"], "queue_updated", payload)


def skip_votes(room_id, session_id, item_id, votes, needed):
    to_room(
        room_id,
        "skip_votes",
        {
            "roomId": str(room_id),
            "sessionId": str(session_id),
            "itemId": str(item_id),
            "votes": votes,
            "needed": needed,
        },
    )
