"""Sign-up, login, token refresh with reuse detection, logout."""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from seda.auth import devices, email_addresses, passwords, two_factor
from seda.auth.models import AccountToken, Device, MfaChallenge, RecoveryCode, RefreshToken
from seda.auth.tokens import (
    ACCESS_TTL,
    REFRESH_TTL,
    decode_seda_token,
    issue_access_token,
    issue_refresh_token,
)
from seda.common.db import parse_uuid, utcnow
from seda.common.errors import Conflict, Forbidden, Unauthorized
from seda.common.user_versions import users_changed
from seda.extensions import db
from seda.users import usernames
from seda.users.models import ArtistProfile, User
from seda.users.services import default_display_name, find_by_email

log = logging.getLogger(__name__)
INVALID_CREDENTIALS = "Invalid email or password"
SCHEDULED_FOR_DELETION = "Account scheduled for deletion"


@dataclass(frozen=True)
class Client:
    """Where a sign-in comes from, as a device remembers it."""

    user_agent: str | None = None
    ip_address: str | None = None


@dataclass
class Session:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int = int(ACCESS_TTL.total_seconds())


def signup(secret, email, password, display_name=None, artist_name=None, username=None, client=Client()):
    """Create the account and its first session, and mail the link that proves the address."""
    session = _create_account(secret, email, password, display_name, artist_name, username, client)
    email_addresses.send_verification(session.user)
    return session


def _create_account(secret, email, password, display_name, artist_name, username, client):
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
    return start_session(secret, user, client)


def login(secret, email, password, client=Client()):
    """A Session, or for a two-factor account the challenge its code must answer (a dict)."""
    user = find_by_email(email)
    if not passwords.verify_password(user.password_hash if user else None, password):
        raise Unauthorized(INVALID_CREDENTIALS)
    if user.banned:
        raise Forbidden("Account suspended")
    if user.deleted:
        raise Forbidden(SCHEDULED_FOR_DELETION)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if user.two_factor_enabled:
        return two_factor.challenge(user)
    return start_session(secret, user, client)


def pass_two_factor(secret, mfa_token, code, client=Client()):
    """The session a right code for a login's challenge opens (a new device)."""
    user = two_factor.pass_challenge(mfa_token, code)
    if user.banned:
        raise Forbidden("Account suspended")
    if user.deleted:
        raise Forbidden(SCHEDULED_FOR_DELETION)
    return start_session(secret, user, client)


def refresh(secret, refresh_token, client=Client(), grace=timedelta(seconds=10)):
    """Spend `refresh_token` for a new pair. Spent already: within `grace` of that, the pair it
    produced again (two tabs refreshing at once); later, a replay: its whole family is revoked."""
    claims = decode_seda_token(secret, refresh_token, "refresh")
    jti = parse_uuid(claims.get("jti"))
    row = db.session.get(RefreshToken, jti) if jti else None
    if row is None or str(row.user_id) != claims["sub"]:
        raise Unauthorized()
    now, replacement = utcnow(), uuid.uuid4()
    spent = db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=now, replaced_by=replacement)
    ).rowcount
    if spent != 1:
        again = _pair_produced(secret, row, now - grace)
        if again is not None:
            return again
        devices.revoke_device(row.family_id, now)
        db.session.commit()
        users_changed([row.user_id])
        log.warning("refresh token reuse: family %s of user %s revoked", row.family_id, row.user_id)
        raise Unauthorized()
    user = _unless_banned(db.session.get(User, row.user_id))
    devices.used(user.id, row.family_id, client.user_agent, client.ip_address)
    return start_session(secret, user, client, device_id=row.family_id, refresh_id=replacement, now=now)


def _pair_produced(secret, spent, since):
    """The pair `spent` was exchanged for, rebuilt token for token, when it was spent after
    `since` and neither it nor its replacement was revoked since; else None."""
    db.session.refresh(spent)  # as the spend that won committed it
    if spent.replaced_by is None or spent.revoked_at is not None or spent.used_at < since:
        return None
    replacement = db.session.get(RefreshToken, spent.replaced_by)
    if replacement is None or replacement.revoked_at is not None:
        return None
    user = _unless_banned(db.session.get(User, spent.user_id))
    db.session.rollback()
    return _pair(secret, user, replacement.family_id, replacement.id, replacement.issued_at)


def _unless_banned(user):
    if user.banned:
        db.session.rollback()
        raise Forbidden("Account suspended")
    return user


def logout(secret, user, refresh_token):
    """Revoke the family of `refresh_token` (only the caller's own)."""
    claims = decode_seda_token(secret, refresh_token, "refresh")
    jti = parse_uuid(claims.get("jti"))
    row = db.session.get(RefreshToken, jti) if jti else None
    if row is None or row.user_id != user.id:
        raise Unauthorized()
    devices.revoke_device(row.family_id, utcnow())
    db.session.commit()
    users_changed([user.id])  # the device's access tokens are refused from the next request on


def start_session(secret, user, client=Client(), device_id=None, refresh_id=None, now=None):
    """A refresh and an access token for `user`: on a new device unless `device_id` names one."""
    refresh_id, now = refresh_id or uuid.uuid4(), now or utcnow()
    if device_id is None:
        device_id = uuid.uuid4()
        devices.start(user.id, device_id, client.user_agent, client.ip_address)
    db.session.add(
        RefreshToken(id=refresh_id, family_id=device_id, user_id=user.id, issued_at=now, expires_at=now + REFRESH_TTL)
    )
    db.session.commit()
    return _pair(secret, user, device_id, refresh_id, now)


def _pair(secret, user, device_id, refresh_id, now):
    # The access token's id follows from the refresh token's: the pair can be issued again as it was.
    access_id = uuid.uuid5(refresh_id, "access")
    return Session(
        user,
        issue_access_token(secret, user.id, device_id, jti=access_id, now=now),
        issue_refresh_token(secret, user.id, refresh_id, now=now),
    )


def forget_credentials(user):
    """Erase every secret and sign-in of a purged account: password, two-factor, its tokens and
    devices (in the caller's transaction)."""
    user.password_hash = user.supabase_id = None
    user.totp_secret = user.totp_pending_secret = user.totp_last_step = user.two_factor_enabled_at = None
    for model in (RecoveryCode, MfaChallenge, AccountToken, RefreshToken, Device):
        db.session.execute(sa.delete(model).where(model.user_id == user.id))
