"""Answers kept per caller and served in front of Flask while what they show stands still.

`GET /users/me` is what every client asks first and often; a history page is what every client
asks after each reconnect. Through Flask a `/users/me` cost ~570 µs of CPU in process, the
answer itself (a kept user, one small JSON) a few percent of it: the rest was Flask's request
cycle, flask-smorest, the hooks around them and the limit's round trip. A view marked
`kept_for_caller` has its 200 answer kept per caller and request with what it was built from:
the caller's user version (common/user_versions), the one default limit it was counted against
and, for a view marked with a state, the state it shows() (a history page: its
room's history state, read again in one statement shared by the requests that arrive together).
The caller's next identical request is counted here, in the one Redis round trip Flask would
make (the limit's script reads the version and the users' generation too), and while nothing
moved it is answered with the kept body and the headers Flask would give.

Anything else goes to Flask as before: a version or state that moved (Flask builds and keeps
the new answer), a limit exceeded (Flask's 429), a token that does not verify, an `Origin`
header (CORS), a conditional request (304), an app counting its limits in memory. A request
handed over after its limit was counted here is not counted twice
(ratelimit.count_before_flask). The lane holds no pooled connection while it waits, so it does
not wait for admission (common/admission.py).

A kept answer is rebuilt at least every MAX_AGE_SECONDS, in case a version failed to move while
Redis was down; at most MAX_ANSWERS and MAX_BYTES of bodies are kept, the least recently used
dropped first (a history page's body is the page cache's own bytes, not a copy, but counts in
full: the page cache may drop the page first).
"""

import time
from dataclasses import dataclass

from flask import g, request

from seda.common.http import record_request
from seda.common.kept import VersionedCache
from seda.common.ratelimit import count_before_flask, counted_default_alone, limit_headers
from seda.common.request_id import accept_or_generate, bind_request_id, reset_request_id
from seda.common.this_request import this_request
from seda.common.user_versions import version_keys, version_read_in_this_request, versions_of

