"""Verification checks on a real Celery worker with Redis (service tier)."""

import os
import signal
import time
import uuid
from datetime import timedelta

import sqlalchemy as sa
from celery.contrib.testing.worker import start_worker
from werkzeug import Response

from seda.common.db import utcnow
from seda.extensions import db
from seda.verification.checks import sweep
from seda.verification.models import VerificationRequest
from tests.helpers.fixtures import UserFactory
from tests.helpers.origin import ORIGIN_IP, dripping_page, origin_url
from tests.helpers.servers import celery_worker, wait_until
from tests.helpers.tiers import services_only

BASE = "/api/v1/artist/verification"


def service_app(app_factory, ca_file):
    app = app_factory(
        CRAWLER_ALLOWED_PRIVATE_NETWORKS=f"{ORIGIN_IP}/32",
        CRAWLER_CA_BUNDLE=ca_file,
        CRAWLER_TIMEOUT_MS="10000",
        CRAWLER_MAX_RETRIES="0",
    )
    app.extensions["celery"].conf.task_always_eager = False
    return app


def worker_env(app, ca_file, postgres_url, **extra):
    """The environment of a real worker process sharing `app`'s database, Redis and secret."""
    return {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": postgres_url,
        "REDIS_URL": app.config["REDIS_URL"],
        "REDIS_NAMESPACE": app.config["REDIS_NAMESPACE"],
        "JWT_SECRET": app.config["JWT_SECRET"],
        "CRAWLER_ALLOWED_PRIVATE_NETWORKS": f"{ORIGIN_IP}/32",
        "CRAWLER_CA_BUNDLE": ca_file,
        "CRAWLER_MAX_RETRIES": "0",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def status_of(app, request_id):
    with app.app_context():
        db.session.remove()
        return db.session.get(VerificationRequest, uuid.UUID(request_id)).status.value


def claim_and_submit(app, user, url_for_code):
    client = app.test_client()
    code = client.post(f"{BASE}/request", headers=user.headers).get_json()["claimCode"]
    response = client.post(
        f"{BASE}/submit", headers=user.headers, json={"claimCode": code, "targetUrl": url_for_code(code)}
    )
    assert response.status_code == 202
    return response.get_json()["id"], code


@services_only
def test_a_real_worker_runs_the_check_end_to_end(app_factory, ca_file, origin):
    app = service_app(app_factory, ca_file)
    user = UserFactory(app).make()
    codes = {}

    def page(_request):
        return Response(f"<p>{codes['code']}</p>", content_type="text/html")

    origin.expect_request("/bio").respond_with_handler(page)
    with start_worker(app.extensions["celery"], pool="solo", perform_ping_check=False, loglevel="WARNING"):
        client = app.test_client()
        codes["code"] = client.post(f"{BASE}/request", headers=user.headers).get_json()["claimCode"]
        response = client.post(
            f"{BASE}/submit",
            headers=user.headers,
            json={"claimCode": codes["code"], "targetUrl": origin_url(origin, "/bio")},
        )
        request_id = response.get_json()["id"]
        assert wait_until(lambda: status_of(app, request_id) == "AWAITING_ADMIN", timeout=20)


@services_only
def test_a_worker_killed_mid_check_still_finishes_after_the_sweep(
    app_factory, ca_file, origin, postgres_url, redis_namespace
):
    app = service_app(app_factory, ca_file)
    user = UserFactory(app).make()
    codes = {}
    fetches = []

    def slow_page(_request):
        fetches.append(time.monotonic())
        time.sleep(3 if len(fetches) == 1 else 0)
        return Response(f"<p>{codes['code']}</p>", content_type="text/html")

    origin.expect_request("/bio").respond_with_handler(slow_page)
    env = worker_env(app, ca_file, postgres_url)
    with celery_worker(env, "doomed") as first:
        client = app.test_client()
        codes["code"] = client.post(f"{BASE}/request", headers=user.headers).get_json()["claimCode"]
        request_id = client.post(
            f"{BASE}/submit",
            headers=user.headers,
            json={"claimCode": codes["code"], "targetUrl": origin_url(origin, "/bio")},
        ).get_json()["id"]
        assert wait_until(lambda: fetches, timeout=30), "the worker never fetched the page"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert status_of(app, request_id) == "CRAWLING"
    with app.app_context():  # fifteen minutes pass with nobody finishing the check
        db.session.execute(sa.update(VerificationRequest).values(crawl_started_at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
        assert sweep()["requeued"] == 1
    with celery_worker(env, "rescuer"):
        assert wait_until(lambda: status_of(app, request_id) == "AWAITING_ADMIN", timeout=60)


@services_only
def test_a_dripping_page_fails_the_check_at_the_deadline_on_a_gevent_worker(app_factory, ca_file, origin, postgres_url):
    app = service_app(app_factory, ca_file)
    user = UserFactory(app).make()
    origin.expect_request("/drip").respond_with_handler(dripping_page(1.0, 60))
    env = worker_env(app, ca_file, postgres_url, CRAWLER_TIMEOUT_MS="3000")
    with celery_worker(env, "dripped"):
        request_id, _code = claim_and_submit(app, user, lambda _code: origin_url(origin, "/drip"))
        submitted = time.monotonic()
        assert wait_until(lambda: status_of(app, request_id) == "PENDING", timeout=30)
        elapsed = time.monotonic() - submitted
    with app.app_context():
        request = db.session.get(VerificationRequest, uuid.UUID(request_id))
        assert request.last_check["error"] == "timeout"
    assert elapsed < 15  # worker start-up included; the page alone would take 60 s
