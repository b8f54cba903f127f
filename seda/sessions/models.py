import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from seda.common.db import UTCDateTime, new_id, partial_index, string_enum, utcnow
from seda.extensions import db
from seda.users.models import User


class SessionStatus(str, enum.Enum):
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"


class ItemState(str, enum.Enum):
    QUEUED = "QUEUED"
    PLAYING = "PLAYING"
    PLAYED = "PLAYED"
    SKIPPED = "SKIPPED"
    REMOVED = "REMOVED"


class ListeningSession(db.Model):
    __tablename__ = "listening_sessions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    room_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"))
    host_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[SessionStatus] = mapped_column(
        string_enum(SessionStatus, "session_status"), default=SessionStatus.ACTIVE
    )
    playing_item_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # of the playing item
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: plays until skipped
    # Bumped by every change of the session: the UPDATE that takes its row lock (or, on SQLite,
    # the write lock) first, so that changes of one session happen one after another.
    revision: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    host: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (
        partial_index("uq_listening_sessions_active_room", "room_id", unique=True, where="status = 'ACTIVE'"),
        partial_index("ix_listening_sessions_due", "ends_at", where="status = 'ACTIVE'"),
    )


class QueueItem(db.Model):
    """A track added to a session: waiting, playing, then in the room's history."""

    __tablename__ = "session_queue_items"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("listening_sessions.id", ondelete="CASCADE"))
    room_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(sa.BigInteger)  # play order: the session's revision at the add
    track_ref: Mapped[dict] = mapped_column(sa.JSON)
    track_url: Mapped[str] = mapped_column(sa.String(2048))
    duration: Mapped[int | None]
    added_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[ItemState] = mapped_column(string_enum(ItemState, "queue_item_state"), default=ItemState.QUEUED)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    adder: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        sa.Index("ix_session_queue_items_session_state", "session_id", "state", "position"),
        sa.Index(
            "ix_session_queue_items_room_history",
            "room_id",
            "started_at",
            "id",
            postgresql_where=sa.text("started_at IS NOT NULL"),
            sqlite_where=sa.text("started_at IS NOT NULL"),
        ),
        sa.Index("ix_session_queue_items_added_by", "added_by"),
    )


class SkipVote(db.Model):
    __tablename__ = "session_skip_votes"

    item_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("session_queue_items.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
