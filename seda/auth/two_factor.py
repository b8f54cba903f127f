"""Two-factor authentication with TOTP (RFC 6238, API.md §12): a secret kept encrypted, codes
of the current step and one either side, each step spent once per user in one atomic statement
(a replay, on any process, is refused), ten single-use recovery codes kept only as hashes, and
the short-lived token a password login of a two-factor account gets instead of a session."""

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import quote

import pyotp
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from seda.auth import account_tokens, attempts, passwords
from seda.auth.email_addresses import INCORRECT_PASSWORD, SET_A_PASSWORD_FIRST
from seda.auth.models import MfaChallenge, RecoveryCode
from seda.common import audit
from seda.common.db import utcnow
from seda.common.errors import Conflict, Forbidden, Unauthorized
from seda.extensions import db
from seda.mail import compose
from seda.mail.services import send as send_mail
from seda.users.models import User
from seda.users.services import get_user
from seda.users.versions import USER_STATE_UNCHANGED

INVALID_CODE = "Invalid two-factor code"
MFA_TTL = timedelta(minutes=5)
MFA_WRONG_CODES = 5
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def status(user):
    left = db.session.scalar(
        sa.select(sa.func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    enabled = user.two_factor_enabled_at is not None
    return {"enabled": enabled, "enabled_at": user.two_factor_enabled_at, "recovery_codes_left": left if enabled else 0}


def setup(user, password):
    """A new pending secret (replacing any earlier one): nothing changes until enable()."""
    if user.two_factor_enabled_at is not None:
        raise Conflict("Two-factor authentication is already enabled")
    _check_password(user, password)
    secret = pyotp.random_base32()  # 160 bits, 32 base32 characters
    user.totp_pending_secret = _encrypt(secret)
    db.session.commit()
    uri = (
        f"otpauth://totp/seda:{quote(user.email or user.username, safe='')}?secret={secret}"
        "&issuer=seda&algorithm=SHA1&digits=6&period=30"
    )
    return {"secret": secret, "otpauth_uri": uri}


def enable(user, code):
    if user.two_factor_enabled_at is not None:
        raise Conflict("Two-factor authentication is already enabled")
    if user.totp_pending_secret is None:
        raise Conflict("Set up two-factor authentication first")
    step = _matching_step(_decrypt(user.totp_pending_secret), code)
    if step is None or not _spend_step(user.id, step):
        attempts.wrong_secret(user)
        raise Forbidden(INVALID_CODE)
    user = db.session.get(User, user.id)
    user.totp_secret, user.totp_pending_secret, user.two_factor_enabled_at = user.totp_pending_secret, None, utcnow()
    codes = _new_recovery_codes(user.id)
    db.session.commit()
    send_mail(compose.two_factor(user.email, on=True))
    return codes


def new_recovery_codes(user, password, code):
    _check_enabled_password_and_code(user, password, code)
    codes = _new_recovery_codes(user.id)
    db.session.commit()
    return codes


def disable(user, password, code):
    _check_enabled_password_and_code(user, password, code)
    turn_off(user)


def reset_by_admin(actor, user_id):
    """An admin turns off the two-factor of a user who lost phone and codes (audited)."""
    user = get_user(user_id)
    turn_off(user, lambda: audit.record(actor, "user.2fa_reset", "user", user.id))


def turn_off(user, also=None):
    """Turn two-factor off; `also()` runs in the same transaction."""
    if user.two_factor_enabled_at is None:
        raise Conflict("Two-factor authentication is not enabled")
    user.totp_secret = user.totp_pending_secret = user.two_factor_enabled_at = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    if also is not None:
        also()
    db.session.commit()
    send_mail(compose.two_factor(user.email, on=False))


def challenge(user):
    """The token a right password gets a two-factor account instead of a session."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        MfaChallenge(user_id=user.id, token_hash=account_tokens.token_hash(token), expires_at=utcnow() + MFA_TTL)
    )
    db.session.commit()
    return {"mfa_required": True, "mfa_token": token, "expires_in": int(MFA_TTL.total_seconds())}


def pass_challenge(mfa_token, code):
    """The user whose challenge this code answers; the challenge is spent by the first right
    code and dies after MFA_WRONG_CODES wrong ones."""
    row = db.session.scalar(
        sa.select(MfaChallenge).where(
            MfaChallenge.token_hash == account_tokens.token_hash(mfa_token or ""),
            MfaChallenge.expires_at > utcnow(),
            MfaChallenge.spent_at.is_(None),
            MfaChallenge.failures < MFA_WRONG_CODES,
        )
    )
    if row is None:
        raise Unauthorized("Invalid or expired token")
    user = db.session.get(User, row.user_id)
    attempts.attempt(user.email or user.id)  # every answer counts toward the login limit, as a login does
    if user.two_factor_enabled_at is None or not check_code(user, code):
        db.session.execute(
            sa.update(MfaChallenge).where(MfaChallenge.id == row.id).values(failures=MfaChallenge.failures + 1)
        )
        db.session.commit()
        raise Unauthorized(INVALID_CODE)
    spent = db.session.execute(
        sa.update(MfaChallenge)
        .where(MfaChallenge.id == row.id, MfaChallenge.spent_at.is_(None))
        .values(spent_at=utcnow())
    ).rowcount
    if spent != 1:
        db.session.rollback()
        raise Unauthorized("Invalid or expired token")
    return user


def check_code(user, code):
    """Whether `code` (a TOTP code or a recovery code) is right for `user`, spending it."""
    code = (code or "").strip()
    step = _matching_step(_decrypt(user.totp_secret), code) if user.totp_secret else None
    if step is not None:
        return _spend_step(user.id, step)
    return _spend_recovery_code(user.id, code)


def _check_enabled_password_and_code(user, password, code):
    if user.two_factor_enabled_at is None:
        raise Conflict("Two-factor authentication is not enabled")
    _check_password(user, password)
    if not check_code(user, code):
        attempts.wrong_secret(user)
        raise Forbidden(INVALID_CODE)


def _check_password(user, password):
    if user.password_hash is None:
        raise Conflict(SET_A_PASSWORD_FIRST)
    if not passwords.verify_password(user.password_hash, password):
        attempts.wrong_secret(user)
        raise Forbidden(INCORRECT_PASSWORD)


def _matching_step(secret, code):
    """The time step (of now and one either side) whose code `code` is, else None."""
    code = (code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _spend_step(user_id, step):
    """Accept `step` for the user unless it or a later one was accepted: one statement, so two
    processes checking the same code at once accept it once."""
    spent = db.session.execute(
        sa.update(User)
        .where(User.id == user_id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step),
        execution_options={"synchronize_session": False, USER_STATE_UNCHANGED: True},
    ).rowcount
    db.session.commit()
    return spent == 1


def _spend_recovery_code(user_id, code):
    normalized = code.replace("-", "").replace(" ", "").lower()
    if len(normalized) != 10:
        return False
    spent = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == _code_hash(normalized),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    ).rowcount
    db.session.commit()
    return spent == 1


def _new_recovery_codes(user_id):
    """Ten new codes (the old ones die), in the caller's transaction; shown this once."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user_id, code_hash=_code_hash(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _code_hash(code):
    """Keyed, so a copy of the table alone does not give the codes up to a search of 2^50."""
    return hmac.new(_key(), b"recovery:" + code.encode(), hashlib.sha256).hexdigest()


def _key():
    """TOTP_ENCRYPTION_KEY, else a key derived from JWT_SECRET (32 bytes either way)."""
    config = current_app.config
    material = config["TOTP_ENCRYPTION_KEY"] or f"seda-totp:{config['JWT_SECRET']}"
    return hashlib.sha256(material.encode()).digest()


def _fernet():
    return Fernet(base64.urlsafe_b64encode(_key()))


def _encrypt(secret):
    return _fernet().encrypt(secret.encode()).decode()


def _decrypt(stored):
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:  # the key changed: no code can match
        return pyotp.random_base32()
