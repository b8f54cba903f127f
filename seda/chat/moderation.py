"""Moderation of chat: the room moderation route of the original backend, and admins deleting
any message and resolving reports, each audited."""

import sqlalchemy as sa

from seda.chat.access import moderated_room
from seda.chat.members import mute_member
from seda.chat.messages import soft_delete
from seda.chat.models import Message, MessageReport, ReportStatus
from seda.chat.reactions import clear_reactions
from seda.common import audit
from seda.common.db import utcnow
from seda.common.errors import Conflict, NotFound
from seda.common.lookup import find_by_id, get_or_404
from seda.common.pagination import keyset_page
from seda.extensions import db

MODERATION_MUTE_SECONDS = 24 * 3600


def moderate(user, room_id, target_id, action, reason=None, admin=None):
    """`POST /chat/rooms/{roomId}/moderation` (section 11): delete a message of the room, clear its
    reactions, or mute a member for 24 h, with the same rules and events as the routes of each."""
    room, _membership = moderated_room(user, room_id)
    if action == "MUTE_USER":
        mute_member(user, room.id, target_id, MODERATION_MUTE_SECONDS, reason, admin)
        return
    message = db.session.get(Message, target_id)
    if message is None or message.room_id != room.id or message.deleted_at is not None:
        raise NotFound("Message not found")
    if action == "DELETE_MESSAGE":
        soft_delete(message, admin, {"reason": reason} if reason else None)
    else:
        clear_reactions(message, admin)


def admin_delete_message(actor, message_id):
    message = find_by_id(Message, message_id)
    if message is None or message.deleted_at is not None:
        raise NotFound("Message not found")
    soft_delete(message, actor)


def list_reports(limit, cursor=None, status=None):
    query = sa.select(MessageReport)
    if status is not None:
        query = query.where(MessageReport.status == ReportStatus(status))
    return keyset_page(query, (MessageReport.created_at,), MessageReport.id, cursor, limit)


def resolve_report(actor, report_id, action, notes=None):
    """Close an OPEN report, dismissing it or deleting the reported message."""
    report = get_or_404(MessageReport, report_id, "Report not found")
    if report.status != ReportStatus.OPEN:
        raise Conflict("This report is already resolved")
    report.status, report.resolution = ReportStatus.RESOLVED, action
    report.resolved_at, report.resolved_by = utcnow(), actor.user_id
    audit.record(
        actor,
        "report.resolve",
        "report",
        report.id,
        {"action": action, "notes": notes, "messageId": str(report.message_id)},
    )
    if action == "DELETE_MESSAGE" and report.message.deleted_at is None:
        soft_delete(report.message, actor, {"reportId": str(report.id)})
        return report
    db.session.commit()
    return report
