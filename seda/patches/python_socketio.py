"""python-socketio: seda stands between a client's event and its handler.

python-socketio hands a client EVENT named `disconnect` to the disconnect handler as if the
socket had closed, drops an event whose payload it cannot use with no answer, and hides from a
handler whether the client asked for an ack. There is no public hook ahead of its dispatch."""

import functools

from socketio import packet

PATCHED_FOR = "python-socketio==5.18.1"
PATCHED = {
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
