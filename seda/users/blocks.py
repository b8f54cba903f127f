"""Blocks (API.md section 8): who blocks whom, and what a block forbids."""

import sqlalchemy as sa

from seda.common.db import utcnow
from seda.common.errors import ValidationFailed
from seda.common.pagination import keyset_page
from seda.extensions import db
from seda.users.models import User, UserBlock
from seda.users.services import get_user

CANNOT_MESSAGE = "You cannot message this user"


def block(user, target_id):
    """Block `target_id` (idempotent); blocking oneself is refused."""
    target = get_user(target_id)
    if target.id == user.id:
        raise ValidationFailed("userId: You cannot block yourself.")
    exists = db.session.get(UserBlock, (user.id, target.id))
    if exists is None:
        db.session.add(UserBlock(blocker_id=user.id, blocked_id=target.id, created_at=utcnow()))
        try:
            db.session.commit()
        except sa.exc.IntegrityError:  # the same block sent twice at once: it exists, as asked
            db.session.rollback()


def unblock(user, target_id):
    """Lift a block (idempotent: no block, nothing to do)."""
    target = get_user(target_id)
    db.session.execute(sa.delete(UserBlock).where(UserBlock.blocker_id == user.id, UserBlock.blocked_id == target.id))
    db.session.commit()


def blocked_users(user, limit, cursor=None):
    """The users `user` blocks, most recently blocked first."""
    query = sa.select(User, UserBlock.created_at).join(UserBlock, UserBlock.blocked_id == User.id)
    query = query.where(UserBlock.blocker_id == user.id)
    rows, next_cursor = keyset_page(
        query,
        (UserBlock.created_at,),
        User.id,
        cursor,
        limit,
        anchor_where=(UserBlock.blocker_id == user.id, UserBlock.blocked_id == User.id),
        cursor_of=lambda row: row[0].id,
    )
    return [row[0] for row in rows], next_cursor


def blocking_pairs(user_id, other_ids):
    """The ids among `other_ids` that `user_id` blocks or is blocked by (one query)."""
    other_ids = list(other_ids)
    if not other_ids:
        return set()
    rows = db.session.execute(
        sa.select(UserBlock.blocker_id, UserBlock.blocked_id).where(
            sa.or_(
                sa.and_(UserBlock.blocker_id == user_id, UserBlock.blocked_id.in_(other_ids)),
                sa.and_(UserBlock.blocked_id == user_id, UserBlock.blocker_id.in_(other_ids)),
            )
        )
    ).all()
    return {blocked if blocker == user_id else blocker for blocker, blocked in rows}


def either_blocks(user_id, other_id):
    return bool(blocking_pairs(user_id, [other_id]))
