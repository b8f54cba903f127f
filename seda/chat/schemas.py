import marshmallow as ma

from seda.chat.models import UNFURL_STATES, MemberRole, MessageType, ReportStatus, RoomType
from seda.common.schemas import OPTIONAL, HttpsUrl, JsonBoolean, JsonInteger, PageQuerySchema, Timestamp, Trimmed
from seda.tracks.providers import NAMES as PROVIDERS
from seda.tracks.schemas import TrackRefSchema
from seda.users.schemas import UserRefSchema

Length, Range, OneOf = ma.validate.Length, ma.validate.Range, ma.validate.OneOf
MAX_TEXT = 4000


# -- rooms ------------------------------------------------------------------------------------


class RoomSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    type = ma.fields.Enum(RoomType)
    isPrivate = ma.fields.Boolean(attribute="is_private")
    createdBy = ma.fields.UUID(attribute="created_by", allow_none=True)
    createdAt = Timestamp(attribute="created_at")
    updatedAt = Timestamp(attribute="updated_at")
    memberCount = ma.fields.Integer(attribute="member_count")
    myRole = ma.fields.Enum(MemberRole, attribute="my_role", allow_none=True)
    slowModeSeconds = ma.fields.Integer(attribute="slow_mode_seconds")
    lastMessageAt = Timestamp(attribute="last_message_at", allow_none=True)
    unreadCount = ma.fields.Integer(attribute="unread_count")
    activeSessionId = ma.fields.UUID(
        attribute="active_session_id", allow_none=True, metadata={"description": "The ACTIVE listening session"}
    )
    canSend = ma.fields.Boolean(
        attribute="can_send",
        metadata={
            "description": "DIRECT rooms only (absent on others): false while either person blocks the other",
            OPTIONAL: True,
        },
    )

    @ma.post_dump
    def _only_direct_rooms_say_can_send(self, data, **_kwargs):
        if data.get("canSend") is None:
            data.pop("canSend", None)
        return data


class CreateRoomSchema(ma.Schema):
    name = Trimmed(required=True, validate=Length(1, 100))
    description = Trimmed(validate=Length(max=500), allow_none=True)
    isPrivate = JsonBoolean(load_default=False)
    slowModeSeconds = JsonInteger(load_default=0, validate=Range(0, 21600))


class UpdateRoomSchema(ma.Schema):
    name = Trimmed(validate=Length(1, 100))
    description = Trimmed(validate=Length(max=500), allow_none=True)
    slowModeSeconds = JsonInteger(validate=Range(0, 21600))


class RoomListQuerySchema(PageQuerySchema):
    scope = ma.fields.String(load_default="joined", validate=OneOf(["joined", "discover"]))
    q = Trimmed(validate=Length(1, 100))


class MemberSchema(ma.Schema):
    user = ma.fields.Nested(UserRefSchema)
    role = ma.fields.Enum(MemberRole)
    joinedAt = Timestamp(attribute="joined_at")
    online = ma.fields.Boolean()


class UserIdSchema(ma.Schema):
    userId = ma.fields.UUID(required=True)


class MemberRoleSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=OneOf(["MODERATOR", "MEMBER"]))


class MessageIdSchema(ma.Schema):
    messageId = ma.fields.UUID(required=True)


class MuteSchema(ma.Schema):
    userId = ma.fields.UUID(required=True)
    durationSeconds = JsonInteger(required=True, validate=Range(60, 2592000))
    reason = Trimmed(validate=Length(max=500), allow_none=True)


class MuteResultSchema(ma.Schema):
    userId = ma.fields.UUID(attribute="user_id")
    mutedUntil = Timestamp(attribute="muted_until")


