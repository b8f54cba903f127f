"""Notification shapes (API.md section 8). Payloads are built in `services.notification_payload`;
these schemas document the same shapes, and tests keep the two equal."""

import marshmallow as ma

from seda.common.schemas import JsonBoolean, PageQuerySchema
from seda.notifications.models import NotificationType
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
