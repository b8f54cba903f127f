"""Socket.IO namespace `/chat`: thin handlers that validate, call the chat services and ack
(the plumbing they share is in `seda.realtime.runtime`)."""

import logging

import socketio as socketio_server
from flask import current_app, request
from flask_socketio import (
    ConnectionRefusedError,
    Namespace,
    emit,
    join_room,
    leave_room,
)

from seda.chat import direct, hooks, messages, notify, reactions, rooms
from seda.chat.models import RoomType
from seda.chat.payloads import serialize_reaction
from seda.chat.schemas import (
    SocketEditMessageSchema,
    SocketMarkReadSchema,
    SocketMessageRefSchema,
    SocketReactionSchema,
    SocketSendMessageSchema,
)
from seda.common.admission import ARRIVALS, BUSY, admission
from seda.common.auth import authenticate_token
from seda.common.errors import DomainError, Forbidden, ServiceUnavailable, TokenExpired, database_failure
from seda.extensions import socketio
from seda.realtime.emits import NAMESPACE, device_group, room_channel, user_channel
from seda.realtime.presence import presence_store
from seda.realtime.runtime import (
    discard_session,
    install_event_guards,
    register_connection,
    room_id_of,
    socket_event,
    unregister_connection,
)
from seda.realtime.transport import install_socket_writes, install_websocket_fixes
from seda.users.kept import kept_users

log = logging.getLogger(__name__)
TYPING_EXPIRY_SECONDS = 10.0
TOO_MANY_CONNECTIONS = "Too many connections"
UNKNOWN_NAMESPACE = "Unknown namespace"


def _count_send_ahead(user_id, data, event_budget):
    messages.count_send_ahead(user_id, data["roomId"], event_budget, text=data["text"])


