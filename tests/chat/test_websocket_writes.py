"""Frames reach a slow reader whole: a short write must never drop the rest of a frame."""

import socket
import threading

from seda.chat.transport import CompleteWrites


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
