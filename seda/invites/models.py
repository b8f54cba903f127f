import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from seda.common.db import UTCDateTime, new_id, utcnow
from seda.extensions import db
from seda.users.models import User


class InviteLink(db.Model):
    """A link that lets whoever holds it join a room (API.md §13), within its limits."""

    __tablename__ = "room_invites"

    code: Mapped[str] = mapped_column(sa.String(43), primary_key=True)
    room_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"))
    created_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: never
    max_uses: Mapped[int] = mapped_column(default=0)  # 0: unlimited
    uses: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    creator: Mapped[User] = relationship(lazy="selectin")

    __table_args__ = (sa.Index("ix_room_invites_room_created", "room_id", "created_at"),)


class InvitationStatus(str, enum.Enum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class Invitation(db.Model):
    """One person invited to a room by another (API.md §13); PENDING past `expires_at` reads EXPIRED."""

    __tablename__ = "room_invitations"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    room_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"))
    inviter_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    invitee_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[InvitationStatus] = mapped_column(
        sa.Enum(InvitationStatus, name="invitation_status", native_enum=False, length=20),
        default=InvitationStatus.PENDING,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    inviter: Mapped[User] = relationship(foreign_keys=[inviter_id], lazy="selectin")
    invitee: Mapped[User] = relationship(foreign_keys=[invitee_id], lazy="selectin")

    __table_args__ = (
        sa.Index("ix_room_invitations_room_created", "room_id", "created_at"),
        sa.Index("ix_room_invitations_invitee_created", "invitee_id", "created_at"),
        # One PENDING invitation per person and room: two invites at once make one.
        sa.Index(
            "uq_room_invitations_pending",
            "room_id",
            "invitee_id",
            unique=True,
            postgresql_where=sa.text("status = 'PENDING'"),
            sqlite_where=sa.text("status = 'PENDING'"),
        ),
    )
