"""Push subscriptions (API.md §13): one user per endpoint, at most 20 per user, each tied to the
device whose sign-in made it, so signing a device out stops its pushes."""

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from seda.common.db import parse_uuid, utcnow
from seda.common.errors import NotFound
from seda.extensions import db
from seda.push.models import PushSubscription

MAX_PER_USER = 20


def subscribe(user_id, device_id, endpoint, p256dh, auth, expires_at):
    """Store the browser's subscription for `user_id` on `device_id` (None for a Supabase
    session); returns (subscription, created). The same endpoint again from the same user keeps its
    id and takes the new keys and device; an endpoint another user holds moves to this one."""
    try:
        return _subscribe_once(user_id, device_id, endpoint, p256dh, auth, expires_at)
    except IntegrityError:
        db.session.rollback()  # the same endpoint stored meanwhile by another request: now it is there
        return _subscribe_once(user_id, device_id, endpoint, p256dh, auth, expires_at)


def _subscribe_once(user_id, device_id, endpoint, p256dh, auth, expires_at):
    existing = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if existing is not None and existing.user_id == user_id:
        existing.device_id, existing.p256dh, existing.auth, existing.expires_at = device_id, p256dh, auth, expires_at
        existing.failures_in_a_row = 0
        db.session.commit()
        return existing, False
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    subscription = PushSubscription(
        user_id=user_id, device_id=device_id, endpoint=endpoint, p256dh=p256dh, auth=auth, expires_at=expires_at
    )
    db.session.add(subscription)
    db.session.flush()
    _keep_newest(user_id)
    db.session.commit()
    return subscription, True


def _keep_newest(user_id):
    """The 21st subscription removes the user's oldest."""
    keep = (
        sa.select(PushSubscription.id)
        .where(PushSubscription.user_id == user_id)
        .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
        .limit(MAX_PER_USER)
    )
    db.session.execute(
        sa.delete(PushSubscription).where(PushSubscription.user_id == user_id, PushSubscription.id.not_in(keep)),
        execution_options={"synchronize_session": False},
    )


def listed(user_id):
    return db.session.scalars(
        sa.select(PushSubscription)
        .where(PushSubscription.user_id == user_id)
        .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
    ).all()


def mine(user_id, subscription_id):
    """The user's subscription `subscription_id`, or 404."""
    subscription_id = parse_uuid(subscription_id)
    subscription = db.session.get(PushSubscription, subscription_id) if subscription_id else None
    if subscription is None or subscription.user_id != user_id:
        raise NotFound("Push subscription not found")
    return subscription


def remove(user_id, subscription_id):
    db.session.delete(mine(user_id, subscription_id))
    db.session.commit()


def forget_device(device_id):
    """A device was signed out: its subscriptions go (in the caller's transaction)."""
    db.session.execute(
        sa.delete(PushSubscription).where(PushSubscription.device_id == device_id),
        execution_options={"synchronize_session": False},
    )


def forget_devices_of(user_id, keep=None):
    """Every device of the user but `keep` was signed out: their subscriptions go (a Supabase
    session's, which belong to no device, stay)."""
    statement = sa.delete(PushSubscription).where(
        PushSubscription.user_id == user_id, PushSubscription.device_id.is_not(None)
    )
    if keep is not None:
        statement = statement.where(PushSubscription.device_id != keep)
    db.session.execute(statement, execution_options={"synchronize_session": False})


def forget_user(user_id):
    """The account is deleted: every subscription of it goes (in the caller's transaction)."""
    db.session.execute(
        sa.delete(PushSubscription).where(PushSubscription.user_id == user_id),
        execution_options={"synchronize_session": False},
    )


def forget_expired(user_ids=None):
    """Subscriptions (of `user_ids`, or everyone's) whose `expirationTime` has passed are deleted
    unused, in the caller's transaction; returns how many."""
    statement = sa.delete(PushSubscription).where(PushSubscription.expires_at < utcnow())
    if user_ids is not None:
        statement = statement.where(PushSubscription.user_id.in_(user_ids))
    return db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount
