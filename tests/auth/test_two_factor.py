"""Two-factor authentication (API.md §12): TOTP codes from any authenticator (pyotp here),
each step accepted once, recovery codes, the login challenge, and the admin's reset."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine

from seda.extensions import db
from seda.users.models import Role
from seda.users.services import find_by_email
from tests.helpers.mail import mails_to

NOW = datetime(2026, 12, 7, 12, 0, 5, tzinfo=UTC)
ON = "Two-factor authentication was turned on for your seda account"
OFF = "Two-factor authentication was turned off for your seda account"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class Person:
    def __init__(self, client, email="ada@example.com", password="long enough"):
        self.client, self.email, self.password = client, email, password
        body = client.post("/api/v1/auth/signup", json={"email": email, "password": password}).get_json()
        self.token = body["accessToken"]

    def call(self, method, path, **kwargs):
        response = self.client.open(f"/api/v1{path}", method=method, headers=bearer(self.token), **kwargs)
        return response.status_code, response.get_json(silent=True)

    def enable(self, traveller):
        status, setup = self.call("POST", "/auth/2fa/setup", json={"password": self.password})
        assert status == 200, setup
        self.totp = pyotp.TOTP(setup["secret"])
        status, body = self.call("POST", "/auth/2fa/enable", json={"code": self.code()})
        assert status == 200, body
        traveller.shift(timedelta(seconds=30))  # the next check needs the next step's code
        return body["recoveryCodes"]

    def code(self):
        return self.totp.at(datetime.now(UTC))

    def login(self):
        response = self.client.post("/api/v1/auth/login", json={"email": self.email, "password": self.password})
        return response.status_code, response.get_json()


@pytest.fixture
def app(app_factory):
    """Logins and answers to challenges count toward the account's login limit: lifted here,
    where time stands still, except in the test of that limit."""
    return app_factory(RATE_LIMIT_LOGIN_ACCOUNT="1000/minute")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_setup_gives_a_secret_any_authenticator_reads_and_enable_turns_it_on(app, client, clock):
    ada = Person(client)
    status, setup = ada.call("POST", "/auth/2fa/setup", json={"password": "long enough"})
    assert status == 200 and re.fullmatch(r"[A-Z2-7]{32}", setup["secret"])
    assert setup["otpauthUri"] == (
        f"otpauth://totp/seda:ada%40example.com?secret={setup['secret']}&issuer=seda&algorithm=SHA1&digits=6&period=30"
    )
    assert ada.call("GET", "/auth/2fa")[1] == {"enabled": False, "enabledAt": None, "recoveryCodesLeft": 0}
    assert ada.call("POST", "/auth/2fa/enable", json={"code": "000000"})[1]["message"] == ["Invalid two-factor code"]
    status, body = ada.call("POST", "/auth/2fa/enable", json={"code": pyotp.TOTP(setup["secret"]).now()})
    assert status == 200 and len(body["recoveryCodes"]) == 10
    assert all(re.fullmatch(r"[a-z2-7]{5}-[a-z2-7]{5}", code) for code in body["recoveryCodes"])
    state = ada.call("GET", "/auth/2fa")[1]
    assert state["enabled"] is True and state["recoveryCodesLeft"] == 10 and state["enabledAt"]
    assert ada.call("GET", "/users/me")[1]["twoFactorEnabled"] is True
    assert len(mails_to(app, "ada@example.com", ON)) == 1
    assert ada.call("POST", "/auth/2fa/setup", json={"password": "long enough"})[0] == 409


def test_a_login_of_a_two_factor_account_needs_a_code_and_each_step_counts_once(client, clock):
    ada = Person(client)
    ada.enable(clock)
    status, challenge = ada.login()
    assert status == 200 and set(challenge) == {"mfaRequired", "mfaToken", "expiresIn"}
    assert challenge["mfaRequired"] is True and challenge["expiresIn"] == 300
    assert client.get("/api/v1/users/me", headers=bearer(challenge["mfaToken"])).status_code == 401
    code = ada.code()
    verified = client.post("/api/v1/auth/2fa/verify", json={"mfaToken": challenge["mfaToken"], "code": code})
    assert verified.status_code == 200 and set(verified.get_json()) >= {"accessToken", "refreshToken", "user"}
    spent = client.post("/api/v1/auth/2fa/verify", json={"mfaToken": challenge["mfaToken"], "code": code})
    assert (spent.status_code, spent.get_json()["message"]) == (401, ["Invalid or expired token"])
    replay = client.post("/api/v1/auth/2fa/verify", json={"mfaToken": ada.login()[1]["mfaToken"], "code": code})
    assert (replay.status_code, replay.get_json()["message"]) == (401, ["Invalid two-factor code"])


def test_a_challenge_dies_after_five_wrong_codes(client, clock):
    ada = Person(client)
    ada.enable(clock)
    token = ada.login()[1]["mfaToken"]
    for _ in range(5):
        wrong = client.post("/api/v1/auth/2fa/verify", json={"mfaToken": token, "code": "123456"})
        assert wrong.get_json()["message"] == ["Invalid two-factor code"]
    right = client.post("/api/v1/auth/2fa/verify", json={"mfaToken": token, "code": ada.code()})
    assert (right.status_code, right.get_json()["message"]) == (401, ["Invalid or expired token"])


def test_a_challenge_expires_after_five_minutes(client, clock):
    ada = Person(client)
    ada.enable(clock)
    token = ada.login()[1]["mfaToken"]
    clock.shift(timedelta(minutes=5, seconds=1))
    late = client.post("/api/v1/auth/2fa/verify", json={"mfaToken": token, "code": ada.code()})
    assert late.get_json()["message"] == ["Invalid or expired token"]


def test_a_recovery_code_works_once_in_any_case_with_or_without_its_dash(client, clock):
    ada = Person(client)
    codes = ada.enable(clock)
    for given in (f"  {codes[0].upper()} ", codes[1].replace("-", "")):
        answer = client.post("/api/v1/auth/2fa/verify", json={"mfaToken": ada.login()[1]["mfaToken"], "code": given})
        assert answer.status_code == 200, answer.get_json()
    again = client.post("/api/v1/auth/2fa/verify", json={"mfaToken": ada.login()[1]["mfaToken"], "code": codes[0]})
    assert again.get_json()["message"] == ["Invalid two-factor code"]
    assert ada.call("GET", "/auth/2fa")[1]["recoveryCodesLeft"] == 8


def test_new_recovery_codes_replace_the_old_ones(client, clock):
    ada = Person(client)
    old = ada.enable(clock)
    status, body = ada.call("POST", "/auth/2fa/recovery-codes", json={"password": "long enough", "code": ada.code()})
    assert status == 200 and set(body["recoveryCodes"]).isdisjoint(old)
    dead = client.post("/api/v1/auth/2fa/verify", json={"mfaToken": ada.login()[1]["mfaToken"], "code": old[0]})
    assert dead.status_code == 401


def test_disable_needs_the_password_and_a_fresh_code(app, client, clock):
    ada = Person(client)
    codes = ada.enable(clock)

    def disable(password, code):
        return ada.call("POST", "/auth/2fa/disable", json={"password": password, "code": code})

    status, body = disable("wrong password", ada.code())
    assert (status, body["message"]) == (403, ["Incorrect password"])
    assert disable("long enough", "000000")[1]["message"] == ["Invalid two-factor code"]
    assert disable("long enough", codes[0])[0] == 204
    assert ada.call("GET", "/auth/2fa")[1]["enabled"] is False
    assert disable("long enough", codes[1])[1]["message"] == ["Two-factor authentication is not enabled"]
    assert ada.login()[1].keys() >= {"accessToken"}
    assert len(mails_to(app, "ada@example.com", OFF)) == 1


def test_one_code_given_to_two_challenges_at_once_opens_one_session(app, client, clock):
    ada = Person(client)
    ada.enable(clock)
    tokens, code = [ada.login()[1]["mfaToken"] for _ in range(4)], ada.code()

    def verify(token):
        return app.test_client().post("/api/v1/auth/2fa/verify", json={"mfaToken": token, "code": code}).status_code

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(verify, tokens)) == [200, 401, 401, 401]


def test_an_admin_turns_off_the_two_factor_of_a_user_who_lost_it(app, client, users, clock):
    ada = Person(client)
    ada.enable(clock)
    admin = users.make(role=Role.ADMIN)
    user_id = ada.call("GET", "/users/me")[1]["id"]
    reset = client.delete(f"/api/v1/admin/users/{user_id}/2fa", headers=admin.headers)
    assert reset.status_code == 204
    assert ada.login()[1].keys() >= {"accessToken"}
    again = client.delete(f"/api/v1/admin/users/{user_id}/2fa", headers=admin.headers)
    assert (again.status_code, again.get_json()["message"]) == (409, ["Two-factor authentication is not enabled"])
    actions = client.get("/api/v1/admin/actions", headers=admin.headers).get_json()
    assert [a["action"] for a in actions if a["targetId"] == user_id] == ["user.2fa_reset"]
    assert len(mails_to(app, "ada@example.com", OFF)) == 1


def test_admin_require_2fa_keeps_admins_without_it_out_of_the_admin_routes(app_factory, clock):
    app = app_factory(ADMIN_REQUIRE_2FA="true", ADMIN_API_KEY="k" * 40)
    client = app.test_client()
    ada = Person(client)
    with app.app_context():
        find_by_email("ada@example.com").role = Role.ADMIN
        db.session.commit()
    refused = client.get("/api/v1/admin/users", headers=bearer(ada.token))
    assert (refused.status_code, refused.get_json()["message"]) == (403, ["Two-factor authentication required"])
    assert client.get("/api/v1/admin/users", headers={"X-Admin-Api-Key": "k" * 40}).status_code == 200
    ada.enable(clock)
    assert client.get("/api/v1/admin/users", headers=bearer(ada.token)).status_code == 200


def test_answers_to_a_challenge_count_toward_the_accounts_login_limit(app_factory, clock):
    client = app_factory(RATE_LIMIT_LOGIN_ACCOUNT="4/minute").test_client()
    ada = Person(client)
    ada.enable(clock)  # no login yet: the password checks of setup were right
    token = ada.login()[1]["mfaToken"]  # 1
    for _ in range(2):  # 2, 3
        client.post("/api/v1/auth/2fa/verify", json={"mfaToken": token, "code": "000000"})
    assert ada.login()[0] == 200  # 4
    refused = client.post("/api/v1/auth/2fa/verify", json={"mfaToken": token, "code": ada.code()})
    assert refused.status_code == 429
