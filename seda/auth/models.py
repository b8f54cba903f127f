import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from seda.common.db import UTCDateTime, utcnow
from seda.extensions import db


class TokenPurpose(str, enum.Enum):
    EMAIL_VERIFICATION = "EMAIL_VERIFICATION"
    EMAIL_CHANGE = "EMAIL_CHANGE"
    PASSWORD_RESET = "PASSWORD_RESET"


class AccountToken(db.Model):
    """A token mailed in a link (API.md §12): only its hash is kept. It proves `email` (a
    verification or an email change) or lets its holder choose a new password."""

    __tablename__ = "account_tokens"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(
        sa.Enum(TokenPurpose, name="token_purpose", native_enum=False, length=20)
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Device(db.Model):
    """A signed-in device: one refresh-token family (`RefreshToken.family_id` is its id) and the
    access tokens issued with it, which carry its id as `sid` (API.md §12)."""

    __tablename__ = "devices"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str | None] = mapped_column(sa.String(256))
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """A two-factor recovery code, single use; only its keyed hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MfaChallenge(db.Model):
    """What a right password gets a two-factor account: a token good for 5 minutes and 5 wrong
    codes, spent by the first right one."""

    __tablename__ = "mfa_challenges"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(default=0)
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RefreshToken(db.Model):
    """One issued refresh token. Spending it marks `used_at` and `replaced_by` (the token it was
    spent for); a reuse past the grace revokes its whole family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)  # the token's jti
    family_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
