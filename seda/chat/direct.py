"""Direct conversations: exactly two people, opened by either, closed to writing while either
blocks the other."""

import sqlalchemy as sa

from seda.chat.access import find_membership
from seda.chat.memberships import add_membership, other_person
from seda.chat.models import MemberRole, Room, RoomMembership, RoomType
from seda.chat.rooms import RoomView
from seda.common.db import parse_uuid
from seda.common.errors import Forbidden, ValidationFailed
from seda.extensions import db
from seda.users.blocks import CANNOT_MESSAGE, closed_between
from seda.users.services import get_user


def direct_room(user, other_user_id):
    """Get or create the DIRECT room of the caller and another user; True when created."""
    other = get_user(other_user_id)
    if other.id == user.id:
        raise ValidationFailed("userId: You cannot start a conversation with yourself.")
    if closed_between(user.id, other.id):
        raise Forbidden(CANNOT_MESSAGE)
    key = ":".join(sorted((str(user.id), str(other.id))))
    room = db.session.scalar(sa.select(Room).where(Room.direct_key == key))
    created = False
    if room is None:
        room = Room(
            name=f"{user.display_name} & {other.display_name}"[:100],
            type=RoomType.DIRECT,
            created_by=user.id,
            direct_key=key,
            member_count=2,
        )
        db.session.add(room)
        try:
            db.session.flush()
            db.session.add_all(
                [
                    RoomMembership(room_id=room.id, user_id=user.id, role=MemberRole.MEMBER),
                    RoomMembership(room_id=room.id, user_id=other.id, role=MemberRole.MEMBER),
                ]
            )
            db.session.commit()
            created = True
        except sa.exc.IntegrityError:
            # The other user opened the same conversation at the same moment.
            db.session.rollback()
            room = db.session.scalar(sa.select(Room).where(Room.direct_key == key))
    if not created and restore_direct_members(room):
        db.session.commit()
    return RoomView(room, find_membership(room.id, user.id), can_send=True), created


def restore_direct_members(room):
    """Bring back into a DIRECT room whichever of its two people left it (leaving only hides the
    conversation until it is used again); True when someone was added. The caller commits."""
    if room.member_count >= 2:
        return False
    present = set(db.session.scalars(sa.select(RoomMembership.user_id).where(RoomMembership.room_id == room.id)))
    missing = [uuid for uuid in map(parse_uuid, room.direct_key.split(":")) if uuid not in present]
    for user_id in missing:
        add_membership(room, user_id, MemberRole.MEMBER)
    return bool(missing)


def refuse_if_blocked(user, room):
    """In a DIRECT room, writing (messages, edits, reactions) stops while either blocks the other."""
    if room.type == RoomType.DIRECT and closed_between(user.id, other_person(room, user.id)):
        raise Forbidden(CANNOT_MESSAGE)


def refuse_typing_if_blocked(user, room_id):
    """Typing in a DIRECT room is writing too: refused while either person blocks the other."""
    room = db.session.get(Room, parse_uuid(room_id))
    if room is not None:
        refuse_if_blocked(user, room)
