from seda.common.api import Blueprint
from seda.common.auth import current_user, login_required
from seda.common.pagination import PAGE_HEADERS_DOC, payload_page
from seda.notifications import services
from seda.notifications.schemas import InboxQuerySchema, MarkReadSchema, NotificationSchema, UnreadCountSchema

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
