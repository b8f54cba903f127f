"""What the routes and the notifications feature ask of Web Push: the public key, subscribing a
browser (only to an endpoint the safe fetcher may reach), test pushes, and queueing deliveries."""

from datetime import UTC, datetime

from flask import current_app

from seda.common.db import parse_uuid
from seda.common.errors import NotFound, Unprocessable
from seda.common.tasks import enqueue
from seda.crawler.fetcher import FetchFailed, fetcher_for
from seda.extensions import db
from seda.push import subscriptions
from seda.push.delivery import Push, forget_old_claims
from seda.push.vapid import NoKey, vapid_configured, vapid_of

DELIVER_TASK = "push.deliver"
PUSHES_PER_TASK = 100
NOT_CONFIGURED = "Web Push is not configured"


def enabled():
    return vapid_configured(current_app)


def public_key():
    return require_vapid().public_key


def subscribe(user, device_id, body):
    """Store the browser's subscription; (subscription, created)."""
    endpoint = body["endpoint"]
    try:
        fetcher_for(current_app).check_address(endpoint)
    except FetchFailed:
        raise Unprocessable("Push endpoint not allowed") from None
    expiration = body["expirationTime"]
    expires_at = None if expiration is None else datetime.fromtimestamp(expiration / 1000, UTC)
    keys = body["keys"]
    device = parse_uuid(device_id) if device_id else None
    return subscriptions.subscribe(user.id, device, endpoint, keys["p256dh"], keys["auth"], expires_at)


def send_test_push(user, subscription_id):
    """A TEST push to the user's subscription, now, whatever the settings."""
    subscription = subscriptions.mine(user.id, subscription_id)
    base = current_app.config["PUBLIC_BASE_URL"]
    payload = {"type": "TEST", "title": "seda", "body": "Push notifications work", "url": base, "notification": None}
    queue([Push(user.id, payload, subscription_id=subscription.id)])


def queue(pushes):
    """Deliver `pushes` off the caller's path (after its commit), a task per hundred."""
    if not pushes or not enabled():
        return
    for start in range(0, len(pushes), PUSHES_PER_TASK):
        enqueue(DELIVER_TASK, [push.as_task_args() for push in pushes[start : start + PUSHES_PER_TASK]])


def sweep():
    """Expired subscriptions deleted unused, and claims too old for any retry forgotten."""
    expired = subscriptions.forget_expired()
    db.session.commit()
    return {
        "push_subscriptions_expired": expired,
        "push_claims_forgotten": forget_old_claims(current_app.config["PUSH_TTL_SECONDS"]),
    }


def require_vapid():
    """The app's VAPID key, or 404 `Web Push is not configured`."""
    try:
        return vapid_of(current_app)
    except NoKey:
        raise NotFound(NOT_CONFIGURED) from None
