"""REST routes of chat: thin wrappers over its services (rooms, members, direct, messages, automod…)."""

from seda.chat import automod, members, messages, moderation, reactions, rooms
from seda.chat import direct as conversations
from seda.chat.schemas import (
    AutoModSchema,
    BanResultSchema,
    BanSchema,
    CreateRoomSchema,
    EditMessageSchema,
    EmojiSchema,
    HistoryQuerySchema,
    MemberRoleSchema,
    MemberSchema,
    MembershipSchema,
    MessageIdSchema,
    MessageSchema,
    ModerationActionSchema,
    ModerationResultSchema,
    MuteResultSchema,
    MuteSchema,
    ReactionSchema,
    ReportCreatedSchema,
    ReportSchema,
    ResultMessageSchema,
    RoomListQuerySchema,
    RoomSchema,
    SendMessageSchema,
    UpdateRoomSchema,
    UserIdSchema,
)
from seda.common.api import Blueprint
from seda.common.auth import acting_admin, current_user, login_required
from seda.common.kept_responses import kept_for_caller, shows
from seda.common.pagination import PAGE_HEADERS_DOC, encoded_page, paged
from seda.common.schemas import PageQuerySchema

bp = Blueprint("chat", __name__, url_prefix="/chat", description="Rooms, messages, reactions, moderation")
HISTORY_HEADERS_DOC = {
    **PAGE_HEADERS_DOC,
    "ETag": {
        "description": "The page's version: send it back in `If-None-Match` for a 304 while the page is unchanged",
        "schema": {"type": "string"},
    },
}


# -- rooms ------------------------------------------------------------------------------------


@bp.route("/rooms", methods=["POST"])
@login_required
@bp.arguments(CreateRoomSchema)
@bp.response(201, RoomSchema)
def create_room(body):
    """Create a room; the creator is its OWNER."""
    return rooms.create_room(
        current_user(), body["name"], body.get("description"), body["isPrivate"], body["slowModeSeconds"]
    )


@bp.route("/rooms")
@login_required
@bp.arguments(RoomListQuerySchema, location="query")
@bp.response(200, RoomSchema(many=True), headers=PAGE_HEADERS_DOC)
def list_rooms(query):
    """Rooms I belong to (latest activity first) or public rooms to discover (most members first)."""
    page = rooms.list_rooms(current_user(), query["scope"], query["limit"], query.get("cursor"), query.get("q"))
    return paged(page, query["limit"])


@bp.route("/rooms/<room_id>")
@login_required
@bp.response(200, RoomSchema)
@bp.alt_response(404, description="No such room, or a private room the caller is not in")
def get_room(room_id):
    """One room."""
    return rooms.get_room(current_user(), room_id)


@bp.route("/rooms/<room_id>", methods=["PATCH"])
@login_required
@bp.arguments(UpdateRoomSchema)
@bp.response(200, RoomSchema)
def update_room(changes, room_id):
    """Rename, describe or set slow mode (owner, moderator or admin)."""
    return rooms.update_room(current_user(), room_id, changes)


@bp.route("/rooms/<room_id>", methods=["DELETE"])
@login_required
@bp.response(204)
def delete_room(room_id):
    """Delete a room and everything in it (owner or admin)."""
    rooms.delete_room(current_user(), room_id)


@bp.route("/rooms/<room_id>/join", methods=["POST"])
@login_required
@bp.response(200, ResultMessageSchema)
def join_room(room_id):
    """Join a public room (idempotent)."""
    rooms.join_room(current_user(), room_id)
    return {"message": "Successfully joined room"}


@bp.route("/rooms/<room_id>/leave", methods=["POST"])
@login_required
@bp.response(200, ResultMessageSchema)
def leave_room(room_id):
    """Leave a room; an owner hands ownership to the longest-standing moderator, else member."""
    rooms.leave_room(current_user(), room_id)
    return {"message": "Successfully left room"}


@bp.route("/rooms/<room_id>/members")
@login_required
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, MemberSchema(many=True), headers=PAGE_HEADERS_DOC)
def list_members(query, room_id):
    """Members, longest-standing first; the cursor is a member's user id."""
    return paged(members.list_members(current_user(), room_id, query["limit"], query.get("cursor")), query["limit"])


