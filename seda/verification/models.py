import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from seda.common.db import UTCDateTime, new_id, utcnow
from seda.extensions import db
from seda.users.models import User


class VerificationStatus(str, enum.Enum):
    PENDING = "PENDING"
    CRAWLING = "CRAWLING"
    AWAITING_ADMIN = "AWAITING_ADMIN"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    EXPIRED = "EXPIRED"


OPEN_STATUSES = (VerificationStatus.PENDING, VerificationStatus.CRAWLING, VerificationStatus.AWAITING_ADMIN)


class VerificationRequest(db.Model):
    __tablename__ = "verification_requests"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    claim_code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    status: Mapped[VerificationStatus] = mapped_column(
        sa.Enum(VerificationStatus, name="verification_status", native_enum=False, length=20),
        default=VerificationStatus.PENDING,
    )
    target_url: Mapped[str | None] = mapped_column(sa.String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    crawled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the current CRAWLING began: the sweep re-queues checks stuck longer than 15 minutes.
    crawl_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    denial_reason: Mapped[str | None] = mapped_column(sa.String(500))
    review_notes: Mapped[str | None] = mapped_column(sa.String(500))
    attempts: Mapped[int] = mapped_column(default=0)
    last_check: Mapped[dict | None] = mapped_column(sa.JSON)
    evidence: Mapped[dict | None] = mapped_column(sa.JSON)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    __table_args__ = (
        sa.Index("ix_verification_requests_user_created", "user_id", "created_at"),
        sa.Index("ix_verification_requests_status_created", "status", "created_at"),
    )
