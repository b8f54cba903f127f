"""The AsyncAPI 3 document of the `/chat` Socket.IO namespace (API.md §4), built from the events
below and the same marshmallow schemas that describe the REST answers: one Message, one UserRef.

Every event a client may emit names the schema of its argument and of its ack; every event the
server emits names its arguments. tests/docs/test_asyncapi.py fails when a handler or an emitted
event has no entry here, and checks the payloads real events carry against these schemas.
"""

import threading
from dataclasses import dataclass

import marshmallow as ma
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app

from seda.chat.schemas import (
    MessageSchema,
    ReactionSchema,
    SocketEditMessageSchema,
    SocketMarkReadSchema,
    SocketMessageRefSchema,
    SocketReactionSchema,
    SocketSendMessageSchema,
)
from seda.common.api import ErrorEnvelopeSchema
from seda.common.schemas import Timestamp
from seda.exports.schemas import ExportSchema
from seda.notifications.schemas import NotificationSchema
from seda.sessions.schemas import ListeningSessionSchema, QueueItemSchema
from seda.verification.schemas import VerificationRequestSchema

_APP_KEY = "seda_asyncapi_document"
_building = threading.Lock()  # first reads may come at once
NAMESPACE = "/chat"


def _id(description):
    return ma.fields.UUID(metadata={"description": description})


class RoomIdArgument(ma.Schema):
    """A room's id, given as the event's argument itself or as `{roomId}`."""

    roomId = _id("The room's id")


class JoinAckSchema(ma.Schema):
    ok = ma.fields.Boolean()
    roomId = _id("The room joined")
    seq = ma.fields.Integer(metadata={"description": "The room's latest seq: catch up from here"})
    session = ma.fields.Nested(ListeningSessionSchema, allow_none=True)


class OkAckSchema(ma.Schema):
    ok = ma.fields.Boolean(metadata={"description": "true; a failure acks the error envelope with ok: false"})


class RoomAckSchema(OkAckSchema):
    roomId = _id("The room left")


class MessageAckSchema(OkAckSchema):
    message = ma.fields.Nested(MessageSchema)


class ReactionAckSchema(OkAckSchema):
    reaction = ma.fields.Nested(ReactionSchema)


class FailedAckSchema(ErrorEnvelopeSchema):
    ok = ma.fields.Boolean(metadata={"description": "false"})


class PresenceCountSchema(ma.Schema):
    roomId = _id("The room")
    online = ma.fields.Integer(metadata={"description": "Members online in the room now"})


class ReadUpdatedSchema(ma.Schema):
    roomId = _id("The room")
    messageId = _id("The message my read marker is at now")
    unreadCount = ma.fields.Integer(metadata={"description": "Messages after it"})


class NowPlayingEventSchema(ma.Schema):
    roomId = _id("The room")
    sessionId = _id("The listening session")
    item = ma.fields.Nested(QueueItemSchema, allow_none=True, metadata={"description": "null: the queue ran dry"})
    startedAt = Timestamp(allow_none=True)
    endsAt = Timestamp(allow_none=True, metadata={"description": "null for a track without a duration"})
    serverTime = Timestamp(metadata={"description": "The position is serverTime - startedAt"})
    queue = ma.fields.List(ma.fields.Nested(QueueItemSchema))


class QueueUpdatedSchema(ma.Schema):
    roomId = _id("The room")
    sessionId = _id("The listening session")
    queue = ma.fields.List(ma.fields.Nested(QueueItemSchema), metadata={"description": "Waiting, in play order"})


class SkipVotesSchema(ma.Schema):
    roomId = _id("The room")
    sessionId = _id("The listening session")
    itemId = _id("The playing item")
    votes = ma.fields.Integer()
    needed = ma.fields.Integer()


class NotificationsReadSchema(ma.Schema):
    count = ma.fields.Integer(metadata={"description": "My unread notifications now"})
    ids = ma.fields.List(ma.fields.UUID(), allow_none=True, metadata={"description": "null after reading all"})


class SignedOutSchema(ma.Schema):
    reason = ma.fields.String(
        validate=ma.validate.OneOf(
            ["PASSWORD_RESET", "PASSWORD_CHANGED", "DEVICE_REVOKED", "LOGGED_OUT", "ACCOUNT_DELETED"]
        )
    )


class ExportUpdatedSchema(ma.Schema):
    export = ma.fields.Nested(ExportSchema)


@dataclass(frozen=True)
class Argument:
    """One positional argument of an event: a schema, or a plain JSON type."""

    name: str
    description: str
    schema: type | None = None
    json_type: dict | None = None


def _uuid(name, description):
    return Argument(name, description, json_type={"type": "string", "format": "uuid"})


@dataclass(frozen=True)
class ClientEvent:
    summary: str
    argument: type | None  # None: no argument
    ack: type | None  # None: no ack but on failure