@bp.route("/rooms/<room_id>/members", methods=["POST"])
@login_required
@bp.arguments(UserIdSchema)
@bp.response(201, MembershipSchema)
def add_member(body, room_id):
    """Add a user to the room (owner or moderator; how private rooms get members)."""
    return members.add_member(current_user(), room_id, body["userId"])


@bp.route("/rooms/<room_id>/members/<user_id>", methods=["PATCH"])
@login_required
@bp.arguments(MemberRoleSchema)
@bp.response(200, MembershipSchema)
def set_member_role(body, room_id, user_id):
    """Make a member a moderator or back (owner only)."""
    return members.set_member_role(current_user(), room_id, user_id, body["role"])


@bp.route("/rooms/<room_id>/members/<user_id>", methods=["DELETE"])
@login_required
@bp.response(204)
def kick_member(room_id, user_id):
    """Remove a member (owner or moderator; never the owner)."""
    members.kick_member(current_user(), room_id, user_id)


@bp.route("/direct", methods=["POST"])
@login_required
@bp.arguments(UserIdSchema)
@bp.response(201, RoomSchema)
@bp.alt_response(200, schema=RoomSchema, description="The conversation already existed")
def direct(body):
    """Get or create the direct conversation with another user."""
    view, created = conversations.direct_room(current_user(), body["userId"])
    return view, (201 if created else 200)


@bp.route("/rooms/<room_id>/read", methods=["PUT"])
@login_required
@bp.arguments(MessageIdSchema)
@bp.response(204)
def mark_read(body, room_id):
    """Move my read marker forward to a message (never back)."""
    rooms.mark_read(current_user(), room_id, body["messageId"])


# -- moderation -------------------------------------------------------------------------------


@bp.route("/rooms/<room_id>/automod")
@login_required
@bp.response(200, AutoModSchema)
def get_automod(room_id):
    """The room's AutoMod rules (members and admins)."""
    return automod.get_settings(current_user(), room_id)


@bp.route("/rooms/<room_id>/automod", methods=["PUT"])
@login_required
@bp.arguments(AutoModSchema)
@bp.response(200, AutoModSchema)
def put_automod(body, room_id):
    """Replace the room's AutoMod rules (owner, moderator or admin; every field). Sends and edits
    that break one are refused with 422 `Blocked by room rules: <rule>` before anything is stored;
    the room's owner, moderators and admins are exempt."""
    return automod.put_settings(current_user(), room_id, body, acting_admin())


@bp.route("/rooms/<room_id>/moderation", methods=["POST"])
@login_required
@bp.arguments(ModerationActionSchema)
@bp.response(200, ModerationResultSchema)
@bp.alt_response(404, description="No such message in this room, or no such member")
def moderate(body, room_id):
    """The original backend's moderation route (owner, moderator or admin): DELETE_MESSAGE and
    CLEAR_REACTIONS take a message of this room (`message_deleted`, `reactions_cleared`),
    MUTE_USER a member, muted for 24 h (`user_muted`)."""
    moderation.moderate(current_user(), room_id, body["targetId"], body["action"], body.get("reason"), acting_admin())
    return {"message": "Moderation action completed"}


@bp.route("/rooms/<room_id>/mutes", methods=["POST"])
@login_required
@bp.arguments(MuteSchema)
@bp.response(201, MuteResultSchema)
def mute(body, room_id):
    """Mute a member for a while (owner, moderator or admin)."""
    return members.mute_member(
        current_user(), room_id, body["userId"], body["durationSeconds"], body.get("reason"), acting_admin()
    )


@bp.route("/rooms/<room_id>/mutes/<user_id>", methods=["DELETE"])
@login_required
@bp.response(204)
def unmute(room_id, user_id):
    """Lift a mute (idempotent)."""
    members.unmute_member(current_user(), room_id, user_id)


@bp.route("/rooms/<room_id>/bans", methods=["POST"])
@login_required
@bp.arguments(BanSchema)
@bp.response(201, BanResultSchema)
def ban(body, room_id):
    """Ban a user from the room: removes them, blocks rejoining, drops their sockets."""
    return members.ban_member(current_user(), room_id, body["userId"], body.get("reason"))


