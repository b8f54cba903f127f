"""Signing a device out on one process reaches every other at once: its tokens are refused by
the next request there, and its sockets there get `signed_out` and are cut within 2 s."""

import time

import requests

from tests.helpers.clients import Listener
from tests.helpers.servers import gunicorn_server
from tests.helpers.tiers import services_only

PASSWORD = "long enough"


def sign_in(base, path, email):
    response = requests.post(f"{base}/api/v1/auth/{path}", json={"email": email, "password": PASSWORD}, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def call(base, method, path, session):
    headers = {"Authorization": f"Bearer {session['accessToken']}"}
    return requests.request(method, f"{base}/api/v1{path}", headers=headers, timeout=10)


@services_only
def test_a_device_signed_out_on_one_process_is_refused_and_cut_on_the_other(server_env):
    with gunicorn_server(server_env) as first, gunicorn_server(server_env) as second:
        laptop = sign_in(first, "signup", "ada@example.com")
        phone = sign_in(second, "login", "ada@example.com")
        assert call(second, "GET", "/users/me", phone).status_code == 200  # kept on the second process now
        listener = Listener(second, phone["accessToken"])
        try:
            phone_id = next(d["id"] for d in call(first, "GET", "/auth/devices", laptop).json() if not d["current"])
            assert call(first, "DELETE", f"/auth/devices/{phone_id}", laptop).status_code == 204
            refused = call(second, "GET", "/users/me", phone)
            assert (refused.status_code, refused.json()["message"]) == (401, ["Invalid authentication token"])
            assert call(second, "GET", "/users/me", laptop).status_code == 200
            deadline = time.monotonic() + 2
            while listener.client.connected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not listener.client.connected
            assert listener.messages("signed_out") == [{"reason": "DEVICE_REVOKED"}]
        finally:
            listener.close()
