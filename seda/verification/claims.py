"""Claiming an artist profile: claim codes, submitting the page that carries one, and the
claimant's own view of their requests."""

import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from seda.common.db import utcnow
from seda.common.errors import Conflict, Forbidden, Gone, NotFound, RateLimited, ValidationFailed
from seda.common.lookup import find_by_id
from seda.crawler.fetcher import FetchFailed, fetcher_for
from seda.extensions import db
from seda.verification.checks import publish, queue_check, start_crawl
from seda.verification.models import (
    OPEN_STATUSES,
    VerificationRequest,
    VerificationStatus,
)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: codes are read and typed by people


def _config(name):
    return current_app.config[name]


def new_claim_code():
    length = _config("VERIFICATION_CODE_LENGTH")
    return "SEDA-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def request_code(user):
    """Issue a claim code: 3 per rolling window per user, one open request, not if verified."""
    if not user.email_verified:
        raise Forbidden("Verify your email first")
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
        raise RateLimited(
            f"At most {limit} verification requests per {_window_words(window)}", retry_after=retry_after, limit=limit
        )


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
        sa.select(VerificationRequest).where(
            sa.func.upper(VerificationRequest.claim_code) == claim_code.strip().upper()
        )
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
    start_crawl(request, now)
    db.session.commit()
    publish(request)
    queue_check(request.id)
    return request


def _refuse_unfetchable(url):
    try:
        fetcher_for(current_app).check_url(url)
    except FetchFailed as exc:
        raise ValidationFailed(f"targetUrl: This URL cannot be checked ({exc.code}).") from exc


def get_own(user, request_id):
    request = find_by_id(VerificationRequest, request_id)
    if request is None or request.user_id != user.id:
        raise NotFound("Verification request not found")
    return request


def list_own(user):
    return db.session.scalars(
        sa.select(VerificationRequest)
        .where(VerificationRequest.user_id == user.id)
        .order_by(VerificationRequest.created_at.desc(), VerificationRequest.id.desc())
    ).all()


def expire_open_requests_of(user_id):
    """A deleted account's open requests become EXPIRED (in the caller's transaction; nobody is
    told: the claimant is gone). A check already running finds its request no longer CRAWLING."""
    db.session.execute(
        sa.update(VerificationRequest)
        .where(VerificationRequest.user_id == user_id, VerificationRequest.status.in_(OPEN_STATUSES))
        .values(status=VerificationStatus.EXPIRED, crawl_started_at=None),
        execution_options={"synchronize_session": False},
    )
