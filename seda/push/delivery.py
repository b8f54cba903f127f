"""Delivering pushes (API.md §13): each message encrypted for its subscription, signed with the
VAPID key, POSTed through the safe fetcher; the push service's answer decides what becomes of
the subscription.

Every notification is claimed for each subscription in one statement before anything is sent,
so a task that runs twice (a worker lost mid-task, a retry) never sends it twice. The POSTs run
in parallel in their push service's lane (lanes.py; one after another, a mention of hundreds
would take minutes), each retried on its own."""

import json
import logging
import math
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from enum import Enum
from functools import partial
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from seda.common.db import utcnow
from seda.crawler.fetcher import FetchFailed, fetcher_for
from seda.extensions import db
from seda.push import lanes, subscriptions
from seda.push.encryption import encrypt
from seda.push.models import PushDelivery, PushSubscription
from seda.push.vapid import vapid_of
from seda.users.models import User

log = logging.getLogger(__name__)

MAX_RETRIES = 3
RETRY_BASE_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 300  # a Retry-After longer than this gives the message up
FAILURES_BEFORE_DROPPING = 10
GONE_STATUSES = {404, 410}


@dataclass(frozen=True)
class Push:
    """One message for every subscription of `user_id` (or only `subscription_id`, a test push)."""

    user_id: uuid.UUID
    payload: dict
    urgency: str = "normal"
    notification_id: uuid.UUID | None = None
    subscription_id: uuid.UUID | None = None

    def as_task_args(self):
        return [str(self.user_id), self.payload, self.urgency, _str(self.notification_id), _str(self.subscription_id)]

    @classmethod
    def from_task_args(cls, args):
        user_id, payload, urgency, notification_id, subscription_id = args
        return cls(uuid.UUID(user_id), payload, urgency, _uuid(notification_id), _uuid(subscription_id))


class Outcome(Enum):
    DELIVERED = "delivered"
    GONE = "gone"  # 404 or 410: the browser unsubscribed
    FAILED = "failed"


@dataclass(frozen=True)
class _Target:
    push: Push
    subscription_id: uuid.UUID
    endpoint: str
    p256dh: str
    auth: str


def deliver(pushes, wait=False):
    """Claim each of `pushes` for its subscriptions, then hand every POST to its push service's
    lane (lanes.py) and return; the answers are recorded as they all come. With `wait` (tasks run
    in process, which hold no worker slot), block until then and give {Outcome: count}."""
    app = current_app._get_current_object()
    targets = _claim(pushes)
    if not targets:
        return {}
    vapid, fetcher, ttl = vapid_of(app), fetcher_for(app), app.config["PUSH_TTL_SECONDS"]
    batch = lanes.Batch(len(targets), lambda outcomes: _record_in(app, targets, outcomes))
    for index, target in enumerate(targets):
        send = partial(_send, target, vapid, fetcher, ttl)
        lanes.submit(_origin(target.endpoint), batch, index, send, refused=Outcome.FAILED)
    return batch.wait() if wait else {}


def _record_in(app, targets, outcomes):
    by_outcome = defaultdict(list)
    for target, outcome in zip(targets, outcomes, strict=True):
        by_outcome[outcome].append(target.subscription_id)
    with app.app_context():
        _record(by_outcome)


def _claim(pushes):
    """The subscriptions each push goes to, claimed for its notification (those already claimed,
    expired, or of a banned or deleted user left out); committed before anything is sent."""
    user_ids = {push.user_id for push in pushes}
    subscriptions.forget_expired(user_ids)
    s = PushSubscription
    rows = db.session.execute(
        sa.select(s.id, s.user_id, s.endpoint, s.p256dh, s.auth)
        .join(User, User.id == s.user_id)
        .where(
            s.user_id.in_(user_ids),
            User.banned.is_(False),
            User.deleted_at.is_(None),
        )
    ).all()
    by_user = defaultdict(list)
    for row in rows:
        by_user[row.user_id].append(row)
    targets = [
        _Target(push, row.id, row.endpoint, row.p256dh, row.auth)
        for push in pushes
        for row in by_user[push.user_id]
        if push.subscription_id in (None, row.id)
    ]
    claimed = _claimed({(t.push.notification_id, t.subscription_id) for t in targets if t.push.notification_id})
    db.session.commit()
    return [
        t for t in targets if t.push.notification_id is None or (t.push.notification_id, t.subscription_id) in claimed
    ]


