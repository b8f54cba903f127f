"""Who may invite to a room (API.md §13), as one rule for making an invite and for every later
use of it: a link or an invitation stays good only while its maker could still make it."""

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from seda.chat.access import visible_room
from seda.chat.models import MemberRole, Room, RoomBan, RoomMembership, RoomType
from seda.common.errors import Forbidden, NotFound
from seda.users.models import Role, User

ADMIN_ROLES = (Role.ADMIN, Role.SUPER_ADMIN)
MODERATOR_ROLES = (MemberRole.OWNER, MemberRole.MODERATOR)
NO_DIRECT_INVITES = "Direct rooms cannot have invites"


def room_to_invite_to(user, room_id):
    """The room `user` may invite people to, with their membership: a public room's members; a
    private room's OWNER, MODERATOR or an admin. 404 / 403 as API.md §13 says."""
    room, membership = visible_room(user, room_id)
    if room.type == RoomType.DIRECT:
        raise Forbidden(NO_DIRECT_INVITES)
    if room.type == RoomType.PUBLIC and membership is None:
        raise Forbidden("Join the room first")
    if room.type == RoomType.PRIVATE and not (
        user.role.is_admin or (membership is not None and membership.role in MODERATOR_ROLES)
    ):
        if membership is None:
            raise NotFound("Room not found")
        raise Forbidden("Only the room's owner, moderators or an admin may invite to a private room")
    return room, membership


def may_still_invite(room_id, creator_id):
    """SQL: the maker `creator_id` could still invite to the room `room_id` (Room joined by the
    caller): not banned from seda or the room, not deleted, and a member of a public room, an
    OWNER or MODERATOR of a private one, or an admin."""
    # Each EXISTS sits right under the caller's query, so each correlates to its link or
    # invitation (a nested one would not, and would ask about every row at once).
    creator, member, ban = aliased(User), aliased(RoomMembership), aliased(RoomBan)
    in_good_standing = sa.exists().where(
        creator.id == creator_id, creator.banned.is_(False), creator.deleted_at.is_(None)
    )
    is_admin = sa.exists().where(creator.id == creator_id, creator.role.in_(ADMIN_ROLES))
    is_member = sa.exists().where(member.room_id == room_id, member.user_id == creator_id)
    moderates = sa.exists().where(
        member.room_id == room_id, member.user_id == creator_id, member.role.in_(MODERATOR_ROLES)
    )
    return sa.and_(
        Room.type != RoomType.DIRECT,
        in_good_standing,
        sa.or_(
            sa.and_(Room.type == RoomType.PUBLIC, is_member),
            sa.and_(Room.type == RoomType.PRIVATE, sa.or_(moderates, is_admin)),
        ),
        ~sa.exists().where(ban.room_id == room_id, ban.user_id == creator_id),
    )
