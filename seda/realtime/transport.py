"""What seda changes in the libraries under Socket.IO, each for a failure it was measured or
attacked with: packets whose JSON cannot parse, binary attachments, polling batches dropped in
silence, frames cut by short writes, compression paid once per socket, a queue hand-off and a
writer wake-up per socket for every broadcast, and readers that stop reading."""

import io
import json
import logging
import socket
import threading
import urllib.parse
import weakref
from collections import deque

import gevent
import gevent.lock
from socketio import packet
from wsproto.extensions import PerMessageDeflate

from seda.common.bodies import TOO_LARGE, declared_length
from seda.common.errors import envelope_response
from seda.patches import engineio as engineio_patches
from seda.patches import simple_websocket as simple_websocket_patches

log = logging.getLogger(__name__)
# The transport closes a connection only past this (a flood, not a mistake); an event between
# 64 KiB (chat.socket.MAX_EVENT_BYTES) and this is answered 413 on a connection that stays open.
MAX_TRANSPORT_BYTES = 1024 * 1024
# What PayloadPacket makes of a packet whose JSON cannot be parsed, and of an event that carried
# binary attachments; names no client can send (they have a space), refused by the event guards
# like a reserved name.
MALFORMED_EVENT = "malformed payload"
BINARY_EVENT = "binary payload"
# Packets one polling POST may carry (API.md §4); engine.io's default of 16 refused more by
# dropping the whole POST in silence. A socket's events then run in order (realtime/event_order.py).
MAX_POLLING_PACKETS = 64
TOO_MANY_PACKETS = f"A polling request may carry at most {MAX_POLLING_PACKETS} packets"
# A socket's frames gathered in one turn leave early past this much: pending_bytes (what the
# queue limit cuts a socket off at) counts what the kernel refused, never what waits for the
# turn's end, so a big batch must not pile up unseen either.
GATHERED_BYTES_WRITTEN_EARLY = 64 * 1024


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

    @classmethod
    def reconstruct_binary(cls, data, attachments):
        """An event with binary attachments becomes BINARY_EVENT (its name kept), refused 400:
        payloads are JSON only, and bytes slipped past every check of text (a NUL stored)."""
        name = data[0] if isinstance(data, list) and data and isinstance(data[0], str) else None
        return [BINARY_EVENT, name]


class PollingBatchLimit:
    """WSGI middleware before engine.io for polling POSTs: a body over MAX_TRANSPORT_BYTES (413,
    never read) or of more than MAX_POLLING_PACKETS packets (400; engine.io would answer 200 and
    drop every event of it) is refused here and closes its session, which the client sees and
    reconnects from. The session is closed without waiting for its queue to drain: engine.io's
    own disconnect() waits for the next GET, and the answer waited with it.
    Needs the body in memory (common/bodies.py stands outside)."""

    def __init__(self, app, engineio_server, path):
        self.app, self.engineio_server, self.path = app, engineio_server, path.rstrip("/") + "/"
        engineio_patches.decode_at_most(MAX_POLLING_PACKETS)

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST" or not environ.get("PATH_INFO", "").startswith(self.path):
            return self.app(environ, start_response)
        declared = declared_length(environ)
        if declared is None or declared > MAX_TRANSPORT_BYTES:
            return self._refuse(environ, start_response, 413, TOO_LARGE)
        body = environ["wsgi.input"].read(declared)
        environ["wsgi.input"] = io.BytesIO(body)
        if body.count(b"\x1e") >= MAX_POLLING_PACKETS:
            return self._refuse(environ, start_response, 400, TOO_MANY_PACKETS)
        return self.app(environ, start_response)

    def _refuse(self, environ, start_response, status, message):
        sid = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("sid", [None])[0]
        socket_ = self.engineio_server.sockets.pop(sid, None) if sid else None
        if socket_ is not None:
            socket_.close(wait=False, abort=True)
        return envelope_response(environ, start_response, status, message)


