"""The runtime under a namespace's handlers: the connection registry, the per-socket event
limit, and `socket_event`, which validates a payload, loads the user (the namespace's
`load_user`), acks and turns errors into envelopes.

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
from flask_socketio import emit
from gevent import monkey

from seda.common import metrics
from seda.common.admission import EVENTS, admission
from seda.common.after_ack import ack_first
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
from seda.common.input import unstorable
from seda.common.ratelimit import count_ahead, enforce
from seda.common.request_id import accept_or_generate, bind_request_id, reset_request_id
from seda.common.user_versions import expect_user
from seda.extensions import db
from seda.patches import python_socketio
from seda.realtime.event_order import SocketEventOrder, before_answer
from seda.realtime.transport import BINARY_EVENT, MALFORMED_EVENT

log = logging.getLogger(__name__)
MAX_EVENT_BYTES = 64 * 1024
_ack_requested: ContextVar[bool] = ContextVar("ack_requested", default=True)
# Names Socket.IO itself gives meaning to (socket.io's RESERVED_EVENTS); no client sends them.
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
UNREADABLE = frozenset({MALFORMED_EVENT, BINARY_EVENT})  # what PayloadPacket makes of what it refuses


@dataclass
class Connection:
    user_id: object
    device: str | None = None  # the device its token was issued to (its presence group)
    rooms: dict = field(default_factory=dict)  # room id -> over ROOM_PRESENCE_EVENTS_MAX_MEMBERS
    direct_rooms: set = field(default_factory=set)  # the joined rooms that are DIRECT
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
_event_order = SocketEventOrder()
_connections_lock = threading.Lock()


def register_connection(sid, user_id, device=None):
    with _connections_lock:
        _connections[sid] = Connection(user_id, device)
    metrics.SOCKETS_CONNECTED.inc()


def unregister_connection(sid):
    """Forget the socket; returns its Connection, or None when it was not registered."""
    with _connections_lock:
        connection = _connections.pop(sid, None)
    if connection is not None:
        metrics.SOCKETS_CONNECTED.dec()
    return connection


def install_event_guards(server):
    """Stand between the client's events and the handlers: refuse reserved event names and what
    PayloadPacket could not read, and record per event whether the client passed an ack
    callback (python-socketio hides it).

    python-socketio hands a client EVENT named `disconnect` to the disconnect handler as if the
    socket had closed: the client would erase its own bookkeeping while staying subscribed.

    Each event runs in a task of its own, in its socket's order (realtime/event_order.py)."""
    python_socketio.intercept_events(server, _guarded)
    # Under gevent (gunicorn's worker) each event gets a greenlet; elsewhere (the test client,
    # threads) an event is handled where it arrives, as the test client expects.
    python_socketio.order_events(server, _event_order.arrive, in_background=monkey.is_module_patched("socket"))


def _guarded(server, dispatch, sid, eio_sid, data, namespace, ack_id):
    if data[0] in RESERVED_EVENTS or data[0] in UNREADABLE or not _handled(server, namespace, data[0]):
        _refuse_event(server, sid, eio_sid, data, namespace, ack_id)
        return None
    token = _ack_requested.set(ack_id is not None)
    try:
        return dispatch()
    finally:
        _ack_requested.reset(token)


def _handled(server, namespace, event):
    """Whether the namespace has a handler for `event` (python-socketio would ignore it silently)."""
    handler = server.namespace_handlers.get(namespace)
    return handler is None or callable(getattr(handler, f"on_{event}", None))


def _refuse_event(server, sid, eio_sid, data, namespace, ack_id):
    event, status = data[0], 400
    if event == MALFORMED_EVENT:
        kind, reason, path = "malformed", "Malformed event payload", None
    elif event == BINARY_EVENT:
        kind, reason, path = "binary", "Binary payloads are not accepted", data[1]
    elif event in RESERVED_EVENTS:
        kind, reason, path = "reserved", f"'{event}' is a reserved event name", event
    else:
        name = str(event)[:100]
        kind, status, reason, path = "unknown", 404, f"Unknown event: {name}", name
    metrics.SOCKET_EVENTS.labels(kind, str(status)).inc()
    error = envelope(status, [reason], path=path, method="SOCKET")
    before_answer()
    if ack_id is None:
        server.emit("error", error, to=sid, namespace=namespace)
        return
    python_socketio.send_ack(server, eio_sid, namespace, ack_id, [{"ok": False, "error": error}])


