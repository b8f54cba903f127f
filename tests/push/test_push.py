"""Web Push (API.md §13): subscriptions tied to devices, and pushes a real push service accepts:
signed with seda's VAPID key, encrypted for the browser, sent only to whoever is away and wants
them, each at most once, with the push service's answers obeyed."""

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from seda.common.tasks import wait_for_in_process_tasks
from seda.extensions import db
from seda.notifications.pushes import push_payload
from seda.push import delivery
from seda.push.models import PushSubscription
from seda.users.models import User
from tests.helpers.chat import Chat
from tests.helpers.fixtures import PASSWORD
from tests.helpers.origin import ORIGIN_IP
from tests.helpers.push_service import Browser, PushService, unb64url
from tests.helpers.tiers import embedded_only, services_only

API = "/api/v1/push"


@pytest.fixture
def app(app_factory, ca_file):
    """The app every fixture here uses (users, sockets, client): it may reach the push service."""
    return app_factory(
        CRAWLER_ALLOWED_PRIVATE_NETWORKS=f"{ORIGIN_IP}/32", CRAWLER_CA_BUNDLE=ca_file, CRAWLER_TIMEOUT_MS="3000"
    )


@pytest.fixture
def service(client, origin):
    key = client.get(f"{API}/vapid-public-key").get_json()["publicKey"]
    return PushService(origin, key)


def subscribe(client, user, browser, **kwargs):
    response = client.post(f"{API}/subscriptions", json=browser.subscription(**kwargs), headers=user.headers)
    return response.status_code, response.get_json()


def subscribed(client, user, service):
    browser = Browser(service)
    status, body = subscribe(client, user, browser)
    assert status == 201, body
    return browser, body


def stored(app):
    with app.app_context():
        return {row.endpoint: row for row in db.session.scalars(sa.select(PushSubscription))}


def mention(client, users, guest, text="hey @{name}, listen"):
    """`guest` is mentioned in a room they joined; the notification's tasks have run."""
    friend = Chat(client, users.make(display_name="Ana"))
    room = friend.post("/rooms", json={"name": "lofi beats"})[1]
    Chat(client, guest).post(f"/rooms/{room['id']}/join")
    friend.send(room["id"], text.format(name=guest.username))
    wait_for_in_process_tasks()
    return room


@embedded_only
def test_the_public_key_is_a_p256_point_and_the_same_for_every_app_of_the_instance(app_factory, client):
    body = client.get(f"{API}/vapid-public-key").get_json()
    point = unb64url(body["publicKey"])
    assert len(point) == 65 and point[0] == 4 and "=" not in body["publicKey"]
    assert app_factory().test_client().get(f"{API}/vapid-public-key").get_json() == body


@embedded_only
def test_a_configured_key_as_a_raw_scalar_gives_its_public_key(app_factory):
    key = ec.generate_private_key(ec.SECP256R1())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    app = app_factory(VAPID_PRIVATE_KEY=base64.urlsafe_b64encode(scalar).decode().rstrip("="))
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    shown = app.test_client().get(f"{API}/vapid-public-key").get_json()["publicKey"]
    assert unb64url(shown) == point


@embedded_only
def test_without_a_key_in_production_web_push_is_off(app_factory, users):
    app = app_factory(APP_ENV="production", VAPID_PRIVATE_KEY="")
    assert app.config["APP_ENV"] == "production"
    client = app.test_client()
    user = users.make()
    for response in (
        client.get(f"{API}/vapid-public-key"),
        client.post(f"{API}/subscriptions", json={}, headers=user.headers),
    ):
        assert response.status_code == 404
        assert response.get_json()["message"] == ["Web Push is not configured"]


def test_a_browser_subscribes_once_per_endpoint_and_an_endpoint_has_one_user(client, users, service, app):
    ana, bo = users.make(), users.make()
    browser = Browser(service)
    status, first = subscribe(client, ana, browser)
    assert status == 201
    assert set(first) == {"id", "endpoint", "expirationTime", "createdAt", "lastSuccessAt"}
    assert first["endpoint"] == browser.endpoint and first["lastSuccessAt"] is None
    browser.auth = b"k" * 16  # the browser renewed its keys
    status, again = subscribe(client, ana, browser, expiration_time=4102444800000)
    assert status == 200 and again["id"] == first["id"] and again["expirationTime"] == 4102444800000
    assert stored(app)[browser.endpoint].auth == "a2tra2tra2tra2tra2traw"
    status, moved = subscribe(client, bo, browser)
    assert status == 201 and moved["id"] != first["id"]
    assert client.get(f"{API}/subscriptions", headers=ana.headers).get_json() == []
    assert [s["id"] for s in client.get(f"{API}/subscriptions", headers=bo.headers).get_json()] == [moved["id"]]


