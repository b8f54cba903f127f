"""Devices (API.md §12): each sign-in starts one, refreshes keep it; signing one out refuses its
tokens from the next request and cuts its sockets, and leaves every other device alone."""

import uuid

from tests.helpers.chat import cut_within, events


def bearer(session):
    return {"Authorization": f"Bearer {session['accessToken']}"}


def sign_in(client, agent, email="ada@example.com", signup=False):
    path = "/api/v1/auth/signup" if signup else "/api/v1/auth/login"
    response = client.post(path, json={"email": email, "password": "long enough"}, headers={"User-Agent": agent})
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def devices(client, session):
    response = client.get("/api/v1/auth/devices", headers=bearer(session))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def me(client, session):
    return client.get("/api/v1/users/me", headers=bearer(session)).status_code


def test_each_sign_in_is_a_device_and_a_refresh_keeps_it(client):
    laptop = sign_in(client, "Laptop/1.0", signup=True)
    phone = sign_in(client, "Phone/2.0")
    listed = devices(client, phone)
    assert [d["userAgent"] for d in listed] == ["Phone/2.0", "Laptop/1.0"]  # most recently used first
    assert [d["current"] for d in listed] == [True, False]
    assert set(listed[0]) == {"id", "createdAt", "lastUsedAt", "userAgent", "ipAddress", "current"}
    assert listed[0]["ipAddress"] == "127.0.0.1"
    refreshed = client.post(
        "/api/v1/auth/refresh", json={"refreshToken": laptop["refreshToken"]}, headers={"User-Agent": "Laptop/1.1"}
    ).get_json()
    after = devices(client, refreshed)
    assert [d["userAgent"] for d in after] == ["Laptop/1.1", "Phone/2.0"]
    assert {d["id"] for d in after} == {d["id"] for d in listed}  # the same two devices
    assert [d["current"] for d in after] == [True, False]


def test_signing_a_device_out_refuses_its_tokens_and_cuts_its_sockets_only(client, socket_for):
    laptop = sign_in(client, "Laptop", signup=True)
    phone = sign_in(client, "Phone")
    laptop_sock = socket_for(None, token=laptop["accessToken"])
    phone_sock = socket_for(None, token=phone["accessToken"])
    phone_id = next(d["id"] for d in devices(client, laptop) if not d["current"])
    assert client.delete(f"/api/v1/auth/devices/{phone_id}", headers=bearer(laptop)).status_code == 204
    assert me(client, phone) == 401 and me(client, laptop) == 200
    assert client.post("/api/v1/auth/refresh", json={"refreshToken": phone["refreshToken"]}).status_code == 401
    assert ("signed_out", [{"reason": "DEVICE_REVOKED"}]) in events(phone_sock, "signed_out")
    assert cut_within(phone_sock)
    assert laptop_sock.is_connected("/chat") and events(laptop_sock, "signed_out") == []
    assert [d["userAgent"] for d in devices(client, laptop)] == ["Laptop"]
    again = socket_for(None, token=phone["accessToken"])
    assert not again.is_connected("/chat")


def test_signing_out_every_other_device_keeps_the_callers(client):
    sessions = [sign_in(client, "First", signup=True), sign_in(client, "Second"), sign_in(client, "Third")]
    assert client.delete("/api/v1/auth/devices", headers=bearer(sessions[1])).status_code == 204
    assert [me(client, s) for s in sessions] == [401, 200, 401]
    assert [d["userAgent"] for d in devices(client, sessions[1])] == ["Second"]


def test_the_current_device_may_sign_itself_out(client):
    session = sign_in(client, "Only", signup=True)
    [device] = devices(client, session)
    assert client.delete(f"/api/v1/auth/devices/{device['id']}", headers=bearer(session)).status_code == 204
    assert me(client, session) == 401


def test_a_device_that_is_not_mine_is_404(client):
    mine = sign_in(client, "Mine", signup=True)
    theirs = sign_in(client, "Theirs", email="bob@example.com", signup=True)
    [their_device] = devices(client, theirs)
    for device_id in (their_device["id"], str(uuid.uuid4()), "not-an-id"):
        response = client.delete(f"/api/v1/auth/devices/{device_id}", headers=bearer(mine))
        assert (response.status_code, response.get_json()["message"]) == (404, ["Device not found"])
    assert me(client, theirs) == 200
