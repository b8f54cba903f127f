"""A room's members and their sanctions: the list, adding, roles, kicks, mutes and bans."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from seda.chat import hooks, notify
from seda.chat.access import find_membership, member_room, moderated_room, visible_room
from seda.chat.memberships import add_membership, refuse_banned, remove_membership, user_uuid
from seda.chat.models import MemberRole, RoomBan, RoomMembership, RoomMute, RoomType
from seda.common import audit
from seda.common.db import iso_utc, utcnow
from seda.common.errors import Forbidden, NotFound
from seda.common.pagination import keyset_page
from seda.extensions import db
from seda.realtime import emits
from seda.realtime.presence import presence_store
from seda.users.models import User
from seda.users.services import get_user


@dataclass
class Member:
    user: User
    role: MemberRole
    joined_at: object
    online: bool


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
    refuse_banned(room.id, target.id, "This user is banned from the room")
    membership = add_membership(room, target.id, MemberRole.MEMBER)
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
    remove_membership(room, target)
    db.session.commit()
    emits.remove_user_from_room(room.id, target.user_id)
    notify.user_removed(room.id, target.user_id)
    hooks.member_gone(room.id, target.user_id)


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
        remove_membership(room, target)
    elif target_user.id == actor.id:
        raise Forbidden("You cannot ban yourself")
    ban = db.session.scalar(sa.select(RoomBan).where(RoomBan.room_id == room.id, RoomBan.user_id == target_user.id))
    if ban is None:
        ban = RoomBan(room_id=room.id, user_id=target_user.id)
        db.session.add(ban)
    ban.reason, ban.banned_by = reason, actor.id
    db.session.commit()
    emits.remove_user_from_room(room.id, target_user.id)
    notify.user_banned(room.id, target_user.id)
    hooks.member_gone(room.id, target_user.id)
    return ban


def unban_member(actor, room_id, user_id):
    _lift(RoomBan, actor, room_id, user_id)


def _lift(sanction, actor, room_id, user_id):
    """End a member's mute or ban (`sanction` is RoomMute or RoomBan); nothing to end is fine."""
    room, _ = moderated_room(actor, room_id)
    db.session.execute(sa.delete(sanction).where(sanction.room_id == room.id, sanction.user_id == user_uuid(user_id)))
    db.session.commit()


def _target_membership(room, user_id):
    target = find_membership(room.id, user_uuid(user_id))
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
