"""Artist verification: claim codes, submissions, the check, expiry and the sweep."""

import logging
import secrets
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from flask import current_app

from seda.admin import audit
from seda.chat import notify
from seda.common import metrics
from seda.common.db import iso_utc, parse_uuid, utcnow
from seda.common.errors import Conflict, Gone, NotFound, RateLimited, ValidationFailed
from seda.common.pagination import keyset_page
from seda.common.tasks import enqueue
from seda.crawler.fetcher import FetchFailed, fetcher_for
from seda.extensions import db
from seda.users.services import mark_verified_artist
from seda.verification import detection
from seda.verification.models import (
    OPEN_STATUSES,
    VerificationRequest,
    VerificationStatus,
)

log = logging.getLogger(__name__)
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: codes are read and typed by people
STUCK_AFTER = timedelta(minutes=15)
RECHECK_EVERY = timedelta(hours=6)
WELL_KNOWN_PATH = "/.well-known/seda-verification.txt"
INSTRUCTIONS = [
    "Put the claim code on a page you control: your website, Bandcamp or SoundCloud bio, or link page.",
    'Or add <meta name="seda-verification" content="CODE"> to the page, or serve the code at '
    "https://<your domain>/.well-known/seda-verification.txt.",
    "Then submit the page's https URL. We check it right away and again every 6 hours until the code expires.",
    "An admin reviews the result; you will see the outcome here.",
]


def _config(name):
    return current_app.config[name]


def new_claim_code():
    length = _config("VERIFICATION_CODE_LENGTH")
    return "SEDA-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def request_code(user):
    """Issue a claim code: 3 per rolling window per user, one open request, not if verified."""
    if user.artist_profile is not None and user.artist_profile.verified:
        raise Conflict("Your artist profile is already verified")
    now = utcnow()
    open_request = db.session.scalar(
        sa.select(VerificationRequest.id).where(
            VerificationRequest.user_id == user.id,
            VerificationRequest.status.in_(OPEN_STATUSES),
            VerificationRequest.expires_at > now,
        )
    )
    if open_request is not None:
        raise Conflict("You already have an open verification request")
    _check_request_rate(user, now)
    request = VerificationRequest(
        user_id=user.id,
        claim_code=_unique_code(),
        expires_at=now + timedelta(days=_config("VERIFICATION_CODE_EXPIRY_DAYS")),
        created_at=now,
    )
    db.session.add(request)
    db.session.commit()
    return request


def _check_request_rate(user, now):
    window = timedelta(milliseconds=_config("RATE_LIMIT_WINDOW_MS"))
    limit = _config("RATE_LIMIT_VERIFICATION_PER_DAY")
    recent = db.session.scalars(
        sa.select(VerificationRequest.created_at)
        .where(VerificationRequest.user_id == user.id, VerificationRequest.created_at > now - window)
        .order_by(VerificationRequest.created_at)
    ).all()
    if len(recent) >= limit:
        retry_after = (recent[0] + window - now).total_seconds()
        raise RateLimited(f"At most {limit} verification requests per {_window_words(window)}",
                          retry_after=retry_after, limit=limit)


def _window_words(window):
    hours = window.total_seconds() / 3600
    return "24 hours" if hours == 24 else f"{hours:g} hours"


def _unique_code():
    for _ in range(5):
        code = new_claim_code()
        if db.session.scalar(sa.select(VerificationRequest.id).where(VerificationRequest.claim_code == code)) is None:
            return code
    raise RuntimeError("could not draw a unique claim code")


def submit(user, claim_code, target_url):
    """Attach the page URL and queue a check; returns the request (now CRAWLING)."""
    _refuse_unfetchable(target_url)
    request = db.session.scalar(
        sa.select(VerificationRequest).where(sa.func.upper(VerificationRequest.claim_code) == claim_code.strip().upper())
    )
    if request is None or request.user_id != user.id:
        raise NotFound("Unknown claim code")
    now = utcnow()
    if request.status in (VerificationStatus.APPROVED, VerificationStatus.DENIED, VerificationStatus.EXPIRED):
        raise Conflict(f"This verification request is {request.status.value}")
    if request.expires_at <= now:
        raise Gone("This claim code has expired; request a new one")
    if request.status != VerificationStatus.PENDING:
        raise Conflict(f"This verification request is {request.status.value}")
    request.target_url = target_url
    request.submitted_at = now
    _start_crawl(request, now)
    db.session.commit()
    _publish(request)
    _queue_check(request.id)
    return request


