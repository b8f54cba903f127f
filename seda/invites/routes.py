from flask import current_app

from seda.common import ratelimit
from seda.common.api import Blueprint
from seda.common.auth import caller_if_signed_in, current_user, login_required
from seda.common.pagination import PAGE_HEADERS_DOC, paged
from seda.common.schemas import PageQuerySchema
from seda.invites import invitations, links
from seda.invites.schemas import (
    CreateInvitationSchema,
    CreateInviteSchema,
    InvitationListQuerySchema,
    InvitationSchema,
    InvitePreviewSchema,
    InviteSchema,
    JoinedRoomSchema,
)

bp = Blueprint("invites", __name__, description="Invite links and personal invitations to rooms")

# One budget for links and invitations made (API.md §13).
_invites_budget = ratelimit.shared_limit(lambda: current_app.config["RATE_LIMIT_INVITES"], scope="invites")


def _status(query):
    status = query.get("status")
    return status.value if status is not None else None


# -- invite links -----------------------------------------------------------------------------


@bp.route("/chat/rooms/<room_id>/invites", methods=["POST"])
@login_required
@_invites_budget
@bp.arguments(CreateInviteSchema)
@bp.response(201, InviteSchema)
@bp.alt_response(
    403, description="Join the room first; Direct rooms cannot have invites; not a moderator of a private room"
)
@bp.alt_response(404, description="Room not found (a private room I am not in)")
@bp.alt_response(409, description="Too many active invites (100 usable links per room)")
def create_invite(body, room_id):
    """A link that lets whoever holds it join: any member of a public room, the OWNER, a
    MODERATOR or an admin of a private one. It stays usable while its maker could still make it."""
    return links.create(current_user(), room_id, body["maxUses"], body["expiresInSeconds"])


@bp.route("/chat/rooms/<room_id>/invites")
@login_required
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, InviteSchema(many=True), headers=PAGE_HEADERS_DOC)
def list_invites(query, room_id):
    """The room's usable links, newest first: all of them for its OWNER, MODERATORs and admins,
    their own for other members."""
    return paged(links.listed(current_user(), room_id, query["limit"], query.get("cursor")), query["limit"])


@bp.route("/chat/rooms/<room_id>/invites/<code>", methods=["DELETE"])
@login_required
@bp.response(204)
@bp.alt_response(403, description="Not its maker, the room's owner or moderator, or an admin")
@bp.alt_response(404, description="Invite is invalid or has expired")
def revoke_invite(room_id, code):
    """Revoke a link: it answers 404 everywhere from now on."""
    links.revoke(current_user(), room_id, code)


@bp.route("/invites/<code>")
@bp.response(200, InvitePreviewSchema)
@bp.alt_response(404, description="Invite is invalid or has expired")
def preview_invite(code):
    """What a link shows anyone who holds it (no token needed): the room, who is online, what
    it plays now, who invited. `alreadyMember` only with a valid token. Counts may be 5 s old."""
    return links.preview(code, caller_if_signed_in())


@bp.route("/invites/<code>/accept", methods=["POST"])
@login_required
@bp.response(200, JoinedRoomSchema)
@bp.alt_response(403, description="You are banned from this room (no use counted)")
@bp.alt_response(404, description="Invite is invalid or has expired (also: its last use went to someone else)")
def accept_invite(code):
    """Join the link's room (private ones too) as `POST …/join` does; one use counted, none when
    already a member."""
    return {"room": links.accept(current_user(), code)}


# -- personal invitations ---------------------------------------------------------------------


@bp.route("/chat/rooms/<room_id>/invitations", methods=["POST"])
@login_required
@_invites_budget
@bp.arguments(CreateInvitationSchema)
@bp.response(201, InvitationSchema)
@bp.alt_response(200, schema=InvitationSchema, description="A PENDING invitation for them already: that one")
@bp.alt_response(403, description="You cannot invite this user (a block); or not allowed to invite here")
@bp.alt_response(404, description="User not found (unknown, banned or deleted); Room not found")
@bp.alt_response(409, description="Already a member; User is banned from this room; User declined recently")
def invite_user(body, room_id):
    """Invite one person: they get a ROOM_INVITE notification and accept or decline within 7 days."""
    view, created = invitations.invite(current_user(), room_id, body["userId"])
    return view, 201 if created else 200


@bp.route("/chat/rooms/<room_id>/invitations")
@login_required
@bp.arguments(InvitationListQuerySchema, location="query")
@bp.response(200, InvitationSchema(many=True), headers=PAGE_HEADERS_DOC)
def list_room_invitations(query, room_id):
    """The room's invitations, newest first: all for its OWNER, MODERATORs and admins, the ones
    they sent for other members."""
    page = invitations.of_room(current_user(), room_id, _status(query), query["limit"], query.get("cursor"))
    return paged(page, query["limit"])


@bp.route("/chat/rooms/<room_id>/invitations/<invitation_id>", methods=["DELETE"])
@login_required
@bp.response(204)
@bp.alt_response(403, description="Not its inviter, the room's owner or moderator, or an admin")
@bp.alt_response(404, description="Invitation not found")
@bp.alt_response(409, description="Invitation is no longer pending")
def cancel_invitation(room_id, invitation_id):
    """Cancel a PENDING invitation (CANCELLED)."""
    invitations.cancel(current_user(), room_id, invitation_id)


@bp.route("/users/me/invitations")
@login_required
@bp.arguments(InvitationListQuerySchema, location="query")
@bp.response(200, InvitationSchema(many=True), headers=PAGE_HEADERS_DOC)
def my_invitations(query):
    """Invitations sent to me, newest first (PENDING unless `status` says otherwise)."""
    page = invitations.to_me(current_user(), _status(query), query["limit"], query.get("cursor"))
    return paged(page, query["limit"])


@bp.route("/invitations/<invitation_id>/accept", methods=["POST"])
@login_required
@bp.response(200, JoinedRoomSchema)
@bp.alt_response(403, description="You are banned from this room")
@bp.alt_response(404, description="Invitation not found (or not mine)")
@bp.alt_response(409, description="Invitation is no longer pending")
def accept_invitation(invitation_id):
    """Join the room (private ones too) as `POST …/join` does; the invitation is ACCEPTED."""
    return {"room": invitations.accept(current_user(), invitation_id)}


@bp.route("/invitations/<invitation_id>/decline", methods=["POST"])
@login_required
@bp.response(200, InvitationSchema)
@bp.alt_response(404, description="Invitation not found (or not mine)")
@bp.alt_response(409, description="Invitation is no longer pending")
def decline_invitation(invitation_id):
    """Say no (DECLINED): the same room cannot invite me again for 7 days."""
    return invitations.decline(current_user(), invitation_id)
