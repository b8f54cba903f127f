"""Frames reach a slow reader whole and in order: a short write must never drop the rest of a
frame, and a frame offered by a broadcast never waits for a reader."""

import socket
import threading
import time

import gevent
import gevent.socket
import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import Message, TextMessage

from seda.patches.engineio import websocket_frame
from seda.realtime.transport import CompleteWrites


class ShortWrites:
    """A socket that accepts at most 7 bytes per send(), as a nearly full send buffer does."""

    def __init__(self):
        self.sent = bytearray()

    def send(self, data):
        self.sent.extend(data[:7])
        return min(7, len(data))

    def sendall(self, data):
        view = memoryview(data)
        while view:
            view = view[self.send(view) :]

    def fileno(self):
        return -1


def test_a_short_write_sends_the_rest_of_the_frame():
    sock = ShortWrites()
    frames = [bytes([n]) * 3000 for n in range(1, 6)]
    wrapped = CompleteWrites(sock)
    for frame in frames:
        assert wrapped.send(frame) == len(frame)
    assert bytes(sock.sent) == b"".join(frames)
    assert wrapped.fileno() == -1  # everything else is the socket's own


def test_frames_from_several_writers_never_interleave_over_a_real_socket_with_a_tiny_buffer():
    server, client = socket.socketpair()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    wrapped = CompleteWrites(server)
    frames = {writer: bytes([writer]) * 50_000 for writer in range(1, 5)}
    writers = [threading.Thread(target=wrapped.send, args=(frame,)) for frame in frames.values()]
    for writer in writers:
        writer.start()
    received = bytearray()
    while len(received) < sum(map(len, frames.values())):
        received.extend(client.recv(65536))
    for writer in writers:
        writer.join(5)
    # Each frame arrives as one unbroken run of its own bytes.
    runs = [received[i : i + 50_000] for i in range(0, len(received), 50_000)]
    assert sorted(bytes(run) for run in runs) == sorted(frames.values())
    server.close(), client.close()


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
@pytest.mark.parametrize("kind", [str, bytes])
def test_a_frame_built_once_for_a_broadcast_is_the_frame_wsproto_would_send(size, kind):
    data = "é" * (size // 2) + "x" * (size % 2) if kind is str else bytes(size)
    connection = Connection(ConnectionType.SERVER)
    expected = connection.send(TextMessage(data=data) if kind is str else Message(data=data))
    assert websocket_frame(data) == expected


def test_offered_frames_never_block_the_sender_and_reach_a_stalled_reader_whole_and_in_order():
    server, client = gevent.socket.socketpair()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    wrapped = CompleteWrites(server)
    assert wrapped.can_offer
    frames = [bytes([n]) * 20_000 for n in range(1, 21)]
    pong = b"\xff" * 30_000

    started = time.monotonic()
    for frame in frames[:10]:
        wrapped.offer(frame)
    pong_writer = gevent.spawn(wrapped.send, pong)  # simple-websocket's own writes share the order
    gevent.sleep(0)
    for frame in frames[10:]:
        wrapped.offer(frame)
    assert time.monotonic() - started < 0.5  # nobody reads yet: the sender went on regardless
    assert wrapped.pending_bytes > 0

    received = bytearray()
    with gevent.Timeout(10):
        while len(received) < len(pong) + sum(map(len, frames)):
            received.extend(client.recv(65536))
    pong_writer.join(5)
    # The pong is whole, between two frames, and the offered frames kept their order around it.
    at = bytes(received).index(pong)
    assert at % 20_000 == 0 and at >= 200_000
    assert bytes(received[:at] + received[at + len(pong) :]) == b"".join(frames)
    assert wrapped.pending_bytes == 0
    server.close(), client.close()


class RecordedSends:
    """A gevent socket's non-blocking OS socket that takes everything and records each send()."""

    def __init__(self):
        self.sends = []

    def send(self, data):
        self.sends.append(bytes(data))
        return len(data)


class GeventSocket:
    def __init__(self):
        self._sock = RecordedSends()

    def send(self, data):
        return self._sock.send(data)

    def sendall(self, data):
        self._sock.send(data)


def test_broadcasts_after_the_first_in_one_turn_of_the_loop_leave_in_one_send_per_socket():
    first, second = GeventSocket(), GeventSocket()
    writes = [CompleteWrites(first), CompleteWrites(second)]
    frames = [bytes([n]) * 100 for n in range(1, 5)]
    for frame in frames:  # four broadcasts in one turn, as a group commit's batch sends them
        for wrapped in writes:
            wrapped.offer(frame)
    assert first._sock.sends == [frames[0]]  # the turn's first broadcast leaves at once
    gevent.sleep(0)  # the others at the end of the turn
    assert first._sock.sends == second._sock.sends == [frames[0], b"".join(frames[1:])]
    writes[0].offer(b"late")
    assert first._sock.sends[2:] == [b"late"]  # the first of a new turn: at once again


def test_a_frame_written_at_once_goes_after_the_frames_offered_before_it():
    sock = GeventSocket()
    wrapped = CompleteWrites(sock)
    wrapped.offer(b"first")
    wrapped.offer(b"message")
    wrapped.send(b"pong")
    gevent.sleep(0)
    assert b"".join(sock._sock.sends) == b"firstmessagepong"


def test_a_turn_s_frames_leave_early_once_they_pass_64_kib_and_never_count_as_unwritten():
    sock = GeventSocket()
    wrapped = CompleteWrites(sock)
    frames = [bytes([n]) * 16 * 1024 for n in range(1, 7)]
    for frame in frames:  # a batch of big messages: 96 KiB for this socket in one turn
        wrapped.offer(frame)
        assert wrapped.pending_bytes == 0  # the queue limit sees only what the kernel refused
    assert sock._sock.sends == [frames[0], b"".join(frames[1:5])]  # 64 KiB gathered: written now
    gevent.sleep(0)
    assert sock._sock.sends[2:] == [frames[5]]
