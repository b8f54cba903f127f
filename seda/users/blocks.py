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


def cannot_message(user_id, other_ids):
    """The ids among `other_ids` that `user_id` cannot write to in a direct conversation: a
    block either way, or a deleted account (API.md §12). One query."""
    other_ids = list(other_ids)
    if not other_ids:
        return set()
    blocks = UserBlock.__table__
    either_way = sa.or_(
        sa.and_(blocks.c.blocker_id == user_id, blocks.c.blocked_id == User.id),
        sa.and_(blocks.c.blocked_id == user_id, blocks.c.blocker_id == User.id),
    )
    closed = sa.select(User.id).where(
        User.id.in_(other_ids),
        sa.or_(User.deleted_at.is_not(None), sa.exists().where(either_way)),
    )
    return set(db.session.scalars(closed))


def closed_between(user_id, other_id):
    """Whether writing between the two is closed: a block either way, or a deleted account."""
    return bool(cannot_message(user_id, [other_id]))
