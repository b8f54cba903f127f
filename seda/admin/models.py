import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from seda.common.db import UTCDateTime, new_id, utcnow
from seda.extensions import db


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
