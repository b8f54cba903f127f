import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from seda.common.db import UTCDateTime, new_id, partial_index, string_enum, utcnow
from seda.extensions import db
from seda.users.models import User


class RoomType(str, enum.Enum):
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"
    DIRECT = "DIRECT"


class MemberRole(str, enum.Enum):
    OWNER = "OWNER"
    MODERATOR = "MODERATOR"
    MEMBER = "MEMBER"


class MessageType(str, enum.Enum):
    TEXT = "TEXT"
    TRACK_CARD = "TRACK_CARD"
    SYSTEM = "SYSTEM"
    REPLY = "REPLY"


_TRACK_CARD = f"'{MessageType.TRACK_CARD.value}'"


def is_track_card(type_column):
    """`type_column` is TRACK_CARD, written as a literal: a bound value proves nothing to the
    planner, and the track cards' partial indexes are then used whatever plan a prepared
    statement settles on."""
    return type_column == sa.literal_column(_TRACK_CARD)


class ReportStatus(str, enum.Enum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class Room(db.Model):
    __tablename__ = "rooms"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.String(500))
    type: Mapped[RoomType] = mapped_column(string_enum(RoomType, "room_type"), default=RoomType.PUBLIC)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)
    # The counter behind Message.seq: incremented under the row lock of the sending transaction.
    last_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # Bumped by every change to the room's stored messages that adds none (edits, deletes,
    # reactions, cards): with last_seq it names a state of the history (chat/history.py).
    history_revision: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    member_count: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "<smaller user id>:<larger user id>" for DIRECT rooms, so get-or-create is race-free.
    direct_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    # AutoMod settings (section 11), None while never set: they come with the row every send loads.
    automod: Mapped[dict | None] = mapped_column(sa.JSON)
    # The ACTIVE listening session (section 10), kept by seda.sessions in the session's transactions.
    active_session_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.Index("ix_rooms_type_member_count", "type", "member_count"),)

    @property
    def is_private(self):
        return self.type != RoomType.PUBLIC


class RoomMembership(db.Model):
    __tablename__ = "room_memberships"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    room_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[MemberRole] = mapped_column(string_enum(MemberRole, "member_role"), default=MemberRole.MEMBER)
    last_read_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What AutoMod remembers of this member in the room (chat/automod.py owns its shape), written
    # with the read mark by the send's own statement: read with the membership every send loads.
    automod_memory: Mapped[dict | None] = mapped_column(sa.JSON)

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("room_id", "user_id"),)


class RoomBan(db.Model):
    __tablename__ = "room_bans"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    room_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    banned_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("room_id", "user_id"),)


class RoomMute(db.Model):
    __tablename__ = "room_mutes"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    room_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    muted_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    muted_until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("room_id", "user_id"),)


# Message.unfurl: where a music link's background unfurl stands (API.md §3).
UNFURL_PENDING, UNFURL_DONE, UNFURL_FAILED = "PENDING", "DONE", "FAILED"
UNFURL_STATES = (UNFURL_PENDING, UNFURL_DONE, UNFURL_FAILED)


class Message(db.Model):
    __tablename__ = "messages"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    room_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    type: Mapped[MessageType] = mapped_column(string_enum(MessageType, "message_type"), default=MessageType.TEXT)
    text: Mapped[str] = mapped_column(sa.Text, default="")
    track_ref: Mapped[dict | None] = mapped_column(sa.JSON)
    # The canonical URL of track_ref, for grouping shares; and whether seda unfurled it from the
    # text (an edit may then replace or remove it) rather than the client sending it.
    track_url: Mapped[str | None] = mapped_column(sa.String(2048))
    track_ref_auto: Mapped[bool] = mapped_column(default=False)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    client_message_id: Mapped[str | None] = mapped_column(sa.String(64))
    reply_count: Mapped[int] = mapped_column(default=0)
    # Ids of the members the text mentions (section 8), kept with the row so that a history page
    # needs no extra statement; recomputed on edit.
    mentions: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The background unfurl of a music link (chat/cards.py): PENDING, DONE or FAILED; None when
    # no unfurl was ever due (no link, or a card sent with its details).
    unfurl: Mapped[str | None] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    # One extra query per page of messages, however many messages and reactions it holds.
    reactions: Mapped[list["Reaction"]] = relationship(
        lazy="selectin", order_by="Reaction.created_at", passive_deletes=True
    )

    __table_args__ = (
        # History newest first and catch-up oldest first are both range scans of this index.
        sa.UniqueConstraint("room_id", "seq"),
        # A thread's replies, and the track cards the popular tracks count: each index holds only
        # the rows it is read for, so a plain text (most of chat) writes neither.
        partial_index("ix_messages_replies_parent_id_seq", "parent_id", "seq", where="parent_id IS NOT NULL"),
        partial_index("ix_messages_track_cards_created_at", "created_at", where=f"type = {_TRACK_CARD}"),
        # The unfurls still pending, for the sweep that resumes those a lost retry left behind.
        partial_index("ix_messages_unfurl_pending_updated_at", "updated_at", where=f"unfurl = '{UNFURL_PENDING}'"),
        # clientMessageId dedupe: one message per user and client id.
        sa.UniqueConstraint("user_id", "client_message_id"),
    )


class Reaction(db.Model):
    __tablename__ = "reactions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    message_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    emoji: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("message_id", "user_id", "emoji"),)


class MessageReport(db.Model):
    __tablename__ = "message_reports"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    message_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    reporter_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[ReportStatus] = mapped_column(string_enum(ReportStatus, "report_status"), default=ReportStatus.OPEN)
    resolution: Mapped[str | None] = mapped_column(sa.String(40))
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="joined")
    message: Mapped[Message] = relationship(lazy="joined")

    __table_args__ = (
        sa.Index(
            "uq_message_reports_open_per_reporter",
            "message_id",
            "reporter_id",
            unique=True,
            postgresql_where=sa.text("status = 'OPEN'"),
            sqlite_where=sa.text("status = 'OPEN'"),
        ),
        sa.Index("ix_message_reports_status_created_at", "status", "created_at"),
    )
