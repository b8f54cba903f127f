"""Who may see and do what in a room: the checks every chat service starts with."""

import sqlalchemy as sa
from flask import current_app

from seda.chat.models import MemberRole, Message, Room, RoomMembership, RoomMute, RoomType
from seda.common.batches import Batches
from seda.common.db import autocommit_connection, parse_uuid, utcnow
from seda.common.errors import Forbidden, NotFound, ServiceUnavailable
from seda.common.lookup import find_by_id
from seda.extensions import db

MODERATOR_ROLES = (MemberRole.OWNER, MemberRole.MODERATOR)


def find_membership(room_id, user_id):
    return db.session.scalar(
        sa.select(RoomMembership).where(RoomMembership.room_id == room_id, RoomMembership.user_id == user_id)
    )


def visible_room(user, room_id):
    """The room and the caller's membership; a private room hides from non-members (404).

    One round trip: every chat request and socket event starts here."""
    uuid = parse_uuid(room_id)
    row = None
    if uuid is not None:
        row = db.session.execute(_ROOM_AND_MEMBERSHIP, {"room_id": uuid, "user_id": user.id}).first()
    if row is None:
        raise NotFound("Room not found")
    room, membership = row
    _hide_from_outsiders(user, room.type, membership is not None)
    return room, membership


def member_room(user, room_id):
    """The room and the caller's membership, which must exist (admins may read any room)."""
    room, membership = visible_room(user, room_id)
    _refuse_non_member(user, membership is not None)
    return room, membership


def readable_room(connection, user, room_id):
    """member_room's checks as one Core row read on `connection`: the room's id, type and
    history state (last_seq, history_revision), for a reader that needs no ORM objects."""
    uuid = parse_uuid(room_id)
    row = None
    if uuid is not None:
        row = connection.execute(_READABLE_ROOM, {"room_id": uuid, "user_id": user.id}).first()
    if row is None:
        raise NotFound("Room not found")
    _hide_from_outsiders(user, row.type, row.is_member)
    _refuse_non_member(user, row.is_member)
    return row


class ReadableStates:
    """Rooms' history states for their members, read for the requests that arrive together in
    one statement: a kept history page (common/kept_responses.py) checks its room's state on
    each request, and under load one statement for many was most of the saving."""

    def __init__(self, engine):
        self._engine = engine
        self._batches = Batches(self._read, lambda: ServiceUnavailable("Room state not read, retry"))

    def read(self, room_id, user_id):
        """The room's (last_seq, history_revision) when the user is its member, else None."""
        return self._batches.submit(None, (room_id, user_id))

    def _read(self, _key, asked):
        rooms, users = list({room_id for room_id, _ in asked}), list({user_id for _, user_id in asked})
        try:
            with autocommit_connection(self._engine) as connection:
                rows = connection.execute(_READABLE_STATES, {"room_ids": rooms, "user_ids": users})
                states = {(row.id, row.user_id): (row.last_seq, row.history_revision) for row in rows}
        except Exception as error:  # each asker's answer goes through Flask instead
            return [(None, error)] * len(asked)
        return [(states.get(pair), None) for pair in asked]


def readable_states():
    """This app's ReadableStates (one per app: tests build many)."""
    states = current_app.extensions.get("seda_readable_states")
    if states is None:
        states = current_app.extensions["seda_readable_states"] = ReadableStates(db.engine)
    return states


def _refuse_non_member(user, is_member):
    if not is_member and not user.role.is_admin:
        raise Forbidden("Join the room first")


def _hide_from_outsiders(user, room_type, is_member):
    """A private or direct room does not exist for whoever is not in it (admins see every room)."""
    if not is_member and room_type != RoomType.PUBLIC and not user.role.is_admin:
        raise NotFound("Room not found")