@dataclass(frozen=True)
class ServerEvent:
    summary: str
    arguments: tuple  # of Argument; empty: none


CLIENT_EVENTS = {
    "join_room": ClientEvent(
        "Subscribe to the room's events (a public room is joined as a member first).", RoomIdArgument, JoinAckSchema
    ),
    "leave_room": ClientEvent(
        "Unsubscribe (the membership stays); others get user_left.", RoomIdArgument, RoomAckSchema
    ),
    "send_message": ClientEvent(
        "Send a message, with the rules of POST /chat/rooms/{roomId}/messages.",
        SocketSendMessageSchema,
        MessageAckSchema,
    ),
    "edit_message": ClientEvent("Edit my message's text.", SocketEditMessageSchema, MessageAckSchema),
    "delete_message": ClientEvent("Delete a message (mine, or as a moderator).", SocketMessageRefSchema, OkAckSchema),
    "add_reaction": ClientEvent("React to a message with an emoji.", SocketReactionSchema, ReactionAckSchema),
    "remove_reaction": ClientEvent("Take my reaction back.", SocketReactionSchema, OkAckSchema),
    "mark_read": ClientEvent("Move my read marker in a room to a message.", SocketMarkReadSchema, OkAckSchema),
    "typing_start": ClientEvent(
        "I am typing in a joined room (ends by itself after 10 s unless renewed).", RoomIdArgument, OkAckSchema
    ),
    "typing_stop": ClientEvent("I stopped typing.", RoomIdArgument, OkAckSchema),
    "ping": ClientEvent("The server answers pong.", None, OkAckSchema),
}

_ROOM, _USER = _uuid("roomId", "The room"), _uuid("userId", "The user")
_MESSAGE_ID = _uuid("messageId", "The message")

SERVER_EVENTS = {
    "message_created": ServerEvent(
        "A message stored in a joined room (to the whole room, sender included).",
        (Argument("message", "The message", MessageSchema),),
    ),
    "message_updated": ServerEvent(
        "A message edited, or its unfurl ended.", (Argument("message", "The message", MessageSchema),)
    ),
    "message_deleted": ServerEvent("A message deleted.", (_MESSAGE_ID, _ROOM)),
    "reactions_cleared": ServerEvent("Every reaction of a message removed by a moderator.", (_MESSAGE_ID, _ROOM)),
    "reaction_added": ServerEvent("A reaction added.", (Argument("reaction", "The reaction", ReactionSchema),)),
    "reaction_removed": ServerEvent(
        "A reaction taken back.", (_MESSAGE_ID, _USER, Argument("emoji", "The emoji", json_type={"type": "string"}))
    ),
    "user_joined": ServerEvent("A member joined the room.", (_ROOM, _USER)),
    "user_left": ServerEvent("A member left, or was removed (then to their own sockets too).", (_ROOM, _USER)),
    "user_muted": ServerEvent(
        "A member muted until a time.",
        (_ROOM, _USER, Argument("mutedUntil", "ISO 8601 UTC", json_type={"type": "string", "format": "date-time"})),
    ),
    "user_banned": ServerEvent("A member banned (to the room and to their own sockets).", (_ROOM, _USER)),
    "user_typing": ServerEvent(
        "A member started or stopped typing.",
        (_ROOM, _USER, Argument("isTyping", "Typing now", json_type={"type": "boolean"})),
    ),
    "presence": ServerEvent(
        "A member's first socket in the room, or their last one gone (rooms up to ROOM_PRESENCE_EVENTS_MAX_MEMBERS).",
        (_ROOM, _USER, Argument("online", "Online now", json_type={"type": "boolean"})),
    ),
    "presence_count": ServerEvent(
        "Members online in a larger room, at most once a second while it changes.",
        (Argument("count", "The count", PresenceCountSchema),),
    ),
    "read_updated": ServerEvent(
        "My read marker moved (on any of my devices).", (Argument("read", "Where it is", ReadUpdatedSchema),)
    ),
    "session_started": ServerEvent(
        "A listening session started in the room.", (Argument("session", "The session", ListeningSessionSchema),)
    ),
    "session_updated": ServerEvent(
        "The session changed (host, settings).", (Argument("session", "The session", ListeningSessionSchema),)
    ),
    "session_ended": ServerEvent("The session ended.", (_ROOM, _uuid("sessionId", "The session"))),
    "now_playing": ServerEvent(
        "The playing track changed (compute the position from serverTime).",
        (Argument("nowPlaying", "What plays", NowPlayingEventSchema),),
    ),
    "queue_updated": ServerEvent("The queue changed.", (Argument("queue", "The queue", QueueUpdatedSchema),)),
    "skip_votes": ServerEvent(
        "Votes to skip the playing track changed.", (Argument("votes", "The votes", SkipVotesSchema),)
    ),
    "verification_updated": ServerEvent(
        "My verification request changed.", (Argument("request", "The request", VerificationRequestSchema),)
    ),
    "notification_created": ServerEvent(
        "A notification for me.", (Argument("notification", "The notification", NotificationSchema),)
    ),
    "notifications_read": ServerEvent(
        "Notifications read on one of my devices.", (Argument("read", "What was read", NotificationsReadSchema),)
    ),
    "signed_out": ServerEvent(
        "This device is signed out; the server disconnects the socket next.",
        (Argument("why", "Why", SignedOutSchema),),
    ),
    "export_updated": ServerEvent("My data export changed.", (Argument("export", "The export", ExportUpdatedSchema),)),
    "pong": ServerEvent("The answer to ping.", ()),
    "error": ServerEvent(
        "An event without an ack failed, or named no known event (404 `Unknown event: <name>`).",
        (Argument("error", "The error envelope", ErrorEnvelopeSchema),),
    ),
}


