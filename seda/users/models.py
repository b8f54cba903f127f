import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from seda.common.db import UTCDateTime, new_id, utcnow
from seda.extensions import db


class Role(str, enum.Enum):
    USER = "USER"
    ARTIST = "ARTIST"
    ADMIN = "ADMIN"
    SUPER_ADMIN = "SUPER_ADMIN"

    @property
    def is_admin(self):
        return self in (Role.ADMIN, Role.SUPER_ADMIN)

    @property
    def is_super_admin(self):
        return self == Role.SUPER_ADMIN


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    # Proven by a link mailed to it (API.md §12); a Supabase account's address is Supabase's.
    email_verified: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Asked for by POST /auth/email/change: `email` becomes it when its link is used.
    pending_email: Mapped[str | None] = mapped_column(sa.String(254))
    # Two-factor (auth/two_factor.py): secrets encrypted; the last TOTP step accepted, so a code
    # is accepted once (the step is spent by one UPDATE guarded by this column).
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_pending_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # When the day's data export was claimed (exports/services.py): one per rolling 24 h.
    last_export_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    supabase_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    role: Mapped[Role] = mapped_column(sa.Enum(Role, name="user_role", native_enum=False, length=20), default=Role.USER)
    # Lower-case (section 8): the unique index alone makes it unique case-insensitively. None
    # only once a deleted account is purged (its name is free again).
    username: Mapped[str | None] = mapped_column(sa.String(30), unique=True)
    # None until the first change after signup: the name given or derived then changes once freely.
    username_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    display_name: Mapped[str] = mapped_column(sa.String(50))
    avatar_url: Mapped[str | None] = mapped_column(sa.String(2048))
    bio: Mapped[str | None] = mapped_column(sa.String(500))
    banned: Mapped[bool] = mapped_column(default=False)
    banned_reason: Mapped[str | None] = mapped_column(sa.String(500))
    banned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Self-deletion (accounts/deletion.py): deleted at once, restorable until `purge_at`, when the
    # sweep erases everything personal and sets `purged_at`; the row stays for its messages.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purge_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    artist_profile: Mapped["ArtistProfile | None"] = relationship(back_populates="user", uselist=False, lazy="joined")

    __table_args__ = (
        sa.Index(
            "ix_users_purge_due",
            "purge_at",
            postgresql_where=sa.text("purge_at IS NOT NULL AND purged_at IS NULL"),
            sqlite_where=sa.text("purge_at IS NOT NULL AND purged_at IS NULL"),
        ),
    )

    @property
    def two_factor_enabled(self):
        return self.two_factor_enabled_at is not None

    @property
    def deleted(self):
        return self.deleted_at is not None


class ArtistProfile(db.Model):
    __tablename__ = "artist_profiles"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    artist_name: Mapped[str] = mapped_column(sa.String(50))
    bio: Mapped[str | None] = mapped_column(sa.String(500))
    verified: Mapped[bool] = mapped_column(default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    website_url: Mapped[str | None] = mapped_column(sa.String(2048))
    spotify_url: Mapped[str | None] = mapped_column(sa.String(2048))
    bandcamp_url: Mapped[str | None] = mapped_column(sa.String(2048))
    soundcloud_url: Mapped[str | None] = mapped_column(sa.String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="artist_profile")


class UsernameHold(db.Model):
    """A username its owner gave up: nobody else takes it before `released_at` + 30 days."""

    __tablename__ = "username_holds"

    username: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserBlock(db.Model):
    """`blocker_id` blocks `blocked_id` (section 8): no direct messages either way, no
    notifications from them. Private: the blocked user is never told."""

    __tablename__ = "user_blocks"

    blocker_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    blocked_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
