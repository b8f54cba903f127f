"""Notification shapes (API.md section 8). Payloads are built in `services.notification_payload`;
these schemas document the same shapes, and tests keep the two equal."""

from zoneinfo import ZoneInfo

import marshmallow as ma

from seda.common.schemas import JsonBoolean, PageQuerySchema
from seda.notifications.models import EmailDigest, NotificationType
from seda.users.schemas import UserRefSchema
from seda.verification.models import VerificationStatus

MAX_IDS = 100


class NotificationSchema(ma.Schema):
    id = ma.fields.UUID()
    type = ma.fields.Enum(NotificationType)
    createdAt = ma.fields.String(metadata={"format": "date-time"})
    readAt = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    actor = ma.fields.Nested(UserRefSchema, allow_none=True, metadata={"description": "Who did it (null: seda)"})
    roomId = ma.fields.UUID(allow_none=True)
    roomName = ma.fields.String(allow_none=True)
    messageId = ma.fields.UUID(allow_none=True)
    parentId = ma.fields.UUID(allow_none=True, metadata={"description": "The thread a reply belongs to"})
    excerpt = ma.fields.String(
        allow_none=True, metadata={"description": "The message's first 200 characters when it was sent"}
    )
    verificationRequestId = ma.fields.UUID(allow_none=True)
    verificationStatus = ma.fields.Enum(VerificationStatus, allow_none=True)
    invitationId = ma.fields.UUID(allow_none=True, metadata={"description": "A ROOM_INVITE's invitation (section 13)"})


class InboxQuerySchema(PageQuerySchema):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "Only notifications not read yet"})


class UnreadCountSchema(ma.Schema):
    count = ma.fields.Integer()


class MarkReadSchema(ma.Schema):
    ids = ma.fields.List(ma.fields.UUID(), validate=ma.validate.Length(1, MAX_IDS))
    all = JsonBoolean(metadata={"description": "true: every notification of mine"})

    @ma.validates_schema
    def ids_or_all(self, data, **kwargs):
        if ("ids" in data) == ("all" in data):
            raise ma.ValidationError("Give either ids or all, not both.", "ids" if "ids" in data else "_schema")
        if data.get("all") is False:
            raise ma.ValidationError("Must be true (to mark some, give ids).", "all")


# -- settings (API.md §13) ----------------------------------------------------------------------

CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class ChannelsSchema(ma.Schema):
    push = ma.fields.Boolean()
    email = ma.fields.Boolean()


class ChannelChangesSchema(ma.Schema):
    push = JsonBoolean()
    email = JsonBoolean()


class QuietHoursSchema(ma.Schema):
    start = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(CLOCK, error="Not a time HH:MM (00:00-23:59)."),
        metadata={"example": "22:00"},
    )
    end = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(CLOCK, error="Not a time HH:MM (00:00-23:59)."),
        metadata={"example": "07:30"},
    )

    @ma.validates_schema
    def _start_and_end_differ(self, data, **_kwargs):
        if data.get("start") is not None and data.get("start") == data.get("end"):
            raise ma.ValidationError("start and end must differ")


def _known_time_zone(name):
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        raise ma.ValidationError("Unknown time zone") from None


class NotificationSettingsSchema(ma.Schema):
    types = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(ChannelsSchema),
        metadata={"description": "Every notification type (MENTION, REPLY, …): {push, email}"},
    )
    emailDigest = ma.fields.String(metadata={"enum": [digest.value for digest in EmailDigest]})
    quietHours = ma.fields.Nested(QuietHoursSchema, allow_none=True)
    timeZone = ma.fields.String(
        metadata={"description": "IANA time zone of the quiet hours", "example": "Europe/Paris"}
    )


TypeChangesSchema = ma.Schema.from_dict(
    {kind.value: ma.fields.Nested(ChannelChangesSchema) for kind in NotificationType}, name="TypeChangesSchema"
)


class SettingsChangesSchema(ma.Schema):
    types = ma.fields.Nested(
        TypeChangesSchema, metadata={"description": '{"MENTION": {"push": false}} changes that one'}
    )
    emailDigest = ma.fields.Enum(EmailDigest, by_value=True)
    quietHours = ma.fields.Nested(QuietHoursSchema, allow_none=True, metadata={"description": "null clears them"})
    timeZone = ma.fields.String(validate=[ma.validate.Length(1, 64), _known_time_zone])


class UnsubscribeQuerySchema(ma.Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(1, 512))


class OneClickSchema(ma.Schema):
    """The body a one-click unsubscribe may carry: nothing to read in it (RFC 8058's form
    `List-Unsubscribe=One-Click` is not JSON and is not read; JSON `{}` is accepted)."""

    BODY_OPTIONAL = True


class UnsubscribedSchema(ma.Schema):
    message = ma.fields.String()
