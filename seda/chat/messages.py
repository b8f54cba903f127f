"""Messages, reactions and reports: store, commit, then notify."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from seda.admin import audit
from seda.chat import notify
from seda.chat.access import find_message, is_moderator, member_room
from seda.chat.models import (
    Message,
    MessageReport,
    MessageType,
    Reaction,
    ReportStatus,
    Room,
    RoomMembership,
)
from seda.chat.rooms import active_mute
from seda.chat.schemas import MessageSchema, ReactionSchema
from seda.common import metrics
from seda.common.db import iso_utc, parse_uuid, utcnow
from seda.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from seda.common.pagination import keyset_page
from seda.common.ratelimit import enforce
from seda.extensions import db
from seda.tracks.providers import recognise

DEDUPE_WINDOW = timedelta(hours=24)
MAX_DISTINCT_EMOJI = 20
_message_schema = MessageSchema()
_reaction_schema = ReactionSchema()


def serialize_message(message):
    return _message_schema.dump(message)


def serialize_reaction(reaction):
    return _reaction_schema.dump(reaction)


def send_message(user, room_id, text, parent_id=None, track_ref=None, client_message_id=None):
    """Store a message and broadcast it; returns (message, created). A repeated clientMessageId
    within 24 h returns the stored message and stores nothing."""
    room, membership = member_room(user, room_id)
    if membership is None:
        raise Forbidden("Join the room first")
    if client_message_id:
        duplicate = _find_duplicate(user.id, client_message_id)
        if duplicate is not None:
            return duplicate, False
    _check_may_send(user, room, membership)
    parent = _reply_parent(room, parent_id)
    message = _store(user, room, membership, text, parent, track_ref, client_message_id)
    if message is None:  # a concurrent retry with the same clientMessageId won the race
        return _find_duplicate(user.id, client_message_id), False
    metrics.MESSAGES_STORED.labels("track_card" if track_ref else "text").inc()
    notify.message_created(serialize_message(message))
    _queue_unfurl(message)
    return message, True


def _queue_unfurl(message):
    from seda.tracks.services import queue_unfurl_if_needed

    queue_unfurl_if_needed(message)


def _find_duplicate(user_id, client_message_id):
    message = db.session.scalar(
        sa.select(Message).where(Message.user_id == user_id, Message.client_message_id == client_message_id)
    )
    if message is None:
        return None
    if utcnow() - message.created_at > DEDUPE_WINDOW:
        raise Conflict("clientMessageId was already used for another message")
    return message


def _check_may_send(user, room, membership):
    mute = active_mute(room.id, user.id)
    if mute is not None:
        raise Forbidden(f"You are muted until {iso_utc(mute.muted_until)}")
    config = current_app.config
    enforce(config["RATE_LIMIT_MESSAGES"], "messages", str(user.id), "Too many messages, slow down")
    if room.slow_mode_seconds and not is_moderator(user, membership):
        enforce(
            f"1 per {room.slow_mode_seconds} seconds", f"slow-mode:{room.id}", str(user.id),
            f"Slow mode: one message every {room.slow_mode_seconds} seconds",
        )


def _reply_parent(room, parent_id):
    if parent_id is None:
        return None
    parent = db.session.get(Message, parent_id)
    if parent is None or parent.room_id != room.id or parent.deleted_at is not None:
        raise ValidationFailed("parentId: Not a message of this room.")
    if parent.parent_id is not None:
        # Threads are one level deep: a reply to a reply joins the same thread.
        parent = db.session.get(Message, parent.parent_id)
    return parent


def _store(user, room, membership, text, parent, track_ref, client_message_id):
    now = utcnow()
    # The row lock taken by this UPDATE serialises senders of one room until commit, so seq is
    # gap-free and strictly increasing across processes; a rollback gives the number back.
    seq = db.session.execute(
        sa.update(Room)
        .where(Room.id == room.id)
        .values(last_seq=Room.last_seq + 1, last_message_at=now)
        .returning(Room.last_seq)
    ).scalar_one()
    message = Message(
        room_id=room.id,
        user_id=user.id,
        seq=seq,
        type=message_type(track_ref, parent),
        text=text,
        track_ref=track_ref,
        track_url=_canonical_track_url(track_ref),
        parent_id=parent.id if parent else None,
        client_message_id=client_message_id,
        created_at=now,
        updated_at=now,
        reactions=[],
    )
    message.user = user
    db.session.add(message)
    if parent is not None:
        db.session.execute(
            sa.update(Message).where(Message.id == parent.id).values(reply_count=Message.reply_count + 1)
        )
    db.session.execute(
        sa.update(RoomMembership).where(RoomMembership.id == membership.id).values(last_read_seq=seq)
    )
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        if client_message_id:
            return None
        raise
    return message


def _canonical_track_url(track_ref):
    if not track_ref:
        return None

    link = recognise(track_ref["url"])
    return link.url if link else track_ref["url"]


def message_type(track_ref, parent):
    if track_ref:
        return MessageType.TRACK_CARD
    if parent is not None:
        return MessageType.REPLY
    return MessageType.TEXT


def list_messages(user, room_id, limit=50, cursor=None, after=None, parent_id=None):
    """A page of history and the next cursor.

    Default: top-level messages newest first; `cursor`: older than it; `after`: newer than it,
    oldest first (catch-up, replies included); `parentId`: a thread's replies, newest first.
    The membership check rides inside the page query, so a page costs one query for messages,
    users and artist profiles, and one for the reactions of the page.
    """
    room_uuid = parse_uuid(room_id)
    if room_uuid is None:
        raise NotFound("Room not found")
    query = sa.select(Message).where(Message.room_id == room_uuid, Message.deleted_at.is_(None))
    if not user.role.is_admin:
        query = query.where(
            sa.exists().where(RoomMembership.room_id == room_uuid, RoomMembership.user_id == user.id)
        )
    if parent_id is not None:
        query = query.where(Message.parent_id == parent_id)
    elif after is None:
        query = query.where(Message.parent_id.is_(None))
    anchor = cursor or after
    if anchor is not None:
        anchor_seq = (
            sa.select(Message.seq).where(Message.id == anchor, Message.room_id == room_uuid).scalar_subquery()
        )
        query = query.where(Message.seq > anchor_seq if after else Message.seq < anchor_seq)
    order = Message.seq.asc() if after else Message.seq.desc()
    rows = db.session.scalars(query.order_by(order).limit(limit + 1)).unique().all()
    if not rows:
        _explain_empty_page(user, room_uuid, anchor, "after" if after else "cursor")
    page = rows[:limit]
    return page, (str(page[-1].id) if len(rows) > limit else None)


def _explain_empty_page(user, room_id, anchor, anchor_name):
    """An empty page is either really empty or a refusal; tell which (rare path)."""
    member_room(user, room_id)
    if anchor is not None:
        known = db.session.scalar(sa.select(Message.id).where(Message.id == anchor, Message.room_id == room_id))
        if known is None:
            raise ValidationFailed(f"{anchor_name}: Not a message of this room.")


def get_message(user, message_id):
    message, _room, _membership = find_message(user, message_id)
    return message


def edit_message(user, message_id, text):
    message, _room, _membership = find_message(user, message_id)
    if message.user_id != user.id:
        raise Forbidden("Only the author may edit a message")
    if not text and not message.track_ref:
        raise ValidationFailed("text: Text must not be empty.")
    message.text = text
    message.edited_at = message.updated_at = utcnow()
    db.session.commit()
    notify.message_updated(serialize_message(message))
    _queue_unfurl(message)
    return message


def delete_message(user, message_id):
    message, _room, membership = find_message(user, message_id)
    if message.user_id != user.id and not is_moderator(user, membership):
        raise Forbidden("Only the author or a moderator may delete a message")
    soft_delete(message)


def soft_delete(message, actor=None, audit_details=None):
    """Hide a message from every reader and tell the room (authors, moderators, admins).

    With an admin `actor` the audit row is written in the same transaction."""
    message.deleted_at = message.updated_at = utcnow()
    if message.parent_id is not None:
        db.session.execute(
            sa.update(Message).where(Message.id == message.parent_id).values(reply_count=Message.reply_count - 1)
        )
    if actor is not None:

        audit.record(actor, "message.delete", "message", message.id,
                     {"roomId": str(message.room_id), **(audit_details or {})})
    db.session.commit()
    notify.message_deleted(message.room_id, message.id)


def add_reaction(user, message_id, emoji):
    """React to a message; returns (reaction, created)."""
    message, room, membership = find_message(user, message_id)
    if membership is None:
        raise Forbidden("Join the room first")
    existing = next((r for r in message.reactions if r.user_id == user.id and r.emoji == emoji), None)
    if existing is not None:
        return existing, False
    distinct = {r.emoji for r in message.reactions}
    if emoji not in distinct and len(distinct) >= MAX_DISTINCT_EMOJI:
        raise Conflict(f"A message can carry at most {MAX_DISTINCT_EMOJI} different emoji")
    reaction = Reaction(message_id=message.id, user_id=user.id, emoji=emoji)
    db.session.add(reaction)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the same reaction from another tab, a moment earlier
        db.session.rollback()
        return _find_reaction(message.id, user.id, emoji), False
    notify.reaction_added(room.id, serialize_reaction(reaction))
    return reaction, True


def _find_reaction(message_id, user_id, emoji):
    return db.session.scalar(
        sa.select(Reaction).where(Reaction.message_id == message_id, Reaction.user_id == user_id, Reaction.emoji == emoji)
    )


def remove_reaction(user, message_id, emoji):
    message, room, _membership = find_message(user, message_id)
    reaction = _find_reaction(message.id, user.id, emoji)
    if reaction is None:
        raise NotFound("Reaction not found")
    db.session.delete(reaction)
    db.session.commit()
    notify.reaction_removed(room.id, message.id, user.id, emoji)


def report_message(user, message_id, reason):
    message, _room, _membership = find_message(user, message_id)
    open_report = db.session.scalar(
        sa.select(MessageReport.id).where(
            MessageReport.message_id == message.id,
            MessageReport.reporter_id == user.id,
            MessageReport.status == ReportStatus.OPEN,
        )
    )
    if open_report is not None:
        raise Conflict("You already reported this message")
    report = MessageReport(message_id=message.id, reporter_id=user.id, reason=reason)
    db.session.add(report)
    db.session.commit()
    return report




# -- admin moderation -------------------------------------------------------------------------


def admin_delete_message(actor, message_id):
    message = db.session.get(Message, parse_uuid(message_id)) if parse_uuid(message_id) else None
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

    report = db.session.get(MessageReport, parse_uuid(report_id)) if parse_uuid(report_id) else None
    if report is None:
        raise NotFound("Report not found")
    if report.status != ReportStatus.OPEN:
        raise Conflict("This report is already resolved")
    report.status, report.resolution = ReportStatus.RESOLVED, action
    report.resolved_at, report.resolved_by = utcnow(), actor.user_id
    details = {"action": action, "notes": notes, "messageId": str(report.message_id)}
    if action == "DELETE_MESSAGE" and report.message.deleted_at is None:
        audit.record(actor, "report.resolve", "report", report.id, details)
        soft_delete(report.message, actor, {"reportId": str(report.id)})
        return report
    audit.record(actor, "report.resolve", "report", report.id, details)
    db.session.commit()
    return report
