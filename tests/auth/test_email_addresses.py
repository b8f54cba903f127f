"""Proving an address and moving an account to another (API.md §12), through the mail a user
receives: the signup link verifies, a resend adds a link without killing the earlier ones, an
email change takes effect only when its link is used, and every stale link answers 400."""

from datetime import timedelta

import sqlalchemy as sa
import time_machine

from seda.common.db import utcnow
from seda.extensions import db
from seda.users.services import find_by_email
from tests.helpers.mail import mails_to, token_in

VERIFY = "Confirm your email for seda"
NEW_EMAIL = "Confirm your new email for seda"
CHANGED = "Your seda email address was changed"


def signup(client, email="ada@example.com", password="long enough"):
    response = client.post("/api/v1/auth/signup", json={"email": email, "password": password})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return {"Authorization": f"Bearer {body['accessToken']}"}, body["user"]


def verify(client, token):
    response = client.post("/api/v1/auth/email/verify", json={"token": token})
    return response.status_code, response.get_json()


def me(client, headers):
    return client.get("/api/v1/users/me", headers=headers).get_json()


def test_signup_mails_a_link_that_verifies_the_address_and_works_again_while_valid(app, client):
    headers, user = signup(client)
    assert (user["emailVerified"], user["pendingEmail"]) == (False, None)
    [mail] = mails_to(app, "ada@example.com", VERIFY)
    token = token_in(mail)
    assert len(token) >= 43 and "http://localhost:3000/verify-email?token=" in mail.get_content()
    assert verify(client, token) == (200, {"email": "ada@example.com", "emailVerified": True})
    assert verify(client, token) == (200, {"email": "ada@example.com", "emailVerified": True})  # a second click
    assert me(client, headers)["emailVerified"] is True


def test_a_resend_adds_a_link_and_the_earlier_one_still_works(app, client):
    headers, _ = signup(client)
    response = client.post("/api/v1/auth/email/verification", headers=headers)
    assert (response.status_code, response.get_json()) == (202, {"message": "Verification email sent"})
    first, second = (token_in(mail) for mail in mails_to(app, "ada@example.com", VERIFY))
    assert first != second
    assert verify(client, first)[0] == 200
    again = client.post("/api/v1/auth/email/verification", headers=headers)
    assert (again.status_code, again.get_json()["message"]) == (409, ["Email already verified"])


def test_unknown_and_expired_tokens_are_400_and_the_check_counts_only_the_hash(app, client):
    signup(client)
    token = token_in(mails_to(app, "ada@example.com", VERIFY)[0])
    status, body = verify(client, "x" * 43)
    assert (status, body["message"]) == (400, ["Invalid or expired token"])
    with time_machine.travel(utcnow() + timedelta(hours=24, seconds=1), tick=False):
        assert verify(client, token)[1]["message"] == ["Invalid or expired token"]
    with app.app_context():
        stored = db.session.execute(sa.text("SELECT token_hash FROM account_tokens")).scalars().all()
    assert token not in stored and all(len(value) == 64 for value in stored)


def test_an_email_change_takes_effect_when_the_new_address_link_is_used(app, client):
    headers, _ = signup(client)
    response = client.post(
        "/api/v1/auth/email/change",
        headers=headers,
        json={"newEmail": "Ada.New@Example.com", "password": "long enough"},
    )
    assert (response.status_code, response.get_json()) == (202, {"pendingEmail": "ada.new@example.com"})
    assert me(client, headers)["email"] == "ada@example.com"  # nothing changes before the link
    token = token_in(mails_to(app, "ada.new@example.com", NEW_EMAIL)[0])
    assert verify(client, token) == (200, {"email": "ada.new@example.com", "emailVerified": True})
    user = me(client, headers)
    assert (user["email"], user["emailVerified"], user["pendingEmail"]) == ("ada.new@example.com", True, None)
    [changed] = mails_to(app, "ada@example.com", CHANGED)
    assert "ada.new@example.com" in changed.get_content()
    assert verify(client, token)[0] == 200  # a second click changes nothing
    assert len(mails_to(app, "ada@example.com", CHANGED)) == 1
    old_login = client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "long enough"})
    new_login = client.post("/api/v1/auth/login", json={"email": "ada.new@example.com", "password": "long enough"})
    assert (old_login.status_code, new_login.status_code) == (401, 200)
    old_signup_link = token_in(mails_to(app, "ada@example.com", VERIFY)[0])
    assert verify(client, old_signup_link)[0] == 400  # it proved the address the account left


def test_a_newer_change_request_or_a_cancel_kills_the_pending_link(app, client):
    headers, _ = signup(client)
    for address in ("one@example.com", "two@example.com"):
        body = {"newEmail": address, "password": "long enough"}
        assert client.post("/api/v1/auth/email/change", headers=headers, json=body).status_code == 202
    first = token_in(mails_to(app, "one@example.com", NEW_EMAIL)[0])
    second = token_in(mails_to(app, "two@example.com", NEW_EMAIL)[0])
    assert verify(client, first)[1]["message"] == ["Invalid or expired token"]
    assert client.delete("/api/v1/auth/email/change", headers=headers).status_code == 204
    assert client.delete("/api/v1/auth/email/change", headers=headers).status_code == 204  # idempotent
    assert verify(client, second)[0] == 400
    assert me(client, headers)["pendingEmail"] is None


def test_email_change_refusals_come_in_the_contracts_order(app_factory):
    client = app_factory(RATE_LIMIT_MAIL="100/hour").test_client()
    headers, _ = signup(client)
    signup(client, "taken@example.com")

    def change(new_email, password="long enough"):
        response = client.post(
            "/api/v1/auth/email/change", headers=headers, json={"newEmail": new_email, "password": password}
        )
        return response.status_code, response.get_json()["message"]

    assert change("not an email")[0] == 400
    assert change("ada@example.com") == (400, ["newEmail: must differ from the current email"])
    assert change("taken@example.com", "wrong password") == (409, ["Email already registered"])
    assert change("free@example.com", "wrong password") == (403, ["Incorrect password"])


def test_the_new_address_taken_meanwhile_is_409_and_drops_the_pending_change(app, client):
    headers, _ = signup(client)
    body = {"newEmail": "wanted@example.com", "password": "long enough"}
    assert client.post("/api/v1/auth/email/change", headers=headers, json=body).status_code == 202
    token = token_in(mails_to(app, "wanted@example.com", NEW_EMAIL)[0])
    signup(client, "wanted@example.com")
    status, body = verify(client, token)
    assert (status, body["message"]) == (409, ["Email already registered"])
    assert me(client, headers)["pendingEmail"] is None


def test_an_unverified_account_may_chat_but_not_ask_for_artist_verification(app, client):
    headers, _ = signup(client)
    response = client.post("/api/v1/artist/verification/request", headers=headers)
    assert (response.status_code, response.get_json()["message"]) == (403, ["Verify your email first"])
    assert client.post("/api/v1/chat/rooms", headers=headers, json={"name": "Mine"}).status_code == 201
    verify(client, token_in(mails_to(app, "ada@example.com", VERIFY)[0]))
    assert client.post("/api/v1/artist/verification/request", headers=headers).status_code == 201


def test_an_account_created_by_the_cli_is_verified(app):
    result = app.test_cli_runner().invoke(
        args=["seda", "create-admin", "--email", "root@example.com", "--password", "long enough"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert find_by_email("root@example.com").email_verified is True
