"""What the account routes read from a request: the client a device remembers, and what their
rate limits count before the body is validated (a limit decorator runs first). Shared by the auth
routes and the account routes above them."""

from functools import wraps

from flask import current_app, request
from flask_limiter.util import get_remote_address

from seda.auth import attempts
from seda.auth.services import Client


def client_of_request():
    """Where the request comes from, as a device remembers it."""
    return Client(request.headers.get("User-Agent"), request.remote_addr)


def configured(name):
    """A limit read from the app's config when the request comes (tests and operators change it)."""
    return lambda: current_app.config[name]


def body_email():
    """The body's `email` as sent, before validation (a limit counts before the body is checked)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested too deep to parse: the parser answers 400 after this
        body = None
    email = body.get("email") if isinstance(body, dict) else None
    return email if isinstance(email, str) and email else None


def counts_as_login_attempt(view):
    """Count the request toward its account's login limit (seda/auth/attempts.py) before the
    body is validated, as a limit decorator would: the address in the body, else the client's."""

    @wraps(view)
    def counted(*args, **kwargs):
        attempts.attempt(body_email() or f"ip:{get_remote_address()}")
        return view(*args, **kwargs)

    return counted
