from seda.common.api import Blueprint
from seda.common.auth import current_user, login_required
from seda.common.pagination import PAGE_HEADERS_DOC, payload_page
from seda.notifications import digests, services, settings
from seda.notifications.schemas import (
    InboxQuerySchema,
    MarkReadSchema,
    NotificationSchema,
    NotificationSettingsSchema,
    OneClickSchema,
    SettingsChangesSchema,
    UnreadCountSchema,
    UnsubscribedSchema,
    UnsubscribeQuerySchema,
)

bp = Blueprint("notifications", __name__, url_prefix="/notifications", description="The notification inbox (section 8)")


@bp.route("")
@login_required
@bp.arguments(InboxQuerySchema, location="query")
@bp.response(200, NotificationSchema(many=True), headers=PAGE_HEADERS_DOC)
def inbox(query):
    """My notifications, newest first (`unread=true`: only those not read yet). A notification
    about a message deleted since is left out."""
    page = services.inbox(current_user(), query["limit"], query.get("cursor"), query["unread"])
    return payload_page(page, query["limit"])


@bp.route("/unread-count")
@login_required
@bp.response(200, UnreadCountSchema)
def unread_count():
    """How many of my notifications are unread."""
    return {"count": services.unread_count(current_user())}


@bp.route("/read", methods=["POST"])
@login_required
@bp.arguments(MarkReadSchema)
@bp.response(200, UnreadCountSchema)
def mark_read(body):
    """Mark `ids` (1–100; ids that are not mine are ignored) or `all` read; answers the unread
    count left, and every socket of mine gets `notifications_read` `{count, ids}` (`ids`: those
    this call read, null after `all`)."""
    return {"count": services.mark_read(current_user(), body.get("ids"))}


@bp.route("/unsubscribe", methods=["POST"])
@bp.arguments(UnsubscribeQuerySchema, location="query")
@bp.arguments(OneClickSchema)
@bp.response(200, UnsubscribedSchema)
@bp.alt_response(400, description="Invalid or expired token")
def unsubscribe(query, _one_click):
    """One-click unsubscribe from email digests (RFC 8058): the signed token of a digest's
    List-Unsubscribe link, no bearer token. Takes the form `List-Unsubscribe=One-Click` mail
    clients post, JSON `{}`, or no body; `emailDigest` becomes OFF (idempotent)."""
    digests.unsubscribe(query["token"])
    return {"message": "Unsubscribed"}


settings_bp = Blueprint(
    "notification_settings",
    __name__,
    url_prefix="/users/me/notification-settings",
    description="How notifications reach me beyond the inbox (section 13)",
)


@settings_bp.route("")
@login_required
@settings_bp.response(200, NotificationSettingsSchema)
def get_settings():
    """My settings: per type, push and email (digest); the digest's pace; quiet hours in my time zone."""
    return settings.settings_of(current_user().id)


@settings_bp.route("", methods=["PATCH"])
@login_required
@settings_bp.arguments(SettingsChangesSchema)
@settings_bp.response(200, NotificationSettingsSchema)
def patch_settings(changes):
    """Change any of them: `{"types": {"MENTION": {"push": false}}}` changes only that one;
    `quietHours: null` clears them. A request with any error changes nothing. The inbox always
    gets every notification."""
    return settings.change(current_user().id, changes)
