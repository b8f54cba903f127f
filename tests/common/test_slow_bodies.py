"""A body that trickles never holds a turn (API.md §1): it gets 408 `Request body too slow` once
REQUEST_BODY_TIMEOUT_SECONDS pass, and meanwhile the process answers everyone else at once.

On real gunicorn processes and raw sockets: the defect was on the wire (eight connections sending
a POST's headers, then a byte every few seconds, held every turn of a process)."""

import json
import socket
import threading
import time

import requests

from tests.helpers.servers import gunicorn_server, signup

TRICKLERS = 20  # more than MAX_ACTIVE_REQUESTS (8) turns
BODY_TIMEOUT = 2


def _trickle(base, path, outcomes, deadline_seconds=12):
    """Send a POST's headers, then one body byte every 0.3 s until the server answers."""
    host, port = base.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=0.3) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n".encode()
        )
        received = b""
        while time.monotonic() - started < deadline_seconds:
            try:
                sock.sendall(b" ")
            except OSError:
                pass  # the server has answered and closed its side; read what it said
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            received += chunk
            if b"\r\n\r\n" in received and received.endswith(b"}"):
                break
    head, _, body = received.partition(b"\r\n\r\n")
    outcomes.append((head.decode("latin-1"), json.loads(body) if body else None, time.monotonic() - started))


def test_trickling_bodies_get_408_and_never_keep_other_requests_waiting(server_env):
    env = {**server_env, "REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT), "ADMISSION_WAIT_SECONDS": "5"}
    with gunicorn_server(env) as base:
        token, _user_id = signup(base)
        outcomes = []
        tricklers = [
            threading.Thread(target=_trickle, args=(base, "/api/v1/auth/login", outcomes)) for _ in range(TRICKLERS)
        ]
        for thread in tricklers:
            thread.start()
        time.sleep(0.5)  # every trickler has sent its headers and holds a connection
        timings = []
        for _ in range(20):
            started = time.monotonic()
            response = requests.get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
            timings.append(time.monotonic() - started)
            assert response.status_code == 200
        health = requests.get(f"{base}/api/v1/health", timeout=5).json()
        for thread in tricklers:
            thread.join(15)

    assert max(timings) < 1.0, timings  # not the 5 s of a request that waited for a turn
    assert health["checks"]["admission"] is True and health["admission"]["waiting"] == 0
    assert len(outcomes) == TRICKLERS
    for head, body, took in outcomes:
        assert head.startswith("HTTP/1.1 408 ")
        assert body["statusCode"] == 408 and body["message"] == ["Request body too slow"]
        assert body["path"] == "/api/v1/auth/login" and body["method"] == "POST" and body["requestId"]
        assert BODY_TIMEOUT - 0.1 <= took < BODY_TIMEOUT + 3


def test_a_body_that_arrives_in_pieces_within_the_deadline_is_served(server_env):
    env = {**server_env, "REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT)}
    body = json.dumps({"email": "nobody@example.com", "password": "wrong password"}).encode()
    with gunicorn_server(env) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            )
            for start in range(0, len(body), 10):
                sock.sendall(body[start : start + 10])
                time.sleep(0.05)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
    head, _, answer = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401 ")  # read whole and judged: a wrong password, not a slow body
    assert json.loads(answer)["message"] == ["Invalid email or password"]


def test_a_chunked_body_is_read_whole_before_the_request_is_served(server_env):
    payload = json.dumps({"email": "nobody@example.com", "password": "wrong password"}).encode()
    chunked = (
        b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (payload[:9], payload[9:])) + b"0\r\n\r\n"
    )
    with gunicorn_server(server_env) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked
            )
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
    assert received.startswith(b"HTTP/1.1 401 ")
