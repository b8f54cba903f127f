"""The audit trail: who did which admin change, recorded inside the change's transaction."""

from dataclasses import dataclass

from seda.admin.models import AdminAction
from seda.extensions import db

API_KEY_ACTOR = "api-key"


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
        from seda.users.models import Role

        return self.user is not None and self.user.role == Role.SUPER_ADMIN


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