def _claimed(pairs):
    """Insert a delivery row per (notification, subscription) pair in one statement; the pairs
    this call inserted (not those another run holds already)."""
    if not pairs:
        return set()
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    table = PushDelivery.__table__
    statement = (
        dialect.insert(table)
        .values([{"notification_id": n, "subscription_id": s, "claimed_at": utcnow()} for n, s in pairs])
        .on_conflict_do_nothing(index_elements=["notification_id", "subscription_id"])
        .returning(table.c.notification_id, table.c.subscription_id)
    )
    return {(row.notification_id, row.subscription_id) for row in db.session.execute(statement)}


def _send(target, vapid, fetcher, ttl):
    """POST one push, retrying 429, 5xx and network failures with backoff (honouring
    Retry-After) while its TTL lasts."""
    expires = time.monotonic() + ttl
    body = encrypt(json.dumps(target.push.payload, ensure_ascii=False).encode(), target.p256dh, target.auth)
    for attempt in range(MAX_RETRIES + 1):
        headers = {
            "TTL": str(max(0, math.ceil(expires - time.monotonic()))),
            "Urgency": target.push.urgency,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Authorization": vapid.authorization(target.endpoint),
        }
        try:
            answer = fetcher.post(target.endpoint, body, headers)
        except FetchFailed as exc:
            if not exc.transient:
                log.warning("push to %s refused: %s", _origin(target.endpoint), exc.code)
                return Outcome.FAILED
            wait = _backoff(attempt)
        else:
            if 200 <= answer.status < 300:
                return Outcome.DELIVERED
            if answer.status in GONE_STATUSES:
                return Outcome.GONE
            if answer.status != 429 and answer.status < 500:
                log.warning("push to %s dropped: HTTP %d", _origin(target.endpoint), answer.status)
                return Outcome.FAILED
            wait = max(_backoff(attempt), _retry_after(answer.retry_after))
        if attempt == MAX_RETRIES or wait > LONGEST_WAIT_SECONDS or time.monotonic() + wait >= expires:
            break
        time.sleep(wait)
    log.warning("push to %s failed after %d attempts", _origin(target.endpoint), attempt + 1)
    return Outcome.FAILED


def _backoff(attempt):
    return RETRY_BASE_SECONDS * 2**attempt * random.uniform(0.5, 1.0)


def _retry_after(value):
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date); 0 when absent."""
    if not value:
        return 0.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return 0.0


def _record(by_outcome):
    """What the answers mean for the subscriptions: a success resets the failure count, 404/410
    deletes at once, the 10th failure in a row deletes."""
    s = PushSubscription
    if by_outcome[Outcome.DELIVERED]:
        db.session.execute(
            sa.update(s)
            .where(s.id.in_(by_outcome[Outcome.DELIVERED]))
            .values(last_success_at=utcnow(), failures_in_a_row=0),
            execution_options={"synchronize_session": False},
        )
    if by_outcome[Outcome.GONE]:
        db.session.execute(
            sa.delete(s).where(s.id.in_(by_outcome[Outcome.GONE])), execution_options={"synchronize_session": False}
        )
    if by_outcome[Outcome.FAILED]:
        failed = by_outcome[Outcome.FAILED]
        db.session.execute(
            sa.update(s).where(s.id.in_(failed)).values(failures_in_a_row=s.failures_in_a_row + 1),
            execution_options={"synchronize_session": False},
        )
        db.session.execute(
            sa.delete(s).where(s.id.in_(failed), s.failures_in_a_row >= FAILURES_BEFORE_DROPPING),
            execution_options={"synchronize_session": False},
        )
    db.session.commit()


def forget_old_claims(ttl_seconds):
    """Claims older than a push could still be retried serve no purpose; returns how many went."""
    cutoff = utcnow() - timedelta(seconds=ttl_seconds + 3600)
    result = db.session.execute(
        sa.delete(PushDelivery).where(PushDelivery.claimed_at < cutoff),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return result.rowcount


def _origin(endpoint):
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def _str(value):
    return None if value is None else str(value)


def _uuid(value):
    return None if value is None else uuid.UUID(value)
