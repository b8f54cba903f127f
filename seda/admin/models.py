import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from seda.common.db import UTCDateTime, new_id, utcnow
from seda.extensions import db


class AdminAction(db.Model):
    """One admin change, written in the same transaction as the change itself."""

    __tablename__ = "admin_actions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    admin_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(sa.String(64))  # the admin's user id, or "api-key"
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(32))
    target_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    details: Mapped[dict | None] = mapped_column(sa.JSON)
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class CrawlStatus(str, enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class CrawlJob(db.Model):
    __tablename__ = "crawl_jobs"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(sa.String(2048))
    expect_code: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[CrawlStatus] = mapped_column(
        sa.Enum(CrawlStatus, name="crawl_status", native_enum=False, length=20), default=CrawlStatus.QUEUED
    )
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
