"""What seda changes in the libraries under Socket.IO, each for a failure it was measured or
attacked with: packets whose JSON cannot parse, frames cut by short writes, compression paid
once per socket, and readers that stop reading."""

import json
import logging
import socket
import threading

import engineio.socket
import simple_websocket
from socketio import packet
from wsproto.extensions import PerMessageDeflate

log = logging.getLogger(__name__)
# The transport closes a connection only past this (a flood, not a mistake); an event between
# 64 KiB (chat.socket.MAX_EVENT_BYTES) and this is answered 413 on a connection that stays open.
MAX_TRANSPORT_BYTES = 1024 * 1024
# What PayloadPacket makes of a packet whose JSON cannot be parsed; a name no client can send
# (it has a space), refused by the event guards like a reserved name.
MALFORMED_EVENT = "malformed payload"


class _PayloadJson:
    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text, **kwargs):
        try:
            return json.loads(text, **kwargs)
        except (RecursionError, ValueError):
            return [MALFORMED_EVENT]


class PayloadPacket(packet.Packet):
    """Socket.IO packets whose payload json cannot parse (nesting deeper than the stack, an
    integer of over 4,300 digits) carry MALFORMED_EVENT, answered 400, instead of raising an
    exception that drops the packet with no answer. (Only Socket.IO's packets: Engine.IO's
    own codec relies on json raising for what is not JSON.)"""

    json = _PayloadJson


class CompleteWrites:
    """A socket whose send() writes the whole buffer, one writer at a time.

    simple-websocket 1.1.0 writes frames with sock.send() and ignores a short write: when a slow
    reader's send buffer fills, the rest of the frame is dropped and the stream is corrupt
    (upstream issue #45). sendall() finishes the frame; the lock keeps the frame writers of one
    connection (messages, pings, pongs, close) from interleaving their bytes."""

    def __init__(self, sock):
        self._sock = sock
        self._writing = threading.Lock()

    def send(self, data):
        with self._writing:
            sent = self._sock.send(data)  # nearly always all of it; sendall only for the rest
            if sent < len(data):
                self._sock.sendall(memoryview(data)[sent:])
        return len(data)

    def abort(self):
        """Cut the connection now: a writer blocked on a reader that stopped reading fails at
        once and the client sees the TCP connection close."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already gone

    def __getattr__(self, name):
        return getattr(self._sock, name)


class NoCompression(PerMessageDeflate):
    """Decline permessage-deflate when a client offers it (browsers and socket.io-client do).

    simple-websocket accepts it unconditionally, and wsproto then compresses every frame for
    every socket: a message to a 1,000-member room was deflated 1,000 times, ~12 % of the CPU
    of a reconnect storm (py-spy, bench/storm.py). Chat frames are small; CPU is the limit."""

    def accept(self, offer):
        return None


def install_websocket_fixes():
    """Every simple-websocket connection writes through CompleteWrites and declines
    compression (once per process)."""
    simple_websocket.ws.PerMessageDeflate = NoCompression
    if getattr(simple_websocket.ws.Base.__init__, "_complete_writes", False):
        return
    original = simple_websocket.ws.Base.__init__

    def init(self, sock=None, *args, **kwargs):
        original(self, CompleteWrites(sock) if sock is not None else None, *args, **kwargs)

    init._complete_writes = True
    simple_websocket.ws.Base.__init__ = init


def install_send_queue_limit(max_queued_bytes):
    """Disconnect a socket whose outgoing queue passes `max_queued_bytes` (API.md §4).

    A reader that stops reading would otherwise hold an ever-growing queue in this process and
    its TCP connection open for as long as its window stays shut; it reconnects and catches up
    with `after` instead. Counted per engine.io socket: what send() queued minus what the
    writer took (an estimate that never costs an encode)."""
    sockets = engineio.socket.Socket
    if getattr(sockets, "_seda_queue_limit", None) is not None:
        sockets._seda_queue_limit = max_queued_bytes
        return
    sockets._seda_queue_limit = max_queued_bytes
    send, poll, websocket_handler = sockets.send, sockets.poll, sockets._websocket_handler

    def limited_send(self, pkt):
        queued = getattr(self, "_seda_queued", 0) + _packet_bytes(pkt)
        self._seda_queued = queued
        if queued > sockets._seda_queue_limit and not self.closing and not self.closed:
            log.warning("socket %s queued %d bytes without reading: disconnected", self.sid, queued)
            self.close(wait=False, abort=True)
            transport = getattr(self, "_seda_transport", None)
            if transport is not None:
                transport.abort()
            return None
        return send(self, pkt)

    def counted_poll(self):
        packets = poll(self)
        self._seda_queued = max(0, getattr(self, "_seda_queued", 0) - sum(map(_packet_bytes, packets)))
        return packets

    def remembering_websocket_handler(self, ws):
        self._seda_transport = getattr(getattr(ws, "ws", None), "sock", None)
        return websocket_handler(self, ws)

    sockets.send, sockets.poll, sockets._websocket_handler = limited_send, counted_poll, remembering_websocket_handler


def _packet_bytes(pkt):
    data = pkt.data
    return len(data) if isinstance(data, (str, bytes)) else 64