def asyncapi_document():
    """This app's AsyncAPI 3 document (a dict)."""
    document = current_app.extensions.get(_APP_KEY)
    if document is None:
        with _building:
            document = current_app.extensions.get(_APP_KEY)
            if document is None:
                document = current_app.extensions[_APP_KEY] = _built()
    return document


def _built():
    converter = APISpec("seda events", "v1", "3.0.3", plugins=[MarshmallowPlugin()])
    channel_messages, operations, messages = {}, {}, {}

    def add(name, message):
        messages[name] = message
        channel_messages[name] = {"$ref": f"#/components/messages/{name}"}
        return {"channel": {"$ref": "#/channels/chat"}, "messages": [{"$ref": f"#/channels/chat/messages/{name}"}]}

    for name, event in CLIENT_EVENTS.items():
        operations[name] = {
            "action": "receive",
            "summary": event.summary,
            **add(name, _client_message(converter, name, event)),
        }
        if event.ack is not None:
            operations[name]["reply"] = add(f"{name}_ack", _ack_message(converter, name, event.ack))
    for name, event in SERVER_EVENTS.items():
        operations[name] = {
            "action": "send",
            "summary": event.summary,
            **add(name, _server_message(converter, name, event)),
        }
    schemas = {name: _json_schema(schema) for name, schema in converter.to_dict()["components"]["schemas"].items()}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "seda real time",
            "version": "v1",
            "description": (
                "The Socket.IO namespace /chat (Socket.IO 4, Engine.IO 4). Connect with `auth: {token}` (a seda or"
                " Supabase access token); a refused connect says why in connect_error (`Authentication failed`,"
                " `Token expired`, `Too many connections`). Each client event is answered by an ack: its reply"
                " below, or the error envelope with `ok: false`. An event's arguments are the payload: an array"
                " when the event has several. Schemas are the OpenAPI document's."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "seda": {
                "host": "localhost:3001",
                "protocol": "ws",
                "pathname": "/socket.io/",
                "description": "The API's own host: /socket.io/?EIO=4&transport=websocket",
            }
        },
        "channels": {
            "chat": {
                "address": NAMESPACE,
                "title": "The /chat namespace",
                "messages": channel_messages,
            }
        },
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _schema_ref(converter, schema):
    name = converter.plugins[0].converter.schema_name_resolver(schema)
    if name not in converter.components.schemas:
        converter.components.schema(name, schema=schema)
    return {"$ref": f"#/components/schemas/{name}"}


def _argument_schema(converter, argument):
    if argument.schema is not None:
        return {**_schema_ref(converter, argument.schema), "description": argument.description}
    return {**argument.json_type, "description": argument.description}


def _client_message(converter, name, event):
    payload = {"type": "null"} if event.argument is None else _schema_ref(converter, event.argument)
    return {"name": name, "title": name, "summary": event.summary, "payload": payload}


def _ack_message(converter, name, ack):
    answered = _schema_ref(converter, ack)
    failed = _schema_ref(converter, FailedAckSchema)
    return {"name": f"{name} ack", "title": f"{name} ack", "payload": {"oneOf": [answered, failed]}}


def _server_message(converter, name, event):
    arguments = [_argument_schema(converter, argument) for argument in event.arguments]
    if not arguments:
        payload = {"type": "null"}
    elif len(arguments) == 1:
        payload = arguments[0]
    else:
        payload = {
            "type": "array",
            "description": "The event's arguments, in order: " + ", ".join(a.name for a in event.arguments),
            "items": arguments,
            "minItems": len(arguments),
            "maxItems": len(arguments),
        }
    return {"name": name, "title": name, "summary": event.summary, "payload": payload}


def _json_schema(schema):
    """OpenAPI 3.0's schema dialect as JSON Schema: `nullable` becomes a "null" type."""
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        kind = converted.get("type")
        if kind is not None:
            converted["type"] = [kind, "null"]
        elif "$ref" in converted or "allOf" in converted:
            converted = {"oneOf": [{"type": "null"}, converted]}
    return converted
