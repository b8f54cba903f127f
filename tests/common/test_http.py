"""Request ids, access logs, metrics, docs, CORS and the global rate limit."""

import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from redis.connection import AbstractConnection

from seda import create_app
from seda.common.logs import configure_logging
from tests.helpers.queries import record_redis_commands
from tests.helpers.servers import gunicorn_server
from tests.helpers.settings import make_config
from tests.helpers.tiers import services_only

# Any route that is not exempt counts; the spec is one that exists before any feature.
LIMITED_ROUTE = "/api/docs/openapi.json"


def test_a_well_formed_request_id_is_echoed(client):
    response = client.get("/api/v1/health/live", headers={"X-Request-ID": "abc.DEF_123-x"})
    assert response.headers["X-Request-ID"] == "abc.DEF_123-x"


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "semi;colon", "ünï"])
def test_a_malformed_request_id_is_replaced(client, bad):
    response = client.get("/api/v1/health/live", headers={"X-Request-ID": bad})
    generated = response.headers["X-Request-ID"]
    assert generated != bad and 1 <= len(generated) <= 128


def test_error_envelope_and_log_line_carry_the_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="seda.access"):
        response = client.get("/api/v1/missing", headers={"X-Request-ID": "trace-42", "User-Agent": "probe/1"})
    assert response.get_json()["requestId"] == "trace-42"
    record = next(r for r in caplog.records if r.name == "seda.access")
    assert record.request_id == "trace-42"
    assert (record.method, record.path, record.status) == ("GET", "/api/v1/missing", 404)
    assert record.user_agent == "probe/1" and record.ip == "127.0.0.1"
    assert record.duration_ms >= 0 and hasattr(record, "user_id")


