"""Admin-only reads and jobs: platform stats, the audit log, ad-hoc crawls."""

from datetime import timedelta

import sqlalchemy as sa
from bs4 import BeautifulSoup
from flask import current_app

from seda.admin.models import CrawlJob, CrawlStatus
from seda.chat.models import Message, Room
from seda.common import audit
from seda.common.audit import AdminAction
from seda.common.db import utcnow
from seda.common.errors import ValidationFailed
from seda.common.lookup import get_or_404
from seda.common.pagination import keyset_page
from seda.common.tasks import enqueue
from seda.crawler.fetcher import FetchFailed, fetcher_for
from seda.extensions import db
from seda.users.models import Role, User
from seda.verification.detection import find_on_page
from seda.verification.models import VerificationRequest, VerificationStatus

CRAWL_TASK = "admin.crawl"


def platform_stats():
    """Counts for the dashboard, each one SQL aggregate."""
    by_role = dict(db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all())
    banned = db.session.scalar(sa.select(sa.func.count()).where(User.banned.is_(True)))
    messages_total, messages_recent = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(Message.created_at >= utcnow() - timedelta(hours=24)),
        ).where(Message.deleted_at.is_(None))
    ).one()
    verifications = dict(
        db.session.execute(
            sa.select(VerificationRequest.status, sa.func.count()).group_by(VerificationRequest.status)
        ).all()
    )
    return {
        "users": {
            "total": sum(by_role.values()),
            "byRole": {role.value: by_role.get(role, 0) for role in Role},
            "banned": banned,
        },
        "rooms": db.session.scalar(sa.select(sa.func.count()).select_from(Room)),
        "messages": {"total": messages_total, "last24h": messages_recent},
        "verifications": {"byStatus": {s.value: verifications.get(s, 0) for s in VerificationStatus}},
    }


def list_actions(limit, cursor=None, admin_id=None, action=None, target_id=None):
    query = sa.select(AdminAction)
    if admin_id is not None:
        query = query.where(AdminAction.admin_id == admin_id)
    if action is not None:
        query = query.where(AdminAction.action == action)
    if target_id is not None:
        query = query.where(AdminAction.target_id == target_id)
    return keyset_page(query, (AdminAction.created_at,), AdminAction.id, cursor, limit)


# -- ad-hoc crawls ----------------------------------------------------------------------------


def create_crawl(actor, url, expect_code=None):
    try:
        fetcher_for(current_app).check_url(url)
    except FetchFailed as exc:
        raise ValidationFailed(f"url: This URL cannot be crawled ({exc.code}).") from exc
    job = CrawlJob(url=url, expect_code=expect_code, requested_by=actor.label)
    db.session.add(job)
    db.session.flush()
    audit.record(actor, "crawl.create", "crawl", job.id, {"url": url, "expectCode": expect_code})
    db.session.commit()
    enqueue(CRAWL_TASK, str(job.id))
    return job


def get_crawl(job_id):
    return get_or_404(CrawlJob, job_id, "Crawl job not found")


def run_crawl_job(job_id):
    """Fetch the job's URL through the safe fetcher and record what came back (idempotent)."""
    started = db.session.execute(
        sa.update(CrawlJob)
        .where(CrawlJob.id == job_id, CrawlJob.status == CrawlStatus.QUEUED)
        .values(status=CrawlStatus.RUNNING, started_at=utcnow())
    ).rowcount
    db.session.commit()
    if not started:
        return
    job = db.session.get(CrawlJob, job_id)
    result = {
        "httpStatus": None,
        "finalUrl": None,
        "contentType": None,
        "bytes": None,
        "title": None,
        "codeFound": None,
        "error": None,
    }
    try:
        page = fetcher_for(current_app).fetch(job.url)
    except FetchFailed as exc:
        result["error"] = exc.code
        status = CrawlStatus.FAILED
    else:
        text = page.text
        soup = BeautifulSoup(text, "lxml") if "html" in page.content_type else None
        title = soup.title.get_text(" ", strip=True)[:300] if soup is not None and soup.title else None
        result.update(
            httpStatus=page.status,
            finalUrl=page.final_url,
            contentType=page.content_type,
            bytes=len(page.body),
            title=title,
        )
        if job.expect_code:
            found = find_on_page(page.status, page.content_type, text, job.expect_code)
            result["codeFound"] = found is not None
        status = CrawlStatus.DONE
    job.status, job.result, job.finished_at = status, result, utcnow()
    db.session.commit()
