import uuid

import pytest
import sqlalchemy as sa

from seda.extensions import db
from seda.users.models import User
from tests.helpers.fixtures import PASSWORD
from tests.helpers.queries import record_redis_commands
from tests.helpers.tiers import services_only

PUBLIC_KEYS = {"id", "username", "displayName", "avatarUrl", "role", "artistProfile", "deleted", "bio", "createdAt"}


def test_me_shows_the_full_account(client, users):
    user = users.make(artist_name="Night Drive")
    body = client.get("/api/v1/users/me", headers=user.headers).get_json()
    assert body["email"] == user.email and body["banned"] is False
    assert set(body["artistProfile"]) == {
        "artistName",
        "bio",
        "verified",
        "verifiedAt",
        "websiteUrl",
        "spotifyUrl",
        "bandcampUrl",
        "soundcloudUrl",
    }


def test_patch_me_changes_the_profile(client, users):
    user = users.make()
    response = client.patch(
        "/api/v1/users/me",
        json={"displayName": "  New Name ", "avatarUrl": "https://cdn.example/a.png", "bio": "hi"},
        headers=user.headers,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["displayName"], body["avatarUrl"], body["bio"]) == ("New Name", "https://cdn.example/a.png", "hi")
    assert client.get("/api/v1/users/me", headers=user.headers).get_json()["displayName"] == "New Name"


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"role": "ADMIN"}, "role: property should not exist"),
        ({"email": "x@example.com"}, "email: property should not exist"),
        ({"banned": False}, "banned: property should not exist"),
        ({"id": str(uuid.uuid4())}, "id: property should not exist"),
        ({"avatarUrl": "http://insecure.example/a.png"}, "avatarUrl: Must be an https URL."),
        ({"avatarUrl": "javascript:alert(1)"}, "avatarUrl: Must be an https URL."),
        ({"bio": "x" * 501}, "bio: Longer than maximum length 500."),
        ({"displayName": "   "}, "displayName: Length must be between 1 and 50."),
    ],
)
def test_patch_me_refuses_what_it_does_not_accept(client, users, changes, message):
    user = users.make()
    response = client.patch("/api/v1/users/me", json=changes, headers=user.headers)
    assert response.status_code == 400
    assert message in response.get_json()["message"]
    assert client.get("/api/v1/users/me", headers=user.headers).get_json()["role"] == "USER"


def test_put_artist_profile_creates_then_replaces(client, users):
    user = users.make()
    created = client.put(
        "/api/v1/users/me/artist-profile",
        json={"artistName": "Glass Coast", "spotifyUrl": "https://open.spotify.com/artist/1", "bio": "dream pop"},
        headers=user.headers,
    )
    assert created.status_code == 200
    profile = created.get_json()["artistProfile"]
    assert profile["artistName"] == "Glass Coast" and profile["verified"] is False
    replaced = client.put(
        "/api/v1/users/me/artist-profile", json={"artistName": "Glass Coast II"}, headers=user.headers
    )
    profile = replaced.get_json()["artistProfile"]
    assert profile["artistName"] == "Glass Coast II" and profile["spotifyUrl"] is None


def test_artist_profile_validation(client, users):
    user = users.make()
    response = client.put(
        "/api/v1/users/me/artist-profile",
        json={"bandcampUrl": "ftp://x.example", "verified": True},
        headers=user.headers,
    )
    assert response.status_code == 400
    assert sorted(response.get_json()["message"]) == [
        "artistName: Missing data for required field.",
        "bandcampUrl: Must be an https URL.",
        "verified: property should not exist",
    ]


def test_a_verified_artist_name_cannot_change(app, client, users):
    user = users.make(artist_name="Verified Act")
    with app.app_context():
        db.session.get(User, uuid.UUID(user.id)).artist_profile.verified = True
        db.session.commit()
    renamed = client.put("/api/v1/users/me/artist-profile", json={"artistName": "Other"}, headers=user.headers)
    assert renamed.status_code == 409
    same = client.put(
        "/api/v1/users/me/artist-profile",
        json={"artistName": "Verified Act", "bio": "still us"},
        headers=user.headers,
    )
    assert same.status_code == 200 and same.get_json()["artistProfile"]["verified"] is True


