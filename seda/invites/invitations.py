"""Personal invitations (API.md §13): one person asks another into a room; the invitee hears of
it in their inbox (ROOM_INVITE) and accepts or declines. A PENDING one reads EXPIRED past its
expiry, and CANCELLED once its inviter may no longer invite."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from seda.chat import rooms
from seda.chat.access import find_membership, member_room
from seda.chat.memberships import refuse_banned
from seda.chat.models import Room, RoomBan
from seda.common.db import parse_uuid, utcnow
from seda.common.errors import Conflict, Forbidden, NotFound
from seda.common.pagination import keyset_page
from seda.extensions import db
from seda.invites.models import Invitation, InvitationStatus
from seda.invites.rules import MODERATOR_ROLES, may_still_invite, room_to_invite_to
from seda.notifications.services import notify_about_invitation
from seda.users.blocks import closed_between
from seda.users.services import USER_NOT_FOUND, get_user

LIFETIME = timedelta(days=7)
NOT_PENDING = "Invitation is no longer pending"
NOT_FOUND = "Invitation not found"
PENDING = InvitationStatus.PENDING


@dataclass
class InvitationView:
    """An invitation as its readers see it: its status as it reads now."""

    invitation: Invitation
    room: Room
    status: InvitationStatus

    @property
    def inviter(self):
        return self.invitation.inviter

    @property
    def invitee(self):
        return self.invitation.invitee


# The inviter's standing as SQL, built once (its aliases and EXISTS are costly to build, and fixed).
_INVITER_MAY_STILL_INVITE = may_still_invite(Invitation.room_id, Invitation.inviter_id)


def _status_now(now):
    """SQL: the status an invitation (with its Room joined) reads at `now`."""
    return sa.case(
        (sa.and_(Invitation.status == PENDING, Invitation.expires_at <= now), InvitationStatus.EXPIRED.value),
        (
            sa.and_(Invitation.status == PENDING, ~_INVITER_MAY_STILL_INVITE),
            InvitationStatus.CANCELLED.value,
        ),
        else_=sa.cast(Invitation.status, sa.String),
    )


def _views(now):
    return sa.select(Invitation, Room, _status_now(now).label("status_now")).join(Room, Room.id == Invitation.room_id)


def _view(row):
    invitation, room, status = row
    return InvitationView(invitation, room, InvitationStatus(status))


def invite(user, room_id, invitee_id):
    """(InvitationView, created): a new PENDING invitation, or the one already pending."""
    room, _ = room_to_invite_to(user, room_id)
    invitee = get_user(invitee_id)
    if invitee.banned:
        raise NotFound(USER_NOT_FOUND)
    now = utcnow()
    pending = _pending_for(room.id, invitee.id, now)
    if pending is not None:
        return pending, False
    _refuse_uninvitable(user, room, invitee, now)
    _settle_stale(room.id, invitee.id, now)
    invitation = Invitation(
        room_id=room.id, inviter_id=user.id, invitee_id=invitee.id, created_at=now, expires_at=now + LIFETIME
    )
    db.session.add(invitation)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # invited twice at once: one invitation, one notification
        db.session.rollback()
        pending = _pending_for(room.id, invitee.id, now)
        if pending is None:  # the one in the way reads EXPIRED or CANCELLED already: not a 500
            raise Conflict("The invitation changed meanwhile, try again") from None
        return pending, False
    notify_about_invitation(invitation.id, room.id, user.id, invitee.id)
    return InvitationView(invitation, room, PENDING), True


def _settle_stale(room_id, invitee_id, now):
    """A stored PENDING invitation that reads EXPIRED or CANCELLED now is written so, making
    room for a new one (one PENDING per person and room)."""
    row = db.session.execute(
        sa.select(Invitation.id, _status_now(now).label("status_now"))
        .join(Room, Room.id == Invitation.room_id)
        .where(Invitation.room_id == room_id, Invitation.invitee_id == invitee_id, Invitation.status == PENDING)
    ).first()
    if row is not None and row.status_now != PENDING.value:
        db.session.execute(
            sa.update(Invitation)
            .where(Invitation.id == row.id, Invitation.status == PENDING)
            .values(status=InvitationStatus(row.status_now)),
            execution_options={"synchronize_session": False},
        )


def _pending_for(room_id, invitee_id, now):
    row = db.session.execute(
        _views(now).where(
            Invitation.room_id == room_id,
            Invitation.invitee_id == invitee_id,
            Invitation.status == PENDING,
            Invitation.expires_at > now,
        )
    ).first()
    return _view(row) if row is not None and row.status_now == PENDING.value else None


def _refuse_uninvitable(user, room, invitee, now):
    if find_membership(room.id, invitee.id) is not None:
        raise Conflict("Already a member")
    if db.session.scalar(sa.select(RoomBan.id).where(RoomBan.room_id == room.id, RoomBan.user_id == invitee.id)):
        raise Conflict("User is banned from this room")
    if closed_between(user.id, invitee.id):
        raise Forbidden("You cannot invite this user")
    declined = db.session.scalar(
        sa.select(Invitation.id).where(
            Invitation.room_id == room.id,
            Invitation.invitee_id == invitee.id,
            Invitation.status == InvitationStatus.DECLINED,
            Invitation.responded_at > now - LIFETIME,
        )
    )
    if declined is not None:
        raise Conflict("User declined recently")


def of_room(user, room_id, status, limit, cursor=None):
    """The room's invitations, newest first: all for its OWNER, MODERATORs and admins, the ones
    they sent for other members."""
    room, membership = member_room(user, room_id)
    now = utcnow()
    query = _views(now).where(Invitation.room_id == room.id)
    if not (user.role.is_admin or (membership is not None and membership.role in MODERATOR_ROLES)):
        query = query.where(Invitation.inviter_id == user.id)
    return _page(query, now, status, limit, cursor, Invitation.room_id == room.id)


def to_me(user, status, limit, cursor=None):
    now = utcnow()
    query = _views(now).where(Invitation.invitee_id == user.id)
    return _page(query, now, status or PENDING.value, limit, cursor, Invitation.invitee_id == user.id)


def _page(query, now, status, limit, cursor, anchor_where):
    if status is not None:
        query = query.where(_status_now(now) == status)
    rows, next_cursor = keyset_page(
        query,
        (Invitation.created_at,),
        Invitation.id,
        cursor,
        limit,
        anchor_where=(anchor_where,),
        cursor_of=lambda row: row[0].id,
    )
    return [_view(row) for row in rows], next_cursor


def sent_or_received(user_id):
    """Every invitation `user_id` sent or received, oldest first (their data export)."""
    query = _views(utcnow()).where(sa.or_(Invitation.inviter_id == user_id, Invitation.invitee_id == user_id))
    for row in db.session.execute(query.order_by(Invitation.created_at, Invitation.id)):
        yield _view(row)


def cancel(user, room_id, invitation_id):
    """Its inviter, the room's OWNER or MODERATORs, or an admin cancel a PENDING invitation."""
    room, membership = member_room(user, room_id)
    view = _find(invitation_id, Invitation.room_id == room.id)
    moderates = user.role.is_admin or (membership is not None and membership.role in MODERATOR_ROLES)
    if view.invitation.inviter_id != user.id and not moderates:
        raise Forbidden("Only its inviter, the room's owner or moderators may cancel an invitation")
    _respond(view, InvitationStatus.CANCELLED)
    db.session.commit()


