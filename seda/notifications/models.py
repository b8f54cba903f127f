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
    )
