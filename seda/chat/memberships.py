"""What every change of a room's members shares: adding and removing a membership with the room's
count, the bans that refuse one, and the two people of a direct conversation."""

import sqlalchemy as sa

from seda.chat.models import Room, RoomBan, RoomMembership
from seda.chat.senders import SENDER_STATE_UNCHANGED
from seda.common.db import parse_uuid
from seda.common.errors import Forbidden, NotFound
from seda.extensions import db


def other_person(room, user_id):
    """The other one of a DIRECT room's two people."""
    first, second = (parse_uuid(part) for part in room.direct_key.split(":"))
    return second if first == user_id else first


def add_membership(room, user_id, role):
    membership = RoomMembership(room_id=room.id, user_id=user_id, role=role, last_read_seq=room.last_seq)
    db.session.add(membership)
    db.session.execute(_member_count_moved(room, +1))
    return membership


def remove_membership(room, membership):
    db.session.delete(membership)
    db.session.execute(_member_count_moved(room, -1))


def _member_count_moved(room, by):
    # The membership added or removed moves its sender's counter (chat/senders.py); the count
    # itself is nothing a sender's check reads.
    return (
        sa.update(Room)
        .where(Room.id == room.id)
        .values(member_count=Room.member_count + by)
        .execution_options(**{SENDER_STATE_UNCHANGED: True})
    )


def refuse_banned(room_id, user_id, message="You are banned from this room"):
    banned = db.session.scalar(
        sa.select(sa.literal(True)).where(RoomBan.room_id == room_id, RoomBan.user_id == user_id)
    )
    if banned:
        raise Forbidden(message)


def user_uuid(user_id):
    value = parse_uuid(user_id)
    if value is None:
        raise NotFound("User not found")
    return value
