import marshmallow as ma
from flask import current_app

from seda.chat.schemas import RoomSchema
from seda.common.schemas import PageQuerySchema, Timestamp
from seda.invites.models import InvitationStatus
from seda.users.schemas import UserRefSchema


class CreateInviteSchema(ma.Schema):
    maxUses = ma.fields.Integer(
        load_default=0, validate=ma.validate.Range(0, 100), metadata={"description": "0: unlimited"}
    )
    expiresInSeconds = ma.fields.Integer(
        load_default=86400, validate=ma.validate.Range(0, 604800), metadata={"description": "0: never"}
    )


class InviteSchema(ma.Schema):
    code = ma.fields.String()
    url = ma.fields.Method("_url", metadata={"description": "{PUBLIC_BASE_URL}/invite/{code}"})
    roomId = ma.fields.UUID(attribute="room_id")
    createdBy = ma.fields.Nested(UserRefSchema, attribute="creator")
    createdAt = Timestamp(attribute="created_at")
    expiresAt = Timestamp(attribute="expires_at", allow_none=True, metadata={"description": "null: never"})
    maxUses = ma.fields.Integer(attribute="max_uses", metadata={"description": "0: unlimited"})
    uses = ma.fields.Integer()

    def _url(self, link):
        return f"{current_app.config['PUBLIC_BASE_URL']}/invite/{link.code}"


class PreviewRoomSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    isPrivate = ma.fields.Boolean()
    memberCount = ma.fields.Integer()
    online = ma.fields.Integer(metadata={"description": "Members with a socket joined to the room"})


class PreviewNowPlayingSchema(ma.Schema):
    trackRef = ma.fields.Dict()
    startedAt = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    endsAt = ma.fields.String(allow_none=True, metadata={"format": "date-time"})


class InvitePreviewSchema(ma.Schema):
    code = ma.fields.String(attribute="link.code")
    room = ma.fields.Nested(PreviewRoomSchema)
    nowPlaying = ma.fields.Nested(PreviewNowPlayingSchema, allow_none=True)
    inviter = ma.fields.Nested(UserRefSchema)
    expiresAt = Timestamp(attribute="link.expires_at", allow_none=True)
    maxUses = ma.fields.Integer(attribute="link.max_uses")
    uses = ma.fields.Integer(attribute="link.uses")
    alreadyMember = ma.fields.Boolean(metadata={"description": "Only when the request carries a valid token"})


class JoinedRoomSchema(ma.Schema):
    room = ma.fields.Nested(RoomSchema)


class InvitationRoomSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    isPrivate = ma.fields.Boolean(attribute="is_private")
    memberCount = ma.fields.Integer(attribute="member_count")


class InvitationSchema(ma.Schema):
    id = ma.fields.UUID(attribute="invitation.id")
    room = ma.fields.Nested(InvitationRoomSchema)
    inviter = ma.fields.Nested(UserRefSchema)
    invitee = ma.fields.Nested(UserRefSchema)
    status = ma.fields.Enum(InvitationStatus)
    createdAt = Timestamp(attribute="invitation.created_at")
    respondedAt = Timestamp(attribute="invitation.responded_at", allow_none=True)
    expiresAt = Timestamp(attribute="invitation.expires_at")


class CreateInvitationSchema(ma.Schema):
    userId = ma.fields.UUID(required=True)


class InvitationListQuerySchema(PageQuerySchema):
    status = ma.fields.Enum(InvitationStatus)
