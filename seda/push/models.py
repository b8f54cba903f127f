import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from seda.common.db import UTCDateTime, new_id, utcnow
from seda.extensions import db


class PushSubscription(db.Model):
    """A browser's push endpoint and its keys (`PushSubscription.toJSON()`), one user per endpoint."""

    __tablename__ = "push_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The device (API.md §12) whose sign-in made it: signing that device out deletes it. None for a
    # Supabase session, which has no device.
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(sa.String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(sa.String(100))  # base64url, unpadded
    auth: Mapped[str] = mapped_column(sa.String(32))  # base64url, unpadded
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures_in_a_row: Mapped[int] = mapped_column(default=0)


class PushDelivery(db.Model):
    """A notification claimed for a subscription: each is sent at most once, whoever retries.

    A ledger of two ids that the sweep empties after the TTL, without foreign keys: a claim must
    not fail because its message was deleted, or its browser signed out, a moment before."""

    __tablename__ = "push_deliveries"

    notification_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
