"""Rooms, membership and room moderation: the rules, free of HTTP and Socket.IO."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from seda.chat import notify
from seda.chat.access import find_membership, member_room, moderated_room, visible_room
from seda.chat.models import (
    MemberRole,
    Message,
    Room,
    RoomBan,
    RoomMembership,
    RoomMute,
    RoomType,
)
from seda.chat.senders import SENDER_STATE_UNCHANGED
from seda.common import audit, realtime, room_hooks
from seda.common.db import escape_like, iso_utc, parse_uuid, utcnow
from seda.common.errors import Forbidden, NotFound, ValidationFailed
from seda.common.pagination import keyset_page
from seda.common.presence import presence_store
from seda.extensions import db
from seda.users.blocks import CANNOT_MESSAGE, blocking_pairs, either_blocks
from seda.users.models import User
from seda.users.services import get_user


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


@dataclass
class Member:
    user: User
    role: MemberRole
    joined_at: object
    online: bool


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
        blocked = blocking_pairs(user.id, [other_person(view.room, user.id) for view in direct])
        for view in direct:
            view.can_send = other_person(view.room, user.id) not in blocked
    return views


def other_person(room, user_id):
    """The other one of a DIRECT room's two people."""
    first, second = (parse_uuid(part) for part in room.direct_key.split(":"))
    return second if first == user_id else first


def refuse_if_blocked(user, room):
    """In a DIRECT room, writing (messages, edits, reactions) stops while either blocks the other."""
    if room.type == RoomType.DIRECT and either_blocks(user.id, other_person(room, user.id)):
        raise Forbidden(CANNOT_MESSAGE)


def refuse_typing_if_blocked(user, room_id):
    """Typing in a DIRECT room is writing too: refused while either person blocks the other."""
    room = db.session.get(Room, parse_uuid(room_id))
    if room is not None:
        refuse_if_blocked(user, room)


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
    _refuse_banned(room.id, user.id)
    membership = _add_membership(room, user.id, MemberRole.MEMBER)
    db.session.commit()
    notify.user_joined(room.id, user.id)
    return RoomView(room, membership), True


def leave_room(user, room_id):
    room, membership = visible_room(user, room_id)
    if membership is None:
        return
    if membership.role == MemberRole.OWNER:
        _hand_over_ownership(room, user.id)
    _remove_membership(room, membership)
    db.session.commit()
    realtime.remove_user_from_room(room.id, user.id)
    notify.user_left(room.id, user.id)
    room_hooks.member_gone(room.id, user.id)


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


def list_members(user, room_id, limit, cursor=None):
    room, _ = member_room(user, room_id)
    page, next_cursor = keyset_page(
        sa.select(RoomMembership).where(RoomMembership.room_id == room.id),
        (RoomMembership.joined_at,),
        RoomMembership.user_id,
        cursor,
        limit,
        descending=False,
        anchor_where=(RoomMembership.room_id == room.id,),
        cursor_of=lambda membership: membership.user_id,
    )
    online = presence_store().online([m.user_id for m in page])
    return [Member(m.user, m.role, m.joined_at, str(m.user_id) in online) for m in page], next_cursor


def add_member(actor, room_id, user_id):
    room, _ = moderated_room(actor, room_id)
    if room.type == RoomType.DIRECT:
        raise Forbidden("Direct conversations have exactly two members")
    target = get_user(user_id)
    existing = find_membership(room.id, target.id)
    if existing is not None:
        return existing
    _refuse_banned(room.id, target.id, "This user is banned from the room")
    membership = _add_membership(room, target.id, MemberRole.MEMBER)
    db.session.commit()
    notify.user_joined(room.id, target.id)
    return membership


def set_member_role(actor, room_id, user_id, role):
    room, membership = visible_room(actor, room_id)
    if not actor.role.is_admin and (membership is None or membership.role != MemberRole.OWNER):
        raise Forbidden("Only the room's owner may change roles")
    target = _target_membership(room, user_id)
    if target.role == MemberRole.OWNER:
        raise Forbidden("The owner's role cannot be changed")
    target.role = MemberRole(role)
    db.session.commit()
    return target


def kick_member(actor, room_id, user_id):
    room, membership = moderated_room(actor, room_id)
    target = _target_membership(room, user_id)
    _refuse_unless_outranks(actor, membership, target)
    _remove_membership(room, target)
    db.session.commit()
    realtime.remove_user_from_room(room.id, target.user_id)
    notify.user_removed(room.id, target.user_id)
    room_hooks.member_gone(room.id, target.user_id)


