"""A bare python-socketio echo server: the baseline for the websocket-layer comparison."""

import socketio

sio = socketio.Server(async_mode="gevent", cors_allowed_origins="*")
app = socketio.WSGIApp(sio)


@sio.on("echo")
def echo(sid, data):
    return data
