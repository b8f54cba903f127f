"""The admin console in headless Chromium against the production stack: gunicorn, PostgreSQL,
Redis and a real Celery worker that checks verification pages on the local HTTPS origin."""

import os
import time
import uuid
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from selenium.webdriver.common.by import By

from config import TestingConfig
from seda import create_app
from tests.helpers.browser import Browser
from tests.helpers.clients import Api, Listener
from tests.helpers.mail import token_in, wait_for_mail
from tests.helpers.origin import ORIGIN_IP, origin_url
from tests.helpers.servers import celery_worker, gunicorn_server, wait_until
from tests.helpers.sessions import track

pytestmark = [pytest.mark.services, pytest.mark.browser]
PASSWORD = "long enough"
XSS = "<img src=x onerror=\"document.title='pwned'\">"
# SEDA_CONSOLE_SCREENSHOTS=docs/console keeps a screenshot of every page (the README links them).
SCREENSHOTS = os.environ.get("SEDA_CONSOLE_SCREENSHOTS")


@pytest.fixture(scope="module")
def stack(postgres_url, postgres_engine, redis_namespace, origin_server, ca_file, tmp_path_factory):
    from tests.helpers.settings import truncate_all

    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": postgres_url,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "REDIS_NAMESPACE": f"{redis_namespace}-console",
        "JWT_SECRET": "console-secret-" + "c" * 32,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_DEFAULT": "100000/minute",
        "RATE_LIMIT_SIGNUP": "100000/hour",
        "RATE_LIMIT_LOGIN_ACCOUNT": "100000/minute",
        "RATE_LIMIT_LOGIN_IP": "100000/minute",
        "CRAWLER_ALLOWED_PRIVATE_NETWORKS": f"{ORIGIN_IP}/32",
        "CRAWLER_CA_BUNDLE": ca_file,
        "MAIL_OUTBOX_DIR": str(tmp_path_factory.mktemp("outbox")),
    }
    with gunicorn_server(env) as base, celery_worker(env):
        base.outbox = Path(env["MAIL_OUTBOX_DIR"])
        yield base
    truncate_all(postgres_engine)


def person(base, email=None):
    email = email or f"{uuid.uuid4().hex[:10]}@example.com"
    api = Api(base)
    body = api.call("POST", "/auth/signup", json={"email": email, "password": PASSWORD}).json()
    api.token, api.user = body["accessToken"], body["user"]
    return api


@pytest.fixture
def admin(stack, postgres_engine):
    admin = person(stack)
    with postgres_engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET role = 'ADMIN' WHERE email = :email"), {"email": admin.user["email"]})
    return admin


@pytest.fixture
def console(stack, browser, admin):
    console = Browser(browser, stack)
    console.sign_in(admin.user["email"], PASSWORD)
    console.wait_for("#nav:not([hidden])")
    return console


def screenshot(console, name):
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        console.driver.save_screenshot(str(Path(SCREENSHOTS) / f"{name}.png"))


def awaiting_review(stack, origin, body=None):
    """An artist whose request the worker checked and found: AWAITING_ADMIN."""
    artist = person(stack)
    token = token_in(wait_for_mail(stack.outbox, artist.user["email"]))
    assert artist.call("POST", "/auth/email/verify", json={"token": token}).status_code == 200
    code = artist.call("POST", "/artist/verification/request").json()["claimCode"]
    path = f"/bio-{uuid.uuid4().hex[:8]}"
    page = body or f"<html><body><p>Official page. Verification: {code}</p></body></html>"
    origin.expect_request(path).respond_with_data(page, content_type="text/html")
    submitted = artist.call(
        "POST", "/artist/verification/submit", json={"claimCode": code, "targetUrl": origin_url(origin, path)}
    )
    assert submitted.status_code == 202, submitted.text
    request_id = submitted.json()["id"]
    status = lambda: artist.call("GET", f"/artist/verification/status/{request_id}").json()["status"]  # noqa: E731
    assert wait_until(lambda: status() == "AWAITING_ADMIN", timeout=20), status()
    return artist, request_id, code, status


def test_someone_who_is_not_an_admin_is_refused_with_a_clear_message(stack, browser):
    plain = person(stack)
    page = Browser(browser, stack)
    page.sign_in(plain.user["email"], PASSWORD)
    page.wait_until(lambda: "for admins" in page.text("#flash"))
    screenshot(page, "sign-in-refused")
    assert page.find("#nav").get_attribute("hidden") is not None
    assert page.driver.execute_script("return window.localStorage.length + window.sessionStorage.length") == 0


