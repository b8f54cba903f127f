"""A forgotten password reset through a mailed link, and a password changed while signed in
(API.md §12). Both sign every device out; the forgot route answers the same for every address."""

from datetime import timedelta

from flask import current_app

from seda.auth import account_tokens, attempts, devices, passwords
from seda.auth.email_addresses import INCORRECT_PASSWORD, INVALID_TOKEN, SET_A_PASSWORD_FIRST
from seda.auth.models import TokenPurpose
from seda.auth.services import start_session
from seda.common.errors import Conflict, Forbidden, ValidationFailed
from seda.extensions import db
from seda.mail import compose
from seda.mail.services import send as send_mail
from seda.users.models import User
from seda.users.services import find_by_email

FORGOT_ANSWER = "If an account uses that address, a reset link is on its way"


def forgot(email):
    """Mail a reset link to the account that uses `email`, if there is one that may have it.
    The caller answers the same whatever happens here."""
    user = find_by_email(email)
    if user is None or user.banned or user.deleted or user.email is None:
        return
    ttl = timedelta(minutes=current_app.config["PASSWORD_RESET_TTL_MINUTES"])
    token = account_tokens.issue(user, TokenPurpose.PASSWORD_RESET, ttl)
    db.session.commit()
    send_mail(compose.password_reset(user.email, token))


def reset(token, password):
    """Spend a reset link's token on a new password: every other reset link dies, the address
    counts as verified and every device is signed out."""
    password_hash = passwords.hash_password(password)  # before the token is spent: no row held meanwhile
    user_id = account_tokens.spend(token, TokenPurpose.PASSWORD_RESET)
    if user_id is None:
        db.session.rollback()
        raise ValidationFailed(INVALID_TOKEN)
    user = db.session.get(User, user_id)
    user.password_hash, user.email_verified = password_hash, True
    account_tokens.revoke(user_id, TokenPurpose.PASSWORD_RESET)
    devices.revoke_all(user_id)
    db.session.commit()
    devices.signed_out(user_id, "PASSWORD_RESET")
    send_mail(compose.password_changed(user.email))


def change(secret, user, current_password, new_password, client):
    """Change my password: every device of mine is signed out and the caller gets a new one."""
    if user.password_hash is None:
        raise Conflict(SET_A_PASSWORD_FIRST)
    if not passwords.verify_password(user.password_hash, current_password):
        attempts.wrong_secret(user)
        raise Forbidden(INCORRECT_PASSWORD)
    user.password_hash = passwords.hash_password(new_password)
    devices.revoke_all(user.id)
    session = start_session(secret, user, client)  # commits the change with the new device
    devices.signed_out(user.id, "PASSWORD_CHANGED")
    send_mail(compose.password_changed(user.email))
    return session
