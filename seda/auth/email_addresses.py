"""Proving an address and changing it (API.md §12): the verification mail at signup and on
request, the change to a new address that takes effect when its link is used."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from seda.auth import account_tokens, attempts, passwords
from seda.auth.models import AccountToken, TokenPurpose
from seda.common.db import utcnow
from seda.common.errors import Conflict, Forbidden, ValidationFailed
from seda.extensions import db
from seda.mail import compose
from seda.mail.services import send as send_mail
from seda.users.models import User
from seda.users.services import find_by_email

INVALID_TOKEN = "Invalid or expired token"
INCORRECT_PASSWORD = "Incorrect password"
SET_A_PASSWORD_FIRST = "Set a password first"
EMAIL_TAKEN = "Email already registered"


def send_verification(user):
    """Mail `user` a link that proves their address (signup, or asked again)."""
    token = account_tokens.issue(user, TokenPurpose.EMAIL_VERIFICATION, _verification_ttl(), email=user.email)
    db.session.commit()
    send_mail(compose.email_verification(user.email, token))


def resend_verification(user):
    if user.email_verified:
        raise Conflict("Email already verified")
    send_verification(user)


def verify(token):
    """Use a link's token: a verification proves the address; an email change makes the new
    address the account's. Using one again while it is valid changes nothing. Returns the user."""
    row = _live_address_token(token)
    if row is None:
        raise ValidationFailed(INVALID_TOKEN)
    user = db.session.get(User, row.user_id)
    if row.purpose == TokenPurpose.EMAIL_VERIFICATION:
        if row.email != user.email:  # the account moved to another address since
            raise ValidationFailed(INVALID_TOKEN)
        user.email_verified = True
        db.session.commit()
        return user
    return _change_to(user, row, token)


def request_change(user, new_email, password):
    """Mail a link to `new_email` that makes it the account's address; returns the user."""
    if new_email == user.email:
        raise ValidationFailed("newEmail: must differ from the current email")
    if user.password_hash is None:
        raise Conflict(SET_A_PASSWORD_FIRST)
    if find_by_email(new_email) is not None:
        raise Conflict(EMAIL_TAKEN)
    if not passwords.verify_password(user.password_hash, password):
        attempts.wrong_secret(user)
        raise Forbidden(INCORRECT_PASSWORD)
    account_tokens.revoke(user.id, TokenPurpose.EMAIL_CHANGE)  # a new request replaces the pending one
    user.pending_email = new_email
    token = account_tokens.issue(user, TokenPurpose.EMAIL_CHANGE, _verification_ttl(), email=new_email)
    db.session.commit()
    send_mail(compose.email_change(new_email, token))
    return user


def cancel_change(user):
    account_tokens.revoke(user.id, TokenPurpose.EMAIL_CHANGE)
    user.pending_email = None
    db.session.commit()


def _change_to(user, row, token):
    if row.used_at is not None and user.email == row.email:
        return user  # the link was used already: a second click changes nothing
    if user.pending_email != row.email:  # a newer request, or the change was cancelled
        raise ValidationFailed(INVALID_TOKEN)
    if find_by_email(row.email) is not None:
        _drop_pending_change(user)
        raise Conflict(EMAIL_TAKEN)
    if account_tokens.spend(token, TokenPurpose.EMAIL_CHANGE) is None:  # a racing click took it
        db.session.rollback()
        return db.session.get(User, row.user_id)
    old_email = user.email
    user.email, user.email_verified, user.pending_email = row.email, True, None
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the address was taken between the check and here
        db.session.rollback()
        _drop_pending_change(db.session.get(User, row.user_id))
        raise Conflict(EMAIL_TAKEN) from None
    if old_email:
        send_mail(compose.email_changed(old_email, user.email))
    return user


def _drop_pending_change(user):
    user.pending_email = None
    account_tokens.revoke(user.id, TokenPurpose.EMAIL_CHANGE)
    db.session.commit()


def _live_address_token(token):
    if not token:
        return None
    return db.session.scalar(
        sa.select(AccountToken).where(
            AccountToken.token_hash == account_tokens.token_hash(token),
            AccountToken.purpose.in_((TokenPurpose.EMAIL_VERIFICATION, TokenPurpose.EMAIL_CHANGE)),
            AccountToken.expires_at > utcnow(),
            AccountToken.revoked_at.is_(None),
        )
    )


def _verification_ttl():
    return timedelta(hours=current_app.config["EMAIL_VERIFICATION_TTL_HOURS"])
