"""Every forged, expired or misplaced token is a 401; Supabase tokens are accepted as configured."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import sqlalchemy as sa
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from seda.auth.tokens import JwksKeys, issue_refresh_token
from seda.common.errors import Unauthorized
from seda.extensions import db, socketio
from seda.users.models import User
from tests.helpers.fixtures import UserFactory, bearer

SUPABASE_URL = "https://project.supabase.co"
SUPABASE_ISSUER = SUPABASE_URL + "/auth/v1"
SUPABASE_SECRET = "supabase-legacy-jwt-secret-0123456789abcdef"
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def seda_claims(app, user_id, **overrides):
    claims = {
        "iss": "seda",
        "aud": "seda",
        "sub": user_id,
        "typ": "access",
        "iat": NOW,
        "exp": NOW + timedelta(minutes=15),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims, key, algorithm="HS256", headers=None):
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def status_with(client, token):
    return client.get("/api/v1/users/me", headers=bearer(token)).status_code


@pytest.fixture
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def jwks_server(httpserver, ec_key):
    public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    public_jwk.update({"kid": "key-1", "alg": "ES256", "use": "sig"})
    httpserver.expect_request("/auth/v1/.well-known/jwks.json").respond_with_json({"keys": [public_jwk]})
    return httpserver, public_jwk


@pytest.fixture
def supabase_app(app_factory, jwks_server):
    server, _ = jwks_server
    return app_factory(
        SUPABASE_URL=SUPABASE_URL,
        SUPABASE_JWT_SECRET=SUPABASE_SECRET,
        SUPABASE_JWKS_URL=server.url_for("/auth/v1/.well-known/jwks.json"),
    )


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_no_token_is_missing_and_garbage_is_invalid(client):
    missing = client.get("/api/v1/users/me")
    assert missing.status_code == 401
    assert missing.get_json()["message"] == ["Missing authentication token"]
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    for header in ("Bearer", "Bearer garbage", "Basic dXNlcjpwdw==", "Bearer a.b.c", "Token x"):
        response = client.get("/api/v1/users/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.get_json()["message"] == ["Invalid authentication token"]
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_well_signed_token_past_its_exp_says_so_and_a_forged_old_one_does_not(app, client, users, frozen):
    user = users.make()
    old = seda_claims(app, user.id, exp=NOW - timedelta(minutes=5))
    expired = client.get("/api/v1/users/me", headers=bearer(sign(old, app.config["JWT_SECRET"])))
    assert (expired.status_code, expired.get_json()["message"]) == (401, ["Authentication token expired"])
    assert expired.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    forged = client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {sign(old, 'not-the-secret-' + 'z' * 30)}"}
    )
    assert forged.get_json()["message"] == ["Invalid authentication token"]  # no oracle for a forger


def test_a_refresh_token_past_its_exp_means_signing_in_again_not_refreshing(app, client, users):
    user = users.make()
    with time_machine.travel(datetime.now(UTC) - timedelta(days=60)):
        old = issue_refresh_token(app.config["JWT_SECRET"], user.id, uuid.uuid4())
    response = client.post("/api/v1/auth/refresh", json={"refreshToken": old})
    assert (response.status_code, response.get_json()["message"]) == (401, ["Invalid authentication token"])


def test_a_socket_with_an_expired_token_is_told_to_refresh(app, users, frozen):
    user = users.make()
    token = sign(seda_claims(app, user.id, exp=NOW - timedelta(minutes=5)), app.config["JWT_SECRET"])
    assert not socketio.test_client(app, namespace="/chat", auth={"token": token}).is_connected("/chat")
    # What the refusal says (`Token expired`) reaches a real client: tests/chat/test_multiprocess.py.


def test_a_valid_seda_token_is_accepted(app, client, users, frozen):
    user = users.make()
    assert status_with(client, sign(seda_claims(app, user.id), app.config["JWT_SECRET"])) == 200


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_rejected(app, client, users, alg):
    user = users.make()
    claims = seda_claims(app, user.id, iat=int(time.time()), exp=int(time.time()) + 600)
    token = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}."
    assert status_with(client, token) == 401


def test_bad_signature_and_tampered_claims_are_rejected(app, client, users, frozen):
    victim, attacker = users.make(), users.make()
    good = sign(seda_claims(app, attacker.id), app.config["JWT_SECRET"])
    assert status_with(client, sign(seda_claims(app, attacker.id), "another-secret-" + "y" * 30)) == 401
    header, _payload, signature = good.split(".")
    claims = seda_claims(app, victim.id, iat=int(NOW.timestamp()), exp=int(NOW.timestamp()) + 900)
    tampered = f"{header}.{b64(claims)}.{signature}"
    assert status_with(client, tampered) == 401


def test_expiry_has_a_30_second_leeway(app, client, users, frozen):
    user = users.make()
    secret = app.config["JWT_SECRET"]
    assert status_with(client, sign(seda_claims(app, user.id, exp=NOW - timedelta(seconds=10)), secret)) == 200
    assert status_with(client, sign(seda_claims(app, user.id, exp=NOW - timedelta(seconds=31)), secret)) == 401


def test_an_access_token_expires_after_15_minutes(app, client, users):
    user = users.make()
    with time_machine.travel(NOW, tick=False) as traveller:
        token = client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": "correct horse battery"}
        ).get_json()["accessToken"]
        traveller.shift(timedelta(minutes=15, seconds=25))
        assert status_with(client, token) == 200
        traveller.shift(timedelta(seconds=10))
        assert status_with(client, token) == 401


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": None},
        {"nbf": NOW + timedelta(seconds=120)},
        {"iat": NOW + timedelta(seconds=120)},
        {"aud": "authenticated"},
        {"aud": None},
        {"iss": "someone-else"},
        {"iss": SUPABASE_ISSUER},
        {"typ": "refresh"},
        {"typ": None},
        {"sub": None},
    ],
    ids=[
        "no-exp",
        "future-nbf",
        "future-iat",
        "wrong-aud",
        "no-aud",
        "unknown-iss",
        "supabase-iss",
        "refresh-as-access",
        "no-typ",
        "no-sub",
    ],
)
def test_claims_that_do_not_fit_are_rejected(app, client, users, frozen, overrides):
    user = users.make()
    assert status_with(client, sign(seda_claims(app, user.id, **overrides), app.config["JWT_SECRET"])) == 401


def test_a_seda_refresh_token_is_not_an_access_token(client):
    session = client.post("/api/v1/auth/signup", json={"email": "r@example.com", "password": "longenough"}).get_json()
    assert status_with(client, session["refreshToken"]) == 401


def test_asymmetric_algorithms_are_refused_for_seda_tokens(app, client, users, frozen, ec_key):
    user = users.make()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert status_with(client, sign(seda_claims(app, user.id), rsa_key, "RS256")) == 401
    assert status_with(client, sign(seda_claims(app, user.id), ec_key, "ES256")) == 401


def test_keys_named_by_the_token_are_never_fetched_or_used(app, client, users, frozen, httpserver):
    user = users.make()
    attacker = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(attacker.public_key()))
    httpserver.expect_request("/jwks.json").respond_with_json({"keys": [jwk]})
    for header in ({"jwk": jwk}, {"jku": httpserver.url_for("/jwks.json")}, {"x5u": httpserver.url_for("/jwks.json")}):
        assert status_with(client, sign(seda_claims(app, user.id), attacker, "ES256", header)) == 401
    assert len(httpserver.log) == 0


def test_the_token_in_the_query_string_is_ignored(app, client, users, frozen):
    user = users.make()
    token = sign(seda_claims(app, user.id), app.config["JWT_SECRET"])
    for name in ("access_token", "token"):
        response = client.get(f"/api/v1/users/me?{name}={token}")
        assert response.status_code in (400, 401)  # never 200
        assert response.status_code != 200


def test_a_deleted_or_banned_user_token_is_refused(app, client, users, frozen):
    gone, banned = users.make(), users.make(banned=True)
    with app.app_context():
        db.session.execute(sa.delete(User).where(User.email == gone.email))
        db.session.commit()
    assert status_with(client, gone.token) == 401
    response = client.get("/api/v1/users/me", headers=banned.headers)
    assert response.status_code == 403 and response.get_json()["message"] == ["Account suspended"]


# -- Supabase ------------------------------------------------------------------------------


def supabase_claims(sub="sb-user-1", **overrides):
    claims = {
        "iss": SUPABASE_ISSUER,
        "aud": "authenticated",
        "sub": sub,
        "role": "authenticated",
        "email": "Listener@Example.com",
        "iat": NOW,
        "exp": NOW + timedelta(hours=1),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_first_sight_of_a_supabase_token_creates_the_user(supabase_app, frozen):
    client = supabase_app.test_client()
    token = sign(supabase_claims(), SUPABASE_SECRET)
    first = client.get("/api/v1/users/me", headers=bearer(token))
    assert first.status_code == 200
    body = first.get_json()
    assert body["email"] == "listener@example.com" and body["role"] == "USER"
    again = client.get("/api/v1/users/me", headers=bearer(token)).get_json()
    assert again["id"] == body["id"]
    with supabase_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_a_supabase_token_links_to_an_account_with_the_same_email(supabase_app, frozen):
    existing = UserFactory(supabase_app).make(email="listener@example.com")
    client = supabase_app.test_client()
    body = client.get("/api/v1/users/me", headers=bearer(sign(supabase_claims(), SUPABASE_SECRET))).get_json()
    assert body["id"] == existing.id


def test_supabase_es256_tokens_are_verified_with_the_jwks(supabase_app, ec_key, frozen):
    client = supabase_app.test_client()
    token = sign(supabase_claims(sub="sb-es"), ec_key, "ES256", {"kid": "key-1"})
    assert status_with(client, token) == 200


def hs256_by_hand(claims, secret, kid):
    """PyJWT refuses to HMAC-sign with a PEM key, so the attacker's token is built by hand."""
    encoded = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64(encoded)}"
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def test_hs256_signed_with_the_jwks_public_key_is_rejected(supabase_app, ec_key, jwks_server, frozen):
    _, public_jwk = jwks_server
    client = supabase_app.test_client()
    pem = ec_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for secret in (pem, json.dumps(public_jwk).encode()):
        assert status_with(client, hs256_by_hand(supabase_claims(sub="sb-confused"), secret, "key-1")) == 401
    # the same construction with the real secret passes, so the 401s above are about the key
    assert status_with(client, hs256_by_hand(supabase_claims(), SUPABASE_SECRET.encode(), "key-1")) == 200


