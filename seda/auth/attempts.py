"""Guesses at an account's secrets, counted together (API.md §12): a login, an answer to a
login's two-factor challenge, and a wrong password or code given to any route that asks for
one all count toward RATE_LIMIT_LOGIN_ACCOUNT for that account (429 past it), on every process."""

from flask import current_app

from seda.common import ratelimit

SCOPE = "login-account"


def attempt(account):
    """Count one attempt at `account` (its address, or its id when it has none); 429 past the limit."""
    ratelimit.enforce(current_app.config["RATE_LIMIT_LOGIN_ACCOUNT"], SCOPE, str(account).strip().lower())


def wrong_secret(user):
    """A wrong password or code given by `user`'s own session: one attempt at their account."""
    attempt(user.email or user.id)