def _failure(event, status, messages_):
    metrics.SOCKET_EVENTS.labels(event, str(status)).inc()
    if status == 503:
        metrics.count_unavailable(messages_[0])
    error = envelope(status, messages_, path=event, method="SOCKET")
    if _ack_requested.get():
        return {"ok": False, "error": error}
    emit("error", error)
    return None


def socket_event(schema=None, lane=EVENTS, ahead=None):
    """Wrap a handler: rate and size limits, its turn (`lane`, common/admission.py), payload
    validation, the user, acks and errors. `ahead(user_id, data, event_budget)`, called before
    the user is loaded, counts the event budget (a limit for ratelimit.count_ahead) with the
    handler's own Redis work, in the round trip that reads the user."""

    def decorator(handler):
        event = handler.__name__.removeprefix("on_")

        @wraps(handler)
        def wrapper(self, payload=None, *_extra):
            answer = handle(self, payload)
            before_answer()  # the socket's earlier events are answered first
            return answer

        def handle(self, payload):
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
                with admission().admitted(lane, who=connection.user_id):
                    data = _load_within_budget(schema, payload, connection.user_id, ahead)
                    user = _active_user(self, connection)
                    with ack_first():
                        result = handler(self, user, connection, data)
                metrics.SOCKET_EVENTS.labels(event, "ok").inc()
                return {"ok": True, **(result or {})}
            except DomainError as error:
                db.session.rollback()
                return _failure(event, error.status, error.messages)
            except Exception as error:
                discard_session()
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


def discard_session():
    """Drop this greenlet's session, even when its connection died with the database (never raises)."""
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; removing the session is all that is left
        log.debug("rollback after a lost connection failed", exc_info=True)
    try:
        db.session.remove()
    except Exception:
        db.session.registry.clear()


def _load_within_budget(schema, payload, user_id, ahead):
    """The event's payload, once this event is counted against its user's budget across all
    their sockets and processes (RATE_LIMIT_SOCKET_EVENTS_USER); `ahead` counts it together with
    the handler's own limits, in one round trip. An invalid payload counts too."""
    limit = current_app.config["RATE_LIMIT_SOCKET_EVENTS_USER"]
    budget = (limit, "socket-events", str(user_id))
    refused = f"Too many events for this user across their connections ({limit})"
    try:
        data = _load(schema, payload)
    except ValidationFailed:
        enforce(*budget, message=refused)
        raise
    if ahead is None:
        expect_user(user_id)  # the user's version is read in the round trip that counts the budget
        count_ahead(budget)
    else:
        ahead(user_id, data, budget)
    enforce(*budget, message=refused)
    return data


def _load(schema, payload):
    problem = unstorable(payload)
    if problem is not None:
        path, reason = problem
        raise ValidationFailed(f"{path}: {reason}" if path else reason)
    if schema is None:  # a room id, bare or as {roomId} (room_id_of reads both)
        if payload is not None and not isinstance(payload, str | dict):
            raise ValidationFailed("roomId: Not a valid UUID.")
        return payload
    if not isinstance(payload, dict):
        raise ValidationFailed("payload: Must be an object.")
    try:
        return schema.load(payload)
    except ma.ValidationError as error:
        raise ValidationFailed(*flatten_validation_messages(error.messages)) from None


def _active_user(namespace, connection):
    """The socket's user in this event's session, as the namespace loads it (`load_user(id)`:
    chat keeps users between events). A ban also disconnects the user's sockets; a role or
    profile change reaches the next event."""
    user = namespace.load_user(connection.user_id)
    if user is None:  # deleted while connected
        raise Unauthorized("Account not found")
    if user.banned:
        raise Forbidden("Account suspended")
    return user


def room_id_of(payload):
    """`join_room` and friends take the room id itself; an object `{roomId}` is accepted too."""
    if isinstance(payload, dict):
        payload = payload.get("roomId")
    if not isinstance(payload, str) or not payload:
        raise ValidationFailed("roomId: Missing data for required field.")
    return payload
