"""gunicorn: the errors it answers itself are API.md §1's envelope.

gunicorn answers some requests before seda sees them (a request line over 4 KiB: 414, headers
too large: 431, broken framing: 400) with an HTML page of its own; clients of /api expect the
envelope for every error. gunicorn.conf.py loads this file by its path, in the master, before
gevent patches anything: it imports nothing of seda (and so builds the envelope itself)."""

import json
from datetime import UTC, datetime

from gunicorn import util as gunicorn_util

PATCHED_FOR = "gunicorn==27.0.1"
PATCHED = {"gunicorn.util.write_error": "(sock, status_int, reason, mesg)"}


def answer_errors_with_envelopes():
    gunicorn_util.write_error = _write_error_envelope


def _write_error_envelope(sock, status_int, reason, mesg):
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
