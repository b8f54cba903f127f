"""Refresh reuse grace (API.md §3): a spent refresh token presented again within
REFRESH_REUSE_GRACE_SECONDS answers with the very pair it produced (browser tabs refreshing at
once stay signed in); later, the replay revokes its whole family."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import time_machine

from tests.helpers.fixtures import PASSWORD, bearer

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def sign_up(client):
    body = {"email": "tabs@example.com", "password": PASSWORD}
    return client.post("/api/v1/auth/signup", json=body).get_json()


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refreshToken": token})


def test_the_same_token_twice_within_the_grace_gives_the_very_same_pair(client):
    with time_machine.travel(START, tick=False) as traveller:
        session = sign_up(client)
        first = refresh(client, session["refreshToken"])
        traveller.shift(9)
        second = refresh(client, session["refreshToken"])
        assert first.status_code == second.status_code == 200
        first, second = first.get_json(), second.get_json()
        assert (second["accessToken"], second["refreshToken"]) == (first["accessToken"], first["refreshToken"])
        assert second["refreshToken"] != session["refreshToken"]
        assert client.get("/api/v1/users/me", headers=bearer(second["accessToken"])).status_code == 200
        assert refresh(client, second["refreshToken"]).status_code == 200  # the family lives on


def test_the_same_token_after_the_grace_revokes_the_family(client):
    with time_machine.travel(START, tick=False) as traveller:
        session = sign_up(client)
        newer = refresh(client, session["refreshToken"]).get_json()
        traveller.shift(11)
        replay = refresh(client, session["refreshToken"])
        assert replay.status_code == 401
        assert refresh(client, newer["refreshToken"]).status_code == 401
        assert client.get("/api/v1/users/me", headers=bearer(newer["accessToken"])).status_code == 401


def test_the_grace_is_a_setting(app, client):
    app.config["REFRESH_REUSE_GRACE_SECONDS"] = 0
    with time_machine.travel(START, tick=False) as traveller:
        session = sign_up(client)
        refresh(client, session["refreshToken"])
        traveller.shift(1)
        assert refresh(client, session["refreshToken"]).status_code == 401


def test_no_grace_after_signing_out(client):
    session = sign_up(client)
    newer = refresh(client, session["refreshToken"]).get_json()
    logout = client.post(
        "/api/v1/auth/logout", json={"refreshToken": newer["refreshToken"]}, headers=bearer(newer["accessToken"])
    )
    assert logout.status_code == 204
    assert refresh(client, session["refreshToken"]).status_code == 401


def test_tabs_refreshing_at_once_all_stay_signed_in_with_one_pair(app, client):
    session = sign_up(client)

    def one_tab(_):
        response = app.test_client().post("/api/v1/auth/refresh", json={"refreshToken": session["refreshToken"]})
        return response.status_code, response.get_json().get("refreshToken")

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(one_tab, range(4)))
    assert [status for status, _ in answers] == [200] * 4
    assert len({token for _, token in answers}) == 1
    assert refresh(client, answers[0][1]).status_code == 200