@embedded_only
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://push.example.com/x"}, "endpoint"),
        ({"endpoint": "not a url"}, "endpoint"),
        ({"endpoint": "https://push.example.com/" + "x" * 2048}, "endpoint"),
        ({"keys": {"p256dh": "AAAA", "auth": "a2tra2tra2tra2tra2traw"}}, "keys.p256dh"),
        ({"keys": {"p256dh": "B" + "A" * 86, "auth": "a2tra2tra2tra2tra2traw"}}, "keys.p256dh"),
        ({"keys": {"p256dh": "not base64!", "auth": "a2tra2tra2tra2tra2traw"}}, "keys.p256dh"),
        ({"keys": {"auth": "a2tra2tra2tra2tra2traw"}}, "keys.p256dh"),
        ({"expirationTime": "soon"}, "expirationTime"),
    ],
)
def test_a_malformed_subscription_is_400_naming_its_field(client, users, service, change, field):
    user, browser = users.make(), Browser(service)
    body = {**browser.subscription(), **change}
    response = client.post(f"{API}/subscriptions", json=body, headers=user.headers)
    assert response.status_code == 400
    assert any(m.startswith(f"{field}:") for m in response.get_json()["message"]), response.get_json()


@embedded_only
def test_a_wrong_auth_secret_length_is_400(client, users, service):
    user, browser = users.make(), Browser(service)
    browser.auth = b"short"
    status, body = subscribe(client, user, browser)
    assert status == 400 and body["message"] == ["keys.auth: Must be 16 bytes"]


@embedded_only
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "[::1]", "169.254.169.254"])
def test_an_endpoint_on_a_private_address_is_422_and_never_reached(client, users, service, trap, host):
    user, browser = users.make(), Browser(service)
    body = {**browser.subscription(), "endpoint": f"https://{host}:{trap.port}/push/x"}
    response = client.post(f"{API}/subscriptions", json=body, headers=user.headers)
    assert response.status_code == 422
    assert response.get_json()["message"] == ["Push endpoint not allowed"]
    assert trap.connections == 0


def test_the_21st_subscription_removes_my_oldest(client, users, service):
    user = users.make()
    ids = [subscribed(client, user, service)[1]["id"] for _ in range(21)]
    listed = [s["id"] for s in client.get(f"{API}/subscriptions", headers=user.headers).get_json()]
    assert listed == ids[::-1][:20]  # newest first, the first one gone


def test_only_my_own_subscription_can_be_deleted_or_tested(client, users, service):
    ana, bo = users.make(), users.make()
    _, mine = subscribed(client, ana, service)
    for method, path in (("DELETE", ""), ("POST", "/test")):
        response = client.open(f"{API}/subscriptions/{mine['id']}{path}", method=method, headers=bo.headers)
        assert response.status_code == 404
        assert response.get_json()["message"] == ["Push subscription not found"]
    assert client.delete(f"{API}/subscriptions/{mine['id']}", headers=ana.headers).status_code == 204
    assert client.get(f"{API}/subscriptions", headers=ana.headers).get_json() == []


@embedded_only
def test_a_test_push_arrives_signed_and_encrypted_whatever_the_settings(client, users, service, app):
    user = users.make()
    off = {"quietHours": {"start": "00:00", "end": "23:59"}, "types": {"MENTION": {"push": False}}}
    client.patch("/api/v1/users/me/notification-settings", json=off, headers=user.headers)
    browser, body = subscribed(client, user, service)
    response = client.post(f"{API}/subscriptions/{body['id']}/test", headers=user.headers)
    assert response.status_code == 202
    wait_for_in_process_tasks()
    [push] = service.pushes_to(browser)
    assert push.payload == {
        "type": "TEST",
        "title": "seda",
        "body": "Push notifications work",
        "url": app.config["PUBLIC_BASE_URL"],
        "notification": None,
    }
    assert push.headers["Ttl"] == "86400" and push.headers["Urgency"] == "normal"
    assert push.headers["Content-Type"] == "application/octet-stream"
    assert service.refused == []
    listed = client.get(f"{API}/subscriptions", headers=user.headers).get_json()
    assert listed[0]["lastSuccessAt"] is not None