@bp.route("/rooms/<room_id>/bans/<user_id>", methods=["DELETE"])
@login_required
@bp.response(204)
def unban(room_id, user_id):
    """Lift a room ban (idempotent)."""
    members.unban_member(current_user(), room_id, user_id)


# -- messages ---------------------------------------------------------------------------------


@bp.route("/rooms/<room_id>/messages", methods=["POST"])
@login_required
@bp.arguments(SendMessageSchema)
@bp.response(201, MessageSchema)
@bp.alt_response(200, schema=MessageSchema, description="Same clientMessageId within 24 h: the stored message")
@bp.alt_response(
    422,
    description="`Blocked by room rules: <rule>` (AutoMod: blocked word, link not allowed, too many mentions, "
    "repeated message); or trackRef is not a supported music link, or provider/providerId do not match it",
)
@bp.alt_response(
    429, description="Slow mode, or more than 10 messages in 10 s (every send asked for counts, refused ones too)"
)
def send_message(body, room_id):
    """Send a message (members only)."""
    user = current_user()
    messages.count_send_ahead(user.id, room_id, text=body["text"])
    stored = messages.send_message(
        user, room_id, body["text"], body.get("parentId"), body.get("trackRef"), body.get("clientMessageId")
    )
    return stored.message, (201 if stored.created else 200)


@bp.route("/rooms/<room_id>/messages")
@kept_for_caller(state=messages.history_state)
@login_required
@bp.arguments(HistoryQuerySchema, location="query")
@bp.response(200, MessageSchema(many=True), headers=HISTORY_HEADERS_DOC)
@bp.alt_response(304, description="`If-None-Match` names this page's ETag: the page has not changed")
def list_messages(query, room_id):
    """History: newest first; `cursor` pages back, `after` catches up oldest first."""
    page, member = messages.history_page(
        current_user(), room_id, query["limit"], query.get("cursor"), query.get("after"), query.get("parentId")
    )
    if member:
        shows(page.state)
    return encoded_page(page.body, page.next_cursor, query["limit"], page.etag)


@bp.route("/messages/<message_id>")
@login_required
@bp.response(200, MessageSchema)
def get_message(message_id):
    """One message."""
    return messages.get_message(current_user(), message_id)


@bp.route("/messages/<message_id>", methods=["PATCH"])
@login_required
@bp.arguments(EditMessageSchema)
@bp.response(200, MessageSchema)
@bp.alt_response(422, description="`Blocked by room rules: <rule>` (AutoMod; repeats are not checked on edits)")
def edit_message(body, message_id):
    """Edit my message's text."""
    return messages.edit_message(current_user(), message_id, body["text"]).message


@bp.route("/messages/<message_id>", methods=["DELETE"])
@login_required
@bp.response(204)
def delete_message(message_id):
    """Soft-delete a message (author, room owner or moderator, or admin)."""
    messages.delete_message(current_user(), message_id)


@bp.route("/messages/<message_id>/reactions", methods=["POST"])
@login_required
@bp.arguments(EmojiSchema)
@bp.response(201, ReactionSchema)
@bp.alt_response(200, schema=ReactionSchema, description="I had already reacted so")
def add_reaction(body, message_id):
    """React with an emoji (at most 20 different emoji per message)."""
    reaction, created = reactions.add_reaction(current_user(), message_id, body["emoji"])
    return reaction, (201 if created else 200)


@bp.route("/messages/<message_id>/reactions/<emoji>", methods=["DELETE"])
@login_required
@bp.response(204)
def remove_reaction(message_id, emoji):
    """Take my reaction back."""
    reactions.remove_reaction(current_user(), message_id, emoji)


@bp.route("/messages/<message_id>/report", methods=["POST"])
@login_required
@bp.arguments(ReportSchema)
@bp.response(201, ReportCreatedSchema)
def report(body, message_id):
    """Report a message to the admins (one open report per message and user)."""
    return messages.report_message(current_user(), message_id, body["reason"])
