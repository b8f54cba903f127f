import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from seda.common.db import UTCDateTime, new_id, utcnow
from seda.extensions import db


class NotificationType(str, enum.Enum):
    MENTION = "MENTION"
    REPLY = "REPLY"
    DIRECT_MESSAGE = "DIRECT_MESSAGE"
    VERIFICATION = "VERIFICATION"
    ROOM_INVITE = "ROOM_INVITE"
    FOLLOW = "FOLLOW"
    SESSION_SCHEDULED = "SESSION_SCHEDULED"
    SESSION_STARTED = "SESSION_STARTED"
    REMINDER = "REMINDER"


class Notification(db.Model):
    """One entry of a user's inbox (API.md section 8)."""

    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    recipient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[NotificationType] = mapped_column(
        sa.Enum(NotificationType, name="notification_type", native_enum=False, length=20)
    )
    # Users are banned, never deleted; the key is there for integrity, not for cascades.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # A deleted room takes its messages, and so their notifications, with it (no key needed).
    room_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    message_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    excerpt: Mapped[str | None] = mapped_column(sa.String(200))
    verification_request_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("verification_requests.id", ondelete="CASCADE"), index=True
    )
    verification_status: Mapped[str | None] = mapped_column(sa.String(20))
    # A ROOM_INVITE's invitation (invites/, a feature above this one: the migration holds the key,
    # ON DELETE CASCADE with its room).
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    # What the notification is about, once per recipient: `message:<id>` (at most one per message
    # and recipient), `verification:<id>:<status>` or `invitation:<id>`. A task run twice stores nothing twice.
    dedupe_key: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an email digest carried it (notifications/digests.py): never in a second one.
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("recipient_id", "dedupe_key"),
        # The inbox newest first, and its unread part (count and list) from a smaller index.
        sa.Index("ix_notifications_recipient_created", "recipient_id", "created_at", "id"),
        sa.Index(
            "ix_notifications_unread",
            "recipient_id",
            "created_at",
            "id",
            postgresql_where=sa.text("read_at IS NULL"),
            sqlite_where=sa.text("read_at IS NULL"),
        ),
        # The digest check's candidates: unread, in no digest yet, old enough (a small part), read
        # in recipient order: so the planner walks this small index, not the large unread one
        # whose order would also serve the check's GROUP BY (bench/digest_check.py).
        sa.Index(
            "ix_notifications_undigested_recipient",
            "recipient_id",
            "created_at",
            postgresql_where=sa.text("read_at IS NULL AND digested_at IS NULL"),
            sqlite_where=sa.text("read_at IS NULL AND digested_at IS NULL"),
        ),
    )


class EmailDigest(str, enum.Enum):
    OFF = "OFF"
    HOURLY = "HOURLY"
    DAILY = "DAILY"


class NotificationSettings(db.Model):
    """How a user wants to hear of notifications beyond the inbox (API.md §13). A user without a
    row has the defaults; `types` holds only what they changed, so a type added later starts at
    its defaults for everyone."""

    __tablename__ = "notification_settings"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    types: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {"MENTION": {"push": false}, …}
    email_digest: Mapped[EmailDigest] = mapped_column(
        sa.Enum(EmailDigest, name="email_digest", native_enum=False, length=10), default=EmailDigest.HOURLY
    )
    quiet_start: Mapped[str | None] = mapped_column(sa.String(5))  # "HH:MM" in time_zone
    quiet_end: Mapped[str | None] = mapped_column(sa.String(5))
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    # The last digest sent: the next one is claimed by a conditional UPDATE of this column.
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
