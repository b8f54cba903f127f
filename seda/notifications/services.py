"""The notification inbox (API.md section 8): who is told about what, stored in bulk, pushed to
every device of the recipient; listed, counted and marked read."""

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from seda.chat.models import Message, Room, RoomMembership, RoomType
from seda.chat.payloads import joined_user_ref, user_ref_columns
from seda.common.db import iso_utc, new_id, utcnow
from seda.common.pagination import keyset_page
from seda.extensions import db
from seda.notifications import pushes
from seda.notifications.models import Notification, NotificationSettings, NotificationType
from seda.realtime import emits
from seda.users.models import ArtistProfile, User, UserBlock
from seda.verification.models import VerificationRequest

EXCERPT_LENGTH = 200
_notifications = Notification.__table__


def notify_about_message(message_id, newly_mentioned=None):
    """Store and push what a message calls for: a MENTION, else a REPLY, else a DIRECT_MESSAGE per
    recipient, never to its author, to a non-member, to a banned user nor to one who blocks the
    author. After an edit (`newly_mentioned`), only the newly mentioned hear of it.

    Three statements whatever the number of recipients: the message, the recipients, the insert."""
    message = _message_row(message_id)
    if message is None or message.deleted_at is not None:
        return []
    wanted = _wanted(message, newly_mentioned)
    recipients = _reachable(message, wanted)
    if not recipients:
        return []
    # When it happened, not when this task ran: tasks run concurrently (worker processes, or a
    # thread each in the embedded default), and the inbox must list messages in their order.
    happened_at = (message.edited_at if newly_mentioned is not None else message.created_at) or utcnow()
    dedupe_key = f"message:{message.id}"
    rows = [
        {
            "id": new_id(),
            "recipient_id": recipient,
            "type": kind,
            "actor_id": message.user_id,
            "room_id": message.room_id,
            "message_id": message.id,
            "parent_id": message.parent_id,
            "excerpt": message.text[:EXCERPT_LENGTH],
            "dedupe_key": dedupe_key,
            "created_at": happened_at,
        }
        for recipient, kind in recipients.items()
    ]
    stored = _insert_new(rows)
    db.session.commit()
    return _push([row for row in rows if row["id"] in stored], _actor(message.user_id, message), message.room_name)


def _message_row(message_id):
    m, parent, r, u, p = (
        Message.__table__,
        Message.__table__.alias("parent"),
        Room.__table__,
        User.__table__,
        ArtistProfile.__table__,
    )
    return db.session.execute(
        sa.select(
            m.c.id,
            m.c.room_id,
            m.c.user_id,
            m.c.parent_id,
            m.c.text,
            m.c.mentions,
            m.c.created_at,
            m.c.edited_at,
            m.c.deleted_at,
            parent.c.user_id.label("parent_author_id"),
            r.c.type.label("room_type"),
            r.c.name.label("room_name"),
            *user_ref_columns(u, p),
        )
        .join(r, r.c.id == m.c.room_id)
        .join(u, u.c.id == m.c.user_id)
        .outerjoin(p, p.c.user_id == m.c.user_id)
        .outerjoin(parent, parent.c.id == m.c.parent_id)
        .where(m.c.id == message_id)
    ).first()


def _wanted(message, newly_mentioned):
    """Candidate recipients and the one type each would get, best first (section 8's order)."""
    mentioned = [uuid.UUID(user_id) for user_id in message.mentions or []]
    if newly_mentioned is not None:
        still_mentioned = set(mentioned)
        return {
            user_id: NotificationType.MENTION
            for user_id in map(uuid.UUID, newly_mentioned)
            if user_id in still_mentioned
        }
    wanted = dict.fromkeys(mentioned, NotificationType.MENTION)
    if message.parent_author_id is not None:
        wanted.setdefault(message.parent_author_id, NotificationType.REPLY)
    return wanted


def _reachable(message, wanted):
    """Of `wanted` (and, in a DIRECT room, of its members), those who may be told, with their type."""
    wanted.pop(message.user_id, None)
    direct = message.room_type == RoomType.DIRECT
    if not wanted and not direct:
        return {}
    ms, u, blocks = RoomMembership.__table__, User.__table__, UserBlock.__table__
    query = (
        sa.select(ms.c.user_id)
        .join(u, u.c.id == ms.c.user_id)
        .where(
            ms.c.room_id == message.room_id,
            ms.c.user_id != message.user_id,
            u.c.banned.is_(False),
            u.c.deleted_at.is_(None),
            ~sa.exists().where(blocks.c.blocker_id == ms.c.user_id, blocks.c.blocked_id == message.user_id),
        )
    )
    if not direct:
        query = query.where(ms.c.user_id.in_(wanted))
    members = set(db.session.scalars(query))
    reachable = {user_id: kind for user_id, kind in wanted.items() if user_id in members}
    if direct:
        for user_id in members:
            reachable.setdefault(user_id, NotificationType.DIRECT_MESSAGE)
    return reachable


def notify_about_verification(request_id, status):
    """The owner of a verification request hears that it reached `status` (once per status)."""
    owner_id = db.session.scalar(
        sa.select(VerificationRequest.user_id)
        .join(User, User.id == VerificationRequest.user_id)
        .where(VerificationRequest.id == request_id, User.deleted_at.is_(None))
    )
    if owner_id is None:
        return []
    row = {
        "id": new_id(),
        "recipient_id": owner_id,
        "type": NotificationType.VERIFICATION,
        "verification_request_id": uuid.UUID(str(request_id)),
        "verification_status": status,
        "dedupe_key": f"verification:{request_id}:{status}",
        "created_at": utcnow(),
    }
    stored = _insert_new([row])
    db.session.commit()
    return _push([row] if row["id"] in stored else [], None, None)


