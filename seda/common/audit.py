"""The audit trail: who made which admin change, written inside the change's own transaction.

Every feature that lets an admin change something records it here, so the log lives below the
features (admin reads it; users, chat and verification write it).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from seda.common.db import UTCDateTime, new_id, utcnow
from seda.extensions import db

API_KEY_ACTOR = "api-key"


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


@dataclass(frozen=True)
class Actor:
    """An admin acting: a user with an admin role, or the holder of ADMIN_API_KEY."""

    user: object | None  # seda.users.models.User, None for the API key
    ip_address: str | None = None
    user_agent: str | None = None

    @property
    def label(self):
        return str(self.user.id) if self.user is not None else API_KEY_ACTOR

    @property
    def user_id(self):
        return self.user.id if self.user is not None else None

    @property
    def is_super_admin(self):
        return self.user is not None and self.user.role.is_super_admin


def record(actor, action, target_type, target_id, details=None):
    """Add the audit row to the current transaction; the caller's commit writes both or neither."""
    db.session.add(
        AdminAction(
            admin_id=actor.user_id,
            actor=actor.label,
            action=action,
            target_type=target_type,
            target_id=str(target_id) if target_id is not None else None,
            details=details,
            ip_address=actor.ip_address,
            user_agent=(actor.user_agent or "")[:512] or None,
        )
    )