def test_approve_one_verification_the_worker_checked_and_deny_another(stack, origin, console):
    approved_artist, approved, code, approved_status = awaiting_review(stack, origin)
    _denied_artist, denied, _code, denied_status = awaiting_review(stack, origin)
    console.go("verifications")
    selector = f'section.verification[data-id="{approved}"]'
    # The queue re-renders as checks finish: read the card afresh each time (a stale one is "not yet").
    console.wait_until(
        lambda: [mark.text for mark in console.find(selector).find_elements(By.TAG_NAME, "mark")] == [code]
    )
    console.wait_until(lambda: "TEXT" in console.find(selector).text and "200" in console.find(selector).text)
    screenshot(console, "verifications")
    card = console.find(selector)
    card.find_element(By.CSS_SELECTOR, "input[name=notes]").send_keys("Official page, checked")
    card.find_element(By.CSS_SELECTOR, "button.approve").click()
    console.wait_until(lambda: not console.all(f'section.verification[data-id="{approved}"]'))
    assert approved_status() == "APPROVED"
    assert approved_artist.call("GET", "/users/me").json()["role"] == "ARTIST"

    card = console.find(f'section.verification[data-id="{denied}"]')
    card.find_element(By.CSS_SELECTOR, "input[name=reason]").send_keys("Not the artist's page")
    card.find_element(By.CSS_SELECTOR, "button.deny").click()
    console.wait_for("#queue-empty")
    assert denied_status() == "DENIED"


def test_resolve_a_report_by_deleting_the_message(stack, console):
    author, reporter = person(stack), person(stack)
    room = author.call("POST", "/chat/rooms", json={"name": "Reported"}).json()["id"]
    reporter.call("POST", f"/chat/rooms/{room}/join")
    author.call("POST", f"/chat/rooms/{room}/messages", json={"text": "before it"})
    message = author.call("POST", f"/chat/rooms/{room}/messages", json={"text": "buy followers now"}).json()
    author.call("POST", f"/chat/rooms/{room}/messages", json={"text": "after it"})
    assert reporter.call("POST", f"/chat/messages/{message['id']}/report", json={"reason": "spam"}).status_code == 201
    console.go("reports")
    card = console.wait_for("section.report")
    console.wait_until(lambda: "after it" in card.text)
    assert "before it" in card.text and card.find_element(By.CSS_SELECTOR, "li.reported").text.endswith(
        "buy followers now"
    )
    screenshot(console, "reports")
    card.find_element(By.CSS_SELECTOR, "button.delete-message").click()
    console.driver.switch_to.alert.accept()  # deleting asks first
    console.wait_for("#reports-empty")
    assert author.call("GET", f"/chat/messages/{message['id']}").status_code == 404


def test_ban_a_user_and_their_socket_is_dropped(stack, console):
    target = person(stack)
    listener = Listener(stack, target.token)
    try:
        console.go("users")
        console.find("#user-query").send_keys(target.user["email"])
        console.find("#user-search button").click()
        console.wait_until(lambda: len(console.all("#user-results tbody tr")) == 1)
        console.find(f'#user-results tr[data-id="{target.user["id"]}"] button.open').click()
        detail = console.wait_for("#user-detail section")
        assert "Make ADMIN" not in detail.text  # an ADMIN may not grant ADMIN
        screenshot(console, "users")
        detail.find_element(By.CSS_SELECTOR, "input[name=reason]").send_keys("Spam account")
        detail.find_element(By.CSS_SELECTOR, "button.ban").click()
        alert = console.driver.switch_to.alert
        assert "Ban" in alert.text
        alert.dismiss()  # thought better of it: nothing happens
        assert target.call("GET", "/users/me").status_code == 200 and console.text("#user-detail .banned") == "no"
        detail.find_element(By.CSS_SELECTOR, "button.ban").click()
        console.driver.switch_to.alert.accept()
        console.wait_until(lambda: console.text("#user-detail .banned") == "yes")
        assert wait_until(lambda: not listener.client.connected, timeout=10)
        assert target.call("GET", "/users/me").status_code == 403
    finally:
        listener.close()


