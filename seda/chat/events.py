"""Socket.IO namespace `/chat`: thin handlers that validate, call the chat services and ack.

Every client event answers through its ack `{ok: true, …}` / `{ok: false, error: <envelope>}`,
or, when the client asked for no ack, failures arrive as an `error` event. A bad event never
closes the connection.
"""

import json
import logging
import threading
import time
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps

import marshmallow as ma
from flask import current_app, request
from flask_socketio import (
    ConnectionRefusedError,
    Namespace,
    emit,
    join_room,
    leave_room,
)

from seda.chat import messages, notify, rooms
from seda.chat.notify import NAMESPACE, room_channel, user_channel
from seda.chat.presence import presence_store
from seda.chat.schemas import (
    SocketEditMessageSchema,
    SocketMarkReadSchema,
    SocketMessageRefSchema,
    SocketReactionSchema,
    SocketSendMessageSchema,
)
from seda.common import metrics
from seda.common.auth import authenticate_token
from seda.common.errors import (
    DomainError,
    Forbidden,
    RateLimited,
    Unauthorized,
    ValidationFailed,
    database_failure,
    envelope,
    flatten_validation_messages,
)
from seda.common.request_id import accept_or_generate, bind_request_id, reset_request_id
from seda.extensions import db, socketio
from seda.users.models import User

log = logging.getLogger(__name__)
MAX_EVENT_BYTES = 64 * 1024
TYPING_EXPIRY_SECONDS = 10.0
_ack_requested: ContextVar[bool] = ContextVar("ack_requested", default=True)


@dataclass
class Connection:
    user_id: object
    rooms: set = field(default_factory=set)
    recent_events: deque = field(default_factory=deque)
    typing: dict = field(default_factory=dict)  # room id -> generation of the latest start

    def allow_event(self, now, per_second):
        while self.recent_events and now - self.recent_events[0] >= 1.0:
            self.recent_events.popleft()
        if len(self.recent_events) >= per_second:
            return False
        self.recent_events.append(now)
        return True


_connections: dict[str, Connection] = {}
_connections_lock = threading.Lock()


def track_ack_requests(server):
    """Record, per event, whether the client passed an ack callback (python-socketio hides it)."""
    original = server._handle_event_internal

    def handle_event_internal(srv, sid, eio_sid, data, namespace, id):
        token = _ack_requested.set(id is not None)
        try:
            return original(srv, sid, eio_sid, data, namespace, id)
        finally:
            _ack_requested.reset(token)

    server._handle_event_internal = handle_event_internal


def _failure(event, status, messages_):
    metrics.SOCKET_EVENTS.labels(event, str(status)).inc()
    error = envelope(status, messages_, path=event, method="SOCKET")
    if _ack_requested.get():
        return {"ok": False, "error": error}
    emit("error", error)
    return None


def socket_event(schema=None):
    """Wrap a handler: rate and size limits, payload validation, the user, acks and errors."""

    def decorator(handler):
        event = handler.__name__.removeprefix("on_")

        @wraps(handler)
        def wrapper(self, payload=None, *_extra):
            token = bind_request_id(accept_or_generate(None))
            try:
                connection = _connections.get(request.sid)
                if connection is None:
                    return _failure(event, 401, ["Not connected"])
                per_second = current_app.config["RATE_LIMIT_SOCKET_EVENTS_PER_SECOND"]
                if not connection.allow_event(time.monotonic(), per_second):
                    raise RateLimited(f"More than {per_second} events per second", retry_after=1)
                if len(json.dumps(payload, default=str)) > MAX_EVENT_BYTES:
                    return _failure(event, 413, ["Event payload is larger than 64 KiB"])
                data = _load(schema, payload)
                user = _active_user(connection)
                result = handler(self, user, connection, data)
                metrics.SOCKET_EVENTS.labels(event, "ok").inc()
                return {"ok": True, **(result or {})}
            except DomainError as error:
                db.session.rollback()
                return _failure(event, error.status, error.messages)
            except Exception as error:
                _discard_session()
                failure = database_failure(error)
                if failure is not None:
                    log.error("socket event %s: %s", event, failure.messages[0])
                    return _failure(event, failure.status, failure.messages)
                log.exception("socket event %s failed", event)
                return _failure(event, 500, ["Internal server error"])
            finally:
                reset_request_id(token)

        return wrapper

    return decorator


def _discard_session():
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; removing the session is all that is left
        log.debug("rollback after a lost connection failed", exc_info=True)
    db.session.remove()


def _load(schema, payload):
    if schema is None:
        if payload is not None and not isinstance(payload, str):
            raise ValidationFailed("roomId: Not a valid UUID.")
        return payload
    if not isinstance(payload, dict):
        raise ValidationFailed("payload: Must be an object.")
    try:
        return schema.load(payload)
    except ma.ValidationError as error:
        raise ValidationFailed(*flatten_validation_messages(error.messages)) from None


def _room_id_of(payload):
    """`join_room` and friends take the room id itself; an object `{roomId}` is accepted too."""
    if isinstance(payload, dict):
        payload = payload.get("roomId")
    if not isinstance(payload, str) or not payload:
        raise ValidationFailed("roomId: Missing data for required field.")
    return payload


