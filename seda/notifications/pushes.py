"""Which notifications also go out as a Web Push (API.md §13), and what the push says.

After a notification commits, its recipient gets a push when no socket of theirs is connected on
any process (then `notification_created` reached them), they have a push subscription, push is on
for its type and it is not their quiet hours. One presence round trip and one statement per
batch, however many recipients; the sending itself is seda.push's task, off this path."""

import json
import uuid

import sqlalchemy as sa
from flask import current_app

from seda.common.db import utcnow
from seda.extensions import db
from seda.notifications.models import NotificationSettings, NotificationType
from seda.notifications.settings import is_quiet, shown
from seda.push import sending
from seda.push.delivery import Push
from seda.push.models import PushSubscription
from seda.realtime.presence import presence_store

MAX_PAYLOAD_BYTES = 3000
T = NotificationType
URGENT = {T.MENTION.value, T.DIRECT_MESSAGE.value, T.REMINDER.value}  # the others: Urgency normal
TITLES = {
    T.MENTION: "{who} mentioned you in {room}",
    T.REPLY: "{who} replied to you in {room}",
    T.DIRECT_MESSAGE: "{who} sent you a message",
    T.ROOM_INVITE: "{who} invited you to {room}",
    T.VERIFICATION: "Your artist verification is {status}",
    T.FOLLOW: "{who} follows you",
    T.SESSION_SCHEDULED: "{who} scheduled a listening session in {room}",
    T.SESSION_STARTED: "{who} is listening live in {room}",
    T.REMINDER: "A listening session in {room} starts soon",
}
# The frontend page a push opens, under PUBLIC_BASE_URL (API.md §13).
PAGES = {
    T.MENTION: "/rooms/{roomId}?message={messageId}",
    T.REPLY: "/rooms/{roomId}?message={messageId}",
    T.DIRECT_MESSAGE: "/rooms/{roomId}?message={messageId}",
    T.ROOM_INVITE: "/invitations",
    T.VERIFICATION: "/settings/verification",
    T.FOLLOW: "/users/{actorId}",
    T.SESSION_SCHEDULED: "/rooms/{roomId}",
    T.SESSION_STARTED: "/rooms/{roomId}",
    T.REMINDER: "/rooms/{roomId}",
}


def offer(stored):
    """Queue the pushes `stored` calls for: (recipient id, Notification payload) pairs, committed."""
    if not stored or not sending.enabled():
        return
    online = presence_store().online({recipient for recipient, _ in stored})
    away = [(recipient, payload) for recipient, payload in stored if str(recipient) not in online]
    if not away:
        return
    settings, now = _settings_of_subscribed({recipient for recipient, _ in away}), utcnow()
    sending.queue(
        [
            Push(recipient, push_payload(payload), _urgency(payload), notification_id=uuid.UUID(payload["id"]))
            for recipient, payload in away
            if recipient in settings
            and settings[recipient]["types"][payload["type"]]["push"]
            and not is_quiet(settings[recipient], now)
        ]
    )


def _settings_of_subscribed(user_ids):
    """{user id: settings shown} of those of `user_ids` with a push subscription (one statement):
    nobody else could get a push, so no task is queued for them."""
    subscribed = sa.select(PushSubscription.user_id).where(PushSubscription.user_id.in_(user_ids)).distinct().subquery()
    rows = db.session.execute(
        sa.select(subscribed.c.user_id, NotificationSettings).outerjoin(
            NotificationSettings, NotificationSettings.user_id == subscribed.c.user_id
        )
    )
    return {user_id: shown(stored) for user_id, stored in rows}


def push_payload(notification):
    """`{type, title, body, url, notification}`, at most 3,000 bytes of UTF-8 JSON: a long excerpt
    is cut to fit."""
    payload = {
        "type": notification["type"],
        "title": _title(notification),
        "body": notification["excerpt"] or _title(notification),
        "url": _url(notification),
        "notification": notification,
    }
    excerpt = notification["excerpt"] or ""
    while len(_encoded(payload)) > MAX_PAYLOAD_BYTES and excerpt:
        excerpt = excerpt[: len(excerpt) // 2] + "…" if len(excerpt) > 1 else ""
        payload["body"] = excerpt or _title(notification)
        payload["notification"] = {**notification, "excerpt": excerpt}
    return payload


def _encoded(payload):
    return json.dumps(payload, ensure_ascii=False).encode()


def _title(notification):
    actor = notification["actor"] or {}
    return TITLES[T(notification["type"])].format(
        who=actor.get("displayName") or actor.get("username") or "Someone",
        room=notification["roomName"] or "a room",
        status=(notification["verificationStatus"] or "").lower(),
    )


def _url(notification):
    actor_id = (notification["actor"] or {}).get("id")
    page = PAGES[T(notification["type"])].format(actorId=actor_id, **notification)
    return current_app.config["PUBLIC_BASE_URL"] + page


def _urgency(notification):
    return "high" if notification["type"] in URGENT else "normal"
