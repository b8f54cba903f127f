"""GET /users/me answered from the caller's kept answer (common/kept_responses.py): the same
answer Flask gives, counted once against the same limit, and never after the user changed."""

import uuid

import sqlalchemy as sa

from seda.extensions import db
from seda.users.models import User
from tests.helpers.fixtures import UserFactory
from tests.helpers.queries import count_queries, flask_requests, record_redis_commands
from tests.helpers.tiers import services_only

ME = "/api/v1/users/me"
PER_REQUEST = {"X-RateLimit-Remaining", "X-RateLimit-Reset", "X-Request-ID"}


@services_only
def test_a_callers_next_me_is_the_answer_flask_gave_counted_in_one_round_trip_without_flask(app, client, users):
    user = users.make(artist_name="Kept")
    built = client.get(ME, headers=user.headers)
    handled = flask_requests(app)
    with count_queries(app) as statements:
        kept = [client.get(ME, headers={**user.headers, "X-Request-ID": f"req-{n}"}) for n in range(2)]

    assert handled == [] and statements == []
    assert [r.status_code for r in kept] == [200, 200]
    assert all(r.get_data() == built.get_data() for r in kept)
    for response in kept:
        assert {k: v for k, v in response.headers if k not in PER_REQUEST} == {
            k: v for k, v in built.headers if k not in PER_REQUEST
        }
    assert [r.headers["X-RateLimit-Remaining"] for r in (built, *kept)] == ["99", "98", "97"]
    assert [r.headers["X-Request-ID"] for r in kept] == ["req-0", "req-1"]
    assert all("Retry-After" not in r.headers for r in (built, *kept))  # only on 429 and 503 (API.md §1)


@services_only
def test_a_kept_me_costs_one_redis_command(app, client, users, monkeypatch):
    user = users.make()
    client.get(ME, headers=user.headers)
    commands = record_redis_commands(monkeypatch)
    assert client.get(ME, headers=user.headers).status_code == 200
    assert commands == ["EVALSHA"]


@services_only
def test_a_change_to_the_user_shows_on_the_next_me_and_a_ban_refuses_it(app, client, users):
    user = users.make()
    client.get(ME, headers=user.headers)
    assert client.patch(ME, json={"displayName": "Renamed"}, headers=user.headers).status_code == 200
    assert client.get(ME, headers=user.headers).get_json()["displayName"] == "Renamed"
    assert client.get(ME, headers=user.headers).get_json()["displayName"] == "Renamed"
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == uuid.UUID(user.id)).values(banned=True))
        db.session.commit()
    refused = client.get(ME, headers=user.headers)
    assert refused.status_code == 403 and refused.get_json()["message"] == ["Account suspended"]


@services_only
def test_a_kept_me_over_the_limit_is_flask_s_429_and_each_request_counts_once(app_factory):
    app = app_factory(RATE_LIMIT_DEFAULT="3/minute")
    client, user = app.test_client(), UserFactory(app).make()
    responses = [client.get(ME, headers=user.headers) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert responses[3].get_json()["statusCode"] == 429


@services_only
def test_a_cross_site_me_gets_flask_s_cors_headers(app, client, users):
    user = users.make()
    client.get(ME, headers=user.headers)
    origin = app.config["CORS_ORIGINS"][0]
    handled = flask_requests(app)
    response = client.get(ME, headers={**user.headers, "Origin": origin})
    assert response.status_code == 200 and handled == [1]
    assert response.headers["Access-Control-Allow-Origin"] == origin
