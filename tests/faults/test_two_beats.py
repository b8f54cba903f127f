"""Two beats started by mistake: both sweeps run at once, and no request is checked twice."""

import threading
import uuid
from datetime import timedelta

import sqlalchemy as sa

from seda.common.db import utcnow
from seda.common.tasks import wait_for_in_process_tasks
from seda.extensions import db
from seda.verification.checks import sweep
from seda.verification.models import VerificationRequest, VerificationStatus
from tests.helpers.fixtures import UserFactory
from tests.helpers.origin import ORIGIN_IP, origin_url
from tests.helpers.tiers import services_only


@services_only
def test_concurrent_sweeps_split_the_work(app_factory, ca_file, origin):
    app = app_factory(
        CRAWLER_ALLOWED_PRIVATE_NETWORKS=f"{ORIGIN_IP}/32", CRAWLER_CA_BUNDLE=ca_file, CRAWLER_MAX_RETRIES="0"
    )
    origin.expect_request("/bio").respond_with_data("<p>no code yet</p>", content_type="text/html")
    origin.expect_request("/.well-known/seda-verification.txt").respond_with_data("", status=404)
    factory = UserFactory(app)
    with app.app_context():
        for _ in range(20):
            user = factory.make()
            db.session.add(
                VerificationRequest(
                    user_id=uuid.UUID(user.id),
                    claim_code=f"SEDA-{uuid.uuid4().hex[:8].upper()}",
                    status=VerificationStatus.PENDING,
                    target_url=origin_url(origin, "/bio"),
                    expires_at=utcnow() + timedelta(days=3),
                    crawled_at=utcnow() - timedelta(hours=7),
                )
            )
        db.session.commit()
    results, barrier = [], threading.Barrier(2)

    def beat():
        with app.app_context():
            barrier.wait()
            results.append(sweep())
            db.session.remove()

    beats = [threading.Thread(target=beat) for _ in range(2)]
    for thread in beats:
        thread.start()
    for thread in beats:
        thread.join(30)
    wait_for_in_process_tasks()
    assert sum(r["rechecked"] for r in results) == 20
    page_fetches = [entry for entry in origin.log if entry[0].path == "/bio"]
    assert len(page_fetches) == 20  # each request checked once, not once per beat
    with app.app_context():
        attempts = db.session.scalars(sa.select(VerificationRequest.attempts)).all()
    assert attempts == [1] * 20
