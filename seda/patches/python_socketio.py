"""python-socketio: seda stands between a client's event and its handler.

python-socketio hands a client EVENT named `disconnect` to the disconnect handler as if the
socket had closed, drops an event whose payload it cannot use with no answer, and hides from a
handler whether the client asked for an ack. There is no public hook ahead of its dispatch."""

import functools

from socketio import packet

PATCHED_FOR = "python-socketio==5.18.1"
PATCHED = {
    "socketio.Server._handle_event": "(self, eio_sid, namespace, id, data)",
    "socketio.Server._handle_event_internal": "(self, server, sid, eio_sid, data, namespace, id)",
    "socketio.Server._send_packet": "(self, eio_sid, pkt)",
}


def intercept_events(server, around):
    """Run every client event through `around(server, dispatch, sid, eio_sid, data, namespace, ack_id)`,
    which may answer it itself or call `dispatch()` for python-socketio's own handling (the
    handler, then the ack it returns)."""
    original = server._handle_event_internal

    @functools.wraps(original)
    def handle_event_internal(srv, sid, eio_sid, data, namespace, id):
        dispatch = lambda: original(srv, sid, eio_sid, data, namespace, id)  # noqa: E731
        return around(srv, dispatch, sid, eio_sid, data, namespace, id)

    server._handle_event_internal = handle_event_internal


def send_ack(server, eio_sid, namespace, ack_id, data):
    """Answer a client's event `ack_id` with `data` without a handler."""
    server._send_packet(eio_sid, server.packet_class(packet.ACK, namespace=namespace, id=ack_id, data=data))


def order_events(server, arrive, in_background):
    """Each client event goes through `arrive(eio_sid)`, called in the socket's reader in arrival
    order, which gives the runner, `run(handle, *args)`, its handling is called through: in a
    background task of its own (`in_background`), else right there (Flask-SocketIO's test client
    expects every event answered before emit() returns). Needs the server built with
    async_handlers=False, so that python-socketio handles an event where it is called."""
    original = server._handle_event

    @functools.wraps(original)
    def handle_event(eio_sid, namespace, id, data):
        run = arrive(eio_sid)
        if in_background:
            server.start_background_task(run, original, eio_sid, namespace, id, data)
        else:
            run(original, eio_sid, namespace, id, data)

    server._handle_event = handle_event
