"""Email digests (API.md §13): unread notifications mailed to people who have been away, on their
terms (settings, quiet hours), at most one per interval across every process, with a signed
one-click unsubscribe (RFC 8058)."""

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.dialects import postgresql, sqlite

from seda.chat.models import Room
from seda.common.db import parse_uuid, utcnow
from seda.common.errors import ValidationFailed
from seda.extensions import db
from seda.mail import compose
from seda.mail.services import send as send_mail
from seda.notifications import settings
from seda.notifications.models import EmailDigest, Notification, NotificationSettings, NotificationType
from seda.realtime.presence import presence_store
from seda.users.models import User

log = logging.getLogger(__name__)

SHOWN = 20
USERS_PER_PASS = 500
INTERVALS = {EmailDigest.HOURLY: timedelta(hours=1), EmailDigest.DAILY: timedelta(days=1)}
_SALT = "seda-digest-unsubscribe"


def unsubscribe_token(user_id):
    """Signed (user id and purpose), URL-safe, and never expiring: a link in an old mail still works."""
    return URLSafeSerializer(current_app.config["JWT_SECRET"], salt=_SALT).dumps(str(user_id))


def unsubscribe(token):
    """The one-click unsubscribe: the digest goes OFF (idempotent). A bad token → 400."""
    try:
        user_id = parse_uuid(URLSafeSerializer(current_app.config["JWT_SECRET"], salt=_SALT).loads(token or ""))
    except BadSignature:
        user_id = None
    if user_id is None or db.session.get(User, user_id) is None:
        raise ValidationFailed("Invalid or expired token")
    settings.change(user_id, {"emailDigest": EmailDigest.OFF.value})


def send_due(now=None):
    """Send every digest that is due now; returns how many were sent."""
    now = now or utcnow()
    old_enough = now - timedelta(seconds=current_app.config["EMAIL_DIGEST_DELAY_SECONDS"])
    sent, after = 0, None
    while True:
        found = candidates(old_enough, after)
        db.session.rollback()
        if not found:
            return sent
        after = found[-1]
        for user in _away(_reachable(found), old_enough):
            sent += _send_to(user, now, old_enough)


def candidates(old_enough, after):
    """Users with a notification unread, in no digest yet and old enough: a small part of all,
    found through the partial index ix_notifications_undigested_recipient (bench/digest_check.py)."""
    return list(db.session.scalars(candidate_query(old_enough, after)))


def candidate_query(old_enough, after):
    n = Notification
    query = (
        sa.select(n.recipient_id)
        .where(n.read_at.is_(None), n.digested_at.is_(None), n.created_at <= old_enough)
        .group_by(n.recipient_id)
        .order_by(n.recipient_id)
        .limit(USERS_PER_PASS)
    )
    if after is not None:
        query = query.where(n.recipient_id > after)
    return query


def _reachable(user_ids):
    return db.session.scalars(
        sa.select(User).where(
            User.id.in_(user_ids),
            User.email.is_not(None),
            User.email_verified.is_(True),
            User.banned.is_(False),
            User.deleted_at.is_(None),
        )
    ).all()


def _away(users, old_enough):
    """Those with no socket now, nor during the delay (presence, shared by every process)."""
    ids = [str(user.id) for user in users]
    online, seen = presence_store().online(ids), presence_store().last_seen(ids)
    since = old_enough.timestamp()
    return [user for user in users if str(user.id) not in online and seen.get(str(user.id), 0) < since]


def _send_to(user, now, old_enough):
    shown = settings.settings_of(user.id)
    pace = EmailDigest(shown["emailDigest"])
    if pace == EmailDigest.OFF or settings.is_quiet(shown, now):
        return 0
    emailed = [NotificationType(kind) for kind, channels in shown["types"].items() if channels["email"]]
    due = _due(user.id, emailed, old_enough)
    if not due or not _claim(user.id, now, INTERVALS[pace]):
        db.session.rollback()
        return 0
    db.session.execute(
        sa.update(Notification)
        .where(Notification.id.in_([row.id for row in due]), Notification.digested_at.is_(None))
        .values(digested_at=now),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    lines = [_line(row) for row in due[:SHOWN]]
    send_mail(compose.digest(user.email, lines, len(due) - len(lines), unsubscribe_token(user.id)))
    return 1


def _due(user_id, kinds, old_enough):
    n, actor, room = Notification, sa.orm.aliased(User), Room
    return db.session.execute(
        sa.select(n.id, n.type, n.room_id, n.message_id, n.excerpt, actor.display_name, actor.deleted_at, room.name)
        .outerjoin(actor, actor.id == n.actor_id)
        .outerjoin(room, room.id == n.room_id)
        .where(
            n.recipient_id == user_id,
            n.read_at.is_(None),
            n.digested_at.is_(None),
            n.created_at <= old_enough,
            n.type.in_(kinds),
        )
        .order_by(n.created_at.desc(), n.id.desc())
    ).all()


def _claim(user_id, now, interval):
    """This interval's digest for the user, claimed by one conditional UPDATE: of the checks
    racing on several processes and workers, one sends it."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(NotificationSettings)
        .values(user_id=user_id, types={}, email_digest=EmailDigest.HOURLY, time_zone="UTC", updated_at=now)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    claimed = db.session.execute(
        sa.update(NotificationSettings)
        .where(
            NotificationSettings.user_id == user_id,
            sa.or_(
                NotificationSettings.last_digest_at.is_(None), NotificationSettings.last_digest_at <= now - interval
            ),
        )
        .values(last_digest_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount
    return claimed == 1


def _line(row):
    who = "Deleted user" if row.deleted_at is not None else (row.display_name or "seda")
    return who, row.name or "seda", row.excerpt or _what(row.type), link_for(row.type, row.room_id, row.message_id)


def _what(kind):
    return {NotificationType.ROOM_INVITE: "invited you to a room", NotificationType.VERIFICATION: "verification"}.get(
        NotificationType(kind), "a notification"
    )


def link_for(kind, room_id, message_id):
    """The frontend page a notification opens (the same for push, API.md §13)."""
    base = current_app.config["PUBLIC_BASE_URL"]
    kind = NotificationType(kind)
    if kind == NotificationType.ROOM_INVITE:
        return f"{base}/invitations"
    if kind == NotificationType.VERIFICATION:
        return f"{base}/settings/verification"
    if message_id is not None:
        return f"{base}/rooms/{room_id}?message={message_id}"
    return f"{base}/rooms/{room_id}" if room_id is not None else base