def accept(user, invitation_id):
    """Join the room as its member ({room}); already a member: ACCEPTED all the same."""
    view = _find(invitation_id, Invitation.invitee_id == user.id)
    if view.status != PENDING:
        raise Conflict(NOT_PENDING)
    if find_membership(view.room.id, user.id) is None:
        refuse_banned(view.room.id, user.id)
    _respond(view, InvitationStatus.ACCEPTED)
    room_view, joined = rooms.admit(user, view.room)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # joined by another way at the same moment: a member, as asked
        db.session.rollback()
        return rooms.admit(user, db.session.get(Room, view.room.id))[0]
    if joined:
        rooms.admitted(view.room.id, user.id)
    return room_view


def decline(user, invitation_id):
    view = _find(invitation_id, Invitation.invitee_id == user.id)
    _respond(view, InvitationStatus.DECLINED)
    db.session.commit()
    return _find(view.invitation.id)


def cancel_all_of(user_id):
    """A deleted account's pending invitations, sent and received, end (the caller's transaction)."""
    db.session.execute(
        sa.update(Invitation)
        .where(sa.or_(Invitation.inviter_id == user_id, Invitation.invitee_id == user_id), Invitation.status == PENDING)
        .values(status=InvitationStatus.CANCELLED, responded_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def _respond(view, status):
    """Move a PENDING invitation to `status` by one conditional UPDATE: of two answers at once,
    one wins and the other is told it is no longer pending."""
    if view.status != PENDING:
        raise Conflict(NOT_PENDING)
    now = utcnow()
    moved = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == view.invitation.id, Invitation.status == PENDING, Invitation.expires_at > now)
        .values(status=status, responded_at=now),
        execution_options={"synchronize_session": "fetch"},
    ).rowcount
    if moved != 1:
        db.session.rollback()
        raise Conflict(NOT_PENDING)


def _find(invitation_id, *where):
    invitation_id = parse_uuid(invitation_id)
    if invitation_id is None:
        raise NotFound(NOT_FOUND)
    row = db.session.execute(_views(utcnow()).where(Invitation.id == invitation_id, *where)).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return _view(row)
