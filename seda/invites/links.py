"""Invite links (API.md §13): made by whoever may invite, shown to anyone who holds one, used
to join until revoked, expired or used up; the last use is given exactly once."""

import secrets
from datetime import timedelta

import sqlalchemy as sa

from seda.chat import rooms
from seda.chat.access import find_membership, member_room
from seda.chat.memberships import refuse_banned
from seda.chat.models import Room
from seda.common.db import utcnow
from seda.common.errors import Conflict, Forbidden, NotFound
from seda.common.pagination import keyset_page
from seda.extensions import db
from seda.invites.models import InviteLink
from seda.invites.rules import MODERATOR_ROLES, may_still_invite, room_to_invite_to
from seda.realtime.presence import presence_store
from seda.sessions.services import now_playing

INVALID = "Invite is invalid or has expired"
MAX_USABLE_PER_ROOM = 100


# The maker's standing as SQL, built once: its aliases and EXISTS cost more to build than the
# whole preview's other work (bench/invite_preview.py), and never change.
_MAKER_MAY_STILL_INVITE = may_still_invite(InviteLink.room_id, InviteLink.created_by)


def _usable_links(now):
    """SQL: the links (InviteLink, with its Room joined) that may be used at `now`."""
    return (
        sa.select(InviteLink)
        .join(Room, Room.id == InviteLink.room_id)
        .where(
            InviteLink.revoked_at.is_(None),
            sa.or_(InviteLink.expires_at.is_(None), InviteLink.expires_at > now),
            sa.or_(InviteLink.max_uses == 0, InviteLink.uses < InviteLink.max_uses),
            _MAKER_MAY_STILL_INVITE,
        )
    )


def create(user, room_id, max_uses, expires_in_seconds):
    room, _ = room_to_invite_to(user, room_id)
    now = utcnow()
    usable = db.session.scalar(
        sa.select(sa.func.count()).select_from(_usable_links(now).where(InviteLink.room_id == room.id).subquery())
    )
    if usable >= MAX_USABLE_PER_ROOM:
        raise Conflict("Too many active invites")
    link = InviteLink(
        code=secrets.token_urlsafe(16),  # 22 characters, 128 bits
        room_id=room.id,
        created_by=user.id,
        created_at=now,
        expires_at=now + timedelta(seconds=expires_in_seconds) if expires_in_seconds else None,
        max_uses=max_uses,
        uses=0,
    )
    db.session.add(link)
    db.session.commit()
    return link


def listed(user, room_id, limit, cursor=None):
    """The room's usable links, newest first: all of them for its OWNER, MODERATORs and admins,
    their own for other members."""
    room, membership = member_room(user, room_id)
    query = _usable_links(utcnow()).where(InviteLink.room_id == room.id)
    if not (user.role.is_admin or (membership is not None and membership.role in MODERATOR_ROLES)):
        query = query.where(InviteLink.created_by == user.id)
    return keyset_page(
        query, (InviteLink.created_at,), InviteLink.code, cursor, limit, anchor_where=(InviteLink.room_id == room.id,)
    )


def revoke(user, room_id, code):
    """Its maker, the room's OWNER or MODERATORs, or an admin revoke a usable link."""
    room, membership = member_room(user, room_id)
    link = _find_usable(code, room_id=room.id)
    moderates = user.role.is_admin or (membership is not None and membership.role in MODERATOR_ROLES)
    if link.created_by != user.id and not moderates:
        raise Forbidden("Only its maker, the room's owner or moderators may revoke an invite")
    link.revoked_at = utcnow()
    db.session.commit()


def revoke_all_made_by(user_id):
    """A deleted account's links end (in the caller's transaction)."""
    db.session.execute(
        sa.update(InviteLink)
        .where(InviteLink.created_by == user_id, InviteLink.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def preview(code, viewer=None):
    """What anyone holding the link sees: the room's name and description, its members and who is
    online, what it plays now, who invited; `alreadyMember` for a signed-in viewer."""
    link = _find_usable(code)
    room = db.session.get(Room, link.room_id)
    shown = {
        "link": link,
        "room": {
            "id": str(room.id),
            "name": room.name,
            "description": room.description,
            "isPrivate": room.is_private,
            "memberCount": room.member_count,
            "online": presence_store().room_online_count(room.id),
        },
        "nowPlaying": now_playing(room.id),
        "inviter": link.creator,
    }
    if viewer is not None:
        shown["alreadyMember"] = find_membership(room.id, viewer.id) is not None
    return shown


def accept(user, code):
    """Join the link's room: one use counted, unless already a member (no use) or banned from
    the room (403, no use). The use is spent by one conditional UPDATE, so accepts racing on any
    processes never pass max_uses; one that gets no use answers 404."""
    link = _find_usable(code)
    room = db.session.get(Room, link.room_id)
    if find_membership(room.id, user.id) is not None:
        return rooms.admit(user, room)[0]
    refuse_banned(room.id, user.id)
    now = utcnow()
    spent = db.session.execute(
        sa.update(InviteLink)
        .where(
            InviteLink.code == link.code,
            InviteLink.revoked_at.is_(None),
            sa.or_(InviteLink.expires_at.is_(None), InviteLink.expires_at > now),
            sa.or_(InviteLink.max_uses == 0, InviteLink.uses < InviteLink.max_uses),
        )
        .values(uses=InviteLink.uses + 1),
        execution_options={"synchronize_session": False},
    ).rowcount
    if spent != 1:
        db.session.rollback()
        raise NotFound(INVALID)
    view, joined = rooms.admit(user, room)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the same person accepting twice at once: one membership, one use
        db.session.rollback()
        return rooms.admit(user, db.session.get(Room, link.room_id))[0]
    if joined:
        rooms.admitted(room.id, user.id)
    return view


def _find_usable(code, room_id=None):
    query = _usable_links(utcnow()).where(InviteLink.code == code)
    if room_id is not None:
        query = query.where(InviteLink.room_id == room_id)
    link = db.session.scalar(query) if isinstance(code, str) and len(code) <= 43 else None
    if link is None:
        raise NotFound(INVALID)
    return link
