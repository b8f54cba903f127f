"""Getting back in (API.md §12): a forgotten password reset through the mailed link, a
password changed while signed in; both sign every device out, at once, sockets included."""

import time
from concurrent.futures import ThreadPoolExecutor

from tests.helpers.chat import events
from tests.helpers.mail import mails_to, token_in

RESET = "Reset your seda password"
CHANGED = "Your seda password was changed"
ANSWER = {"message": "If an account uses that address, a reset link is on its way"}


def signup(client, email="ada@example.com", password="long enough"):
    body = client.post("/api/v1/auth/signup", json={"email": email, "password": password}).get_json()
    return body


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def forgot(client, email):
    response = client.post("/api/v1/auth/password/forgot", json={"email": email})
    return response.status_code, response.get_json()


def reset(client, token, password="brand new password"):
    return client.post("/api/v1/auth/password/reset", json={"token": token, "password": password}).status_code


def login(client, email="ada@example.com", password="long enough"):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def test_forgot_answers_the_same_for_every_address_and_mails_only_a_real_account(app, client, users):
    signup(client)
    banned = users.make(banned=True)
    for email in ("ada@example.com", "nobody@example.com", banned.email):
        assert forgot(client, email) == (202, ANSWER)
    assert len(mails_to(app, "ada@example.com", RESET)) == 1
    assert mails_to(app, "nobody@example.com") == [] and mails_to(app, banned.email) == []
    status, body = forgot(client, "not an address")
    assert status == 400


def test_a_reset_sets_the_password_verifies_the_address_and_signs_every_device_out(app, client):
    first = signup(client)
    second = login(client).get_json()
    forgot(client, "ada@example.com")
    forgot(client, "ada@example.com")
    earlier, token = (token_in(mail) for mail in mails_to(app, "ada@example.com", RESET))
    assert reset(client, token) == 204
    for session in (first, second):
        response = client.get("/api/v1/users/me", headers=bearer(session["accessToken"]))
        assert (response.status_code, response.get_json()["message"]) == (401, ["Invalid authentication token"])
        assert client.post("/api/v1/auth/refresh", json={"refreshToken": session["refreshToken"]}).status_code == 401
    assert login(client).status_code == 401
    fresh = login(client, password="brand new password")
    assert fresh.status_code == 200 and fresh.get_json()["user"]["emailVerified"] is True
    assert reset(client, token) == 400  # spent
    assert reset(client, earlier) == 400  # every other outstanding link died with it
    assert len(mails_to(app, "ada@example.com", CHANGED)) == 1


def test_a_reset_body_that_fails_validation_spends_nothing(app, client):
    signup(client)
    forgot(client, "ada@example.com")
    token = token_in(mails_to(app, "ada@example.com", RESET)[0])
    assert reset(client, token, "short") == 400
    assert reset(client, token) == 204


def test_one_reset_token_used_by_many_requests_at_once_succeeds_exactly_once(app, client):
    signup(client)
    forgot(client, "ada@example.com")
    token = token_in(mails_to(app, "ada@example.com", RESET)[0])
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda n: reset(app.test_client(), token, f"password number {n}"), range(6)))
    assert sorted(statuses) == [204] + [400] * 5
    assert len(mails_to(app, "ada@example.com", CHANGED)) == 1


def test_a_password_change_signs_every_other_device_out_and_gives_the_caller_a_new_one(app, client, socket_for):
    first = signup(client)
    other = login(client).get_json()
    sock = socket_for(None, token=other["accessToken"])
    assert sock.is_connected("/chat")
    wrong = client.post(
        "/api/v1/auth/password/change",
        headers=bearer(first["accessToken"]),
        json={"currentPassword": "not it", "newPassword": "brand new password"},
    )
    assert (wrong.status_code, wrong.get_json()["message"]) == (403, ["Incorrect password"])
    changed = client.post(
        "/api/v1/auth/password/change",
        headers=bearer(first["accessToken"]),
        json={"currentPassword": "long enough", "newPassword": "brand new password"},
    )
    assert changed.status_code == 200
    session = changed.get_json()
    assert set(session) == {"user", "accessToken", "refreshToken", "tokenType", "expiresIn"}
    assert client.get("/api/v1/users/me", headers=bearer(session["accessToken"])).status_code == 200
    for old in (first, other):
        assert client.get("/api/v1/users/me", headers=bearer(old["accessToken"])).status_code == 401
    assert ("signed_out", [{"reason": "PASSWORD_CHANGED"}]) in events(sock, "signed_out")
    deadline = time.monotonic() + 2
    while sock.is_connected("/chat") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sock.is_connected("/chat")
    assert len(mails_to(app, "ada@example.com", CHANGED)) == 1


def test_a_socket_cannot_connect_with_a_signed_out_devices_token(app, client, socket_for):
    first = signup(client)
    client.post(
        "/api/v1/auth/password/change",
        headers=bearer(first["accessToken"]),
        json={"currentPassword": "long enough", "newPassword": "brand new password"},
    )
    sock = socket_for(None, token=first["accessToken"])
    assert not sock.is_connected("/chat")


def test_logout_signs_its_device_out_and_leaves_the_others(app, client):
    first = signup(client)
    other = login(client).get_json()
    response = client.post(
        "/api/v1/auth/logout", headers=bearer(first["accessToken"]), json={"refreshToken": first["refreshToken"]}
    )
    assert response.status_code == 204
    assert client.get("/api/v1/users/me", headers=bearer(first["accessToken"])).status_code == 401
    assert client.get("/api/v1/users/me", headers=bearer(other["accessToken"])).status_code == 200


def test_wrong_passwords_given_to_a_signed_in_route_count_toward_the_login_limit(app_factory):
    client = app_factory(RATE_LIMIT_LOGIN_ACCOUNT="3/minute").test_client()
    session = signup(client)
    for _ in range(3):
        wrong = client.post(
            "/api/v1/auth/password/change",
            headers=bearer(session["accessToken"]),
            json={"currentPassword": "not it", "newPassword": "brand new password"},
        )
        assert wrong.status_code == 403
    refused = login(client)  # the three guesses used up the account's attempts
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
