"""The request id of API.md §1: taken from `X-Request-ID` when well-formed, else generated."""

import re
import uuid
from contextvars import ContextVar

_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def accept_or_generate(header_value):
    """Return the client's id when it is safe to echo and log, else a fresh one."""
    if header_value and _REQUEST_ID_PATTERN.match(header_value):
        return header_value
    return uuid.uuid4().hex


def bind_request_id(request_id):
    """Make `request_id` the id of the current request (or task); returns a reset token."""
    return _request_id.set(request_id)


def reset_request_id(token):
    _request_id.reset(token)


def current_request_id():
    return _request_id.get()
