"""Deleting an account on one process reaches every other at once (API.md §12): its tokens are
refused there by the next request, its sockets there hear `signed_out` and are cut within 2 s,
and a restore on either brings it back on both."""

import time

import requests

from tests.helpers.clients import Listener
from tests.helpers.servers import gunicorn_server
from tests.helpers.tiers import services_only

PASSWORD = "long enough"


def call(base, method, path, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{base}/api/v1{path}", headers=headers, timeout=10, **kwargs)


@services_only
def test_an_account_deleted_on_one_process_is_gone_from_the_other_and_comes_back_on_both(server_env):
    with gunicorn_server(server_env) as first, gunicorn_server(server_env) as second:
        credentials = {"email": "ada@example.com", "password": PASSWORD}
        token = call(first, "POST", "/auth/signup", json=credentials).json()["accessToken"]
        assert call(second, "GET", "/users/me", token).status_code == 200  # kept on the second process now
        listener = Listener(second, token)
        try:
            assert call(first, "DELETE", "/users/me", token, json={"password": PASSWORD}).status_code == 202
            assert call(second, "GET", "/users/me", token).status_code == 401
            deadline = time.monotonic() + 2
            while listener.client.connected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not listener.client.connected
            assert listener.messages("signed_out") == [{"reason": "ACCOUNT_DELETED"}]
        finally:
            listener.close()
        assert call(second, "POST", "/auth/login", json=credentials).status_code == 403
        restored = call(second, "POST", "/auth/account/restore", json=credentials)
        assert restored.status_code == 200
        assert call(first, "GET", "/users/me", restored.json()["accessToken"]).status_code == 200
        assert call(first, "POST", "/auth/login", json=credentials).status_code == 200