def test_a_role_grant_asks_first_and_a_no_changes_nothing(stack, console):
    target = person(stack)
    console.go("users")
    console.find("#user-query").send_keys(target.user["email"])
    console.find("#user-search button").click()
    console.wait_until(lambda: len(console.all("#user-results tbody tr")) == 1)
    console.find(f'#user-results tr[data-id="{target.user["id"]}"] button.open').click()
    console.wait_for("#user-detail section")
    console.find('#user-detail button.set-role[data-role="ARTIST"]').click()
    alert = console.driver.switch_to.alert
    assert alert.text.startswith("Make ") and alert.text.endswith(" ARTIST?")
    alert.dismiss()
    assert target.call("GET", "/users/me").json()["role"] == "USER"
    console.find('#user-detail button.set-role[data-role="ARTIST"]').click()
    console.driver.switch_to.alert.accept()
    console.wait_until(lambda: console.text("#user-detail .role") == "ARTIST")
    assert target.call("GET", "/users/me").json()["role"] == "ARTIST"


def test_turn_off_the_two_factor_of_a_user_who_lost_it(stack, console):
    target = person(stack)
    secret = target.call("POST", "/auth/2fa/setup", json={"password": PASSWORD}).json()["secret"]
    enabled = target.call("POST", "/auth/2fa/enable", json={"code": pyotp.TOTP(secret).now()})
    assert enabled.status_code == 200
    console.go("users")
    console.find("#user-query").send_keys(target.user["email"])
    console.find("#user-search button").click()
    console.wait_until(lambda: len(console.all("#user-results tbody tr")) == 1)
    console.find(f'#user-results tr[data-id="{target.user["id"]}"] button.open').click()
    detail = console.wait_for("#user-detail section")
    assert console.text("#user-detail .two-factor") == "on"
    detail.find_element(By.CSS_SELECTOR, "button.reset-2fa").click()
    console.driver.switch_to.alert.accept()  # asks first
    console.wait_until(lambda: console.text("#user-detail .two-factor") == "off")
    assert target.call("GET", "/auth/2fa").json()["enabled"] is False


def test_purge_a_deleted_account_now(stack, console):
    target = person(stack)
    assert target.call("DELETE", "/users/me", json={"password": PASSWORD}).status_code == 202
    console.go("users")
    console.find("#user-query").send_keys(target.user["email"])
    console.find("#user-search button").click()
    row = f'#user-results tr[data-id="{target.user["id"]}"]'
    console.wait_until(lambda: console.text(f"{row} .state") == "deleted")
    console.find(f"{row} button.open").click()
    detail = console.wait_for("#user-detail section")
    assert "Ban" not in detail.text and console.text("#user-detail .purge-at") != "—"
    detail.find_element(By.CSS_SELECTOR, "button.purge").click()
    console.driver.switch_to.alert.accept()  # erasing for good asks first
    console.wait_until(lambda: not console.all(row))
    again = person(stack, email=target.user["email"])  # the address is free at once
    assert again.user["id"] != target.user["id"]


def test_watch_a_room_live_with_its_session_and_text_stays_text(stack, console):
    owner = person(stack)
    room = owner.call("POST", "/chat/rooms", json={"name": f"Live {uuid.uuid4().hex[:6]}"}).json()["id"]
    console.go("room")  # the room list is read when the page opens, after the room exists
    console.wait_for(f'#room-picker option[value="{room}"]').click()
    console.wait_until(lambda: console.text("#now-playing") == "Nothing is playing.")
    owner.call("POST", f"/chat/rooms/{room}/session")
    queued = owner.call("POST", f"/chat/rooms/{room}/session/queue", json={"trackRef": track(title="Teardrop")})
    assert queued.status_code == 201
    console.wait_until(lambda: console.text("#now-playing").startswith("Now playing: Teardrop"))

    sent = owner.call("POST", f"/chat/rooms/{room}/messages", json={"text": XSS}).json()
    line = console.wait_for(f'#live-messages li[data-id="{sent["id"]}"]')
    assert line.find_element(By.CSS_SELECTOR, ".text").text == XSS
    assert console.all("#live-messages img") == [] and console.driver.title == "seda console"
    screenshot(console, "live-room")
    line.find_element(By.CSS_SELECTOR, "button.delete").click()
    console.driver.switch_to.alert.accept()  # deleting asks first
    console.wait_until(lambda: not console.all(f'#live-messages li[data-id="{sent["id"]}"]'))
    assert owner.call("GET", f"/chat/messages/{sent['id']}").status_code == 404


# Each page but the queue, and what only that page shows.
PAGES_BESIDE_THE_QUEUE = {
    "reports": "#view h1",
    "users": "#user-search",
    "room": "#room-picker",
    "audit": "#audit",
    "stats": "#stats",
}