MAX_AGE_SECONDS = 60.0
MAX_ANSWERS = 10_000
MAX_BYTES = 64 * 1024 * 1024
PER_REQUEST_HEADERS = frozenset(
    {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after", "x-request-id"}
)
CALLER = "caller"  # a kept_for_caller view whose answer shows nothing but its caller


def kept_for_caller(view=None, *, state=None):
    """Mark a GET view whose 200 answer depends on nothing but its caller's user, or also on a
    state: then `state(user_id, **view_args)` gives how to read that state again,
    `read_again(users_generation)`, which runs in front of Flask with no app context and gives
    None when the caller may no longer have the answer (`users_generation` is
    common/user_versions' counter, read with the caller's version). The view says which state
    its answer shows with shows(); an answer whose view said none is not kept."""

    def mark(view):
        view.seda_kept_for_caller = state or CALLER
        return view

    return mark(view) if view is not None else mark


def shows(state):
    """The answer this request builds shows `state` (see kept_for_caller)."""
    this_request().shown_state = state


@dataclass(frozen=True)
class KeptAnswer:
    user_id: str
    version: tuple  # the caller's (everyone, user) version it was built at
    version_keys: tuple  # where the limit's round trip reads that version
    counter: object  # the OneTripFixedWindow that counted the request
    limit: object  # the one default limit it was counted against…
    limit_key: str  # …on this Redis key
    route: str  # the URL rule, for the request metrics
    headers: tuple  # as Flask sent them, without those of PER_REQUEST_HEADERS
    body: bytes
    state: object  # the state shows() named (None: the caller's version alone)…
    read_again: object  # …and how to read it again


class KeptResponses:
    """WSGI middleware around `app`'s own wsgi_app (install it inside ProxyFix)."""

    def __init__(
        self, app, max_answers=MAX_ANSWERS, max_bytes=MAX_BYTES, max_age=MAX_AGE_SECONDS, clock=time.monotonic
    ):
        self._app, self._next = app, app.wsgi_app
        self._answers = VersionedCache(
            "whole answers",
            max_items=max_answers,
            max_bytes=max_bytes,
            size_of=lambda kept: len(kept.body),
            max_age=max_age,
            clock=clock,
        )
        # Run after every other after_request hook (they run last registered first): the kept
        # headers are those sent.
        app.after_request_funcs.setdefault(None, []).insert(0, self._keep)

    def __call__(self, environ, start_response):
        if len(self._answers) and environ.get("REQUEST_METHOD") == "GET" and not _cross_site_or_conditional(environ):
            started = time.perf_counter()
            answer = self._answer_kept(environ)
            if answer is not None:
                return self._send(environ, start_response, answer, started)
        return self._next(environ, start_response)

    def _answer_kept(self, environ):
        """(kept answer, its limit headers) when this request may have it, else None."""
        identity = self._caller(environ.get("HTTP_AUTHORIZATION"))
        if identity is None:
            return None
        kept = self._kept((*_request_key(environ), *_caller_key(identity)))
        if kept is None:
            return None
        try:
            counted = kept.counter.count(kept.limit_key, kept.limit.get_expiry(), 1, kept.version_keys)
        except Exception:  # storage errors differ by backend: Flask's path counts, or falls back
            return None
        count, window_left, values = counted
        try:
            shows = count <= kept.limit.amount and _still_shows(kept, values)
        except Exception:  # the state could not be read again: Flask's path answers
            shows = False
        if not shows:
            count_before_flask(environ, kept.limit_key, kept.version_keys, counted)
            return None
        return kept, limit_headers(kept.limit.amount, count, window_left)

    def _caller(self, authorization):
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return self._app.extensions["seda_auth"].verify(token.strip())
        except Exception:  # an invalid token: Flask's path answers it
            return None

    def _kept(self, key):
        """The answer kept for `key`, whatever version it was built at: the limit's round trip
        reads the version to compare it with."""
        found = self._answers.latest(key)
        return None if found is None else found[1]

    def _send(self, environ, start_response, answer, started):
        kept, rate_limit = answer
        request_id = accept_or_generate(environ.get("HTTP_X_REQUEST_ID"))
        start_response("200 OK", [*kept.headers, *rate_limit, ("X-Request-ID", request_id)])
        token = bind_request_id(request_id)
        try:
            record_request(
                "GET",
                environ.get("PATH_INFO", ""),
                kept.route,
                200,
                time.perf_counter() - started,
                environ.get("HTTP_USER_AGENT", ""),
                environ.get("REMOTE_ADDR"),
                kept.user_id,
            )
        finally:
            reset_request_id(token)
        return [kept.body]

    def _keep(self, response):
        """Keep a marked view's 200 answer for its caller, when the lane could serve it next."""
        view = self._app.view_functions.get(request.endpoint) if request.endpoint else None
        mark = getattr(view, "seda_kept_for_caller", None)
        environ = request.environ
        if (
            mark is None
            or response.status_code != 200
            or request.method != "GET"
            or _cross_site_or_conditional(environ)
            or response.is_streamed
        ):
            return response
        kept = self._answer_of(response, mark)
        if kept is not None:
            self._answers.put((*_request_key(environ), *_caller_key(g.identity)), kept.version, kept)
        return response

    def _answer_of(self, response, mark):
        user_id, identity = g.get("caller_id"), g.get("identity")
        state = this_request().shown_state if mark is not CALLER else None
        version = version_read_in_this_request(user_id) if user_id else None
        keys = version_keys(user_id) if version is not None else None
        counted = counted_default_alone() if keys is not None else None
        if counted is None or identity is None or (mark is not CALLER and state is None):
            return None
        read_again = None if mark is CALLER else mark(user_id, **request.view_args)
        limit, limit_key, counter = counted
        headers = tuple((name, value) for name, value in response.headers if name.lower() not in PER_REQUEST_HEADERS)
        return KeptAnswer(
            user_id=user_id,
            version=version,
            version_keys=keys,
            counter=counter,
            limit=limit,
            limit_key=limit_key,
            route=request.url_rule.rule,
            headers=headers,
            body=response.get_data(),
            state=state,
            read_again=read_again,
        )


def _cross_site_or_conditional(environ):
    """Requests the lane leaves to Flask whatever is kept: CORS and conditional answers are Flask's."""
    return "HTTP_ORIGIN" in environ or "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ


def _request_key(environ):
    """What names an answer besides its caller (a paging Link header holds the scheme and host)."""
    return (
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST"),
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
    )


def _caller_key(identity):
    """Whom a kept answer is for: the caller and the device their token was issued to (a
    device signed out must not be answered from a copy another device of theirs built)."""
    return identity.rate_limit_key, identity.device


def _still_shows(kept, values):
    """Whether `kept` still shows what it showed when built, given the values its limit's round
    trip read (the caller's version and the users' generation)."""
    version, generation = versions_of(values)
    if version != kept.version:
        return False
    return kept.read_again is None or kept.read_again(generation) == kept.state


def init_kept_responses(app):
    """Serve the marked views' kept answers in front of `app` (before ProxyFix wraps it)."""
    app.wsgi_app = KeptResponses(app)