class AutoModSchema(ma.Schema):
    """A room's AutoMod rules (section 11); a PUT gives every field."""

    blockedWords = ma.fields.List(
        Trimmed(validate=Length(1, 50)),
        required=True,
        validate=Length(max=200),
        metadata={"description": "Whole words, matched ignoring case and accents"},
    )
    linkPolicy = ma.fields.String(
        required=True,
        validate=OneOf(["ANY", "MUSIC_ONLY", "NONE"]),
        metadata={"description": "MUSIC_ONLY: links to supported music services only"},
    )
    maxMentions = JsonInteger(required=True, validate=Range(0, 50), metadata={"description": "0: off"})
    blockRepeats = JsonBoolean(required=True, metadata={"description": "Refuse the third identical text within 60 s"})
    autoMuteAfter = JsonInteger(
        required=True,
        validate=Range(0, 10),
        metadata={"description": "The N-th refusal within 10 minutes mutes for 10 minutes (0: off)"},
    )


class ModerationActionSchema(ma.Schema):
    targetId = ma.fields.UUID(required=True, metadata={"description": "A message of the room, or a member (MUTE_USER)"})
    action = ma.fields.String(required=True, validate=OneOf(["DELETE_MESSAGE", "MUTE_USER", "CLEAR_REACTIONS"]))
    reason = Trimmed(validate=Length(max=500), allow_none=True)


class ModerationResultSchema(ma.Schema):
    message = ma.fields.String()


class BanSchema(ma.Schema):
    userId = ma.fields.UUID(required=True)
    reason = Trimmed(validate=Length(max=500), allow_none=True)


class BanResultSchema(ma.Schema):
    userId = ma.fields.UUID(attribute="user_id")
    roomId = ma.fields.UUID(attribute="room_id")
    reason = ma.fields.String(allow_none=True)
    createdAt = Timestamp(attribute="created_at")


class MembershipSchema(ma.Schema):
    roomId = ma.fields.UUID(attribute="room_id")
    user = ma.fields.Nested(UserRefSchema)
    role = ma.fields.Enum(MemberRole)
    joinedAt = Timestamp(attribute="joined_at")


class ResultMessageSchema(ma.Schema):
    message = ma.fields.String()


# -- messages ---------------------------------------------------------------------------------


class TrackRefInputSchema(ma.Schema):
    """A card the client chooses: the link counts; title, artist, artwork and duration are
    accepted for compatibility and ignored (seda fills them from its own unfurl)."""

    provider = ma.fields.String(required=True, validate=OneOf(PROVIDERS))
    providerId = Trimmed(required=True, validate=Length(1, 200))
    url = HttpsUrl(
        required=True, metadata={"description": "A supported music link; provider and providerId must match it"}
    )
    title = Trimmed(validate=Length(max=300), allow_none=True, load_default=None, metadata={"description": "Ignored"})
    artist = Trimmed(validate=Length(max=300), allow_none=True, load_default=None, metadata={"description": "Ignored"})
    artwork = HttpsUrl(allow_none=True, load_default=None, metadata={"description": "Ignored"})
    duration = JsonInteger(
        validate=Range(0, 86400), allow_none=True, load_default=None, metadata={"description": "Ignored"}
    )


class ReactionSchema(ma.Schema):
    id = ma.fields.UUID()
    messageId = ma.fields.UUID(attribute="message_id")
    userId = ma.fields.UUID(attribute="user_id")
    emoji = ma.fields.String()
    createdAt = Timestamp(attribute="created_at")


class MessageReactionSchema(ma.Schema):
    id = ma.fields.UUID()
    emoji = ma.fields.String()
    userId = ma.fields.UUID(attribute="user_id")
    createdAt = Timestamp(attribute="created_at")