def test_access_log_lines_are_json_with_the_request_fields(app, capsys):
    configure_logging("INFO")  # again, so the handler writes to the captured stdout
    app.test_client().get("/api/v1/health/live", headers={"X-Request-ID": "json-line"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    access = next(line for line in lines if line["logger"] == "seda.access")
    assert access["request_id"] == "json-line" and access["level"] == "INFO"
    assert {"method", "path", "status", "duration_ms", "user_agent", "ip", "user_id"} <= set(access)


def test_api_responses_are_not_cacheable(client):
    response = client.get("/api/v1/health/live")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_metrics_count_requests_by_route_template(client):
    client.get("/api/v1/health/live")
    client.get("/api/v1/nothing-here")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'seda_http_requests_total{method="GET",route="/api/v1/health/live",status="200"}' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "seda_http_request_duration_seconds_bucket" in text


def test_feature_counters_are_exposed(client, users):
    from tests.helpers.chat import Chat

    chat = Chat(client, users.make())
    room = chat.room()
    chat.send(room["id"], "counted")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'seda_messages_stored_total{via="text"}' in text
    for name in ("seda_socket_events_total", "seda_verification_checks_total", "seda_unfurls_total"):
        assert f"# TYPE {name} counter" in text


def metric(text, series):
    """The value of one series in the exposition `text` (None when absent)."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_load_series_are_exposed_sockets_pool_and_tasks(app, client, users):
    from seda.common.tasks import wait_for_in_process_tasks
    from seda.extensions import socketio
    from tests.helpers.chat import Chat

    before = metric(client.get("/metrics").get_data(as_text=True), "seda_sockets_connected") or 0
    user = users.make()
    sock = socketio.test_client(app, namespace="/chat", auth={"token": user.token})
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, "seda_sockets_connected") == before + 1
    assert metric(text, 'seda_database_pool_connections{state="checked_out"}') is not None
    sock.disconnect("/chat")
    assert metric(client.get("/metrics").get_data(as_text=True), "seda_sockets_connected") == before

    chat, other = Chat(client, user), users.make()
    room = chat.room()
    Chat(client, other).post(f"/rooms/{room['id']}/join")
    chat.send(room["id"], f"@{other.username} a task")  # the mention's notifications: a task
    wait_for_in_process_tasks()
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, 'seda_celery_tasks_total{outcome="success",task="notifications.for_message"}') >= 1


def test_metrics_require_the_token_when_one_is_set(app_factory):
    client = app_factory(METRICS_TOKEN="scrape-me").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200 and ok.mimetype == "text/plain"


def test_openapi_document_and_offline_swagger_ui(client):
    spec = client.get("/api/docs/openapi.json")
    assert spec.status_code == 200
    document = spec.get_json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/health" in document["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"swagger-ui-bundle.js" in page.data
    assert b"cdn" not in page.data.lower() and b"https://" not in page.data
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert client.get(f"/api/docs/assets/{asset}").status_code == 200, asset


def test_docs_are_off_in_production_unless_enabled(app_factory):
    client = app_factory(APP_ENV="production", API_DOCS_ENABLED="false").test_client()
    assert client.get("/api/docs").status_code == 404
    assert client.get("/api/docs/openapi.json").status_code == 404


def test_cors_allows_configured_origins_with_credentials(app_factory):
    client = app_factory(CORS_ORIGINS="https://seda.fm,http://localhost:3000").test_client()
    allowed = client.options(
        "/api/v1/health", headers={"Origin": "https://seda.fm", "Access-Control-Request-Method": "GET"}
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://seda.fm"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    evil = client.get("/api/v1/health/live", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers
    same_site = client.get("/api/v1/health/live")  # no Origin: not a CORS request, nothing to answer
    assert not [name for name, _ in same_site.headers if name.startswith("Access-Control-")]


def test_an_answer_to_an_allowed_origin_varies_by_origin(app_factory, users):
    """The one allowed origin's answer carries Access-Control-* headers an answer without Origin
    lacks: a cache in between must key them apart (flask-cors says Vary only for several)."""
    client = app_factory(CORS_ORIGINS="https://seda.fm").test_client()
    user = users.make()
    for path in ("/api/v1/health/live", "/api/v1/users/me"):
        allowed = client.get(path, headers={**user.headers, "Origin": "https://seda.fm"})
        assert allowed.headers["Access-Control-Allow-Origin"] == "https://seda.fm"
        assert allowed.headers["Vary"] == "Origin"
        assert "Vary" not in client.get(path, headers=user.headers).headers


def test_anonymous_callers_are_limited_per_ip(app_factory):
    client = app_factory(RATE_LIMIT_ANONYMOUS="3/minute").test_client()
    statuses = [client.get(LIMITED_ROUTE).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get(LIMITED_ROUTE)
    body = response.get_json()
    assert body["statusCode"] == 429 and body["message"][0].startswith("Too many requests")
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-RateLimit-Limit"] == "3"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    other = client.get(LIMITED_ROUTE, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200


@services_only
def test_the_rate_limit_is_shared_by_two_processes_through_redis(app, postgres_url, redis_namespace):
    import requests

    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": postgres_url,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "REDIS_NAMESPACE": f"{redis_namespace}-shared-limit",
        "RATE_LIMIT_ANONYMOUS": "6/minute",
        "LOG_LEVEL": "WARNING",
    }
    with gunicorn_server(env) as first, gunicorn_server(env) as second:
        statuses = [requests.get(f"{base}{LIMITED_ROUTE}", timeout=5).status_code for base in (first, second) * 4]
    assert statuses == [200] * 6 + [429, 429]


def _raw_request(base, data):
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head.decode("latin-1"), json.loads(body)


@services_only
def test_gunicorn_s_own_errors_are_the_json_envelope(app, postgres_url, redis_namespace):
    env = {"APP_ENV": "testing", "DATABASE_URL": postgres_url, "LOG_LEVEL": "WARNING"}
    cases = [
        (b"GET /api/v1/" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),  # request line > 4094
        (b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
        (b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"GET /api/v1/health HTTP/1.1\r\nHost x\r\n\r\n", 400),
        (b"NOT A REQUEST\r\n\r\n", 400),
    ]
    with gunicorn_server(env) as base:
        for raw, status in cases:
            head, body = _raw_request(base, raw)
            assert head.startswith(f"HTTP/1.1 {status} ") and "Content-Type: application/json" in head
            assert body["statusCode"] == status and body["message"] and body["timestamp"].endswith("Z")


@services_only
def test_a_limited_request_counts_on_redis_in_one_round_trip_and_its_headers_follow_the_count(app_factory, monkeypatch):
    client = app_factory(RATE_LIMIT_ANONYMOUS="5/minute").test_client()
    sent = record_redis_commands(monkeypatch)
    responses = [client.get(LIMITED_ROUTE) for _ in range(3)]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["4", "3", "2"]
    assert all(0 < int(r.headers["X-RateLimit-Reset"]) - time.time() <= 61 for r in responses)
    assert sent == ["EVALSHA"] * 3  # the count and the window's time to live, in one round trip each


@services_only
def test_hits_made_while_one_is_on_its_way_share_the_next_round_trip_and_each_counts_once(app_factory, monkeypatch):
    app = app_factory(RATE_LIMIT_ANONYMOUS="100/minute")
    first_on_its_way, let_it_arrive, round_trips = threading.Event(), threading.Event(), []
    send = AbstractConnection.send_packed_command

    def recording_send(connection, packed, *args, **kwargs):  # the first one waits on its way
        sent = b"".join(packed) if isinstance(packed, list) else packed
        if b"EVALSHA" not in sent:  # a new connection's handshake
            return send(connection, packed, *args, **kwargs)
        round_trips.append(sent.count(b"EVALSHA"))
        if not first_on_its_way.is_set():
            first_on_its_way.set()
            let_it_arrive.wait(5)
        return send(connection, packed, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", recording_send)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(app.test_client().get, LIMITED_ROUTE)
        assert first_on_its_way.wait(5)
        queued = [pool.submit(app.test_client().get, LIMITED_ROUTE) for _ in range(7)]
        time.sleep(0.3)  # the seven reach the limiter and queue behind the first
        let_it_arrive.set()
        responses = [first.result(10)] + [future.result(10) for future in queued]

    assert [r.status_code for r in responses] == [200] * 8
    assert sorted(int(r.headers["X-RateLimit-Remaining"]) for r in responses) == list(range(92, 100))
    assert round_trips == [1, 7]  # one round trip for the seven that waited


@services_only
def test_a_limit_counts_on_when_redis_forgot_its_script(app_factory):
    """A Redis restart empties its script cache: the hit loads the script again and counts."""
    client = app_factory(RATE_LIMIT_ANONYMOUS="5/minute").test_client()
    assert client.get(LIMITED_ROUTE).headers["X-RateLimit-Remaining"] == "4"
    redis.Redis.from_url("redis://127.0.0.1:6379/0").script_flush()
    assert client.get(LIMITED_ROUTE).headers["X-RateLimit-Remaining"] == "3"


def test_the_limit_still_counts_in_process_while_its_redis_is_unreachable(tmp_path):
    config = make_config(f"sqlite:///{tmp_path / 'seda.db'}", RATE_LIMIT_ANONYMOUS="3/minute")
    config.RATELIMIT_STORAGE_URI = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    config.RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.5}
    client = create_app(config).test_client()
    statuses = [client.get(LIMITED_ROUTE).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get(LIMITED_ROUTE).headers["X-RateLimit-Limit"] == "3"