def test_every_page_opened_after_sign_in_stays_past_the_queues_refresh(stack, console):
    # Sign-in used to route twice: the first verification page's 10 s refresh was never
    # cleared and, 10 s later, replaced whatever page was open with the queue (#42). The queue's
    # refresh is the console's one timer (10 s): each page is watched past it.
    for page, marker in PAGES_BESIDE_THE_QUEUE.items():
        console.go(page)
        console.wait_for(marker)
        time.sleep(11)
        assert console.driver.execute_script("return location.hash") == f"#/{page}"
        assert console.all(marker), page


def test_revoke_an_invite_link_from_the_room_page(stack, console):
    owner = person(stack)
    room = owner.call("POST", "/chat/rooms", json={"name": f"Invites {uuid.uuid4().hex[:6]}"}).json()["id"]
    code = owner.call("POST", f"/chat/rooms/{room}/invites", json={"maxUses": 5}).json()["code"]
    console.go("room")
    console.wait_for(f'#room-picker option[value="{room}"]').click()
    link = console.wait_for(f'#room-invites li[data-code="{code}"]')
    assert "0/5 uses" in link.text
    link.find_element(By.CSS_SELECTOR, "button.revoke-invite").click()
    console.wait_until(lambda: not console.all(f'#room-invites li[data-code="{code}"]'))
    assert owner.call("GET", f"/invites/{code}").status_code == 404


def test_the_audit_log_and_the_overview(stack, console, admin):
    target = person(stack)
    assert admin.call("POST", f"/admin/users/{target.user['id']}/ban", json={"reason": "audited"}).ok
    console.go("audit")
    console.wait_until(lambda: "user.ban" in console.text("#audit"))
    screenshot(console, "audit")
    console.go("stats")
    chart = console.wait_for("#verification-chart")
    assert [t.text for t in chart.find_elements(By.CSS_SELECTOR, "text")][0] == "PENDING"
    stats = admin.call("GET", "/admin/stats").json()
    assert f"{stats['users']['total']}\nusers" in console.text("#stats")
    screenshot(console, "overview")


def test_the_console_works_on_the_embedded_default(browser, tmp_path):
    """SQLite, no Redis, tasks in process: what the README's first command starts."""
    database = f"sqlite:///{tmp_path / 'embedded.db'}"
    app = create_app(TestingConfig({"DATABASE_URL": database, "LOG_LEVEL": "ERROR"}))
    with app.app_context():
        upgrade()
    env = {
        "APP_ENV": "development",
        "DATABASE_URL": database,
        "REDIS_URL": "",
        "JWT_SECRET": "embedded-console-secret-" + "e" * 32,
        "LOG_LEVEL": "WARNING",
    }
    with gunicorn_server(env) as base:
        admin, owner = person(base), person(base)
        with sa.create_engine(database).begin() as conn:
            conn.execute(sa.text("UPDATE users SET role = 'ADMIN' WHERE email = :e"), {"e": admin.user["email"]})
        room = owner.call("POST", "/chat/rooms", json={"name": "Embedded"}).json()["id"]
        console = Browser(browser, base)
        console.sign_in(admin.user["email"], PASSWORD)
        console.wait_for("#nav:not([hidden])")
        console.go("room")
        console.wait_for(f'#room-picker option[value="{room}"]').click()
        console.wait_until(lambda: console.text("#now-playing") == "Nothing is playing.")
        sent = owner.call("POST", f"/chat/rooms/{room}/messages", json={"text": "hello from SQLite"}).json()
        line = console.wait_for(f'#live-messages li[data-id="{sent["id"]}"]')
        assert line.find_element(By.CSS_SELECTOR, ".text").text == "hello from SQLite"


def test_the_queue_refreshes_every_10_s_but_not_while_an_admin_is_typing(stack, origin, console):
    _artist, first, _code, _status = awaiting_review(stack, origin)
    console.go("verifications")
    reason = console.wait_for(f'section.verification[data-id="{first}"] input[name=reason]')
    reason.send_keys("Half a reason")
    _artist, second, _code, _status = awaiting_review(stack, origin)
    time.sleep(11)  # a refresh now would wipe what is typed
    assert reason.get_attribute("value") == "Half a reason"
    assert not console.all(f'section.verification[data-id="{second}"]')
    reason.clear()
    console.driver.execute_script("document.activeElement.blur()")
    console.wait_for(f'section.verification[data-id="{second}"]', timeout=15)
