"""simple-websocket: whole frames and no per-message compression.

simple-websocket 1.1.0 writes frames with sock.send() and ignores a short write: when a slow
reader's send buffer fills, the rest of the frame is dropped and the stream is corrupt (upstream
issue miguelgrinberg/simple-websocket#45). And it accepts permessage-deflate whenever a client
offers it, so wsproto deflated every frame for every socket (~12 % of a reconnect storm's CPU)."""

import functools

import simple_websocket

PATCHED_FOR = "simple-websocket==1.1.0"
PATCHED = {
    "simple_websocket.ws.Base.__init__": (
        "(self, sock=None, connection_type=None, receive_bytes=4096, ping_interval=None, "
        "max_message_size=None, thread_class=None, event_class=None, selector_class=None)"
    ),
    "simple_websocket.ws.PerMessageDeflate": (
        "(client_no_context_takeover: 'bool' = False, client_max_window_bits: 'int | None' = None, "
        "server_no_context_takeover: 'bool' = False, server_max_window_bits: 'int | None' = None) -> 'None'"
    ),
}


def wrap_connections(writes_class, deflate_class):
    """Every connection's socket is wrapped in `writes_class(sock)`, and `deflate_class` stands for
    wsproto's PerMessageDeflate in the extensions a server offers (once per process)."""
    simple_websocket.ws.PerMessageDeflate = deflate_class
    if getattr(simple_websocket.ws.Base.__init__, "_seda_wrapped", False):
        return
    original = simple_websocket.ws.Base.__init__

    @functools.wraps(original)
    def init(self, sock=None, *args, **kwargs):
        original(self, writes_class(sock) if sock is not None else None, *args, **kwargs)

    init._seda_wrapped = True
    simple_websocket.ws.Base.__init__ = init
