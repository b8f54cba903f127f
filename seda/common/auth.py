"""Authentication for REST (a decorator) and Socket.IO (a function), one rule set for both.

A before_request hook verifies the bearer token early, so the rate limiter can count per user;
the decorators then load the user from the database (roles and bans are never read from a
token) and refuse what the route does not allow.

`common` knows no feature: the app factory hands `init_auth` the two feature pieces it needs,
the token verifier (seda.auth) and the user loader (seda.users).
"""

import hmac
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from functools import wraps

from flask import current_app, g, request

from seda.common.api import refuse_undeclared_input
from seda.common.audit import Actor
from seda.common.errors import Forbidden, TokenExpired, Unauthorized
from seda.common.user_versions import expect_user

MISSING_TOKEN = "Missing authentication token"
INVALID_TOKEN = "Invalid authentication token"
EXPIRED_TOKEN = TokenExpired.default_message
TOKEN_REFUSED_DOC = "Missing, invalid or expired token (`Authentication token expired`); WWW-Authenticate: Bearer"
# RFC 6750: a request without a token gets the bare challenge; a bad or expired token, its error.
CHALLENGES = {MISSING_TOKEN: "Bearer", INVALID_TOKEN: 'Bearer error="invalid_token"'}
BEARER_SECURITY = [{"bearerAuth": []}]


@dataclass(frozen=True)
class Authenticator:
    """`verify(token)` gives the identity a token speaks for (raises Unauthorized);
    `load_user(identity)` gives its active user and `active_user_id(identity)` only that user's
    id (both raise Unauthorized or Forbidden); `claimed_user_id(identity)` the user id the
    identity names without any lookup, when it names one (else None)."""

    verify: Callable
    load_user: Callable
    active_user_id: Callable
    claimed_user_id: Callable


def init_auth(app, verify, load_user, active_user_id, claimed_user_id):
    """Verify bearer tokens with `verify` before anything else runs; load users with `load_user`."""
    app.extensions["seda_auth"] = Authenticator(verify, load_user, active_user_id, claimed_user_id)
    app.before_request(_identify_caller)


def _authenticator():
    return current_app.extensions["seda_auth"]


def _identify_caller():
    g.identity, g.auth_error = None, None
    header = request.headers.get("Authorization")
    if header is None:
        g.auth_error = MISSING_TOKEN
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        g.auth_error = INVALID_TOKEN
        return
    authenticator = _authenticator()
    try:
        g.identity = authenticator.verify(token.strip())
    except TokenExpired:
        g.auth_error = EXPIRED_TOKEN
        return
    except Unauthorized:
        g.auth_error = INVALID_TOKEN
        return
    g.rate_limit_identity = g.identity.rate_limit_key
    user_id = authenticator.claimed_user_id(g.identity)
    if user_id is not None:
        expect_user(user_id)  # its version rides on the rate limit's round trip


def authenticate_token(token):
    """(the id of the active user a raw bearer token speaks for, the device it was issued to or
    None) for a Socket.IO connect; raises Unauthorized/Forbidden."""
    if not token or not isinstance(token, str):
        raise Unauthorized(MISSING_TOKEN)
    authenticator = _authenticator()
    try:
        identity = authenticator.verify(token)
    except TokenExpired:
        raise
    except Unauthorized:
        raise Unauthorized(INVALID_TOKEN) from None
    return authenticator.active_user_id(identity), identity.device


def current_user():
    return g.current_user


def caller_if_signed_in():
    """The caller's user when the request carries a valid token of an account that may act, else
    None: a public route that shows a signed-in caller a little more."""
    if g.get("identity") is None:
        return None
    try:
        return _authenticator().load_user(g.identity)
    except (Unauthorized, Forbidden):
        return None


def current_device():
    """The device the caller's token was issued to (a seda access token's `sid`), else None."""
    identity = g.get("identity")
    return identity.device if identity is not None else None


def token_refused(message):
    """The 401 for a request without a usable token, with its `WWW-Authenticate` challenge."""
    return Unauthorized(message, headers={"WWW-Authenticate": CHALLENGES.get(message, CHALLENGES[INVALID_TOKEN])})


def _authenticate_request():
    if g.get("identity") is None:
        raise token_refused(g.get("auth_error") or MISSING_TOKEN)
    try:
        user = _authenticator().load_user(g.identity)
    except Unauthorized as refused:  # a signed-out device, an account gone
        raise token_refused(refused.messages[0]) from None
    g.current_user = user
    g.caller_id = str(user.id)
    return user


def _documented(wrapper, view, responses):
    wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    manual = wrapper._apidoc.setdefault("manual_doc", {})
    manual["security"] = BEARER_SECURITY
    for status, description in responses.items():
        manual.setdefault("responses", {}).setdefault(status, {"description": description})
    return wrapper


def login_required(view):
    """Let the view run only for an authenticated, not banned user (`current_user()`)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        _authenticate_request()
        refuse_undeclared_input()
        return view(*args, **kwargs)

    return _documented(wrapper, view, {401: TOKEN_REFUSED_DOC, 403: "Account suspended"})


def admin_required(view):
    """Let the view run for a user whose database role is ADMIN or SUPER_ADMIN, or for a request
    with `X-Admin-Api-Key` equal to ADMIN_API_KEY (never accepted when that setting is empty).
    The view finds the acting admin in `current_actor()`."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        ip, agent = request.remote_addr, request.headers.get("User-Agent")
        if request.headers.get("X-Admin-Api-Key") is not None and g.get("identity") is None:
            if not _api_key_matches(request.headers["X-Admin-Api-Key"]):
                raise Unauthorized("Invalid admin API key")
            g.current_actor = Actor(None, ip, agent)
            g.caller_id = "api-key"
            refuse_undeclared_input()
            return view(*args, **kwargs)
        user = _authenticate_request()
        if not user.role.is_admin:
            raise Forbidden("Admin role required")
        if current_app.config["ADMIN_REQUIRE_2FA"] and not _second_factor(user):
            raise Forbidden("Two-factor authentication required")
        g.current_actor = Actor(user, ip, agent)
        refuse_undeclared_input()
        return view(*args, **kwargs)

    wrapper = _documented(wrapper, view, {401: "Missing or invalid token or API key", 403: "Not an admin"})
    wrapper._apidoc["manual_doc"]["security"] = BEARER_SECURITY + [{"adminApiKey": []}]
    return wrapper


def _second_factor(user):
    """Whether this request's user proved a second factor: two-factor on for seda's own
    accounts, a Supabase token at assurance level aal2."""
    return user.two_factor_enabled or g.identity.assurance == "aal2"


def _api_key_matches(given):
    expected = current_app.config["ADMIN_API_KEY"]
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def current_actor():
    return g.current_actor


def acting_admin():
    """The audit Actor when the signed-in user acts as an admin on a user route, else None."""
    user = current_user()
    if not user.role.is_admin:
        return None
    return Actor(user, request.remote_addr, request.headers.get("User-Agent"))
