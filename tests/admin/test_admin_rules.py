"""What admins can do, what they cannot, and the audit trail of both."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from seda.common.audit import AdminAction
from seda.common.db import utcnow
from seda.common.tasks import wait_for_in_process_tasks
from seda.extensions import db, socketio
from seda.users.models import Role
from seda.verification.models import VerificationRequest, VerificationStatus
from tests.helpers.admin_routes import ADMIN_KEY
from tests.helpers.chat import Chat
from tests.helpers.fixtures import UserFactory
from tests.helpers.origin import ORIGIN_IP, origin_url


@pytest.fixture
def admin_app(app_factory, ca_file):
    return app_factory(
        ADMIN_API_KEY=ADMIN_KEY,
        CRAWLER_ALLOWED_PRIVATE_NETWORKS=f"{ORIGIN_IP}/32",
        CRAWLER_CA_BUNDLE=ca_file,
        CRAWLER_MAX_RETRIES="0",
        CRAWLER_TIMEOUT_MS="3000",
    )


@pytest.fixture
def people(admin_app):
    factory = UserFactory(admin_app)
    return {
        "super": factory.make(role=Role.SUPER_ADMIN),
        "admin": factory.make(role=Role.ADMIN),
        "artist": factory.make(artist_name="Pale Hours"),
        "user": factory.make(display_name="Plain Listener"),
        "factory": factory,
    }


def api(app, who, method, path, **kwargs):
    headers = {"X-Admin-Api-Key": ADMIN_KEY} if who == "api-key" else who.headers
    response = app.test_client().open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
    return response.status_code, response.get_json(silent=True)


def audit_rows(app):
    with app.app_context():
        return db.session.scalars(sa.select(AdminAction).order_by(AdminAction.created_at)).all()


def make_request(app, user, status, **values):
    with app.app_context():
        request = VerificationRequest(
            user_id=uuid.UUID(user.id),
            claim_code=f"SEDA-{uuid.uuid4().hex[:8].upper()}",
            status=status,
            **{"expires_at": utcnow() + timedelta(days=7), "submitted_at": utcnow() - timedelta(hours=2), **values},
        )
        db.session.add(request)
        db.session.commit()
        return str(request.id)


def test_approval_makes_a_verified_artist_and_is_audited(admin_app, people):
    user = people["user"]
    request_id = make_request(
        admin_app,
        user,
        VerificationStatus.AWAITING_ADMIN,
        evidence={"excerpt": "…SEDA…", "contentSha256": "ab", "bytes": 10, "contentType": "text/html"},
    )
    status, pending = api(admin_app, people["admin"], "GET", "/admin/verification/pending")
    assert status == 200 and [r["id"] for r in pending] == [request_id]
    assert pending[0]["evidence"]["excerpt"] == "…SEDA…" and pending[0]["user"]["id"] == user.id
    status, approved = api(
        admin_app, people["admin"], "PATCH", f"/admin/verification/{request_id}/approve", json={"notes": "looks right"}
    )
    assert status == 200 and approved["status"] == "APPROVED" and approved["reviewedAt"]
    status, me = api(admin_app, user, "GET", "/users/me")
    assert me["role"] == "ARTIST"
    assert me["artistProfile"]["verified"] is True and me["artistProfile"]["artistName"] == "Plain Listener"
    assert me["artistProfile"]["verifiedAt"]
    rows = audit_rows(admin_app)
    assert [(r.action, r.target_id, r.actor) for r in rows] == [
        ("verification.approve", request_id, people["admin"].id)
    ]
    assert rows[0].ip_address == "127.0.0.1"
    assert api(admin_app, people["admin"], "PATCH", f"/admin/verification/{request_id}/approve", json={})[0] == 409
    assert len(audit_rows(admin_app)) == 1  # a failed change writes no audit row


def test_admins_keep_their_role_when_approved(admin_app, people):
    request_id = make_request(admin_app, people["admin"], VerificationStatus.AWAITING_ADMIN)
    api(admin_app, people["super"], "PATCH", f"/admin/verification/{request_id}/approve", json={})
    assert api(admin_app, people["admin"], "GET", "/users/me")[1]["role"] == "ADMIN"


def test_pending_needs_override_and_deny_needs_a_reason(admin_app, people):
    request_id = make_request(admin_app, people["artist"], VerificationStatus.PENDING)
    status, error = api(admin_app, people["admin"], "PATCH", f"/admin/verification/{request_id}/approve", json={})
    assert status == 409
    assert api(admin_app, people["admin"], "PATCH", f"/admin/verification/{request_id}/deny", json={})[0] == 400
    assert (
        api(admin_app, people["admin"], "PATCH", f"/admin/verification/{request_id}/deny", json={"reason": ""})[0]
        == 400
    )
    status, denied = api(
        admin_app, "api-key", "PATCH", f"/admin/verification/{request_id}/deny", json={"reason": "no link to the band"}
    )
    assert status == 200 and denied["status"] == "DENIED" and denied["denialReason"] == "no link to the band"
    assert (
        api(admin_app, people["admin"], "PATCH", f"/admin/verification/{request_id}/deny", json={"reason": "x"})[0]
        == 409
    )
    other = make_request(admin_app, people["user"], VerificationStatus.PENDING)
    assert (
        api(admin_app, people["admin"], "PATCH", f"/admin/verification/{other}/approve", json={"override": True})[1][
            "status"
        ]
        == "APPROVED"
    )
    assert [r.actor for r in audit_rows(admin_app)] == ["api-key", people["admin"].id]


def test_an_expired_request_the_sweep_has_not_reached_cannot_be_approved(admin_app, people):
    request_id = make_request(
        admin_app, people["artist"], VerificationStatus.PENDING, expires_at=utcnow() - timedelta(minutes=1)
    )
    path = f"/admin/verification/{request_id}/approve"
    status, error = api(admin_app, people["admin"], "PATCH", path, json={"override": True})
    assert status == 410 and error["message"] == ["This claim code has expired; the artist must request a new one"]
    assert api(admin_app, people["artist"], "GET", "/users/me")[1]["role"] == "USER"
    assert audit_rows(admin_app) == []


def test_verification_lists_filters_and_stats(admin_app, people):
    make_request(admin_app, people["artist"], VerificationStatus.DENIED, reviewed_at=utcnow())
    approved = make_request(admin_app, people["user"], VerificationStatus.APPROVED, reviewed_at=utcnow())
    status, listed = api(admin_app, people["admin"], "GET", "/admin/verification?status=APPROVED")
    assert [r["id"] for r in listed] == [approved]
    status, by_user = api(admin_app, people["admin"], "GET", f"/admin/verification?userId={people['artist'].id}")
    assert len(by_user) == 1 and by_user[0]["status"] == "DENIED"
    assert api(admin_app, people["admin"], "GET", "/admin/verification?status=MAYBE")[0] == 400
    status, stats = api(admin_app, people["admin"], "GET", "/admin/verification/stats/overview")
    assert stats["total"] == 2 and stats["byStatus"]["APPROVED"] == 1 and stats["byStatus"]["PENDING"] == 0
    assert stats["approvedLast7Days"] == 1 and stats["medianReviewHours"] == pytest.approx(2, abs=0.1)


def test_recrawl_queues_a_fresh_check(admin_app, people, origin):
    code_holder = {}
    request_id = make_request(
        admin_app, people["artist"], VerificationStatus.PENDING, target_url=origin_url(origin, "/bio")
    )
    with admin_app.app_context():
        code_holder["code"] = db.session.get(VerificationRequest, uuid.UUID(request_id)).claim_code
    origin.expect_request("/bio").respond_with_data(f"<p>{code_holder['code']}</p>", content_type="text/html")
    status, body = api(admin_app, people["admin"], "POST", f"/admin/verification/{request_id}/crawl")
    assert status == 202 and body["status"] == "CRAWLING"
    wait_for_in_process_tasks()
    assert api(admin_app, people["admin"], "GET", f"/admin/verification/{request_id}")[1]["status"] == "AWAITING_ADMIN"


def test_ad_hoc_crawls_report_what_came_back(admin_app, people, origin):
    origin.expect_request("/page").respond_with_data(
        "<html><head><title> The Band </title></head><body>SEDA-ABC</body></html>", content_type="text/html"
    )
    status, job = api(
        admin_app,
        people["admin"],
        "POST",
        "/admin/crawl",
        json={"url": origin_url(origin, "/page"), "expectCode": "seda-abc"},
    )
    assert status == 202 and job["status"] == "QUEUED"
    wait_for_in_process_tasks()
    status, done = api(admin_app, people["admin"], "GET", f"/admin/crawl/{job['jobId']}")
    assert done["status"] == "DONE"
    assert done["result"]["httpStatus"] == 200 and done["result"]["title"] == "The Band"
    assert done["result"]["codeFound"] is True and done["result"]["bytes"] > 0 and done["result"]["error"] is None
    status, job = api(admin_app, people["admin"], "POST", "/admin/crawl", json={"url": "https://10.0.0.1/"})
    wait_for_in_process_tasks()
    failed = api(admin_app, people["admin"], "GET", f"/admin/crawl/{job['jobId']}")[1]
    assert failed["status"] == "FAILED" and failed["result"]["error"] == "address_not_allowed"
    assert api(admin_app, people["admin"], "POST", "/admin/crawl", json={"url": "file:///etc/passwd"})[0] == 400


@pytest.mark.parametrize(
    ("page", "found"),
    [
        ("<p>SEDA-ABC</p>", True),
        ('<meta name="seda-verification" content="SEDA-ABC"><p>hi</p>', True),
        ("<!-- SEDA-ABC --><p>hi</p>", False),
        ("<script>var c = 'SEDA-ABC'</script><p>hi</p>", False),
        ('<a title="SEDA-ABC">hi</a>', False),
    ],
)
def test_an_ad_hoc_crawl_finds_the_code_by_the_verification_rule(admin_app, people, origin, page, found):
    origin.expect_request("/page").respond_with_data(f"<html><body>{page}</body></html>", content_type="text/html")
    body = {"url": origin_url(origin, "/page"), "expectCode": "SEDA-ABC"}
    status, job = api(admin_app, people["admin"], "POST", "/admin/crawl", json=body)
    wait_for_in_process_tasks()
    assert api(admin_app, people["admin"], "GET", f"/admin/crawl/{job['jobId']}")[1]["result"]["codeFound"] is found


@pytest.mark.parametrize(
    "actor,target,role,status",
    [
        ("admin", "user", "ARTIST", 200),
        ("admin", "artist", "USER", 200),
        ("admin", "user", "ADMIN", 403),
        ("admin", "super", "USER", 403),
        ("admin", "admin", "USER", 403),
        ("super", "user", "ADMIN", 200),
        ("super", "admin", "USER", 200),
        ("super", "super", "ADMIN", 403),
        ("api-key", "user", "ARTIST", 200),
        ("api-key", "user", "SUPER_ADMIN", 403),
    ],
)
def test_role_rules(admin_app, people, actor, target, role, status):
    who = "api-key" if actor == "api-key" else people[actor]
    code, body = api(admin_app, who, "PATCH", f"/admin/users/{people[target].id}", json={"role": role})
    assert code == status, body
    if status == 200:
        assert body["role"] == role
        assert [(r.action, r.details) for r in audit_rows(admin_app)][-1][0] == "user.role"
    else:
        assert audit_rows(admin_app) == []


def test_the_last_super_admin_stays(admin_app, people):
    second = people["factory"].make(role=Role.SUPER_ADMIN)
    assert api(admin_app, second, "PATCH", f"/admin/users/{people['super'].id}", json={"role": "ADMIN"})[0] == 200
    assert api(admin_app, people["super"], "PATCH", f"/admin/users/{second.id}", json={"role": "USER"})[0] == 403


def test_user_search_and_filters(admin_app, people):
    status, found = api(admin_app, people["admin"], "GET", "/admin/users?q=plain")
    assert [u["id"] for u in found] == [people["user"].id] and found[0]["email"] == people["user"].email
    status, admins = api(admin_app, people["admin"], "GET", "/admin/users?role=SUPER_ADMIN")
    assert [u["id"] for u in admins] == [people["super"].id]
    assert api(admin_app, people["admin"], "GET", "/admin/users?banned=true")[1] == []


def test_a_ban_refuses_tokens_and_disconnects_sockets(admin_app, people):
    user = people["user"]
    sock = socketio.test_client(admin_app, namespace="/chat", auth={"token": user.token})
    assert sock.is_connected("/chat")
    status, banned = api(admin_app, people["admin"], "POST", f"/admin/users/{user.id}/ban", json={"reason": "spam"})
    assert status == 200 and banned["banned"] is True
    assert not sock.is_connected("/chat")
    status, error = api(admin_app, user, "GET", "/users/me")
    assert status == 403 and error["message"] == ["Account suspended"]
    assert (
        api(admin_app, people["admin"], "POST", f"/admin/users/{people['super'].id}/ban", json={"reason": "x"})[0]
        == 403
    )
    assert api(admin_app, people["admin"], "POST", f"/admin/users/{user.id}/ban", json={})[0] == 400
    assert api(admin_app, people["admin"], "POST", f"/admin/users/{user.id}/unban")[1]["banned"] is False
    assert api(admin_app, user, "GET", "/users/me")[0] == 200
    assert [r.action for r in audit_rows(admin_app)] == ["user.ban", "user.unban"]


def test_reports_are_resolved_and_messages_deleted(admin_app, people):
    client = admin_app.test_client()
    owner, fan = Chat(client, people["artist"]), Chat(client, people["user"])
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    bad, other = owner.send(room["id"], "buy followers"), owner.send(room["id"], "fine")
    listener = socketio.test_client(admin_app, namespace="/chat", auth={"token": people["user"].token})
    listener.emit("join_room", room["id"], namespace="/chat", callback=True)
    _, report = fan.post(f"/messages/{bad['id']}/report", json={"reason": "spam"})
    _, report2 = fan.post(f"/messages/{other['id']}/report", json={"reason": "meh"})
    status, queue = api(admin_app, people["admin"], "GET", "/admin/reports?status=OPEN")
    assert {r["id"] for r in queue} == {report["id"], report2["id"]}
    entry = next(r for r in queue if r["id"] == report["id"])
    assert entry["reporter"]["id"] == people["user"].id and entry["message"]["text"] == "buy followers"
    status, resolved = api(
        admin_app, people["admin"], "POST", f"/admin/reports/{report['id']}/resolve", json={"action": "DELETE_MESSAGE"}
    )
    assert status == 200 and resolved["status"] == "RESOLVED" and resolved["resolution"] == "DELETE_MESSAGE"
    assert owner.get(f"/messages/{bad['id']}")[0] == 404
    assert (
        api(admin_app, people["admin"], "POST", f"/admin/reports/{report['id']}/resolve", json={"action": "DISMISS"})[0]
        == 409
    )
    assert (
        api(admin_app, people["admin"], "POST", f"/admin/reports/{report2['id']}/resolve", json={"action": "BAN"})[0]
        == 400
    )
    assert api(admin_app, people["admin"], "DELETE", f"/admin/messages/{other['id']}")[0] == 204
    deleted = [e["args"] for e in listener.get_received("/chat") if e["name"] == "message_deleted"]
    assert deleted == [[bad["id"], room["id"]], [other["id"], room["id"]]]
    assert [r.action for r in audit_rows(admin_app)] == ["report.resolve", "message.delete", "message.delete"]
    listener.disconnect("/chat")


def test_the_audit_log_lists_newest_first_with_filters(admin_app, people):
    for target in ("user", "artist"):
        api(admin_app, people["admin"], "POST", f"/admin/users/{people[target].id}/ban", json={"reason": "r"})
    api(admin_app, "api-key", "POST", f"/admin/users/{people['user'].id}/unban")
    status, actions = api(admin_app, people["admin"], "GET", "/admin/actions")
    assert [a["action"] for a in actions] == ["user.unban", "user.ban", "user.ban"]
    assert set(actions[0]) == {
        "id",
        "adminId",
        "actor",
        "action",
        "targetType",
        "targetId",
        "details",
        "ipAddress",
        "userAgent",
        "createdAt",
    }
    assert actions[0]["actor"] == "api-key" and actions[0]["adminId"] is None
    by_admin = api(admin_app, people["admin"], "GET", f"/admin/actions?adminId={people['admin'].id}")[1]
    assert len(by_admin) == 2
    by_target = api(admin_app, people["admin"], "GET", f"/admin/actions?targetId={people['artist'].id}")[1]
    assert [a["targetId"] for a in by_target] == [people["artist"].id]
    assert (
        api(admin_app, people["admin"], "GET", "/admin/actions?action=user.ban&limit=1")[1][0]["action"] == "user.ban"
    )
    assert api(admin_app, people["admin"], "DELETE", "/admin/actions")[0] == 405


def test_stats_are_counted_by_the_database(admin_app, people):
    client = admin_app.test_client()
    owner = Chat(client, people["artist"])
    room = owner.room()
    owner.send(room["id"], "one"), owner.send(room["id"], "two")
    api(admin_app, people["admin"], "POST", f"/admin/users/{people['user'].id}/ban", json={"reason": "r"})
    status, stats = api(admin_app, people["admin"], "GET", "/admin/stats")
    assert stats["users"] == {"total": 4, "byRole": {"USER": 2, "ARTIST": 0, "ADMIN": 1, "SUPER_ADMIN": 1}, "banned": 1}
    assert stats["rooms"] == 1 and stats["messages"] == {"total": 2, "last24h": 2}
    assert stats["verifications"]["byStatus"]["PENDING"] == 0