def test_another_users_profile_is_public_without_email(client, users):
    me, other = users.make(), users.make(artist_name="Someone")
    response = client.get(f"/api/v1/users/{other.id}", headers=me.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PUBLIC_KEYS
    assert body["artistProfile"] == {"artistName": "Someone", "verified": False}


@pytest.mark.parametrize("user_id", [str(uuid.uuid4()), "not-a-uuid", "1"])
def test_unknown_users_are_404(client, users, user_id):
    me = users.make()
    response = client.get(f"/api/v1/users/{user_id}", headers=me.headers)
    assert response.status_code == 404 and response.get_json()["message"] == ["User not found"]


def test_create_admin_command_creates_then_promotes(app, users):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seda", "create-admin", "--email", "Boss@Example.com", "--password", "long enough"])
    assert result.exit_code == 0 and result.output.startswith("created ADMIN boss@example.com")
    existing = users.make()
    result = runner.invoke(
        args=["seda", "create-admin", "--email", existing.email, "--password", "new password", "--super"]
    )
    assert result.exit_code == 0
    assert result.output.strip() == f"promoted {existing.email} ({existing.id}) to SUPER_ADMIN; password reset"
    login = app.test_client().post("/api/v1/auth/login", json={"email": "boss@example.com", "password": "long enough"})
    assert login.status_code == 200 and login.get_json()["user"]["role"] == "ADMIN"
    login = app.test_client().post("/api/v1/auth/login", json={"email": existing.email, "password": "new password"})
    assert login.status_code == 200 and login.get_json()["user"]["role"] == "SUPER_ADMIN"


def test_create_admin_asks_for_a_new_accounts_password_without_echoing_it(app):
    runner = app.test_cli_runner()
    typed = "typed secret\ntyped secret\n"
    result = runner.invoke(args=["seda", "create-admin", "--email", "new@example.com"], input=typed)
    assert result.exit_code == 0, result.output
    assert "typed secret" not in result.output
    assert result.output.splitlines()[-1].startswith("created ADMIN new@example.com")
    login = app.test_client().post("/api/v1/auth/login", json={"email": "new@example.com", "password": "typed secret"})
    assert login.status_code == 200


def test_create_admin_promotes_an_existing_account_and_keeps_its_password(app, users):
    existing = users.make()
    result = app.test_cli_runner().invoke(args=["seda", "create-admin", "--email", existing.email])
    assert result.exit_code == 0
    assert result.output.strip() == f"promoted {existing.email} ({existing.id}) to ADMIN; password unchanged"
    login = app.test_client().post("/api/v1/auth/login", json={"email": existing.email, "password": PASSWORD})
    assert login.status_code == 200 and login.get_json()["user"]["role"] == "ADMIN"


def test_create_admin_refuses_bad_input(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seda", "create-admin", "--email", "nope", "--password", "long enough"]).exit_code != 0
    assert runner.invoke(args=["seda", "create-admin", "--email", "a@b.co", "--password", "short"]).exit_code != 0
    assert runner.invoke(args=["seda", "create-admin", "--email", "a@b.co"], input="short\nshort\n").exit_code != 0


def test_a_callers_user_is_kept_between_requests_until_it_changes(app, client, users):
    from tests.helpers.queries import count_queries

    user = users.make(artist_name="Kept")
    assert client.get("/api/v1/users/me", headers=user.headers).status_code == 200
    with count_queries(app) as statements:
        again = client.get("/api/v1/users/me", headers=user.headers).get_json()
    assert again["artistProfile"]["artistName"] == "Kept"
    assert statements == [], statements  # the token and the user were both kept
    client.patch("/api/v1/users/me", json={"displayName": "Renamed"}, headers=user.headers)
    assert client.get("/api/v1/users/me", headers=user.headers).get_json()["displayName"] == "Renamed"
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == uuid.UUID(user.id)).values(banned=True))
        db.session.commit()
    assert client.get("/api/v1/users/me", headers=user.headers).status_code == 403


@services_only
def test_an_authenticated_request_costs_one_redis_round_trip(app, client, users, monkeypatch):
    """The caller's user version is read by the rate limit's script, not a round trip of its own."""
    user = users.make()
    assert client.get("/api/v1/users/me", headers=user.headers).status_code == 200
    commands = record_redis_commands(monkeypatch)
    me = client.get("/api/v1/users/me", headers=user.headers)
    assert me.status_code == 200 and me.headers["X-RateLimit-Remaining"]
    assert commands == ["EVALSHA"], commands
    other = client.patch("/api/v1/users/me", json={"displayName": "Changed Elsewhere"}, headers=user.headers)
    assert other.status_code == 200
    assert client.get("/api/v1/users/me", headers=user.headers).get_json()["displayName"] == "Changed Elsewhere"