class ChatNamespace(Namespace):
    def load_user(self, user_id):
        """The socket's user for an event (realtime/runtime.py), kept between events."""
        return kept_users().load(user_id)

    def on_connect(self, auth=None):
        """Every attempt ends in a connect or a connect_error: an exception escaping here would
        leave the client waiting forever (python-socketio answers nothing, socket.io-client has
        no timeout for this step)."""
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            with admission().admitted(ARRIVALS, who=request.remote_addr):
                user_id, device = authenticate_token(token)
        except ServiceUnavailable:
            raise ConnectionRefusedError(BUSY) from None
        except Forbidden:
            raise ConnectionRefusedError("Account suspended") from None
        except TokenExpired:
            raise ConnectionRefusedError("Token expired") from None  # the client refreshes and reconnects
        except DomainError:
            raise ConnectionRefusedError("Authentication failed") from None
        except Exception as error:
            if database_failure(error) is None:
                log.exception("socket connect failed")
            else:
                log.warning("socket connect refused, database busy or down: %s", error)
            raise ConnectionRefusedError(BUSY) from None
        finally:
            discard_session()
        if not presence_store().connect(user_id, request.sid, current_app.config["SOCKET_MAX_PER_USER"]):
            raise ConnectionRefusedError(TOO_MANY_CONNECTIONS)
        register_connection(request.sid, user_id, device)
        join_room(user_channel(user_id))
        if device is not None:
            presence_store().join(device_group(device), user_id, request.sid)

    def on_disconnect(self, *_reason):
        connection = unregister_connection(request.sid)
        if connection is None:
            return
        for room_id, large in list(connection.rooms.items()):
            if connection.typing.pop(room_id, None) is not None:
                notify.user_typing(room_id, connection.user_id, False)
            if presence_store().leave(room_id, connection.user_id, request.sid):
                notify.presence_changed(room_id, connection.user_id, False, large)
        if connection.device is not None:
            presence_store().leave(device_group(connection.device), connection.user_id, request.sid)
        presence_store().disconnect(connection.user_id, request.sid)

    @socket_event(lane=ARRIVALS)
    def on_join_room(self, user, connection, payload):
        view, _joined_now = rooms.join_room(user, room_id_of(payload))
        room_id = str(view.id)
        join_room(room_channel(room_id))
        # A join that made a member was announced by rooms.join_room; a re-join says nothing.
        large = view.member_count > current_app.config["ROOM_PRESENCE_EVENTS_MAX_MEMBERS"]
        connection.rooms[room_id] = large
        if view.type == RoomType.DIRECT:
            connection.direct_rooms.add(room_id)
        if presence_store().join(room_id, user.id, request.sid):
            notify.presence_changed(room_id, user.id, True, large)
        session = hooks.session_view(user, room_id) if view.active_session_id else None
        return {"roomId": room_id, "seq": view.last_seq, "session": session}

    @socket_event()
    def on_leave_room(self, user, connection, payload):
        room_id = room_id_of(payload)
        if room_id not in connection.rooms:
            return {"roomId": room_id}
        leave_room(room_channel(room_id))
        large = connection.rooms.pop(room_id)
        connection.direct_rooms.discard(room_id)
        notify.user_left(room_id, user.id, skip_sid=request.sid)
        if presence_store().leave(room_id, user.id, request.sid):
            notify.presence_changed(room_id, user.id, False, large)
        return {"roomId": room_id}

    @socket_event(SocketSendMessageSchema(), ahead=_count_send_ahead)
    def on_send_message(self, user, connection, data):
        stored = messages.send_message(
            user,
            data["roomId"],
            data["text"],
            data.get("parentId"),
            data.get("trackRef"),
            data.get("clientMessageId"),
        )
        return {"message": stored.payload}

    @socket_event(SocketEditMessageSchema())
    def on_edit_message(self, user, connection, data):
        return {"message": messages.edit_message(user, data["messageId"], data["text"]).payload}

    @socket_event(SocketMessageRefSchema())
    def on_delete_message(self, user, connection, data):
        messages.delete_message(user, data["messageId"])

    @socket_event(SocketReactionSchema())
    def on_add_reaction(self, user, connection, data):
        reaction, _created = reactions.add_reaction(user, data["messageId"], data["emoji"])
        return {"reaction": serialize_reaction(reaction)}

    @socket_event(SocketReactionSchema())
    def on_remove_reaction(self, user, connection, data):
        reactions.remove_reaction(user, data["messageId"], data["emoji"])

    @socket_event(SocketMarkReadSchema())
    def on_mark_read(self, user, connection, data):
        rooms.mark_read(user, data["roomId"], data["messageId"])

    @socket_event()
    def on_typing_start(self, user, connection, payload):
        room_id = _subscribed_room(connection, payload)
        if room_id in connection.direct_rooms:
            direct.refuse_typing_if_blocked(user, room_id)
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
    room_id = room_id_of(payload)
    if room_id not in connection.rooms:
        raise Forbidden("Join the room first")
    return room_id


def _expire_typing(connection, room_id, user_id, generation, sid):
    """A typing_start not renewed within 10 s ends by itself."""
    socketio.sleep(TYPING_EXPIRY_SECONDS)
    if connection.typing.get(room_id) == generation:
        connection.typing.pop(room_id, None)
        notify.user_typing(room_id, user_id, False, skip_sid=sid)


class UnknownNamespaces(socketio_server.Namespace):
    """Every namespace but `/chat` (the server accepts any, so that this can say why)."""

    def on_connect(self, namespace, *_args):
        raise ConnectionRefusedError(UNKNOWN_NAMESPACE)


def init_chat_socket(app):
    """Serve `/chat` on this app's Socket.IO server (init_app re-registers it for later apps),
    and refuse every other namespace, `/` included."""
    if not any(handler.namespace == NAMESPACE for handler in socketio.namespace_handlers):
        socketio.on_namespace(ChatNamespace(NAMESPACE))
    socketio.server.register_namespace(UnknownNamespaces("*"))
    install_event_guards(socketio.server)
    install_websocket_fixes()
    install_socket_writes(app.config["SOCKET_MAX_QUEUED_BYTES"])