@embedded_only
def test_test_pushes_are_rate_limited_per_user(app_factory, ca_file, users, origin):
    app = app_factory(
        CRAWLER_ALLOWED_PRIVATE_NETWORKS=f"{ORIGIN_IP}/32", CRAWLER_CA_BUNDLE=ca_file, RATE_LIMIT_PUSH_TEST="2/minute"
    )
    client = app.test_client()
    service = PushService(origin, client.get(f"{API}/vapid-public-key").get_json()["publicKey"])
    user = users.make()
    _, body = subscribed(client, user, service)
    codes = [client.post(f"{API}/subscriptions/{body['id']}/test", headers=user.headers).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    wait_for_in_process_tasks()


def test_a_mention_reaches_an_away_member_as_a_push(client, users, service, app):
    guest = users.make()
    browser, _ = subscribed(client, guest, service)
    room = mention(client, users, guest)
    [push] = service.wait_for(1)
    assert push.token == browser.token and push.headers["Urgency"] == "high"
    payload = push.payload
    assert payload["type"] == "MENTION" and payload["title"] == "Ana mentioned you in lofi beats"
    assert payload["body"] == f"hey @{guest.username}, listen"
    notification = payload["notification"]
    assert notification["roomId"] == room["id"] and notification["actor"]["displayName"] == "Ana"
    base = app.config["PUBLIC_BASE_URL"]
    assert payload["url"] == f"{base}/rooms/{room['id']}?message={notification['messageId']}"
    inbox = client.get("/api/v1/notifications", headers=guest.headers).get_json()
    assert inbox[0]["id"] == notification["id"]


@embedded_only
def test_no_push_for_a_member_here_one_who_turned_it_off_or_one_in_quiet_hours(client, users, service, socket_for):
    here, off, asleep = users.make(), users.make(), users.make()
    for user in (here, off, asleep):
        subscribed(client, user, service)
    socket_for(here)
    client.patch(
        "/api/v1/users/me/notification-settings", json={"types": {"MENTION": {"push": False}}}, headers=off.headers
    )
    night = {"quietHours": {"start": "00:00", "end": "23:59"}, "timeZone": "Pacific/Auckland"}
    client.patch("/api/v1/users/me/notification-settings", json=night, headers=asleep.headers)
    for user in (here, off, asleep):
        mention(client, users, user)
    assert service.received == [] and service.attempts == {}
    unread = client.get("/api/v1/notifications/unread-count", headers=off.headers).get_json()
    assert unread == {"count": 1}  # the inbox always gets it


@embedded_only
def test_a_push_is_cut_to_3000_bytes_by_its_excerpt(app, client, users, service):
    guest = users.make()
    browser, _ = subscribed(client, guest, service)
    mention(client, users, guest, text="@{name} " + "🎵" * 1990)
    [push] = service.wait_for(1)
    assert len(push.payload["body"]) == 200  # the stored excerpt, whole: it fits
    actor = {**push.payload["notification"]["actor"], "avatarUrl": "https://cdn.example.com/" + "a" * 2000}
    with app.test_request_context():
        cut = push_payload({**push.payload["notification"], "actor": actor})
    assert len(json.dumps(cut, ensure_ascii=False).encode()) <= 3000
    assert cut["body"].endswith("…") and cut["notification"]["excerpt"] == cut["body"]


def test_gone_endpoints_are_deleted_and_busy_ones_retried(client, users, service, app):
    gone, busy = users.make(), users.make()
    gone_browser, _ = subscribed(client, gone, service)
    busy_browser, _ = subscribed(client, busy, service)
    service.answer_next(gone_browser, 410)
    service.answer_next(busy_browser, (429, {"Retry-After": "1"}), 503)
    started = time.monotonic()
    mention(client, users, gone)
    mention(client, users, busy)
    assert gone_browser.endpoint not in stored(app)
    assert service.attempts[busy_browser.token] == 3 and len(service.pushes_to(busy_browser)) == 1
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    assert stored(app)[busy_browser.endpoint].last_success_at is not None


def test_ten_failed_deliveries_in_a_row_delete_a_subscription(client, users, service, app):
    user = users.make()
    browser, _ = subscribed(client, user, service)
    with app.app_context():
        db.session.execute(sa.update(PushSubscription).values(failures_in_a_row=8))
        db.session.commit()
    service.answer_next(browser, 400)
    mention(client, users, user)
    assert stored(app)[browser.endpoint].failures_in_a_row == 9
    service.answer_next(browser, 400)
    mention(client, users, user)
    assert browser.endpoint not in stored(app)


def test_a_delivery_run_twice_sends_each_notification_once(client, users, service, app):
    user = users.make()
    browser, _ = subscribed(client, user, service)
    mention(client, users, user)
    [push] = service.wait_for(1)
    again = delivery.Push(
        uuid.UUID(user.id), push.payload, notification_id=uuid.UUID(push.payload["notification"]["id"])
    )
    with app.app_context():
        assert delivery.deliver([again]) == {}
    assert len(service.pushes_to(browser)) == 1


def test_an_expired_subscription_is_deleted_unused(client, users, service, app):
    user = users.make()
    past = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp() * 1000)
    browser = Browser(service)
    assert subscribe(client, user, browser, expiration_time=past)[0] == 201
    mention(client, users, user)
    assert service.attempts == {} and browser.endpoint not in stored(app)