def _refuse_unfetchable(url):
    try:
        fetcher_for(current_app).check_url(url)
    except FetchFailed as exc:
        raise ValidationFailed(f"targetUrl: This URL cannot be checked ({exc.code}).") from exc


def _start_crawl(request, now):
    request.status = VerificationStatus.CRAWLING
    request.crawl_started_at = now


def _publish(request):
    """Tell the owner's sockets about a status change (after commit)."""
    from seda.verification.schemas import VerificationRequestSchema

    notify.to_user(request.user_id, "verification_updated", VerificationRequestSchema().dump(request))


def _queue_check(request_id):
    from seda.verification.tasks import check_verification

    enqueue(check_verification, str(request_id))


def get_own(user, request_id):
    request = db.session.get(VerificationRequest, parse_uuid(request_id)) if parse_uuid(request_id) else None
    if request is None or request.user_id != user.id:
        raise NotFound("Verification request not found")
    return request


def list_own(user):
    return db.session.scalars(
        sa.select(VerificationRequest)
        .where(VerificationRequest.user_id == user.id)
        .order_by(VerificationRequest.created_at.desc(), VerificationRequest.id.desc())
    ).all()


# -- the check (run by the Celery task) -----------------------------------------------------


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
    metrics.VERIFICATION_CHECKS.labels("found" if outcome["found"] else outcome["last_check"]["error"] or "missed").inc()
    db.session.refresh(request)
    _publish(request)
    return request


def _check_page(url, code):
    fetcher = fetcher_for(current_app)
    last_check = {"found": False, "method": None, "httpStatus": None, "finalUrl": None, "error": None}
    try:
        page = fetcher.fetch(url, use_cache=False)
    except FetchFailed as exc:
        return {"found": False, "last_check": {**last_check, "error": exc.code}}
    last_check.update(httpStatus=page.status, finalUrl=page.final_url)
    match = None
    if 200 <= page.status < 300 and _is_html_or_text(page.content_type):
        match = detection.find_in_html(page.text, code) if "html" in page.content_type or not page.content_type \
            else detection.find_in_text(page.text, code)
    evidence_page = page
    if match is None:
        match, evidence_page = _check_well_known(fetcher, page.final_url, code)
    if match is None:
        error = None if 200 <= page.status < 300 else f"http_{page.status}"
        return {"found": False, "last_check": {**last_check, "error": error or "code_not_found"}}
    method, excerpt = match
    evidence = {"excerpt": excerpt, "contentSha256": evidence_page.sha256, "bytes": len(evidence_page.body),
                "contentType": evidence_page.content_type}
    return {"found": True, "last_check": {**last_check, "found": True, "method": method}, "evidence": evidence}


def _check_well_known(fetcher, page_url, code):
    parts = urlsplit(page_url)
    url = urlunsplit(("https", parts.netloc, WELL_KNOWN_PATH, "", ""))
    try:
        file = fetcher.fetch(url, use_cache=False)
    except FetchFailed:
        return None, None
    if file.status != 200:
        return None, None
    return detection.find_in_text(file.text[:4096], code), file


def _is_html_or_text(content_type):
    kind = content_type.split(";")[0].strip().lower()
    return kind in ("", "text/html", "application/xhtml+xml", "text/plain")


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
        _publish(db.session.get(VerificationRequest, request_id))
    return expired_ids


def requeue_stuck():
    """CRAWLING for more than 15 minutes (a worker died): start the crawl again.

    Rows are locked with SKIP LOCKED (PostgreSQL), so two sweeps at once (two beats started by
    mistake) split the work instead of both queueing it."""
    now = utcnow()
    stuck = db.session.scalars(
        sa.select(VerificationRequest).where(
            VerificationRequest.status == VerificationStatus.CRAWLING,
            VerificationRequest.expires_at > now,
            sa.or_(VerificationRequest.crawl_started_at.is_(None),
                   VerificationRequest.crawl_started_at < now - STUCK_AFTER),
        ).with_for_update(skip_locked=True, of=VerificationRequest)
    ).all()
    for request in stuck:
        request.crawl_started_at = now
    db.session.commit()
    for request in stuck:
        _queue_check(request.id)
    return [r.id for r in stuck]