class MessageSchema(ma.Schema):
    id = ma.fields.UUID()
    roomId = ma.fields.UUID(attribute="room_id")
    userId = ma.fields.UUID(attribute="user_id")
    type = ma.fields.Enum(MessageType)
    text = ma.fields.String()
    trackRef = ma.fields.Dict(attribute="track_ref", allow_none=True)
    parentId = ma.fields.UUID(attribute="parent_id", allow_none=True)
    clientMessageId = ma.fields.String(attribute="client_message_id", allow_none=True)
    seq = ma.fields.Integer()
    replyCount = ma.fields.Integer(attribute="reply_count")
    createdAt = Timestamp(attribute="created_at")
    updatedAt = Timestamp(attribute="updated_at")
    editedAt = Timestamp(attribute="edited_at", allow_none=True)
    user = ma.fields.Nested(UserRefSchema)
    reactions = ma.fields.List(ma.fields.Nested(MessageReactionSchema))
    mentions = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "Ids of the room members the text @mentions, in order, never the author"},
    )
    unfurl = ma.fields.String(
        allow_none=True,
        validate=ma.validate.OneOf(UNFURL_STATES),
        metadata={
            "description": "The background unfurl of a music link in the text: PENDING until it ends, then DONE"
            " (the card is in trackRef) or FAILED, each announced by message_updated; null when none was due"
            " (no music link, or a card sent with its details)."
        },
    )


def _trimmed_text(text):
    """Message text without surrounding whitespace, at most MAX_TEXT characters once trimmed."""
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise ma.ValidationError(f"Longer than maximum length {MAX_TEXT}.", "text")
    return text


class SendMessageSchema(ma.Schema):
    text = ma.fields.String(load_default="", validate=Length(max=MAX_TEXT + 1000))
    type = ma.fields.String(validate=OneOf(["TEXT", "TRACK_CARD", "REPLY"]))
    parentId = ma.fields.UUID(allow_none=True)
    trackRef = ma.fields.Nested(TrackRefInputSchema, allow_none=True)
    clientMessageId = Trimmed(validate=Length(1, 64), allow_none=True)

    @ma.post_load
    def check_text(self, data, **kwargs):
        data["text"] = _trimmed_text(data.get("text", ""))
        if not data["text"] and not data.get("trackRef"):
            raise ma.ValidationError("Text must not be empty.", "text")
        return data


class SocketSendMessageSchema(SendMessageSchema):
    roomId = ma.fields.UUID(required=True)


class EditMessageSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=Length(max=MAX_TEXT + 1000))

    @ma.post_load
    def trim(self, data, **kwargs):
        data["text"] = _trimmed_text(data["text"])
        return data


class SocketEditMessageSchema(EditMessageSchema):
    messageId = ma.fields.UUID(required=True)


class SocketMessageRefSchema(ma.Schema):
    messageId = ma.fields.UUID(required=True)


class HistoryQuerySchema(ma.Schema):
    limit = ma.fields.Integer(load_default=50, validate=Range(1, 100))
    cursor = ma.fields.UUID()
    after = ma.fields.UUID()
    parentId = ma.fields.UUID()

    @ma.validates_schema
    def one_direction(self, data, **kwargs):
        if "cursor" in data and "after" in data:
            raise ma.ValidationError("Use either cursor or after, not both.", "after")


class EmojiSchema(ma.Schema):
    emoji = ma.fields.String(
        required=True,
        # No "/": an emoji is a path segment of DELETE …/reactions/{emoji}, which could not name it.
        validate=[
            Length(1, 32),
            ma.validate.Regexp(r"^[^\s/]+$", error="Must not contain spaces or slashes."),
        ],
    )


class SocketReactionSchema(EmojiSchema):
    messageId = ma.fields.UUID(required=True)


class ReportSchema(ma.Schema):
    reason = Trimmed(required=True, validate=Length(1, 500))


class ReportCreatedSchema(ma.Schema):
    id = ma.fields.UUID()
    status = ma.fields.Enum(ReportStatus)


class SocketMarkReadSchema(MessageIdSchema):
    roomId = ma.fields.UUID(required=True)


# -- track cards ------------------------------------------------------------------------------


class PopularTrackSchema(TrackRefSchema):
    shareCount = ma.fields.Integer()
    lastSharedAt = Timestamp()


class PopularQuerySchema(ma.Schema):
    days = ma.fields.Integer(load_default=7, validate=ma.validate.Range(1, 30))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
