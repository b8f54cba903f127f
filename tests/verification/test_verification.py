"""Artist verification end to end: claim codes, submission, the check, the sweep."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from seda.auth.tokens import issue_access_token
from seda.common.tasks import wait_for_in_process_tasks
from seda.extensions import db, socketio
from seda.users.models import Role, User
from seda.verification.checks import sweep
from seda.verification.models import VerificationRequest, VerificationStatus
from tests.helpers.fixtures import UserFactory
from tests.helpers.origin import ORIGIN_IP, origin_url

BASE = "/api/v1/artist/verification"
PUBLIC_KEYS = {
    "id",
    "claimCode",
    "status",
    "targetUrl",
    "createdAt",
    "submittedAt",
    "expiresAt",
    "crawledAt",
    "reviewedAt",
    "denialReason",
    "lastCheck",
    "attempts",
}


@pytest.fixture
def vapp(app_factory, ca_file):
    return app_factory(
        CRAWLER_ALLOWED_PRIVATE_NETWORKS=f"{ORIGIN_IP}/32",
        CRAWLER_CA_BUNDLE=ca_file,
        CRAWLER_TIMEOUT_MS="3000",
        CRAWLER_MAX_RETRIES="0",
    )


@pytest.fixture
def artist(vapp):
    return UserFactory(vapp).make(artist_name="Glass Coast")


def call(app, user, method, path, **kwargs):
    response = app.test_client().open(f"{BASE}{path}", method=method, headers=user.headers, **kwargs)
    return response.status_code, response.get_json(silent=True)


def claim(app, user):
    status, body = call(app, user, "POST", "/request")
    assert status == 201, body
    return body


def submit_and_wait(app, user, code, url):
    status, body = call(app, user, "POST", "/submit", json={"claimCode": code, "targetUrl": url})
    assert status == 202, body
    assert body["status"] == "CRAWLING"
    wait_for_in_process_tasks()
    return call(app, user, "GET", f"/status/{body['id']}")[1]


def test_a_claim_code_is_issued_with_instructions(vapp, artist):
    body = claim(vapp, artist)
    assert set(body) == PUBLIC_KEYS | {"instructions"}
    assert re.fullmatch(r"SEDA-[2-9A-HJKMNP-Z]{8}", body["claimCode"])
    assert body["status"] == "PENDING" and body["attempts"] == 0 and body["lastCheck"] is None
    created = datetime.fromisoformat(body["createdAt"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert expires - created == timedelta(days=7)
    assert body["instructions"] and all(isinstance(line, str) for line in body["instructions"])


def test_one_open_request_at_a_time_and_three_a_day(vapp, artist):
    first = claim(vapp, artist)
    status, body = call(vapp, artist, "POST", "/request")
    assert status == 409 and body["message"] == ["You already have an open verification request"]
    with vapp.app_context():
        for _ in range(2):
            db.session.execute(sa.update(VerificationRequest).values(status=VerificationStatus.DENIED))
            db.session.commit()
            claim(vapp, artist)
        db.session.execute(sa.update(VerificationRequest).values(status=VerificationStatus.DENIED))
        db.session.commit()
    response = vapp.test_client().post(f"{BASE}/request", headers=artist.headers)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 23 * 3600
    assert first["claimCode"]


def test_a_verified_artist_cannot_ask_again(vapp, artist):
    with vapp.app_context():
        db.session.get(User, uuid.UUID(artist.id)).artist_profile.verified = True
        db.session.commit()
    status, body = call(vapp, artist, "POST", "/request")
    assert status == 409 and body["message"] == ["Your artist profile is already verified"]


@pytest.mark.parametrize(
    "page,method",
    [
        ("<html><body><h1>Glass Coast</h1><p>Verify: {code}.</p></body></html>", "TEXT"),
        ('<html><head><meta name="seda-verification" content="{code}"></head><body>hi</body></html>', "META"),
        ("<html><body><p>our bio says {lower}</p></body></html>", "TEXT"),
    ],
    ids=["visible-text", "meta", "case-insensitive"],
)
def test_the_code_on_the_page_passes_to_admin_review(vapp, artist, origin, page, method):
    code = claim(vapp, artist)["claimCode"]
    origin.expect_request("/bio").respond_with_data(
        page.format(code=code, lower=code.lower()), content_type="text/html; charset=utf-8"
    )
    result = submit_and_wait(vapp, artist, code, origin_url(origin, "/bio"))
    assert result["status"] == "AWAITING_ADMIN" and result["attempts"] == 1
    check = result["lastCheck"]
    assert (check["found"], check["method"], check["httpStatus"], check["error"]) == (True, method, 200, None)
    assert "evidence" not in result  # page content is for admins only
    with vapp.app_context():
        stored = db.session.scalar(sa.select(VerificationRequest))
        assert stored.evidence["contentSha256"] and stored.evidence["bytes"] > 0
        assert code.lower() in stored.evidence["excerpt"].lower()


@pytest.mark.parametrize(
    "page",
    [
        "<html><body><!-- {code} --><p>nothing here</p></body></html>",
        "<html><body><script>var c = '{code}';</script></body></html>",
        "<html><body><style>.{code} {{}}</style></body></html>",
        '<html><body><a title="{code}" href="#">x</a></body></html>',
        "<html><body><p>{code}X and X{code}</p></body></html>",
    ],
    ids=["comment", "script", "style", "attribute", "not-a-whole-token"],
)
def test_the_code_hidden_from_readers_does_not_count(vapp, artist, origin, page):
    code = claim(vapp, artist)["claimCode"]
    origin.expect_request("/bio").respond_with_data(page.format(code=code), content_type="text/html")
    origin.expect_request("/.well-known/seda-verification.txt").respond_with_data("", status=404)
    result = submit_and_wait(vapp, artist, code, origin_url(origin, "/bio"))
    assert result["status"] == "PENDING"
    assert result["lastCheck"]["found"] is False and result["lastCheck"]["error"] == "code_not_found"


def test_the_well_known_file_passes(vapp, artist, origin):
    code = claim(vapp, artist)["claimCode"]
    origin.expect_request("/").respond_with_data("<p>home</p>", content_type="text/html")
    origin.expect_request("/.well-known/seda-verification.txt").respond_with_data(
        f"{code}\n", content_type="text/plain"
    )
    result = submit_and_wait(vapp, artist, code, origin_url(origin, "/"))
    assert result["status"] == "AWAITING_ADMIN" and result["lastCheck"]["method"] == "WELL_KNOWN"


def test_ssrf_targets_are_recorded_as_errors_without_a_connection(vapp, artist, trap):
    code = claim(vapp, artist)["claimCode"]
    result = submit_and_wait(vapp, artist, code, f"https://127.0.0.1:{trap.port}/admin")
    assert result["status"] == "PENDING" and result["lastCheck"]["error"] == "address_not_allowed"
    for url in (f"https://[::1]:{trap.port}/", f"https://localhost:{trap.port}/", "https://169.254.169.254/"):
        result = submit_and_wait(vapp, artist, code, url)
        assert result["lastCheck"]["error"] in {"address_not_allowed", "dns_failed"}
    assert trap.connections == 0


@pytest.mark.parametrize(
    "body,message",
    [
        ({"claimCode": "SEDA-X", "targetUrl": "http://example.com/"}, "targetUrl: Must be an https URL."),
        ({"claimCode": "SEDA-X", "targetUrl": "not a url"}, "targetUrl: Must be an https URL."),
        (
            {"claimCode": "SEDA-X", "targetUrl": "https://x.example/" + "a" * 2048},
            "targetUrl: Longer than maximum length 2048.",
        ),
        (
            {"claimCode": "SEDA-X", "targetUrl": "https://x.example/", "status": "APPROVED"},
            "status: property should not exist",
        ),
    ],
)
def test_submit_validation(vapp, artist, body, message):
    status, error = call(vapp, artist, "POST", "/submit", json=body)
    assert status == 400 and message in error["message"]


def test_submit_answers_404_410_and_409_as_the_contract_says(vapp, artist):
    other = UserFactory(vapp).make()
    code = claim(vapp, artist)["claimCode"]
    url = "https://example.com/bio"
    assert call(vapp, artist, "POST", "/submit", json={"claimCode": "SEDA-ZZZZZZZZ", "targetUrl": url})[0] == 404
    assert call(vapp, other, "POST", "/submit", json={"claimCode": code, "targetUrl": url})[0] == 404
    with vapp.app_context():
        db.session.execute(sa.update(VerificationRequest).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
    assert call(vapp, artist, "POST", "/submit", json={"claimCode": code, "targetUrl": url})[0] == 410
    with vapp.app_context():
        db.session.execute(sa.update(VerificationRequest).values(status=VerificationStatus.APPROVED))
        db.session.commit()
    assert call(vapp, artist, "POST", "/submit", json={"claimCode": code, "targetUrl": url})[0] == 409


def test_requests_are_private_to_their_owner(vapp, artist):
    request = claim(vapp, artist)
    other = UserFactory(vapp).make()
    assert call(vapp, other, "GET", f"/status/{request['id']}")[0] == 404
    assert call(vapp, other, "GET", "/my-requests") == (200, [])
    status, mine = call(vapp, artist, "GET", "/my-requests")
    assert status == 200 and [r["id"] for r in mine] == [request["id"]]
    assert call(vapp, artist, "GET", "/status/not-an-id")[0] == 404


def test_status_changes_reach_the_owners_sockets(vapp, artist, origin):
    sock = socketio.test_client(vapp, namespace="/chat", auth={"token": artist.token})
    code = claim(vapp, artist)["claimCode"]
    origin.expect_request("/bio").respond_with_data(f"<p>{code}</p>", content_type="text/html")
    submit_and_wait(vapp, artist, code, origin_url(origin, "/bio"))
    updates = [e["args"][0]["status"] for e in sock.get_received("/chat") if e["name"] == "verification_updated"]
    assert updates == ["CRAWLING", "AWAITING_ADMIN"]
    sock.disconnect("/chat")


def test_the_sweep_expires_requeues_and_rechecks(vapp, artist, origin):
    code = claim(vapp, artist)["claimCode"]
    origin.expect_request("/bio").respond_with_data("<p>not yet</p>", content_type="text/html")
    origin.expect_request("/.well-known/seda-verification.txt").respond_with_data("", status=404)
    first = submit_and_wait(vapp, artist, code, origin_url(origin, "/bio"))
    assert first["status"] == "PENDING"
    origin.clear()
    origin.expect_request("/bio").respond_with_data(f"<p>now {code}</p>", content_type="text/html")
    now = datetime.now(UTC)
    with vapp.app_context():
        with time_machine.travel(now + timedelta(hours=5), tick=False):
            assert sweep() == {"expired": 0, "requeued": 0, "rechecked": 0}
        with time_machine.travel(now + timedelta(hours=6, minutes=1), tick=False):
            assert sweep()["rechecked"] == 1
            wait_for_in_process_tasks()
    artist.token = issue_access_token(vapp.config["JWT_SECRET"], artist.id)
    assert call(vapp, artist, "GET", "/my-requests")[1][0]["status"] == "AWAITING_ADMIN"


def test_stuck_checks_are_requeued_and_old_requests_expire(vapp, artist, origin):
    other = UserFactory(vapp).make()
    stuck = claim(vapp, artist)
    stale = claim(vapp, other)
    origin.expect_request("/bio").respond_with_data(f"<p>{stuck['claimCode']}</p>", content_type="text/html")
    now = datetime.now(UTC)
    with vapp.app_context():
        # a worker died mid-check: CRAWLING since 20 minutes, no task queued
        db.session.execute(
            sa.update(VerificationRequest)
            .where(VerificationRequest.id == uuid.UUID(stuck["id"]))
            .values(
                status=VerificationStatus.CRAWLING,
                target_url=origin_url(origin, "/bio"),
                crawl_started_at=now - timedelta(minutes=20),
            )
        )
        db.session.execute(
            sa.update(VerificationRequest)
            .where(VerificationRequest.id == uuid.UUID(stale["id"]))
            .values(expires_at=now - timedelta(minutes=1))
        )
        db.session.commit()
        assert sweep() == {"expired": 1, "requeued": 1, "rechecked": 0}
        wait_for_in_process_tasks()
        statuses = dict(db.session.execute(sa.select(VerificationRequest.id, VerificationRequest.status)).all())
    assert statuses[uuid.UUID(stuck["id"])] == VerificationStatus.AWAITING_ADMIN
    assert statuses[uuid.UUID(stale["id"])] == VerificationStatus.EXPIRED


def test_a_duplicate_check_changes_nothing(vapp, artist, origin):
    from seda.verification.checks import run_check

    code = claim(vapp, artist)["claimCode"]
    origin.expect_request("/bio").respond_with_data(f"<p>{code}</p>", content_type="text/html")
    result = submit_and_wait(vapp, artist, code, origin_url(origin, "/bio"))
    with vapp.app_context():
        assert run_check(uuid.UUID(result["id"])) is None
    again = call(vapp, artist, "GET", f"/status/{result['id']}")[1]
    assert again["attempts"] == 1 and len(origin.log) == 1


def test_the_sweep_command_runs_once(vapp):
    result = vapp.test_cli_runner().invoke(args=["seda", "sweep"])
    assert result.exit_code == 0 and result.output.strip() == (
        "expired=0 requeued=0 rechecked=0 exports_expired=0 accounts_purged=0"
        " push_subscriptions_expired=0 push_claims_forgotten=0 unfurls_resumed=0"
    )


def verification_inbox(app, user):
    wait_for_in_process_tasks()
    response = app.test_client().get("/api/v1/notifications", headers=user.headers)
    return [(n["type"], n["verificationRequestId"], n["verificationStatus"], n["actor"]) for n in response.get_json()]


def test_outcomes_reach_the_owners_inbox(vapp, artist, origin):
    admin = UserFactory(vapp).make(role=Role.ADMIN)
    sock = socketio.test_client(vapp, namespace="/chat", auth={"token": artist.token})
    code = claim(vapp, artist)["claimCode"]
    origin.expect_request("/bio").respond_with_data(f"<p>{code}</p>", content_type="text/html")
    request_id = submit_and_wait(vapp, artist, code, origin_url(origin, "/bio"))["id"]
    assert verification_inbox(vapp, artist) == [("VERIFICATION", request_id, "AWAITING_ADMIN", None)]
    approved = vapp.test_client().patch(
        f"/api/v1/admin/verification/{request_id}/approve", headers=admin.headers, json={"notes": "ok"}
    )
    assert approved.status_code == 200
    assert [status for _, _, status, _ in verification_inbox(vapp, artist)] == ["APPROVED", "AWAITING_ADMIN"]
    pushed = [
        e["args"][0]["verificationStatus"] for e in sock.get_received("/chat") if e["name"] == "notification_created"
    ]
    assert pushed == ["AWAITING_ADMIN", "APPROVED"]
    sock.disconnect("/chat")


def test_a_denial_and_an_expiry_reach_the_inbox_but_a_page_without_the_code_does_not(vapp, artist, origin):
    admin, other = UserFactory(vapp).make(role=Role.ADMIN), UserFactory(vapp).make()
    code = claim(vapp, artist)["claimCode"]
    origin.expect_request("/bio").respond_with_data("<p>nothing</p>", content_type="text/html")
    origin.expect_request("/.well-known/seda-verification.txt").respond_with_data("", status=404)
    request_id = submit_and_wait(vapp, artist, code, origin_url(origin, "/bio"))["id"]
    assert verification_inbox(vapp, artist) == []  # PENDING: nothing to act on yet
    denied = vapp.test_client().patch(
        f"/api/v1/admin/verification/{request_id}/deny", headers=admin.headers, json={"reason": "not your page"}
    )
    assert denied.status_code == 200
    assert verification_inbox(vapp, artist) == [("VERIFICATION", request_id, "DENIED", None)]
    stale = claim(vapp, other)
    with vapp.app_context():
        db.session.execute(
            sa.update(VerificationRequest)
            .where(VerificationRequest.id == uuid.UUID(stale["id"]))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        db.session.commit()
        assert sweep()["expired"] == 1
    assert verification_inbox(vapp, other) == [("VERIFICATION", stale["id"], "EXPIRED", None)]
