"""Devices (API.md §12): each sign-in starts one, a refresh-token family whose access tokens
carry its id (`sid`). A revoked device's tokens are refused by the next request on every
process: the check reads a kept copy (common/kept.py) at the user's version, which the revoking
commit moves, so it costs no statement and no round trip while nothing changes."""

import sqlalchemy as sa

from seda.auth.models import Device, RefreshToken
from seda.auth.tokens import REFRESH_TTL
from seda.common.db import parse_uuid, utcnow
from seda.common.errors import NotFound, Unauthorized
from seda.common.kept import VersionedCache, kept_in_app
from seda.common.user_versions import user_version, users_changed, version_read_in_this_request
from seda.extensions import db
from seda.push import subscriptions as push_subscriptions
from seda.realtime import emits
from seda.users.services import active_user_id, user_for_identity

MAX_DEVICES_KEPT = 100_000


def start(user_id, device_id, user_agent, ip_address):
    """A new device of `user_id` (added to the session; the caller commits)."""
    now = utcnow()
    db.session.add(
        Device(
            id=device_id,
            user_id=user_id,
            created_at=now,
            last_used_at=now,
            user_agent=(user_agent or "")[:256] or None,
            ip_address=ip_address,
        )
    )


def used(user_id, device_id, user_agent, ip_address):
    """A refresh on the device: its last use, agent and address (a family from before devices
    existed becomes one)."""
    device = db.session.get(Device, device_id)
    if device is None:
        start(user_id, device_id, user_agent, ip_address)
        return
    device.last_used_at = utcnow()
    device.user_agent, device.ip_address = (user_agent or "")[:256] or None, ip_address


def listed(user_id, current):
    """The user's devices signed in and not expired, most recently used first, each with
    `current` (the caller's own)."""
    rows = db.session.scalars(
        sa.select(Device)
        .where(Device.user_id == user_id, Device.revoked_at.is_(None), Device.last_used_at > utcnow() - REFRESH_TTL)
        .order_by(Device.last_used_at.desc(), Device.id)
    ).all()
    return [
        {
            "id": device.id,
            "created_at": device.created_at,
            "last_used_at": device.last_used_at,
            "user_agent": device.user_agent,
            "ip_address": device.ip_address,
            "current": str(device.id) == current,
        }
        for device in rows
    ]


def revoke(user_id, device_id):
    """Sign one of the user's devices out (404 when it is not theirs)."""
    device_id = parse_uuid(device_id)
    device = db.session.get(Device, device_id) if device_id is not None else None
    if device is None or device.user_id != user_id:
        raise NotFound("Device not found")
    revoke_device(device.id, utcnow())
    db.session.commit()
    users_changed([user_id])
    emits.last_word_to_device(user_id, device.id, "signed_out", {"reason": "DEVICE_REVOKED"})


def revoke_others(user_id, current):
    """Sign every device of the user out but the caller's."""
    others = db.session.scalars(
        sa.select(Device.id).where(Device.user_id == user_id, Device.revoked_at.is_(None))
    ).all()
    keep = parse_uuid(current) if current else None
    revoke_all(user_id, keep=keep)
    db.session.commit()
    users_changed([user_id])
    for device_id in others:
        if device_id != keep:
            emits.last_word_to_device(user_id, device_id, "signed_out", {"reason": "DEVICE_REVOKED"})


def signed_in(identity, user_id):
    """Whether the device a seda access token names is still signed in (a token from before
    devices names none: it stands until it expires)."""
    device_id = parse_uuid(identity.device) if identity.device else None
    if identity.device is None:
        return True
    if device_id is None:
        return False
    version = version_read_in_this_request(user_id) or user_version(user_id)
    kept = _kept_devices()
    revoked = kept.get(device_id, version)
    if revoked is None:
        revoked = db.session.scalar(
            sa.select(Device.revoked_at.is_not(None)).where(Device.id == device_id, Device.user_id == user_id)
        )
        revoked = True if revoked is None else revoked
        kept.put(device_id, version, revoked)
    return not revoked


def user_for_token(identity):
    """The active user a verified token speaks for (users.services), on a device still signed in."""
    user = user_for_identity(identity)
    _check(identity, user.id)
    return user


def active_user_id_for_token(identity):
    """As user_for_token, the user's id alone (a socket connect)."""
    user_id = active_user_id(identity)
    _check(identity, user_id)
    return user_id


def _check(identity, user_id):
    if identity.issuer == "seda" and not signed_in(identity, user_id):
        raise Unauthorized()


def revoke_device(device_id, now):
    """Revoke a device, its refresh-token family and its push subscriptions (in the caller's
    transaction; then the user's version must move, users_changed, for its access tokens to be
    refused)."""
    push_subscriptions.forget_device(device_id)
    db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.family_id == device_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(
        sa.update(Device).where(Device.id == device_id, Device.revoked_at.is_(None)).values(revoked_at=now),
        execution_options={"synchronize_session": False},
    )


def revoke_all(user_id, keep=None):
    """Revoke every device of `user_id` but `keep`, their refresh tokens and their push
    subscriptions (in the caller's transaction; then signed_out())."""
    push_subscriptions.forget_devices_of(user_id, keep)
    now = utcnow()
    devices = sa.update(Device).where(Device.user_id == user_id, Device.revoked_at.is_(None))
    tokens = sa.update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    if keep is not None:
        devices, tokens = devices.where(Device.id != keep), tokens.where(RefreshToken.family_id != keep)
    db.session.execute(devices.values(revoked_at=now), execution_options={"synchronize_session": False})
    db.session.execute(tokens.values(revoked_at=now), execution_options={"synchronize_session": False})


def signed_out(user_id, reason):
    """After the commit that revoked the user's devices: every process refuses their tokens from
    the next request on (the user's version moves), and every socket of the user gets
    `signed_out {reason}` and is disconnected."""
    users_changed([user_id])
    emits.last_word_to_user(user_id, "signed_out", {"reason": reason})


def _kept_devices():
    return kept_in_app("devices", lambda: VersionedCache("devices", max_items=MAX_DEVICES_KEPT))
