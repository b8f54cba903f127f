"""Tokens mailed in links (API.md §12): at least 256 bits from a CSPRNG, written in
[A-Za-z0-9_-], kept only as their SHA-256. A single-use token is spent by one UPDATE that also
checks it: racing requests on any processes get exactly one success."""

import hashlib
import secrets

import sqlalchemy as sa

from seda.auth.models import AccountToken, TokenPurpose
from seda.common.db import utcnow
from seda.extensions import db


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user, purpose, ttl, email=None):
    """A new token for `user` (added to the session, committed by the caller); the token itself."""
    token = secrets.token_urlsafe(32)  # 43 characters, 256 bits
    now = utcnow()
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash(token),
            email=email,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def spend(token, purpose):
    """Mark a single-use token used, in the caller's transaction: its user id, or None when it
    is unknown, expired, revoked or spent already (by this request or a racing one)."""
    if not token:
        return None
    now = utcnow()
    return db.session.execute(
        sa.update(AccountToken)
        .where(
            AccountToken.token_hash == token_hash(token),
            AccountToken.purpose == purpose,
            AccountToken.expires_at > now,
            AccountToken.revoked_at.is_(None),
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
        .returning(AccountToken.user_id)
    ).scalar_one_or_none()


def revoke(user_id, purpose):
    """Revoke every outstanding token of `user_id` for `purpose` (in the caller's transaction)."""
    db.session.execute(
        sa.update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.revoked_at.is_(None),
            AccountToken.used_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )


def revoke_every_purpose(user_id):
    """Revoke every outstanding token of `user_id` (a deleted account; the caller's transaction)."""
    for purpose in TokenPurpose:
        revoke(user_id, purpose)