def _active_user(connection):
    user = db.session.get(User, connection.user_id)
    if user is None:  # deleted while connected
        raise Unauthorized("Account not found")
    if user.banned:
        raise Forbidden("Account suspended")
    return user


class ChatNamespace(Namespace):
    def on_connect(self, auth=None):
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            user = authenticate_token(token)
        except Forbidden:
            raise ConnectionRefusedError("Account suspended") from None
        except DomainError:
            raise ConnectionRefusedError("Authentication failed") from None
        finally:
            db.session.remove()
        with _connections_lock:
            _connections[request.sid] = Connection(user.id)
        join_room(user_channel(user.id))
        presence_store().connect(user.id, request.sid)

    def on_disconnect(self, *_reason):
        with _connections_lock:
            connection = _connections.pop(request.sid, None)
        if connection is None:
            return
        for room_id in list(connection.rooms):
            if connection.typing.pop(room_id, None) is not None:
                notify.user_typing(room_id, connection.user_id, False)
            if presence_store().leave(room_id, connection.user_id, request.sid):
                notify.presence(room_id, connection.user_id, False)
        presence_store().disconnect(connection.user_id, request.sid)

    @socket_event()
    def on_join_room(self, user, connection, payload):
        view, joined_now = rooms.join_room(user, _room_id_of(payload))
        room_id = str(view.id)
        join_room(room_channel(room_id))
        connection.rooms.add(room_id)
        if not joined_now:
            notify.user_joined(room_id, user.id, skip_sid=request.sid)
        if presence_store().join(room_id, user.id, request.sid):
            notify.presence(room_id, user.id, True)
        return {"roomId": room_id, "seq": view.last_seq}

    @socket_event()
    def on_leave_room(self, user, connection, payload):
        room_id = _room_id_of(payload)
        if room_id not in connection.rooms:
            return {"roomId": room_id}
        leave_room(room_channel(room_id))
        connection.rooms.discard(room_id)
        notify.user_left(room_id, user.id, skip_sid=request.sid)
        if presence_store().leave(room_id, user.id, request.sid):
            notify.presence(room_id, user.id, False)
        return {"roomId": room_id}

    @socket_event(SocketSendMessageSchema())
    def on_send_message(self, user, connection, data):
        message, _created = messages.send_message(
            user, data["roomId"], data["text"], data.get("parentId"), data.get("trackRef"),
            data.get("clientMessageId"),
        )
        return {"message": messages.serialize_message(message)}

    @socket_event(SocketEditMessageSchema())
    def on_edit_message(self, user, connection, data):
        message = messages.edit_message(user, data["messageId"], data["text"])
        return {"message": messages.serialize_message(message)}

    @socket_event(SocketMessageRefSchema())
    def on_delete_message(self, user, connection, data):
        messages.delete_message(user, data["messageId"])

    @socket_event(SocketReactionSchema())
    def on_add_reaction(self, user, connection, data):
        reaction, _created = messages.add_reaction(user, data["messageId"], data["emoji"])
        return {"reaction": messages.serialize_reaction(reaction)}

    @socket_event(SocketReactionSchema())
    def on_remove_reaction(self, user, connection, data):
        messages.remove_reaction(user, data["messageId"], data["emoji"])

    @socket_event(SocketMarkReadSchema())
    def on_mark_read(self, user, connection, data):
        rooms.mark_read(user, data["roomId"], data["messageId"])

    @socket_event()
    def on_typing_start(self, user, connection, payload):
        room_id = _subscribed_room(connection, payload)
        generation = connection.typing.get(room_id, 0) + 1
        if room_id not in connection.typing:
            notify.user_typing(room_id, user.id, True, skip_sid=request.sid)
        connection.typing[room_id] = generation
        socketio.start_background_task(_expire_typing, connection, room_id, user.id, generation, request.sid)

    @socket_event()
    def on_typing_stop(self, user, connection, payload):
        room_id = _subscribed_room(connection, payload)
        if connection.typing.pop(room_id, None) is not None:
            notify.user_typing(room_id, user.id, False, skip_sid=request.sid)

    @socket_event()
    def on_ping(self, user, connection, payload):
        emit("pong")


def _subscribed_room(connection, payload):
    room_id = _room_id_of(payload)
    if room_id not in connection.rooms:
        raise Forbidden("Join the room first")
    return room_id


def _expire_typing(connection, room_id, user_id, generation, sid):
    """A typing_start not renewed within 10 s ends by itself."""
    socketio.sleep(TYPING_EXPIRY_SECONDS)
    if connection.typing.get(room_id) == generation:
        connection.typing.pop(room_id, None)
        notify.user_typing(room_id, user_id, False, skip_sid=sid)


def init_chat_socket(app):
    """Serve `/chat` on this app's Socket.IO server (init_app re-registers it for later apps)."""
    if not any(handler.namespace == NAMESPACE for handler in socketio.namespace_handlers):
        socketio.on_namespace(ChatNamespace(NAMESPACE))
    track_ack_requests(socketio.server)


