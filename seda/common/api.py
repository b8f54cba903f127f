"""flask-smorest's Api, made to speak the error envelope of API.md §1 for every error."""

import logging

import marshmallow as ma
from flask import current_app, g, request
from flask_smorest import Blueprint as SmorestBlueprint
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from webargs.flaskparser import abort
from werkzeug.exceptions import HTTPException, InternalServerError

from seda.common import metrics
from seda.common.bodies import TOO_LARGE
from seda.common.errors import (
    DomainError,
    database_failure,
    envelope,
    flatten_validation_messages,
)
from seda.common.input import unstorable
from seda.extensions import db
from seda.patches.flask_smorest import DocsOnDemand
from seda.patches.webargs import MalformedJsonIs400

log = logging.getLogger(__name__)

REQUEST_LOCATIONS = {"json", "query", "querystring", "path", "view_args", "headers", "form"}


class StrictParser(MalformedJsonIs400):
    """Validation failures are 400 and unknown query parameters are refused, as API.md says; a
    body json cannot parse is 400 `Malformed JSON body` (seda/patches/webargs.py)."""

    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **MalformedJsonIs400.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def load_json(self, req, schema):
        """A route that takes a JSON body refuses a request without one (not an empty update)."""
        data = super().load_json(req, schema)
        if data is ma.missing and getattr(schema, "BODY_OPTIONAL", False):
            return {}  # a schema whose every field is optional may come without a body
        if data is ma.missing:
            raise ma.ValidationError({"_schema": ["A JSON object body is required"]})
        _refuse_unstorable(data)
        return data

    def load_querystring(self, req, schema):
        data = super().load_querystring(req, schema)
        for key, value in req.args.items(multi=True):
            _refuse_unstorable({key: value})
        return data


def _refuse_unstorable(data):
    problem = unstorable(data)
    if problem is not None:
        path, reason = problem
        raise ma.ValidationError({path or "_schema": [reason]})


def refuse_undeclared_input():
    """A route refuses (400) what it does not declare, rather than silently ignoring it: query
    parameters when it takes none (a route that takes some refuses unknown ones as it parses
    them), a JSON body when it takes none. The auth decorators call this once the caller is
    known (a 401 or 403 says more than a 400); public routes check before_request."""
    documented = _documentation()
    if documented is None:
        return
    locations = {parameter.get("in") for parameter in documented.get("arguments", {}).get("parameters", [])}
    if request.args and "query" not in locations:
        abort(400, messages={"query": {name: ["Unknown field."] for name in request.args}})
    if request.content_length and "json" not in locations:
        abort(400, messages={"_schema": ["This route takes no request body"]})


def refuse_undeclared_input_on_public_routes():
    documented = _documentation()
    if documented is not None and not documented.get("manual_doc", {}).get("security"):
        refuse_undeclared_input()


def _documentation():
    """The OpenAPI notes of the route being served: the API's routes have them, /metrics and
    the docs do not."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "_apidoc", None)


class Blueprint(SmorestBlueprint):
    """The blueprint every feature uses: its arguments are parsed by StrictParser."""

    ARGUMENTS_PARSER = StrictParser()


class ErrorEnvelopeSchema(ma.Schema):
    statusCode = ma.fields.Integer(required=True)
    error = ma.fields.String(required=True)
    message = ma.fields.List(ma.fields.String(), required=True)
    timestamp = ma.fields.String(required=True)
    path = ma.fields.String(allow_none=True)
    method = ma.fields.String(allow_none=True)
    requestId = ma.fields.String(allow_none=True)


class EnvelopeApi(DocsOnDemand):
    """Api whose every error, raised by werkzeug, webargs, services or the database, is an envelope."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def _register_error_handlers(self):
        app = self._app
        app.register_error_handler(HTTPException, self.handle_http_exception)
        app.register_error_handler(DomainError, handle_domain_error)
        app.register_error_handler(PoolTimeout, handle_database_failure)
        app.register_error_handler(DBAPIError, handle_database_failure)
        app.register_error_handler(Exception, handle_unexpected_error)

    def handle_http_exception(self, error):
        if isinstance(error, InternalServerError) and error.original_exception is not None:
            return handle_unexpected_error(error.original_exception)
        messages = _http_error_messages(error)
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        data = getattr(error, "data", None) or {}
        headers.update(data.get("headers") or {})
        return error_response(error.code, messages, headers)


def error_response(status, messages, headers=None):
    if status == 503:
        metrics.count_unavailable(messages[0])
    body = envelope(status, messages, request.path, request.method)
    return body, status, headers or {}


def _http_error_messages(error):
    data = getattr(error, "data", None) or {}
    if "messages" in data:
        messages = data["messages"]
        if isinstance(messages, dict) and set(messages) <= REQUEST_LOCATIONS | {"_schema"}:
            lines = []
            for location_errors in messages.values():
                lines.extend(flatten_validation_messages(location_errors))
            return lines
        return flatten_validation_messages(messages)
    if "message" in data:
        return [data["message"]]
    if error.code == 429:
        return [f"Too many requests: limit of {error.description} exceeded"]
    if error.code == 413:
        return [TOO_LARGE]
    if error.code == 404:
        return ["Not found"]
    if error.code == 405:
        return [f"Method {request.method} not allowed"]
    return [error.description or error.name]


def handle_domain_error(error):
    # Flask-Limiter's after_request writes its own X-RateLimit-*/Retry-After on every response;
    # the request hooks put the domain limit's values back last (see seda.common.http).
    g.override_headers = error.headers
    return error_response(error.status, error.messages, error.headers)


def _rollback():
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; the session is discarded at teardown
        log.debug("rollback after database error failed", exc_info=True)


def handle_database_failure(error):
    failure = database_failure(error)
    if failure is None:
        return handle_unexpected_error(error)
    _rollback()
    level = logging.ERROR if failure.status >= 500 else logging.INFO
    log.log(level, "%s: %s", failure.messages[0], getattr(error, "orig", error))
    return error_response(failure.status, failure.messages, failure.headers)


def handle_unexpected_error(error):
    _rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, ["Internal server error"])


api = EnvelopeApi()
