"""Deleting my account (API.md §12): deleted at once, restorable until `purgeAt`, then purged by
the sweep (or an admin): everything personal erased, the row kept so that messages keep their
author, who reads as "Deleted user" everywhere."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from seda.auth import account_tokens, attempts, devices, passwords, two_factor
from seda.auth.email_addresses import INCORRECT_PASSWORD, SET_A_PASSWORD_FIRST
from seda.auth.services import INVALID_CREDENTIALS, Client, forget_credentials, start_session
from seda.chat import rooms
from seda.common import audit
from seda.common.db import parse_uuid, utcnow
from seda.common.errors import Conflict, Forbidden, NotFound, Unauthorized
from seda.common.user_versions import users_changed
from seda.exports import services as exports
from seda.extensions import db
from seda.invites import invitations
from seda.invites import links as invite_links
from seda.mail import compose
from seda.mail.services import send as send_mail
from seda.notifications.services import erase_inbox_of
from seda.push import subscriptions as push_subscriptions
from seda.users.models import Role, User
from seda.users.services import erase_profile, find_by_email
from seda.users.versions import USER_STATE_UNCHANGED
from seda.verification.claims import expire_open_requests_of

log = logging.getLogger(__name__)

LAST_SUPER_ADMIN = "The last super admin cannot be deleted"
NOT_DELETED = "Account is not deleted"
PURGE_BATCH = 100


@dataclass(frozen=True)
class Deletion:
    deleted_at: datetime
    purge_at: datetime


def delete_account(user, password, code=None):
    """Delete `user`'s own account (its password, and a code while two-factor is on, prove it).
    In one transaction every device is signed out, every room left, open verification requests
    expired, unfinished exports dropped, invite links revoked, pending invitations cancelled and
    push subscriptions deleted; then the sockets hear `signed_out`, the rooms `user_left`, and the
    address gets the one mail it still will."""
    if user.password_hash is None:
        raise Conflict(SET_A_PASSWORD_FIRST)
    _refuse_if_last_super_admin(user)  # state answers before the password (API.md §12)
    if not passwords.verify_password(user.password_hash, password):
        attempts.wrong_secret(user)
        raise Forbidden(INCORRECT_PASSWORD)
    if user.two_factor_enabled and not two_factor.check_code(user, code):  # commits the spent step
        attempts.wrong_secret(user)
        raise Forbidden(two_factor.INVALID_CODE)
    now = utcnow()
    deletion = Deletion(now, now + timedelta(days=current_app.config["ACCOUNT_PURGE_AFTER_DAYS"]))
    _mark_deleted(user, deletion)
    devices.revoke_all(user.id)
    account_tokens.revoke_every_purpose(user.id)
    left = rooms.leave_every_room(user.id)
    expire_open_requests_of(user.id)
    exports.drop_unfinished_of(user.id)
    invite_links.revoke_all_made_by(user.id)
    invitations.cancel_all_of(user.id)
    push_subscriptions.forget_user(user.id)  # a Supabase session's too: they belong to no device
    db.session.commit()
    devices.signed_out(user.id, "ACCOUNT_DELETED")  # moves the user's version: every kept copy goes
    rooms.left_rooms(user.id, left)
    send_mail(compose.deletion_scheduled(user.email, deletion.purge_at))
    return deletion


def _refuse_if_last_super_admin(user):
    if user.role == Role.SUPER_ADMIN and _other_active_super_admins(user.id) == []:
        raise Conflict(LAST_SUPER_ADMIN)


def _mark_deleted(user, deletion):
    """One conditional UPDATE, so that two SUPER_ADMINs deleting themselves at once leave one:
    on SQLite the statement holds the write lock while it looks; on PostgreSQL every active
    SUPER_ADMIN's row is locked first, in one order, so the second looks after the first commits."""
    if user.role == Role.SUPER_ADMIN:
        _other_active_super_admins(user.id, lock=True)
    other = sa.orm.aliased(User)
    another_super_admin = sa.exists().where(
        other.role == Role.SUPER_ADMIN, other.deleted_at.is_(None), other.id != user.id
    )
    marked = db.session.execute(
        sa.update(User)
        .where(
            User.id == user.id, User.deleted_at.is_(None), sa.or_(User.role != Role.SUPER_ADMIN, another_super_admin)
        )
        .values(deleted_at=deletion.deleted_at, purge_at=deletion.purge_at),
        execution_options={"synchronize_session": False, USER_STATE_UNCHANGED: True},
    ).rowcount
    if marked != 1:
        db.session.rollback()
        raise Conflict(LAST_SUPER_ADMIN) if user.role == Role.SUPER_ADMIN else Unauthorized()