def mute_member(actor, room_id, user_id, duration_seconds, reason=None, admin=None):
    """Mute a member for `duration_seconds` (`admin`: the audit Actor when an admin does it)."""
    room, membership = moderated_room(actor, room_id)
    target = _target_membership(room, user_id)
    _refuse_unless_outranks(actor, membership, target)
    muted_until = utcnow() + timedelta(seconds=duration_seconds)
    if admin is not None:  # written by apply_mute's commit, with the mute
        details = {"roomId": str(room.id), "mutedUntil": iso_utc(muted_until), "reason": reason}
        audit.record(admin, "room.mute", "user", target.user_id, details)
    mute = apply_mute(room.id, target.user_id, muted_until, reason, actor.id)
    notify.user_muted(room.id, target.user_id, iso_utc(mute.muted_until))
    return mute


def apply_mute(room_id, user_id, muted_until, reason, muted_by, keep_longer=False):
    """Mute a member until `muted_until` and commit (`keep_longer`: a later end already set stays)."""
    mute = db.session.scalar(sa.select(RoomMute).where(RoomMute.room_id == room_id, RoomMute.user_id == user_id))
    if mute is None:
        mute = RoomMute(room_id=room_id, user_id=user_id, muted_until=muted_until)
        db.session.add(mute)
    elif keep_longer and mute.muted_until > muted_until:
        return mute
    mute.muted_until, mute.reason, mute.muted_by = muted_until, reason, muted_by
    db.session.commit()
    return mute


def unmute_member(actor, room_id, user_id):
    _lift(RoomMute, actor, room_id, user_id)


def active_mute(room_id, user_id):
    return db.session.scalar(
        sa.select(RoomMute).where(
            RoomMute.room_id == room_id, RoomMute.user_id == user_id, RoomMute.muted_until > utcnow()
        )
    )


def ban_member(actor, room_id, user_id, reason=None):
    room, membership = moderated_room(actor, room_id)
    target_user = get_user(user_id)
    target = find_membership(room.id, target_user.id)
    if target is not None:
        _refuse_unless_outranks(actor, membership, target)
        _remove_membership(room, target)
    elif target_user.id == actor.id:
        raise Forbidden("You cannot ban yourself")
    ban = db.session.scalar(sa.select(RoomBan).where(RoomBan.room_id == room.id, RoomBan.user_id == target_user.id))
    if ban is None:
        ban = RoomBan(room_id=room.id, user_id=target_user.id)
        db.session.add(ban)
    ban.reason, ban.banned_by = reason, actor.id
    db.session.commit()
    realtime.remove_user_from_room(room.id, target_user.id)
    notify.user_banned(room.id, target_user.id)
    room_hooks.member_gone(room.id, target_user.id)
    return ban


def unban_member(actor, room_id, user_id):
    _lift(RoomBan, actor, room_id, user_id)


def _lift(sanction, actor, room_id, user_id):
    """End a member's mute or ban (`sanction` is RoomMute or RoomBan); nothing to end is fine."""
    room, _ = moderated_room(actor, room_id)
    db.session.execute(sa.delete(sanction).where(sanction.room_id == room.id, sanction.user_id == _user_uuid(user_id)))
    db.session.commit()


def direct_room(user, other_user_id):
    """Get or create the DIRECT room of the caller and another user; True when created."""
    other = get_user(other_user_id)
    if other.id == user.id:
        raise ValidationFailed("userId: You cannot start a conversation with yourself.")
    if either_blocks(user.id, other.id):
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
        _add_membership(room, user_id, MemberRole.MEMBER)
    return bool(missing)


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


# -- helpers ----------------------------------------------------------------------------------


def _add_membership(room, user_id, role):
    membership = RoomMembership(room_id=room.id, user_id=user_id, role=role, last_read_seq=room.last_seq)
    db.session.add(membership)
    db.session.execute(_member_count_moved(room, +1))
    return membership


def _remove_membership(room, membership):
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


def _refuse_banned(room_id, user_id, message="You are banned from this room"):
    banned = db.session.scalar(
        sa.select(sa.literal(True)).where(RoomBan.room_id == room_id, RoomBan.user_id == user_id)
    )
    if banned:
        raise Forbidden(message)


def _target_membership(room, user_id):
    target = find_membership(room.id, _user_uuid(user_id))
    if target is None:
        raise NotFound("Member not found")
    return target


def _refuse_unless_outranks(actor, actor_membership, target):
    """Owners act on anyone but themselves, moderators on members, admins on everyone."""
    if target.user_id == actor.id:
        raise Forbidden("You cannot do this to yourself")
    if target.role == MemberRole.OWNER and not actor.role.is_admin:
        raise Forbidden("The room's owner cannot be moderated")
    if actor.role.is_admin or (actor_membership and actor_membership.role == MemberRole.OWNER):
        return
    if target.role != MemberRole.MEMBER:
        raise Forbidden("Moderators may only moderate members")


def _user_uuid(user_id):
    value = parse_uuid(user_id)
    if value is None:
        raise NotFound("User not found")
    return value
