"""A request's whole body arrives before anything else sees the request (API.md §1: 408).

Admission (common/admission.py) gives a request one of a few turns; a handler that read its body
inside its turn let eight clients that trickle a POST's body one byte at a time hold every turn
of a process, anonymously. This middleware stands outside everything (Flask, engine.io's polling
POSTs, the kept answers): it reads the body into memory within REQUEST_BODY_TIMEOUT_SECONDS,
answers 408 `Request body too slow` when it does not arrive, and only then hands the request on.
A waiting read costs a greenlet, never a turn. Bodies declared larger than the limit are not read
here: Flask and engine.io refuse them (413) from their Content-Length alone.
"""

import io

import gevent

from seda.common.errors import envelope_response

TOO_SLOW = "Request body too slow"
INCOMPLETE = "Request body incomplete"
TOO_LARGE = "Request body is larger than 1 MiB"
CHUNK_BYTES = 64 * 1024


class _TooSlow(Exception):
    pass


class BodyFirst:
    """WSGI middleware: read the body (at most `max_bytes` + 1 bytes) within `timeout_seconds`."""

    def __init__(self, app, timeout_seconds, max_bytes):
        self.app, self.timeout_seconds, self.max_bytes = app, timeout_seconds, max_bytes

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        declared = declared_length(environ)
        if not chunked and (declared is None or declared == 0 or declared > self.max_bytes):
            return self.app(environ, start_response)
        wanted = self.max_bytes + 1 if chunked else declared
        try:
            with gevent.Timeout(self.timeout_seconds, _TooSlow):
                body = _read(environ["wsgi.input"], wanted)
        except _TooSlow:
            return envelope_response(environ, start_response, 408, TOO_SLOW)
        except OSError:  # the client went away mid-body; whatever it sent is not a request
            return envelope_response(environ, start_response, 400, INCOMPLETE)
        if len(body) < wanted and not chunked:
            return envelope_response(environ, start_response, 400, INCOMPLETE)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # what follows reads a body of known length
        return self.app(environ, start_response)


def declared_length(environ):
    """The Content-Length a request declares (0 without one), or None when it is malformed."""
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None  # malformed: left to the server and Flask to refuse


def _read(stream, wanted):
    parts, received = [], 0
    while received < wanted:
        part = stream.read(min(CHUNK_BYTES, wanted - received))
        if not part:
            break
        parts.append(part)
        received += len(part)
    return b"".join(parts)
