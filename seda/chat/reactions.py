"""Reactions: adding one (at most 20 different emoji a message), removing one, and clearing a
message's (moderation)."""

import sqlalchemy as sa

from seda.chat import history, notify
from seda.chat.access import find_message
from seda.chat.direct import refuse_if_blocked
from seda.chat.messages import refuse_if_muted
from seda.chat.models import Message, Reaction
from seda.chat.payloads import serialize_reaction
from seda.common import audit
from seda.common.errors import Conflict, Forbidden, NotFound
from seda.extensions import db

MAX_DISTINCT_EMOJI = 20


def add_reaction(user, message_id, emoji):
    """React to a message; returns (reaction, created)."""
    message, room, membership = find_message(user, message_id)
    if membership is None:
        raise Forbidden("Join the room first")
    refuse_if_muted(user, room.id)
    refuse_if_blocked(user, room)
    history.record_change(room.id)
    # Reactions to one message take turns (a row lock on PostgreSQL), so two new emoji at once
    # cannot both pass the distinct-emoji cap.
    db.session.execute(sa.select(Message.id).where(Message.id == message.id).with_for_update())
    existing = _find_reaction(message.id, user.id, emoji)
    if existing is not None:
        db.session.commit()  # ends the transaction and its lock; nothing was written
        return existing, False
    distinct = set(db.session.scalars(sa.select(Reaction.emoji).where(Reaction.message_id == message.id)))
    if emoji not in distinct and len(distinct) >= MAX_DISTINCT_EMOJI:
        raise Conflict(f"A message can carry at most {MAX_DISTINCT_EMOJI} different emoji")
    reaction = Reaction(message_id=message.id, user_id=user.id, emoji=emoji)
    db.session.add(reaction)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the same reaction from another tab, a moment earlier
        db.session.rollback()
        return _find_reaction(message.id, user.id, emoji), False
    notify.reaction_added(room.id, serialize_reaction(reaction))
    return reaction, True


def _find_reaction(message_id, user_id, emoji):
    return db.session.scalar(
        sa.select(Reaction).where(
            Reaction.message_id == message_id, Reaction.user_id == user_id, Reaction.emoji == emoji
        )
    )


def clear_reactions(message, admin=None):
    """Remove every reaction of a message and tell the room (`admin`: the audit Actor)."""
    history.record_change(message.room_id)
    db.session.execute(sa.delete(Reaction).where(Reaction.message_id == message.id))
    if admin is not None:
        audit.record(admin, "message.clear_reactions", "message", message.id, {"roomId": str(message.room_id)})
    db.session.commit()
    notify.reactions_cleared(message.room_id, message.id)


def remove_reaction(user, message_id, emoji):
    message, room, _membership = find_message(user, message_id)
    refuse_if_muted(user, room.id)
    reaction = _find_reaction(message.id, user.id, emoji)
    if reaction is None:
        raise NotFound("Reaction not found")
    history.record_change(room.id)
    db.session.delete(reaction)
    db.session.commit()
    notify.reaction_removed(room.id, message.id, user.id, emoji)