def start_rechecks():
    """PENDING requests with a URL, unchecked for 6 hours: check again."""
    now = utcnow()
    due = db.session.scalars(
        sa.select(VerificationRequest).where(
            VerificationRequest.status == VerificationStatus.PENDING,
            VerificationRequest.target_url.is_not(None),
            VerificationRequest.expires_at > now,
            sa.or_(VerificationRequest.crawled_at.is_(None), VerificationRequest.crawled_at < now - RECHECK_EVERY),
        ).with_for_update(skip_locked=True, of=VerificationRequest)
    ).all()
    for request in due:
        _start_crawl(request, now)
    db.session.commit()
    for request in due:
        _publish(request)
        _queue_check(request.id)
    return [r.id for r in due]


def sweep():
    """Run every periodic verification job once: expiry, stuck checks, re-checks."""
    return {"expired": len(expire_requests()), "requeued": len(requeue_stuck()), "rechecked": len(start_rechecks())}


# -- admin review -----------------------------------------------------------------------------


def admin_get(request_id):
    request = db.session.get(VerificationRequest, parse_uuid(request_id)) if parse_uuid(request_id) else None
    if request is None:
        raise NotFound("Verification request not found")
    return request


def admin_pending(limit, cursor=None):
    query = sa.select(VerificationRequest).where(VerificationRequest.status == VerificationStatus.AWAITING_ADMIN)
    return keyset_page(query, (VerificationRequest.created_at,), VerificationRequest.id, cursor, limit, descending=False)


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
        raise Conflict(f"A {request.status.value} request cannot be approved"
                       + ("" if override else " (PENDING needs override: true)"))
    now = utcnow()
    request.status, request.reviewed_at, request.reviewed_by = VerificationStatus.APPROVED, now, actor.user_id
    request.review_notes = notes
    mark_verified_artist(request.user, now)
    audit.record(actor, "verification.approve", "verification", request.id,
                 {"userId": str(request.user_id), "notes": notes, "override": bool(override)})
    db.session.commit()
    _publish(request)
    return request


def deny(actor, request_id, reason):

    request = admin_get(request_id)
    if request.status not in OPEN_STATUSES:
        raise Conflict(f"A {request.status.value} request cannot be denied")
    request.status, request.reviewed_at, request.reviewed_by = VerificationStatus.DENIED, utcnow(), actor.user_id
    request.denial_reason = reason
    request.crawl_started_at = None
    audit.record(actor, "verification.deny", "verification", request.id,
                 {"userId": str(request.user_id), "reason": reason})
    db.session.commit()
    _publish(request)
    return request


def recrawl(actor, request_id):
    """Queue a fresh check of an open, unexpired request that has a URL."""

    request = admin_get(request_id)
    if request.status not in OPEN_STATUSES or request.expires_at <= utcnow():
        raise Conflict(f"A {request.status.value} request cannot be checked again")
    if not request.target_url:
        raise Conflict("This request has no URL to check yet")
    _start_crawl(request, utcnow())
    audit.record(actor, "verification.crawl", "verification", request.id, {"url": request.target_url})
    db.session.commit()
    _publish(request)
    _queue_check(request.id)
    return request


def stats_overview():
    """Counts by status, approvals of the last 7 days and the median hours to review."""
    by_status = dict(db.session.execute(
        sa.select(VerificationRequest.status, sa.func.count()).group_by(VerificationRequest.status)
    ).all())
    since = utcnow() - timedelta(days=7)
    approved_recently = db.session.scalar(
        sa.select(sa.func.count()).where(VerificationRequest.status == VerificationStatus.APPROVED,
                                         VerificationRequest.reviewed_at >= since)
    )
    reviewed = db.session.execute(
        sa.select(VerificationRequest.submitted_at, VerificationRequest.reviewed_at).where(
            VerificationRequest.reviewed_at.is_not(None), VerificationRequest.submitted_at.is_not(None)
        ).order_by(VerificationRequest.reviewed_at.desc()).limit(1000)
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