def notify_about_invitation(invitation_id, room_id, inviter_id, invitee_id):
    """The invitee hears of a personal invitation to a room (once per invitation)."""
    row = {
        "id": new_id(),
        "recipient_id": invitee_id,
        "type": NotificationType.ROOM_INVITE,
        "actor_id": inviter_id,
        "room_id": room_id,
        "invitation_id": invitation_id,
        "dedupe_key": f"invitation:{invitation_id}",
        "created_at": utcnow(),
    }
    stored = _insert_new([row])
    db.session.commit()
    if row["id"] not in stored:
        return []
    u, p, r = User.__table__, ArtistProfile.__table__, Room.__table__
    found = db.session.execute(
        sa.select(*user_ref_columns(u, p), r.c.name.label("room_name"))
        .select_from(u.outerjoin(p, p.c.user_id == u.c.id).join(r, r.c.id == room_id))
        .where(u.c.id == inviter_id)
    ).first()
    return _push([row], joined_user_ref(inviter_id, found), found.room_name)


def _insert_new(rows):
    """Insert `rows` in one statement, skipping any a recipient already has (a task run twice, or
    a second mention by edit); returns the ids stored."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(_notifications)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["recipient_id", "dedupe_key"])
        .returning(_notifications.c.id)
    )
    return set(db.session.scalars(statement))


def _push(rows, actor, room_name):
    """Tell each recipient's sockets of the notifications just committed; those away get a Web
    Push as their settings say."""
    payloads = []
    for row in rows:
        payload = notification_payload(row, actor, room_name)
        emits.to_user(row["recipient_id"], "notification_created", payload)
        payloads.append(payload)
    pushes.offer([(row["recipient_id"], payload) for row, payload in zip(rows, payloads, strict=True)])
    return payloads


def notification_payload(row, actor, room_name):
    """The contract's Notification from a stored row (a mapping of its columns)."""
    return {
        "id": str(row["id"]),
        "type": NotificationType(row["type"]).name,
        "createdAt": iso_utc(row["created_at"]),
        "readAt": iso_utc(row["read_at"]) if row.get("read_at") else None,
        "actor": actor,
        "roomId": _str_or_none(row.get("room_id")),
        "roomName": room_name,
        "messageId": _str_or_none(row.get("message_id")),
        "parentId": _str_or_none(row.get("parent_id")),
        "excerpt": row.get("excerpt"),
        "verificationRequestId": _str_or_none(row.get("verification_request_id")),
        "verificationStatus": row.get("verification_status"),
        "invitationId": _str_or_none(row.get("invitation_id")),
    }


def _str_or_none(value):
    return None if value is None else str(value)


def _visible(user):
    """The caller's notifications whose message (if any) has not been deleted since."""
    m = Message.__table__
    return (
        _notifications.outerjoin(m, m.c.id == _notifications.c.message_id),
        sa.and_(_notifications.c.recipient_id == user.id, m.c.deleted_at.is_(None)),
    )


def inbox(user, limit, cursor=None, unread_only=False):
    """A page of the caller's notifications, newest first, and the next cursor."""
    n, u, p, r = _notifications, User.__table__, ArtistProfile.__table__, Room.__table__
    joined, visible = _visible(user)
    query = (
        sa.select(
            n,
            u.c.id.label("actor_user_id"),
            *user_ref_columns(u, p),
            r.c.name.label("room_name"),
        )
        .select_from(
            joined.outerjoin(u, u.c.id == n.c.actor_id)
            .outerjoin(p, p.c.user_id == n.c.actor_id)
            .outerjoin(r, r.c.id == n.c.room_id)
        )
        .where(visible)
    )
    if unread_only:
        query = query.where(n.c.read_at.is_(None))
    rows, next_cursor = keyset_page(
        query, (n.c.created_at,), n.c.id, cursor, limit, anchor_where=(n.c.recipient_id == user.id,)
    )
    return [
        notification_payload(row._mapping, _actor(row.actor_user_id, row), row.room_name) for row in rows
    ], next_cursor


def _actor(user_id, row):
    """The UserRef of `user_id` from the user columns joined into `row` (None without a user)."""
    return None if user_id is None else joined_user_ref(user_id, row)


def unread_count(user):
    joined, visible = _visible(user)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(joined).where(visible, _notifications.c.read_at.is_(None))
    )


def mark_read(user, ids=None):
    """Mark the caller's notifications `ids` (others' are ignored), or all of them, read; tell
    every device of theirs. Returns the unread count left."""
    n = _notifications
    statement = (
        sa.update(n)
        .where(n.c.recipient_id == user.id, n.c.read_at.is_(None))
        .values(read_at=utcnow())
        .returning(n.c.id)
    )
    if ids is not None:
        statement = statement.where(n.c.id.in_(ids))
    newly_read = set(db.session.scalars(statement))
    db.session.commit()
    count = unread_count(user)
    read_ids = None if ids is None else [str(i) for i in dict.fromkeys(ids) if i in newly_read]
    emits.to_user(user.id, "notifications_read", {"count": count, "ids": read_ids})
    return count


def erase_inbox_of(user_id):
    """Delete a purged account's notifications and settings (in the caller's transaction)."""
    db.session.execute(sa.delete(Notification).where(Notification.recipient_id == user_id))
    db.session.execute(sa.delete(NotificationSettings).where(NotificationSettings.user_id == user_id))
