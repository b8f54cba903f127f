"""The page check behind verification: fetch the submitted page, look for the claim code,
record what was found; and the periodic jobs that expire, re-queue and re-check requests."""

import logging
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from flask import current_app

from seda.common import metrics, notifications
from seda.common.db import iso_utc, utcnow
from seda.common.tasks import enqueue
from seda.crawler.fetcher import FetchFailed, fetcher_for
from seda.extensions import db
from seda.realtime import emits
from seda.verification import detection
from seda.verification.models import VerificationRequest, VerificationStatus
from seda.verification.schemas import VerificationRequestSchema

log = logging.getLogger(__name__)
CHECK_TASK = "verification.check"
STUCK_AFTER = timedelta(minutes=15)
RECHECK_EVERY = timedelta(hours=6)
WELL_KNOWN_PATH = "/.well-known/seda-verification.txt"
NOTIFIED_STATUSES = (
    VerificationStatus.AWAITING_ADMIN,
    VerificationStatus.APPROVED,
    VerificationStatus.DENIED,
    VerificationStatus.EXPIRED,
)


def start_crawl(request, now):
    request.status = VerificationStatus.CRAWLING
    request.crawl_started_at = now


def publish(request):
    """Tell the owner's sockets about a status change (after commit), and their inbox about an
    outcome they wait for."""
    emits.to_user(request.user_id, "verification_updated", VerificationRequestSchema().dump(request))
    if request.status in NOTIFIED_STATUSES:
        notifications.verification_changed(request.id, request.status.name)


def queue_check(request_id):
    enqueue(CHECK_TASK, str(request_id))


def run_check(request_id):
    """Fetch the target and look for the code. Idempotent: only a CRAWLING request is checked,
    and the outcome is written with a conditional UPDATE, so a duplicate run changes nothing."""
    request = db.session.get(VerificationRequest, request_id)
    if request is None or request.status != VerificationStatus.CRAWLING or not request.target_url:
        return None
    started_at = request.crawl_started_at
    outcome = _check_page(request.target_url, request.claim_code)
    now = utcnow()
    values = {
        "last_check": {**outcome["last_check"], "checkedAt": iso_utc(now)},
        "crawled_at": now,
        "attempts": VerificationRequest.attempts + 1,
        "crawl_started_at": None,
        "status": VerificationStatus.AWAITING_ADMIN if outcome["found"] else VerificationStatus.PENDING,
    }
    if outcome.get("evidence"):
        values["evidence"] = outcome["evidence"]
    changed = db.session.execute(
        sa.update(VerificationRequest)
        .where(
            VerificationRequest.id == request.id,
            VerificationRequest.status == VerificationStatus.CRAWLING,
            VerificationRequest.crawl_started_at == started_at,
        )
        .values(**values)
    ).rowcount
    db.session.commit()
    if not changed:
        return None
    metrics.VERIFICATION_CHECKS.labels(
        "found" if outcome["found"] else outcome["last_check"]["error"] or "missed"
    ).inc()
    db.session.refresh(request)
    publish(request)
    return request


def _check_page(url, code):
    fetcher = fetcher_for(current_app)
    last_check = {"found": False, "method": None, "httpStatus": None, "finalUrl": None, "error": None}
    try:
        page = fetcher.fetch(url)
    except FetchFailed as exc:
        return {"found": False, "last_check": {**last_check, "error": exc.code}}
    last_check.update(httpStatus=page.status, finalUrl=page.final_url)
    match = detection.find_on_page(page.status, page.content_type, page.text, code)
    evidence_page = page
    if match is None:
        match, evidence_page = _check_well_known(fetcher, page.final_url, code)
    if match is None:
        error = None if 200 <= page.status < 300 else f"http_{page.status}"
        return {"found": False, "last_check": {**last_check, "error": error or "code_not_found"}}
    method, excerpt = match
    evidence = {
        "excerpt": excerpt,
        "contentSha256": evidence_page.sha256,
        "bytes": len(evidence_page.body),
        "contentType": evidence_page.content_type,
    }
    return {"found": True, "last_check": {**last_check, "found": True, "method": method}, "evidence": evidence}


def _check_well_known(fetcher, page_url, code):
    parts = urlsplit(page_url)
    url = urlunsplit(("https", parts.netloc, WELL_KNOWN_PATH, "", ""))
    try:
        file = fetcher.fetch(url)
    except FetchFailed:
        return None, None
    if file.status != 200:
        return None, None
    return detection.find_in_text(file.text[:4096], code), file


# -- periodic jobs ----------------------------------------------------------------------------


def expire_requests():
    """PENDING and CRAWLING requests past their expiry become EXPIRED (one UPDATE)."""
    now = utcnow()
    expired_ids = db.session.scalars(
        sa.select(VerificationRequest.id).where(
            VerificationRequest.status.in_((VerificationStatus.PENDING, VerificationStatus.CRAWLING)),
            VerificationRequest.expires_at <= now,
        )
    ).all()
    if expired_ids:
        db.session.execute(
            sa.update(VerificationRequest)
            .where(
                VerificationRequest.id.in_(expired_ids),
                VerificationRequest.status.in_((VerificationStatus.PENDING, VerificationStatus.CRAWLING)),
            )
            .values(status=VerificationStatus.EXPIRED, crawl_started_at=None)
        )
    db.session.commit()
    for request_id in expired_ids:
        publish(db.session.get(VerificationRequest, request_id))
    return expired_ids


def requeue_stuck():
    """CRAWLING for more than 15 minutes (a worker died): start the crawl again.

    Rows are locked with SKIP LOCKED (PostgreSQL), so two sweeps at once (two beats started by
    mistake) split the work instead of both queueing it."""
    now = utcnow()
    stuck = db.session.scalars(
        sa.select(VerificationRequest)
        .where(
            VerificationRequest.status == VerificationStatus.CRAWLING,
            VerificationRequest.expires_at > now,
            sa.or_(
                VerificationRequest.crawl_started_at.is_(None), VerificationRequest.crawl_started_at < now - STUCK_AFTER
            ),
        )
        .with_for_update(skip_locked=True, of=VerificationRequest)
    ).all()
    for request in stuck:
        request.crawl_started_at = now
    db.session.commit()
    for request in stuck:
        queue_check(request.id)
    return [r.id for r in stuck]


def start_rechecks():
    """PENDING requests with a URL, unchecked for 6 hours: check again."""
    now = utcnow()
    due = db.session.scalars(
        sa.select(VerificationRequest)
        .where(
            VerificationRequest.status == VerificationStatus.PENDING,
            VerificationRequest.target_url.is_not(None),
            VerificationRequest.expires_at > now,
            sa.or_(VerificationRequest.crawled_at.is_(None), VerificationRequest.crawled_at < now - RECHECK_EVERY),
        )
        .with_for_update(skip_locked=True, of=VerificationRequest)
    ).all()
    for request in due:
        start_crawl(request, now)
    db.session.commit()
    for request in due:
        publish(request)
        queue_check(request.id)
    return [r.id for r in due]


def sweep():
    """Run every periodic verification job once: expiry, stuck checks, re-checks."""
    return {"expired": len(expire_requests()), "requeued": len(requeue_stuck()), "rechecked": len(start_rechecks())}
