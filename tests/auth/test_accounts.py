"""Sign-up, login, refresh rotation, logout and the password hashes behind them."""

import statistics
import time

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from seda.auth.models import RefreshToken
from seda.extensions import db
from seda.users.models import User
from tests.helpers.fixtures import PASSWORD, bearer

USER_KEYS = {
    "id",
    "email",
    "emailVerified",
    "pendingEmail",
    "twoFactorEnabled",
    "username",
    "displayName",
    "avatarUrl",
    "bio",
    "role",
    "createdAt",
    "banned",
    "artistProfile",
    "deleted",
}


def signup(client, email="Fan@Example.com", password="longenough", **extra):
    return client.post("/api/v1/auth/signup", json={"email": email, "password": password, **extra})


def stored_user(app, email):
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.email == email))


def test_signup_creates_the_account_and_a_session(client, app):
    response = signup(client, displayName="  DJ Fan  ")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"user", "accessToken", "refreshToken", "tokenType", "expiresIn"}
    assert body["tokenType"] == "Bearer" and body["expiresIn"] == 900
    assert set(body["user"]) == USER_KEYS
    assert body["user"]["email"] == "fan@example.com"
    assert body["user"]["displayName"] == "DJ Fan"
    assert body["user"]["role"] == "USER" and body["user"]["artistProfile"] is None
    assert body["user"]["createdAt"].endswith("Z")
    me = client.get("/api/v1/users/me", headers=bearer(body["accessToken"]))
    assert me.status_code == 200 and me.get_json()["id"] == body["user"]["id"]


def test_signup_with_an_artist_name_creates_an_unverified_profile(client):
    body = signup(client, artistName="The Band").get_json()
    profile = body["user"]["artistProfile"]
    assert profile["artistName"] == "The Band" and profile["verified"] is False
    assert profile["verifiedAt"] is None


def test_a_taken_email_is_a_409_whatever_its_case(client):
    assert signup(client).status_code == 201
    response = signup(client, email="FAN@example.COM")
    assert response.status_code == 409
    assert response.get_json()["message"] == ["Email already registered"]


@pytest.mark.parametrize(
    "lookalike",
    ["\uff26\uff41\uff4e@example.com", "Fan@\uff45xample.com", "FAN@EXAMPLE.COM", " fan@example.com "],
    ids=["fullwidth local part", "fullwidth domain", "upper case", "spaces"],
)
def test_an_email_that_only_looks_different_is_the_same_account(client, lookalike):
    assert signup(client).status_code == 201
    response = signup(client, email=lookalike)
    assert response.status_code == 409 and response.get_json()["message"] == ["Email already registered"]
    login = client.post("/api/v1/auth/login", json={"email": lookalike, "password": "longenough"})
    assert login.status_code == 200


@pytest.mark.parametrize(
    "body,message",
    [
        (
            {"email": "not-an-email", "password": "longenough"},
            "email: Not a valid email address: An email address must have an @-sign.",
        ),
        (
            {"email": "fan\u200b@example.com", "password": "longenough"},
            "email: Not a valid email address: The email address contains unsafe characters: ZERO WIDTH SPACE.",
        ),
        ({"email": "a@b.co", "password": "short"}, "password: Length must be between 8 and 128."),
        ({"email": "a@b.co", "password": "x" * 129}, "password: Length must be between 8 and 128."),
        ({"email": "a@b.co", "password": "longenough", "role": "ADMIN"}, "role: property should not exist"),
        (
            {"email": "a@b.co", "password": "longenough", "displayName": ""},
            "displayName: Length must be between 1 and 50.",
        ),
    ],
)
def test_signup_validation(client, body, message):
    response = client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 400
    assert message in response.get_json()["message"]


def test_passwords_are_argon2id_at_owasp_minimum_with_unique_salts(client, app):
    signup(client, email="a@example.com", password="same password")
    signup(client, email="b@example.com", password="same password")
    first, second = (stored_user(app, e).password_hash for e in ("a@example.com", "b@example.com"))
    assert first.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert first != second


