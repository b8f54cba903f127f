"""Sign-up, login, token refresh with reuse detection, logout."""

import logging
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from seda.auth import passwords
from seda.auth.models import RefreshToken
from seda.auth.tokens import (
    ACCESS_TTL,
    REFRESH_TTL,
    decode_seda_token,
    issue_access_token,
    issue_refresh_token,
)
from seda.common.db import parse_uuid, utcnow
from seda.common.errors import Conflict, Forbidden, Unauthorized
from seda.extensions import db
from seda.users import usernames
from seda.users.models import ArtistProfile, User
from seda.users.services import default_display_name, find_by_email

log = logging.getLogger(__name__)
INVALID_CREDENTIALS = "Invalid email or password"


@dataclass
class Session:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int = int(ACCESS_TTL.total_seconds())


def signup(secret, email, password, display_name=None, artist_name=None, username=None):
    if find_by_email(email) is not None:
        raise Conflict("Email already registered")
    user = User(
        email=email,
        password_hash=passwords.hash_password(password),
        display_name=display_name or default_display_name(email),
        username=usernames.claim(username) if username else usernames.derive(display_name, email.split("@", 1)[0]),
    )
    if artist_name:
        user.artist_profile = ArtistProfile(artist_name=artist_name)
    db.session.add(user)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # A concurrent sign-up took the email or the username between the checks and here.
        db.session.rollback()
        if find_by_email(email) is not None:
            raise Conflict("Email already registered") from None
        raise Conflict(usernames.TAKEN) from None
    return _start_session(secret, user)


def login(secret, email, password):
    user = find_by_email(email)
    if not passwords.verify_password(user.password_hash if user else None, password):
        raise Unauthorized(INVALID_CREDENTIALS)
    if user.banned:
        raise Forbidden("Account suspended")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return _start_session(secret, user)


def refresh(secret, refresh_token):
    """Spend `refresh_token` for a new pair; a token spent twice revokes its whole family."""
    claims = decode_seda_token(secret, refresh_token, "refresh")
    jti = parse_uuid(claims.get("jti"))
    row = db.session.get(RefreshToken, jti) if jti else None
    if row is None or str(row.user_id) != claims["sub"]:
        raise Unauthorized()
    now = utcnow()
    spent = db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if spent != 1:
        _revoke_family(row.family_id, now)
        db.session.commit()
        log.warning("refresh token reuse: family %s of user %s revoked", row.family_id, row.user_id)
        raise Unauthorized()
    user = db.session.get(User, row.user_id)
    if user.banned:
        db.session.rollback()
        raise Forbidden("Account suspended")
    return _start_session(secret, user, family_id=row.family_id)


def logout(secret, user, refresh_token):
    """Revoke the family of `refresh_token` (only the caller's own)."""
    claims = decode_seda_token(secret, refresh_token, "refresh")
    jti = parse_uuid(claims.get("jti"))
    row = db.session.get(RefreshToken, jti) if jti else None
    if row is None or row.user_id != user.id:
        raise Unauthorized()
    _revoke_family(row.family_id, utcnow())
    db.session.commit()


def _revoke_family(family_id, now):
    db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _start_session(secret, user, family_id=None):
    jti = uuid.uuid4()
    db.session.add(
        RefreshToken(
            id=jti,
            family_id=family_id or uuid.uuid4(),
            user_id=user.id,
            expires_at=utcnow() + REFRESH_TTL,
        )
    )
    db.session.commit()
    return Session(user, issue_access_token(secret, user.id), issue_refresh_token(secret, user.id, jti))
