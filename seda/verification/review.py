"""Admin review of verification requests: the queue, approve, deny, re-check, and stats."""

from datetime import timedelta

import sqlalchemy as sa

from seda.common import audit
from seda.common.db import utcnow
from seda.common.errors import Conflict, Gone
from seda.common.lookup import get_or_404
from seda.common.pagination import keyset_page
from seda.extensions import db
from seda.users.services import mark_verified_artist
from seda.verification.checks import publish, queue_check, start_crawl
from seda.verification.models import (
    OPEN_STATUSES,
    VerificationRequest,
    VerificationStatus,
)


def admin_get(request_id):
    return get_or_404(VerificationRequest, request_id, "Verification request not found")


def admin_pending(limit, cursor=None):
    query = sa.select(VerificationRequest).where(VerificationRequest.status == VerificationStatus.AWAITING_ADMIN)
    return keyset_page(
        query, (VerificationRequest.created_at,), VerificationRequest.id, cursor, limit, descending=False
    )


def admin_list(limit, cursor=None, status=None, user_id=None):
    query = sa.select(VerificationRequest)
    if status is not None:
        query = query.where(VerificationRequest.status == VerificationStatus(status))
    if user_id is not None:
        query = query.where(VerificationRequest.user_id == user_id)
    return keyset_page(query, (VerificationRequest.created_at,), VerificationRequest.id, cursor, limit)


def approve(actor, request_id, notes=None, override=False):
    """Approve from AWAITING_ADMIN (or PENDING with override): the user becomes a verified ARTIST."""
    request = admin_get(request_id)
    allowed = {VerificationStatus.AWAITING_ADMIN} | ({VerificationStatus.PENDING} if override else set())
    if request.status not in allowed:
        raise Conflict(
            f"A {request.status.value} request cannot be approved"
            + ("" if override else " (PENDING needs override: true)")
        )
    now = utcnow()
    if request.status == VerificationStatus.PENDING and request.expires_at <= now:
        # The hourly sweep has not marked it EXPIRED yet; it is expired all the same.
        raise Gone("This claim code has expired; the artist must request a new one")
    request.status, request.reviewed_at, request.reviewed_by = VerificationStatus.APPROVED, now, actor.user_id
    request.review_notes = notes
    mark_verified_artist(request.user, now)
    audit.record(
        actor,
        "verification.approve",
        "verification",
        request.id,
        {"userId": str(request.user_id), "notes": notes, "override": bool(override)},
    )
    db.session.commit()
    publish(request)
    return request


def deny(actor, request_id, reason):
    request = admin_get(request_id)
    if request.status not in OPEN_STATUSES:
        raise Conflict(f"A {request.status.value} request cannot be denied")
    request.status, request.reviewed_at, request.reviewed_by = VerificationStatus.DENIED, utcnow(), actor.user_id
    request.denial_reason = reason
    request.crawl_started_at = None
    audit.record(
        actor, "verification.deny", "verification", request.id, {"userId": str(request.user_id), "reason": reason}
    )
    db.session.commit()
    publish(request)
    return request


def recrawl(actor, request_id):
    """Queue a fresh check of an open, unexpired request that has a URL."""
    request = admin_get(request_id)
    if request.status not in OPEN_STATUSES or request.expires_at <= utcnow():
        raise Conflict(f"A {request.status.value} request cannot be checked again")
    if not request.target_url:
        raise Conflict("This request has no URL to check yet")
    start_crawl(request, utcnow())
    audit.record(actor, "verification.crawl", "verification", request.id, {"url": request.target_url})
    db.session.commit()
    publish(request)
    queue_check(request.id)
    return request


def stats_overview():
    """Counts by status, approvals of the last 7 days and the median hours to review."""
    by_status = dict(
        db.session.execute(
            sa.select(VerificationRequest.status, sa.func.count()).group_by(VerificationRequest.status)
        ).all()
    )
    since = utcnow() - timedelta(days=7)
    approved_recently = db.session.scalar(
        sa.select(sa.func.count()).where(
            VerificationRequest.status == VerificationStatus.APPROVED, VerificationRequest.reviewed_at >= since
        )
    )
    reviewed = db.session.execute(
        sa.select(VerificationRequest.submitted_at, VerificationRequest.reviewed_at)
        .where(VerificationRequest.reviewed_at.is_not(None), VerificationRequest.submitted_at.is_not(None))
        .order_by(VerificationRequest.reviewed_at.desc())
        .limit(1000)
    ).all()
    hours = sorted((done - sent).total_seconds() / 3600 for sent, done in reviewed)
    median = None
    if hours:
        middle = len(hours) // 2
        median = round(hours[middle] if len(hours) % 2 else (hours[middle - 1] + hours[middle]) / 2, 2)
    return {
        "total": sum(by_status.values()),
        "byStatus": {status.value: by_status.get(status, 0) for status in VerificationStatus},
        "approvedLast7Days": approved_recently,
        "medianReviewHours": median,
    }
