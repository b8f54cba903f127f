"""python-engineio: websocket frames written straight from the sender, a queue limit per socket,
and how many packets one polling POST may carry."""

import functools
import logging
import struct

import engineio.payload
import engineio.socket

log = logging.getLogger(__name__)

PATCHED_FOR = "python-engineio==4.15.1"
PATCHED = {
    "engineio.socket.Socket.send": "(self, pkt)",
    "engineio.socket.Socket.poll": "(self)",
    "engineio.socket.Socket._websocket_handler": "(self, ws)",
    "engineio.payload.Payload.max_decode_packets": None,  # an attribute, not a function
}


def decode_at_most(packets):
    """How many packets one polling POST may carry (engine.io's default: 16). Past it engine.io
    raises inside its POST handler, which answers 200 and drops the lot: the caller must refuse
    larger payloads before engine.io sees them (seda.realtime.transport.PollingBatchLimit)."""
    engineio.payload.Payload.max_decode_packets = packets


def write_directly(max_queued_bytes):
    """Write websocket frames straight from the sender, and disconnect a socket whose unwritten
    output passes `max_queued_bytes` (API.md §4).

    engine.io hands every packet to a per-socket queue and wakes that socket's writer greenlet
    to encode and send it: a broadcast to 1,000 sockets cost 1,000 queue hand-offs, wake-ups and
    wsproto frames (~20 µs of CPU per delivery, against Node's ~8 µs). Once a websocket's writer
    has drained what was queued before, the socket goes direct: each packet's frame is built once
    (a broadcast passes one packet object to all its recipients) and offered to the socket, which
    writes it at once, or with the other broadcasts of the same turn of the event loop.

    A reader that stops reading would otherwise hold ever more output in this process and its
    TCP connection open for as long as its window stays shut; it reconnects and catches up with
    `after` instead. Counted per socket: what waits in engine.io's queue (an estimate that never
    costs an encode) and what the kernel has not yet taken of the frames offered.

    The websocket's socket must offer frames (seda.realtime.transport.CompleteWrites: `can_offer`,
    `offer(frame)`, `pending_bytes`, `abort()`; simple_websocket.py puts it there)."""
    sockets = engineio.socket.Socket
    if getattr(sockets, "_seda_queue_limit", None) is not None:
        sockets._seda_queue_limit = max_queued_bytes
        return
    sockets._seda_queue_limit = max_queued_bytes
    send, poll, websocket_handler = sockets.send, sockets.poll, sockets._websocket_handler

    @functools.wraps(send)
    def direct_or_queued_send(self, pkt):
        direct = self.__dict__.get("_seda_direct")
        if direct is not None:
            if self.check_ping_timeout():
                direct.offer(_frame(pkt))
                if direct.pending_bytes > sockets._seda_queue_limit:
                    _cut_off(self, direct.pending_bytes)
            return None
        queued = self.__dict__.get("_seda_queued", 0) + _packet_bytes(pkt)
        self._seda_queued = queued
        if queued > sockets._seda_queue_limit:
            _cut_off(self, queued)
            return None
        return send(self, pkt)

    @functools.wraps(poll)
    def writer_poll(self):
        transport = self.__dict__.get("_seda_transport")
        # After the upgrade only the websocket's writer polls (polling GETs get a NOOP). Between
        # its polls it has written everything it took: with nothing queued it is idle.
        if self.upgraded and not self.upgrading and transport is not None and transport.can_offer:
            if self.__dict__.get("_seda_direct") is None and self.queue.empty():
                self._seda_direct = transport
            if self.__dict__.get("_seda_direct") is not None:
                return _until_closed(self)
        packets = poll(self)
        self._seda_queued = max(0, self.__dict__.get("_seda_queued", 0) - sum(map(_packet_bytes, packets)))
        return packets

    @functools.wraps(websocket_handler)
    def remembering_websocket_handler(self, ws):
        self._seda_transport = getattr(getattr(ws, "ws", None), "sock", None)
        return websocket_handler(self, ws)

    sockets.send, sockets.poll = direct_or_queued_send, writer_poll
    sockets._websocket_handler = remembering_websocket_handler


def _until_closed(socket_):
    """A direct socket's writer has nothing to write: it waits for close()'s None, then ends
    (with no timeout: pings are written directly too, so the queue stays quiet while all is well)."""
    pkt = socket_.queue.get()
    socket_.queue.task_done()
    return [] if pkt is None else [pkt]  # a packet engine.io put itself is written after the offered


def _cut_off(socket_, unwritten):
    if socket_.closing or socket_.closed:
        return
    log.warning("socket %s has %d bytes unwritten (not reading): disconnected", socket_.sid, unwritten)
    socket_.close(wait=False, abort=True)
    transport = socket_.__dict__.get("_seda_transport")
    if transport is not None:
        transport.abort()


def _frame(pkt):
    """The packet's websocket frame, built once per packet object."""
    frame = pkt.__dict__.get("_seda_frame")
    if frame is None:
        frame = pkt._seda_frame = websocket_frame(pkt.encode())
    return frame


def _packet_bytes(pkt):
    data = pkt.data
    return len(data) if isinstance(data, (str, bytes)) else 64


def websocket_frame(data):
    """A whole, unmasked server frame (RFC 6455 §5.2): text for str, binary for bytes. Compression
    is declined (NoCompression), so the frame is the same for every recipient."""
    if isinstance(data, str):
        payload, opcode = data.encode(), 0x81
    else:
        payload, opcode = data, 0x82
    size = len(payload)
    if size < 126:
        header = bytes((opcode, size))
    elif size < 65536:
        header = struct.pack("!BBH", opcode, 126, size)
    else:
        header = struct.pack("!BBQ", opcode, 127, size)
    return header + payload