def test_signing_a_device_out_or_deleting_the_account_deletes_its_subscriptions(client, users, service, app):
    user = users.make()
    signed_in = [
        client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).get_json() for _ in range(2)
    ]
    kept, dropped = (Browser(service) for _ in range(2))
    for session, browser in zip(signed_in, (kept, dropped), strict=True):
        headers = {"Authorization": f"Bearer {session['accessToken']}"}
        assert client.post(f"{API}/subscriptions", json=browser.subscription(), headers=headers).status_code == 201
    logout = {"refreshToken": signed_in[1]["refreshToken"]}
    headers = {"Authorization": f"Bearer {signed_in[1]['accessToken']}"}
    assert client.post("/api/v1/auth/logout", json=logout, headers=headers).status_code in (200, 204)
    assert set(stored(app)) == {kept.endpoint}
    headers = {"Authorization": f"Bearer {signed_in[0]['accessToken']}"}
    response = client.delete("/api/v1/users/me", json={"password": PASSWORD}, headers=headers)
    assert response.status_code == 202
    assert stored(app) == {}


def test_a_banned_user_gets_no_push(app, client, users, service):
    user = users.make()
    subscribed(client, user, service)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == uuid.UUID(user.id)).values(banned=True))
        db.session.commit()
        test_push = delivery.Push(uuid.UUID(user.id), {"type": "TEST"})
        assert delivery.deliver([test_push], wait=True) == {}
    assert service.attempts == {}


@services_only
def test_a_member_connected_to_another_process_gets_no_push_until_they_leave(
    app, app_factory, ca_file, client, users, service, socket_for
):
    other_process = app_factory(CRAWLER_ALLOWED_PRIVATE_NETWORKS=f"{ORIGIN_IP}/32", CRAWLER_CA_BUNDLE=ca_file)
    guest = users.make()
    browser, _ = subscribed(client, guest, service)
    sock = socket_for(guest)  # on this process; presence is shared through Redis
    mention(other_process.test_client(), users, guest)
    assert service.attempts == {}
    sock.disconnect("/chat")
    mention(other_process.test_client(), users, guest)
    assert len(service.wait_for(1)) == 1 and service.received[0].token == browser.token


def test_a_claim_does_not_fail_when_its_notification_went_a_moment_before(app, client, users, service):
    user = users.make()
    browser, _ = subscribed(client, user, service)
    gone = delivery.Push(uuid.UUID(user.id), {"type": "MENTION"}, notification_id=uuid.uuid4())
    with app.app_context():
        assert delivery.deliver([gone], wait=True) == {delivery.Outcome.DELIVERED: 1}
    assert len(service.pushes_to(browser)) == 1