def test_login_returns_a_session(client, users):
    user = users.make()
    response = client.post("/api/v1/auth/login", json={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 200
    assert response.get_json()["user"]["id"] == user.id


def test_unknown_email_and_wrong_password_get_the_same_answer(client, users):
    user = users.make()
    wrong = client.post("/api/v1/auth/login", json={"email": user.email, "password": "wrong password"})
    unknown = client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever1"})
    assert wrong.status_code == unknown.status_code == 401

    def strip(body):
        return {k: v for k, v in body.items() if k not in {"timestamp", "requestId"}}

    assert strip(wrong.get_json()) == strip(unknown.get_json())
    assert wrong.get_json()["message"] == ["Invalid email or password"]


def test_unknown_email_and_wrong_password_take_about_the_same_time(app_factory):
    app = app_factory(RATE_LIMIT_LOGIN_ACCOUNT="1000/minute", RATE_LIMIT_LOGIN_IP="1000/minute")
    from tests.helpers.fixtures import UserFactory

    user = UserFactory(app).make()
    client = app.test_client()

    def timed(email):
        started = time.perf_counter()
        client.post("/api/v1/auth/login", json={"email": email, "password": "wrong password"})
        return time.perf_counter() - started

    known = [timed(user.email) for _ in range(15)]
    unknown = [timed("ghost@example.com") for _ in range(15)]
    assert abs(statistics.median(known) - statistics.median(unknown)) < 0.05


def test_login_rehashes_a_password_stored_with_older_parameters(client, app, users):
    user = users.make()
    old_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with app.app_context():
        db.session.get(User, __import__("uuid").UUID(user.id)).password_hash = old_hash
        db.session.commit()
    assert client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200
    assert stored_user(app, user.email).password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_banned_accounts_cannot_log_in(client, users):
    user = users.make(banned=True)
    response = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert response.get_json()["message"] == ["Account suspended"]


def test_refresh_rotates_and_a_reused_token_revokes_the_family(client, app):
    app.config["REFRESH_REUSE_GRACE_SECONDS"] = 0  # the grace: tests/auth/test_refresh_grace.py
    first = signup(client).get_json()
    second = client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert second.status_code == 200
    second = second.get_json()
    assert second["refreshToken"] != first["refreshToken"]
    assert client.get("/api/v1/users/me", headers=bearer(second["accessToken"])).status_code == 200

    time.sleep(0.01)
    replay = client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert replay.status_code == 401
    # the thief's replay also kills the legitimate holder's newer token
    after = client.post("/api/v1/auth/refresh", json={"refreshToken": second["refreshToken"]})
    assert after.status_code == 401
    with app.app_context():
        rows = db.session.scalars(sa.select(RefreshToken)).all()
        assert len(rows) == 2 and all(row.revoked_at is not None for row in rows)


def test_logout_revokes_the_family(client):
    session = signup(client).get_json()
    response = client.post(
        "/api/v1/auth/logout", json={"refreshToken": session["refreshToken"]}, headers=bearer(session["accessToken"])
    )
    assert response.status_code == 204 and response.data == b""
    again = client.post("/api/v1/auth/refresh", json={"refreshToken": session["refreshToken"]})
    assert again.status_code == 401


def test_logout_of_someone_elses_token_is_refused(client):
    mine = signup(client, email="me@example.com").get_json()
    theirs = signup(client, email="them@example.com").get_json()
    response = client.post(
        "/api/v1/auth/logout", json={"refreshToken": theirs["refreshToken"]}, headers=bearer(mine["accessToken"])
    )
    assert response.status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refreshToken": theirs["refreshToken"]}).status_code == 200


def test_an_access_token_cannot_refresh(client):
    session = signup(client).get_json()
    response = client.post("/api/v1/auth/refresh", json={"refreshToken": session["accessToken"]})
    assert response.status_code == 401


def test_signup_is_limited_per_ip(app_factory):
    client = app_factory(RATE_LIMIT_SIGNUP="2/hour").test_client()
    statuses = [signup(client, email=f"s{i}@example.com").status_code for i in range(3)]
    assert statuses == [201, 201, 429]
    other_ip = client.post(
        "/api/v1/auth/signup",
        json={"email": "s9@example.com", "password": "longenough"},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert other_ip.status_code == 201


def test_behind_a_trusted_proxy_the_limit_is_per_forwarded_client(app_factory):
    client = app_factory(RATE_LIMIT_SIGNUP="1/hour", TRUSTED_PROXY_COUNT="1").test_client()

    def signup_from(client_ip, n):
        return client.post(
            "/api/v1/auth/signup",
            json={"email": f"p{n}@example.com", "password": "longenough"},
            headers={"X-Forwarded-For": client_ip},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy
        ).status_code

    assert [signup_from("203.0.113.7", 1), signup_from("203.0.113.8", 2), signup_from("203.0.113.7", 3)] == [
        201,
        201,
        429,
    ]


def test_without_trusted_proxies_a_forged_forwarded_header_changes_nothing(app_factory):
    client = app_factory(RATE_LIMIT_SIGNUP="1/hour").test_client()
    statuses = [
        client.post(
            "/api/v1/auth/signup",
            json={"email": f"f{n}@example.com", "password": "longenough"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        ).status_code
        for n in range(2)
    ]
    assert statuses == [201, 429]


def test_login_is_limited_per_account_even_for_the_right_password(app_factory):
    app = app_factory()
    from tests.helpers.fixtures import UserFactory

    user = UserFactory(app).make()
    client = app.test_client()
    wrong = [
        client.post(
            "/api/v1/auth/login",
            json={"email": user.email, "password": "nope nope"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
        ).status_code
        for i in range(6)
    ]
    assert wrong == [401] * 5 + [429]
    right = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0


def test_login_is_limited_per_ip_across_accounts(app_factory):
    client = app_factory(RATE_LIMIT_LOGIN_IP="3/minute").test_client()
    statuses = [
        client.post("/api/v1/auth/login", json={"email": f"x{i}@example.com", "password": "whatever1"}).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
