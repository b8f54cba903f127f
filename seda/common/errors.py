"""Domain errors and the one error envelope of API.md §1, for REST and Socket.IO alike.

Services raise the classes below and know nothing of HTTP; `envelope()` turns any error
into the JSON body clients read, and `seda.common.api` registers it for every Flask error.
"""

import json
from http import HTTPStatus

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from seda.common.db import iso_utc, utcnow
from seda.common.request_id import accept_or_generate, bind_request_id, current_request_id, reset_request_id


class DomainError(Exception):
    """A rule of the product said no; `status` is the HTTP status that means the same."""

    status = 400
    default_message = "Bad request"

    def __init__(self, *messages, headers=None):
        super().__init__(*(messages or (self.default_message,)))
        self.messages = list(messages or (self.default_message,))
        self.headers = dict(headers or {})


class ValidationFailed(DomainError):
    status = 400
    default_message = "Invalid request"


class Unauthorized(DomainError):
    status = 401
    default_message = "Invalid authentication token"


class TokenExpired(Unauthorized):
    """A well-signed token past its `exp`: the client refreshes rather than signs out."""

    default_message = "Authentication token expired"


class Forbidden(DomainError):
    status = 403
    default_message = "Forbidden"


class NotFound(DomainError):
    status = 404
    default_message = "Not found"


class Conflict(DomainError):
    status = 409
    default_message = "Conflict"


class Gone(DomainError):
    status = 410
    default_message = "Gone"


class Unprocessable(DomainError):
    status = 422
    default_message = "Unprocessable entity"


class RateLimited(DomainError):
    status = 429
    default_message = "Too many requests"

    def __init__(self, *messages, retry_after=1, limit=None):
        retry_after = max(1, int(retry_after + 0.999))
        headers = {"Retry-After": str(retry_after)}
        if limit is not None:
            headers.update(
                {
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int(utcnow().timestamp()) + retry_after),
                }
            )
        super().__init__(*messages, headers=headers)
        self.retry_after = retry_after


class BadGateway(DomainError):
    """An outside service seda needed failed or could not be reached: the request itself was
    fine and may be tried again after `retry_after` seconds."""

    status = 502
    default_message = "Bad gateway"

    def __init__(self, *messages, retry_after):
        super().__init__(*messages, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(DomainError):
    status = 503
    default_message = "Service unavailable"


def database_failure(error):
    """What a database exception means to a client, REST and socket events alike: 409 for a
    constraint the request ran into, 400 for a value the column cannot hold, a 503 to retry
    when the database is saturated or gone, None when it means a bug (a 500)."""
    if isinstance(error, IntegrityError):
        return Conflict("Conflict: the resource already exists or is still referenced")
    if isinstance(error, DataError):
        return ValidationFailed("A value is out of range or not storable")
    if isinstance(error, PoolTimeout):
        return ServiceUnavailable("Database busy, retry shortly", headers={"Retry-After": "1"})
    if isinstance(error, OperationalError) or (isinstance(error, DBAPIError) and error.connection_invalidated):
        return ServiceUnavailable("Database unavailable", headers={"Retry-After": "5"})
    return None


def iso_now():
    return iso_utc(utcnow())


def envelope(status, messages, path=None, method=None):
    """Build the error body of API.md §1."""
    if isinstance(messages, str):
        messages = [messages]
    return {
        "statusCode": status,
        "error": HTTPStatus(status).phrase,
        "message": list(messages),
        "timestamp": iso_now(),
        "path": path,
        "method": method,
        "requestId": current_request_id(),
    }


def envelope_response(environ, start_response, status, message):
    """Answer a WSGI request with the envelope before Flask sees it (a body too slow or too big,
    a polling batch refused): its `X-Request-ID` taken from the request when well-formed."""
    token = bind_request_id(accept_or_generate(environ.get("HTTP_X_REQUEST_ID")))
    try:
        body = envelope(status, [message], path=environ.get("PATH_INFO"), method=environ.get("REQUEST_METHOD"))
    finally:
        reset_request_id(token)
    data = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(f"{status} {body['error']}", [*headers, ("X-Request-ID", body["requestId"])])
    return [data]


def flatten_validation_messages(errors, prefix=""):
    """Turn marshmallow's nested error dict into `field.path: message` strings."""
    if isinstance(errors, str):
        return [f"{prefix}: {_reword(errors)}" if prefix else _reword(errors)]
    if isinstance(errors, list):
        return [line for item in errors for line in flatten_validation_messages(item, prefix)]
    lines = []
    for key, value in errors.items():
        if key == "_schema":
            lines.extend(flatten_validation_messages(value, prefix))
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        lines.extend(flatten_validation_messages(value, path))
    return lines


def _reword(message):
    return "property should not exist" if message == "Unknown field." else message
