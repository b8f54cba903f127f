"""gunicorn settings: one gevent worker per process (Socket.IO needs it); scale with processes."""

import json
import os
from datetime import UTC, datetime

from gunicorn import util as gunicorn_util

# Loopback unless told otherwise (BIND, or HOST): a newcomer's first run is not on the network.
# The image and the compose file set HOST=0.0.0.0 themselves.
bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '3001')}"
worker_class = "gevent"
# One worker per process is what Socket.IO needs behind a sticky proxy (scale with processes).
# More workers on one port suit websocket-only clients and REST (bench/history_wrk.py uses 2).
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
# Measured (bench/README.md): ~80 KiB per idle joined socket, so 2,000 hold ~160 MiB; a busy
# process saturates one core at 9,000-28,000 deliveries/s before memory matters. Scale chat by
# processes (x1.9 with two, no message lost) rather than by raising this.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "2000"))
timeout = 30
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "10"))
keepalive = 5
accesslog = None  # seda writes its own JSON access line per request
control_socket_disable = True


def post_worker_init(worker):
    """Start the in-process periodic jobs when there is no beat (embedded default), and keep
    what startup built out of garbage collections (seda/common/gc_tuning.py)."""
    from seda.common.gc_tuning import tune_garbage_collector
    from seda.common.scheduler import start_embedded_scheduler

    start_embedded_scheduler(worker.wsgi)
    tune_garbage_collector()


def _write_error_envelope(sock, status_int, reason, mesg):
    """gunicorn answers some requests before seda sees them (a request line over 8 KiB: 414,
    headers too large: 431, broken framing: 400) with an HTML page of its own; clients of
    /api expect API.md §1's envelope for every error, so write that instead. Built here, not
    with seda.common.errors: this file runs in the master, before gevent patches anything."""
    body = json.dumps(
        {
            "statusCode": status_int,
            "error": reason,
            "message": [mesg or reason],
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "path": None,
            "method": None,
            "requestId": None,
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + body)


gunicorn_util.write_error = _write_error_envelope
