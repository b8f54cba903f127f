"""Rooms: creating, finding, changing, joining and leaving them, and read markers; free of HTTP
and Socket.IO. Members and their sanctions are chat/members.py, direct conversations chat/direct.py."""

from dataclasses import dataclass

import sqlalchemy as sa

from seda.chat import hooks, notify
from seda.chat.access import find_membership, member_room, moderated_room, visible_room
from seda.chat.memberships import add_membership, other_person, refuse_banned, remove_membership
from seda.chat.models import (
    MemberRole,
    Message,
    Room,
    RoomMembership,
    RoomType,
)
from seda.chat.senders import SENDER_STATE_UNCHANGED
from seda.common.db import escape_like, parse_uuid
from seda.common.errors import Forbidden, NotFound
from seda.common.pagination import keyset_page
from seda.extensions import db
from seda.realtime import emits
from seda.users.blocks import cannot_message


@dataclass
class RoomView:
    """A room as one caller sees it (their role and unread count; for a DIRECT room, whether
    they may write in it: not while either person blocks the other)."""

    room: Room
    membership: RoomMembership | None
    can_send: bool | None = None

    def __getattr__(self, name):
        return getattr(self.room, name)

    @property
    def my_role(self):
        return self.membership.role if self.membership else None

    @property
    def unread_count(self):
        if self.membership is None:
            return 0
        return max(0, self.room.last_seq - self.membership.last_read_seq)


def create_room(user, name, description=None, is_private=False, slow_mode_seconds=0):
    room = Room(
        name=name,
        description=description,
        type=RoomType.PRIVATE if is_private else RoomType.PUBLIC,
        created_by=user.id,
        slow_mode_seconds=slow_mode_seconds,
        member_count=1,
    )
    db.session.add(room)
    db.session.flush()
    membership = RoomMembership(room_id=room.id, user_id=user.id, role=MemberRole.OWNER)
    db.session.add(membership)
    db.session.commit()
    return RoomView(room, membership)


def get_room(user, room_id):
    return _with_can_send(user, [RoomView(*visible_room(user, room_id))])[0]


def _with_can_send(user, views):
    """Fill `can_send` on the DIRECT rooms among `views` (one query for all of them)."""
    direct = [view for view in views if view.room.type == RoomType.DIRECT]
    if direct:
        blocked = cannot_message(user.id, [other_person(view.room, user.id) for view in direct])
        for view in direct:
            view.can_send = other_person(view.room, user.id) not in blocked
    return views


def update_room(user, room_id, changes):
    room, membership = moderated_room(user, room_id)
    if room.type == RoomType.DIRECT:
        raise Forbidden("Direct conversations cannot be changed")
    for key, column in (("name", "name"), ("description", "description"), ("slowModeSeconds", "slow_mode_seconds")):
        if key in changes:
            setattr(room, column, changes[key])
    db.session.commit()
    return RoomView(room, membership)


def delete_room(user, room_id):
    room, membership = visible_room(user, room_id)
    if not user.role.is_admin and (membership is None or membership.role != MemberRole.OWNER):
        raise Forbidden("Only the room's owner may delete it")
    db.session.delete(room)
    db.session.commit()


def list_rooms(user, scope, limit, cursor=None, q=None):
    """Joined rooms by latest activity, or public rooms by member count; keyset pages by id."""
    if scope == "joined":
        activity = sa.func.coalesce(Room.last_message_at, Room.created_at)
        query = sa.select(Room, RoomMembership).join(
            RoomMembership, sa.and_(RoomMembership.room_id == Room.id, RoomMembership.user_id == user.id)
        )
        order = activity
    else:
        query = (
            sa.select(Room, RoomMembership)
            .outerjoin(RoomMembership, sa.and_(RoomMembership.room_id == Room.id, RoomMembership.user_id == user.id))
            .where(Room.type == RoomType.PUBLIC)
        )
        order = Room.member_count
    if q:
        query = query.where(Room.name.ilike(f"%{escape_like(q)}%", escape="\\"))
    rows, next_cursor = keyset_page(query, (order,), Room.id, cursor, limit, cursor_of=lambda row: row[0].id)
    return _with_can_send(user, [RoomView(room, membership) for room, membership in rows]), next_cursor