def _other_active_super_admins(user_id, lock=False):
    query = sa.select(User.id).where(User.role == Role.SUPER_ADMIN, User.deleted_at.is_(None)).order_by(User.id)
    ids = db.session.scalars(query.with_for_update() if lock else query).all()
    return [found for found in ids if found != user_id]


def restore(secret, email, password, code=None, client=None):
    """A deleted account back before its purge (email, username, profile and role; not its rooms
    or devices), signed in on a new device."""
    user = find_by_email(email)
    if user is None or not passwords.verify_password(user.password_hash, password):
        raise Unauthorized(INVALID_CREDENTIALS)
    if not user.deleted:
        raise Conflict(NOT_DELETED)
    if user.two_factor_enabled and not two_factor.check_code(user, code):
        raise Unauthorized(two_factor.INVALID_CODE)
    # One conditional UPDATE: of restores racing on several processes (or a restore and the
    # purge) exactly one finds the account still waiting.
    restored = db.session.execute(
        sa.update(User)
        .where(User.id == user.id, User.deleted_at.is_not(None), User.purged_at.is_(None))
        .values(deleted_at=None, purge_at=None),
        execution_options={"synchronize_session": "evaluate", USER_STATE_UNCHANGED: True},
    ).rowcount
    if restored != 1:
        db.session.rollback()
        purged = db.session.scalar(sa.select(User.purged_at.is_not(None)).where(User.id == user.id))
        raise Unauthorized(INVALID_CREDENTIALS) if purged else Conflict(NOT_DELETED)
    session = start_session(secret, user, client or Client())
    users_changed([user.id])  # the kept copies of the deleted account go
    return session


def purge_by_admin(actor, user_id):
    """An admin purges a deleted account now (audited)."""
    user_id = parse_uuid(user_id)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or user.purged_at is not None:
        raise NotFound("User not found")
    if not user.deleted:
        raise Conflict(NOT_DELETED)
    if not purge(user.id, also=lambda: audit.record(actor, "user.purge", "user", user.id)):
        raise NotFound("User not found")  # restored or purged by someone else meanwhile


def purge(user_id, also=None):
    """Erase a deleted account for good; True when this call did it. Claimed by one conditional
    UPDATE, so a sweep on two processes, or a sweep and an admin, purge it once."""
    claimed = db.session.execute(
        sa.update(User)
        .where(User.id == user_id, User.deleted_at.is_not(None), User.purged_at.is_(None))
        .values(purged_at=utcnow(), purge_at=None),
        execution_options={"synchronize_session": False, USER_STATE_UNCHANGED: True},
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return False
    user = db.session.get(User, user_id)
    erase_profile(user)  # the user's version moves with these changes on commit
    forget_credentials(user)
    erase_inbox_of(user_id)
    files = exports.erase_all_of(user_id)
    if also is not None:
        also()
    db.session.commit()
    exports.delete_files(files)
    log.info("account %s purged", user_id)
    return True


def purge_due(now=None):
    """The sweep: purge every account past its `purgeAt`; returns how many it purged."""
    now = now or utcnow()
    purged = 0
    while True:
        due = db.session.scalars(
            sa.select(User.id)
            .where(User.purge_at <= now, User.purged_at.is_(None), User.deleted_at.is_not(None))
            .order_by(User.purge_at)
            .limit(PURGE_BATCH)
        ).all()
        db.session.rollback()
        purged += sum(purge(user_id) for user_id in due)
        if len(due) < PURGE_BATCH:
            return purged