@pytest.mark.parametrize(
    "overrides",
    [{"aud": "anon"}, {"iss": "https://other.supabase.co/auth/v1"}, {"exp": None}, {"sub": None}],
    ids=["wrong-aud", "other-project", "no-exp", "no-sub"],
)
def test_supabase_tokens_that_do_not_fit_are_rejected(supabase_app, frozen, overrides):
    token = sign(supabase_claims(**overrides), SUPABASE_SECRET)
    assert status_with(supabase_app.test_client(), token) == 401


def test_supabase_tokens_are_refused_when_supabase_is_not_configured(client, frozen):
    assert status_with(client, sign(supabase_claims(), SUPABASE_SECRET)) == 401


def test_unknown_kids_refetch_the_jwks_at_most_once_a_period(supabase_app, jwks_server, frozen):
    server, _ = jwks_server
    client = supabase_app.test_client()
    attacker = ec.generate_private_key(ec.SECP256R1())
    for n in range(20):
        token = sign(supabase_claims(sub=f"sb-{n}"), attacker, "ES256", {"kid": f"random-{n}"})
        assert status_with(client, token) == 401
    assert len(server.log) == 1


def test_jwks_keys_refetch_for_a_new_kid_after_the_interval(httpserver, ec_key):
    now = [0.0]
    public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    httpserver.expect_request("/jwks").respond_with_json({"keys": [{**public_jwk, "kid": "old", "alg": "ES256"}]})
    keys = JwksKeys(httpserver.url_for("/jwks"), refetch_interval=300, clock=lambda: now[0])
    assert keys.key_for("old") is not None
    assert keys.key_for("new") is None
    httpserver.clear()
    httpserver.expect_request("/jwks").respond_with_json({"keys": [{**public_jwk, "kid": "new", "alg": "ES256"}]})
    assert keys.key_for("new") is None  # still inside the interval: no fetch
    now[0] += 301
    assert keys.key_for("new") is not None
    assert keys.key_for("old") is None  # rotated out of the set: never used again


def test_a_verified_token_is_remembered_until_it_expires_and_the_memory_is_bounded():
    from seda.auth.tokens import TokenVerifier, issue_access_token

    verifier = TokenVerifier("s" * 40, verified_cache_size=3)
    with time_machine.travel(NOW, tick=False) as traveller:
        tokens = [issue_access_token("s" * 40, uuid.uuid4()) for _ in range(4)]
        identities = [verifier.verify_access(token) for token in tokens]
        again = verifier.verify_access(tokens[0])  # least recently used out: verified afresh
        assert again == identities[0] and again is not identities[0]
        assert verifier.verify_access(tokens[3]) is identities[3]  # remembered: no second decode
        with pytest.raises(Unauthorized):
            verifier.verify_access(tokens[3][:-2] + "xx")  # a tampered copy is verified, not remembered
        traveller.shift(timedelta(minutes=15, seconds=31))  # past exp and its leeway
        with pytest.raises(Unauthorized):
            verifier.verify_access(tokens[3])
