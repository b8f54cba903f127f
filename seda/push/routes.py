from functools import wraps

from flask import current_app

from seda.common import ratelimit
from seda.common.api import Blueprint
from seda.common.auth import current_device, current_user, login_required
from seda.push import sending, subscriptions
from seda.push.schemas import PushSubscriptionSchema, SubscribeSchema, VapidPublicKeySchema

bp = Blueprint("push", __name__, url_prefix="/push", description="Web Push subscriptions (section 13)")


def configured(view):
    """404 `Web Push is not configured` before anything else (the body is not even read)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        sending.require_vapid()
        return view(*args, **kwargs)

    return wrapper


@bp.route("/vapid-public-key")
@bp.response(200, VapidPublicKeySchema)
@bp.alt_response(404, description="Web Push is not configured")
def vapid_public_key():
    """The `applicationServerKey` for `pushManager.subscribe`, the same on every process."""
    return {"publicKey": sending.public_key()}


@bp.route("/subscriptions", methods=["POST"])
@login_required
@configured
@bp.arguments(SubscribeSchema)
@bp.response(201, PushSubscriptionSchema)
@bp.alt_response(200, schema=PushSubscriptionSchema, description="The same endpoint again from me: same id, new keys")
@bp.alt_response(404, description="Web Push is not configured")
@bp.alt_response(422, description="Push endpoint not allowed (its host is not a public address)")
def subscribe(body):
    """Subscribe this browser (the body of `PushSubscription.toJSON()`). It belongs to the device
    this token signed in: signing that device out deletes it. An endpoint another user holds moves
    to me (201, a new id); the 21st subscription of mine removes my oldest."""
    subscription, created = sending.subscribe(current_user(), current_device(), body)
    return subscription, 201 if created else 200


@bp.route("/subscriptions")
@login_required
@bp.response(200, PushSubscriptionSchema(many=True))
def list_subscriptions():
    """My subscriptions, newest first (never their keys)."""
    return subscriptions.listed(current_user().id)


@bp.route("/subscriptions/<subscription_id>", methods=["DELETE"])
@login_required
@bp.response(204)
@bp.alt_response(404, description="Push subscription not found")
def unsubscribe(subscription_id):
    """Delete one of my subscriptions (the browser unsubscribed, or I turned push off there)."""
    subscriptions.remove(current_user().id, subscription_id)


@bp.route("/subscriptions/<subscription_id>/test", methods=["POST"])
@login_required
@configured
@ratelimit.limit(lambda: current_app.config["RATE_LIMIT_PUSH_TEST"], scope="push-test")
@bp.response(202)
@bp.alt_response(404, description="Push subscription not found; Web Push is not configured")
@bp.alt_response(429, description="RATE_LIMIT_PUSH_TEST (5/minute per user), with Retry-After")
def test_push(subscription_id):
    """A push of type TEST to that subscription at once, whatever my settings and quiet hours."""
    sending.send_test_push(current_user(), subscription_id)