class CompleteWrites:
    """A socket whose writes leave whole and in order, without a writer waiting on them.

    simple-websocket 1.1.0 writes frames with sock.send() and ignores a short write: when a slow
    reader's send buffer fills, the rest of the frame is dropped and the stream is corrupt
    (upstream issue #45). send() finishes the frame; the lock keeps the frame writers of one
    connection (messages, pings, pongs, close) from interleaving their bytes.

    offer() is the broadcast's way in (see install_socket_writes): it writes what the kernel
    takes at once and leaves the rest, in order, to a flusher, so a broadcast never waits on one
    slow reader and a frame costs no queue hand-off or writer wake-up. The broadcasts that
    follow another in one turn of the event loop (a group commit's batch wakes its senders
    together) gather per socket and leave in one send() when the turn ends: the send is most of
    a delivery's CPU (py-spy, bench/chat_sockets.py --only fanout)."""

    def __init__(self, sock):
        self._sock = sock
        # gevent's socket keeps the OS socket non-blocking underneath: a send there returns at
        # once with what fitted. Without gevent there is no such socket, and nothing is offered.
        self._nonblocking = getattr(sock, "_sock", None)
        # A greenlet waiting in sendall() holds the lock: waiting for it must yield to the hub.
        self._writing = threading.Lock() if self._nonblocking is None else gevent.lock.Semaphore()
        self._pending = deque()
        self._gathered = []  # offered in this turn of the event loop, written at its end
        self._gathered_bytes = 0
        # The socket lives on this hub: its turn is looked up once, not per delivery.
        self._turn = _end_of_turn() if self._nonblocking is not None else None
        self.pending_bytes = 0
        self._flushing = False

    @property
    def can_offer(self):
        return self._nonblocking is not None

    def send(self, data):
        with self._writing:
            self._pending_gathered()
            self._write_pending()
            sent = self._sock.send(data)  # nearly always all of it; sendall only for the rest
            if sent < len(data):
                self._sock.sendall(memoryview(data)[sent:])
        return len(data)

    def offer(self, frame):
        """Write `frame` after everything offered before it, without blocking the caller. The first
        broadcast of a turn of the event loop is written at once; a frame offered after another
        broadcast in the same turn waits for the turn's end, to leave with the others in one send."""
        turn = self._turn
        if turn.opens_with(frame) and not self._gathered:
            self._write(frame)
            return
        if not self._gathered:
            turn.write_later(self)
        self._gathered.append(frame)
        self._gathered_bytes += len(frame)
        if self._gathered_bytes >= GATHERED_BYTES_WRITTEN_EARLY:
            self._write(self._take_gathered())

    def write_gathered(self):
        """Write what was gathered this turn (end_of_turn's callback: never blocks)."""
        if self._gathered:  # else a frame written since (send) took them first
            self._write(self._take_gathered())

    def _write(self, data):
        if self._pending or self._writing.locked():
            self._leave_for_flusher(data)
            return
        try:
            sent = self._nonblocking.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            return  # the connection is gone; its reader ends the socket
        if sent < len(data):
            self._leave_for_flusher(memoryview(data)[sent:])

    def _take_gathered(self):
        frames, self._gathered, self._gathered_bytes = self._gathered, [], 0
        return frames[0] if len(frames) == 1 else b"".join(frames)

    def _pending_gathered(self):
        """What was offered goes before a frame written now (a pong, a close)."""
        if self._gathered:
            data = self._take_gathered()
            self._pending.append(data)
            self.pending_bytes += len(data)

    def _leave_for_flusher(self, data):
        self._pending.append(data)
        self.pending_bytes += len(data)
        if not self._flushing:
            self._flushing = True
            gevent.spawn(self._flush)

    def _flush(self):
        try:
            with self._writing:
                self._write_pending()
        except OSError:
            self._pending.clear()  # the connection is gone; its reader ends the socket
            self.pending_bytes = 0
        finally:
            self._flushing = False

    def _write_pending(self):
        while self._pending:
            data = self._pending.popleft()
            self.pending_bytes -= len(data)
            self._sock.sendall(data)

    def abort(self):
        """Cut the connection now: a writer blocked on a reader that stopped reading fails at
        once and the client sees the TCP connection close."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already gone

    def __getattr__(self, name):
        return getattr(self._sock, name)


class _EndOfTurn:
    """One turn of a hub's event loop: its first broadcast, and the sockets that gathered frames
    after it, written when the turn ends: after every greenlet this turn woke has run (a group
    commit wakes its batch's senders together; a callback queued now runs after theirs). A lone
    broadcast is written at once, its first recipients not waiting for its last.
    One per hub, not threading.local: under gevent that is per greenlet, and the hub writes."""

    def __init__(self, hub):
        self._loop = hub.loop
        self._first = None
        self._sockets = []

    def opens_with(self, frame):
        """Whether `frame` is this turn's first broadcast (every recipient gets the same object)."""
        if self._first is None:
            self._first = frame
            self._loop.run_callback(self._end)
        return frame is self._first

    def write_later(self, writes):
        self._sockets.append(writes)

    def _end(self):
        sockets, self._sockets, self._first = self._sockets, [], None
        for writes in sockets:
            try:
                writes.write_gathered()
            except Exception:  # one socket's failure must not keep the others' frames back
                log.exception("writing offered frames failed")


_turns = weakref.WeakKeyDictionary()


def _end_of_turn():
    hub = gevent.get_hub()
    turn = _turns.get(hub)
    if turn is None:
        turn = _turns[hub] = _EndOfTurn(hub)
    return turn


class NoCompression(PerMessageDeflate):
    """Decline permessage-deflate when a client offers it (browsers and socket.io-client do).

    simple-websocket accepts it unconditionally, and wsproto then compresses every frame for
    every socket: a message to a 1,000-member room was deflated 1,000 times, ~12 % of the CPU
    of a reconnect storm (py-spy, bench/storm.py). Chat frames are small; CPU is the limit."""

    def accept(self, offer):
        return None


def install_websocket_fixes():
    """Every simple-websocket connection writes through CompleteWrites and declines compression
    (once per process)."""
    simple_websocket_patches.wrap_connections(CompleteWrites, NoCompression)


def install_socket_writes(max_queued_bytes):
    """Write websocket frames straight from the sender (CompleteWrites.offer), and disconnect a
    socket whose unwritten output passes `max_queued_bytes` (API.md §4): seda/patches/engineio.py."""
    engineio_patches.write_directly(max_queued_bytes)