def join_room(user, room_id):
    """Join a public room (idempotent). Private rooms are joined by being added."""
    room, membership = visible_room(user, room_id)
    if membership is not None:
        return RoomView(room, membership), False
    if room.type != RoomType.PUBLIC:
        raise NotFound("Room not found")
    refuse_banned(room.id, user.id)
    membership = add_membership(room, user.id, MemberRole.MEMBER)
    db.session.commit()
    notify.user_joined(room.id, user.id)
    return RoomView(room, membership), True


def admit(user, room):
    """Make `user` a MEMBER of `room`, private or public, as an invitation lets them (in the
    caller's transaction): (RoomView, True), or (RoomView, False) when they already are one.
    Banned from the room → 403. After the commit, admitted() tells the room."""
    membership = find_membership(room.id, user.id)
    if membership is not None:
        return RoomView(room, membership), False
    refuse_banned(room.id, user.id)
    return RoomView(room, add_membership(room, user.id, MemberRole.MEMBER)), True


def admitted(room_id, user_id):
    notify.user_joined(room_id, user_id)


def leave_room(user, room_id):
    room, membership = visible_room(user, room_id)
    if membership is None:
        return
    if membership.role == MemberRole.OWNER:
        _hand_over_ownership(room, user.id)
    remove_membership(room, membership)
    db.session.commit()
    emits.remove_user_from_room(room.id, user.id)
    notify.user_left(room.id, user.id)
    hooks.member_gone(room.id, user.id)


def leave_every_room(user_id):
    """Take `user_id` out of every room, as leave_room does each (ownership passes on; a DIRECT
    conversation stays for the other person), in the caller's transaction. Returns the rooms'
    ids, for left_rooms once it commits."""
    rows = db.session.execute(
        sa.select(Room, RoomMembership)
        .join(RoomMembership, RoomMembership.room_id == Room.id)
        .where(RoomMembership.user_id == user_id)
    ).all()
    for room, membership in rows:
        if membership.role == MemberRole.OWNER:
            _hand_over_ownership(room, user_id)
        remove_membership(room, membership)
    return [room.id for room, _ in rows]


def left_rooms(user_id, room_ids):
    """After the commit of leave_every_room: the rooms hear `user_left`, and what follows them
    (a listening session's host) moves on."""
    for room_id in room_ids:
        emits.remove_user_from_room(room_id, user_id)
        notify.user_left(room_id, user_id)
        hooks.member_gone(room_id, user_id)


def _hand_over_ownership(room, owner_id):
    successor = db.session.scalar(
        sa.select(RoomMembership)
        .where(RoomMembership.room_id == room.id, RoomMembership.user_id != owner_id)
        .order_by(
            sa.case((RoomMembership.role == MemberRole.MODERATOR, 0), else_=1),
            RoomMembership.joined_at,
            RoomMembership.id,
        )
        .limit(1)
    )
    if successor is not None:
        successor.role = MemberRole.OWNER


def mark_read(user, room_id, message_id):
    """Move the caller's read marker forward to `message_id` (never back)."""
    room, membership = member_room(user, room_id)
    if membership is None:
        raise Forbidden("Join the room first")
    message_uuid = parse_uuid(message_id)
    seq = (
        db.session.scalar(sa.select(Message.seq).where(Message.id == message_uuid, Message.room_id == room.id))
        if message_uuid
        else None
    )
    if seq is None:
        raise NotFound("Message not found")
    moved = db.session.execute(
        sa.update(RoomMembership)
        .where(RoomMembership.id == membership.id, RoomMembership.last_read_seq < seq)
        .values(last_read_seq=seq)
        .execution_options(**{SENDER_STATE_UNCHANGED: True})
    ).rowcount
    db.session.commit()
    if moved:  # the user's other devices follow (a marker that did not move says nothing)
        notify.read_updated(user.id, room.id, message_uuid, max(0, room.last_seq - seq))