def sender_row(connection, user, room_id):
    """member_room's checks for a send as one Core row on `connection`: the room's columns a
    send reads, the caller's membership (`membership_id`, `role`, `automod_memory`, None when not
    a member) and the end of their mute in the room (`muted_until`, None when not muted)."""
    row = connection.execute(_SENDER_ROW, {"room_id": room_id, "user_id": user.id, "now": utcnow()}).first()
    if row is None:
        raise NotFound("Room not found")
    is_member = row.membership_id is not None
    _hide_from_outsiders(user, row.type, is_member)
    _refuse_non_member(user, is_member)
    return row


def _room_statements():
    """Built once: building them per call cost as much CPU as running them (py-spy of a send)."""
    user_id = sa.bindparam("user_id", type_=RoomMembership.user_id.type)
    mute_end = (
        sa.select(RoomMute.muted_until)
        .where(
            RoomMute.room_id == Room.id,
            RoomMute.user_id == user_id,
            RoomMute.muted_until > sa.bindparam("now", type_=RoomMute.muted_until.type),
        )
        .scalar_subquery()
    )

    room_and_membership = (
        sa.select(Room, RoomMembership)
        # The member's user row is not needed here: joined, it was most of the statement's cost.
        .options(sa.orm.lazyload(RoomMembership.user))
        .outerjoin(RoomMembership, sa.and_(RoomMembership.room_id == Room.id, RoomMembership.user_id == user_id))
        .where(Room.id == sa.bindparam("room_id", type_=Room.id.type))
    )

    rooms, memberships = Room.__table__, RoomMembership.__table__
    readable = (
        sa.select(
            rooms.c.id,
            rooms.c.type,
            rooms.c.last_seq,
            rooms.c.history_revision,
            (memberships.c.id.is_not(None)).label("is_member"),
        )
        .outerjoin(memberships, sa.and_(memberships.c.room_id == rooms.c.id, memberships.c.user_id == user_id))
        .where(rooms.c.id == sa.bindparam("room_id", type_=rooms.c.id.type))
    )
    readable_states = (
        sa.select(rooms.c.id, rooms.c.last_seq, rooms.c.history_revision, memberships.c.user_id)
        .join(memberships, memberships.c.room_id == rooms.c.id)
        .where(
            rooms.c.id.in_(sa.bindparam("room_ids", expanding=True, type_=rooms.c.id.type)),
            memberships.c.user_id.in_(sa.bindparam("user_ids", expanding=True, type_=memberships.c.user_id.type)),
        )
    )
    sender = (
        sa.select(
            Room.id,
            Room.type,
            Room.slow_mode_seconds,
            Room.automod,
            Room.member_count,
            Room.direct_key,
            Room.last_seq,
            RoomMembership.id.label("membership_id"),
            RoomMembership.role,
            RoomMembership.automod_memory,
            mute_end.label("muted_until"),
        )
        .outerjoin(RoomMembership, sa.and_(RoomMembership.room_id == Room.id, RoomMembership.user_id == user_id))
        .where(Room.id == sa.bindparam("room_id", type_=Room.id.type))
    )
    return room_and_membership, sender, readable, readable_states


_ROOM_AND_MEMBERSHIP, _SENDER_ROW, _READABLE_ROOM, _READABLE_STATES = _room_statements()


def is_moderator(user, membership):
    return user.role.is_admin or (membership is not None and membership.role in MODERATOR_ROLES)


def moderated_room(user, room_id):
    room, membership = visible_room(user, room_id)
    if not is_moderator(user, membership):
        raise Forbidden("Only the room's owner or moderators may do this")
    return room, membership


def find_message(user, message_id):
    """A message the caller may see (deleted ones are gone), with its room and membership."""
    message = find_by_id(Message, message_id)
    if message is None or message.deleted_at is not None:
        raise NotFound("Message not found")
    try:
        room, membership = member_room(user, message.room_id)
    except (NotFound, Forbidden):
        raise NotFound("Message not found") from None
    return message, room, membership
