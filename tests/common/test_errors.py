"""The error envelope of API.md §1, for every status the foundation produces."""

import marshmallow as ma
import pytest
import sqlalchemy as sa

from seda.common import errors
from seda.common.api import Blueprint, api
from seda.extensions import db
from tests.helpers.tiers import services_only

ENVELOPE_KEYS = {"statusCode", "error", "message", "timestamp", "path", "method", "requestId"}


class EchoSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 5))
    tags = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=3)))


class QuerySchema(ma.Schema):
    limit = ma.fields.Integer(validate=ma.validate.Range(1, 100))


def install_probe_routes(app):
    bp = Blueprint("probe", __name__)

    @bp.route("/probe/echo", methods=["POST"])
    @bp.arguments(EchoSchema)
    @bp.response(200, EchoSchema)
    def echo(body):
        return body

    @bp.route("/probe/list")
    @bp.arguments(QuerySchema, location="query")
    def listing(query):
        return {"limit": query.get("limit")}

    @bp.route("/probe/raise/<name>")
    def raise_domain(name):
        raise {
            "forbidden": errors.Forbidden("Account suspended"),
            "notfound": errors.NotFound("Room not found"),
            "conflict": errors.Conflict("Email already registered"),
            "gone": errors.Gone("Claim code expired"),
            "unprocessable": errors.Unprocessable("Not a supported music link"),
            "unauthorized": errors.Unauthorized("Missing authentication token"),
            "ratelimited": errors.RateLimited("Slow down", retry_after=7, limit=10),
            "boom": RuntimeError("secret internals /etc/passwd"),
        }[name]

    @bp.route("/probe/duplicate", methods=["POST"])
    def duplicate():
        db.session.execute(sa.text("CREATE TEMPORARY TABLE IF NOT EXISTS probe_unique (x INTEGER UNIQUE)"))
        db.session.execute(sa.text("INSERT INTO probe_unique (x) VALUES (1)"))
        db.session.execute(sa.text("INSERT INTO probe_unique (x) VALUES (1)"))
        return {}

    @bp.route("/probe/query")
    def query():
        db.session.execute(sa.text("SELECT 1"))
        return {}

    api.register_blueprint(bp, url_prefix="/api/v1")


@pytest.fixture
def probe(app):
    install_probe_routes(app)
    return app.test_client()


def assert_envelope(response, status, path, method="GET"):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ENVELOPE_KEYS
    assert body["statusCode"] == status
    assert body["path"] == path and body["method"] == method
    assert isinstance(body["message"], list) and all(isinstance(m, str) for m in body["message"])
    assert body["timestamp"].endswith("Z") and len(body["timestamp"]) == 24
    assert body["requestId"] == response.headers["X-Request-ID"]
    return body


def test_validation_failure_lists_one_message_per_problem(probe):
    response = probe.post("/api/v1/probe/echo", json={"name": "toolong", "tags": ["abcd"]})
    body = assert_envelope(response, 400, "/api/v1/probe/echo", "POST")
    assert body["error"] == "Bad Request"
    assert sorted(body["message"]) == [
        "name: Length must be between 1 and 5.",
        "tags.0: Longer than maximum length 3.",
    ]


def test_unknown_json_field_is_rejected(probe):
    response = probe.post("/api/v1/probe/echo", json={"name": "ok", "role": "ADMIN"})
    body = assert_envelope(response, 400, "/api/v1/probe/echo", "POST")
    assert body["message"] == ["role: property should not exist"]


def test_unknown_query_parameter_is_rejected(probe):
    body = assert_envelope(probe.get("/api/v1/probe/list?limit=5&sort=x"), 400, "/api/v1/probe/list")
    assert body["message"] == ["sort: property should not exist"]
    assert probe.get("/api/v1/probe/list?limit=5").get_json() == {"limit": 5}


def test_nul_characters_are_refused_where_they_appear(probe):
    response = probe.post("/api/v1/probe/echo", json={"name": "a\x00b"})
    assert assert_envelope(response, 400, "/api/v1/probe/echo", "POST")["message"] == [
        "name: NUL characters are not allowed."
    ]
    response = probe.post("/api/v1/probe/echo", json={"name": "ok", "tags": ["x", "\x00"]})
    assert response.get_json()["message"] == ["tags.1: NUL characters are not allowed."]
    assert probe.get("/api/v1/probe/list?limit=%00").status_code == 400


def test_a_json_route_without_a_body_is_a_400(probe):
    response = probe.post("/api/v1/probe/echo", data="", content_type="application/json")
    assert response.status_code == 400


def test_malformed_json_is_a_400(probe):
    response = probe.post("/api/v1/probe/echo", data='{"name": "x",', content_type="application/json")
    body = assert_envelope(response, 400, "/api/v1/probe/echo", "POST")
    assert body["message"] == ["Malformed JSON body"]


def test_missing_body_says_a_body_is_required(probe):
    response = probe.post("/api/v1/probe/echo")
    body = assert_envelope(response, 400, "/api/v1/probe/echo", "POST")
    assert body["message"] == ["A JSON object body is required"]


@pytest.mark.parametrize(
    "name,status,message",
    [
        ("unauthorized", 401, "Missing authentication token"),
        ("forbidden", 403, "Account suspended"),
        ("notfound", 404, "Room not found"),
        ("conflict", 409, "Email already registered"),
        ("gone", 410, "Claim code expired"),
        ("unprocessable", 422, "Not a supported music link"),
    ],
)
def test_domain_errors_map_to_their_status(probe, name, status, message):
    body = assert_envelope(probe.get(f"/api/v1/probe/raise/{name}"), status, f"/api/v1/probe/raise/{name}")
    assert body["message"] == [message]


def test_domain_rate_limit_carries_retry_after_and_limit_headers(probe):
    response = probe.get("/api/v1/probe/raise/ratelimited")
    assert_envelope(response, 429, "/api/v1/probe/raise/ratelimited")
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-RateLimit-Limit"] == "10"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > 0


def test_unexpected_error_is_a_500_without_details(probe):
    response = probe.get("/api/v1/probe/raise/boom")
    body = assert_envelope(response, 500, "/api/v1/probe/raise/boom")
    assert body["message"] == ["Internal server error"]
    assert b"passwd" not in response.data and b"Traceback" not in response.data


def test_unknown_route_is_a_404_envelope(client):
    assert_envelope(client.get("/api/v1/no/such/route"), 404, "/api/v1/no/such/route")


def test_wrong_method_is_a_405_with_allow(client):
    response = client.delete("/api/v1/health")
    assert_envelope(response, 405, "/api/v1/health", "DELETE")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD", "OPTIONS"}


def test_body_over_one_mebibyte_is_a_413(probe):
    response = probe.post("/api/v1/probe/echo", data=b"x" * (1024 * 1024 + 1), content_type="application/json")
    body = assert_envelope(response, 413, "/api/v1/probe/echo", "POST")
    assert body["message"] == ["Request body is larger than 1 MiB"]


def test_database_unique_violation_is_a_409(probe):
    body = assert_envelope(probe.post("/api/v1/probe/duplicate"), 409, "/api/v1/probe/duplicate", "POST")
    assert body["error"] == "Conflict"


def test_database_unavailable_is_a_503(app_factory, tier, tmp_path):
    unreachable = (
        f"sqlite:///{tmp_path}/missing/dir/seda.db"
        if tier == "sqlite"
        else "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    )
    app = app_factory(DATABASE_URL=unreachable)
    install_probe_routes(app)
    response = app.test_client().get("/api/v1/probe/query")
    body = assert_envelope(response, 503, "/api/v1/probe/query")
    assert body["message"] == ["Database unavailable"]


@services_only
def test_no_free_database_connection_is_a_503_to_retry(app_factory):
    app = app_factory(DB_POOL_SIZE="1", DB_MAX_OVERFLOW="0", DB_POOL_TIMEOUT_MS="200")
    install_probe_routes(app)
    with app.app_context():
        held = db.engine.connect()  # the pool's only connection, busy elsewhere
        try:
            response = app.test_client().get("/api/v1/probe/query")
        finally:
            held.close()
        body = assert_envelope(response, 503, "/api/v1/probe/query")
        assert body["message"] == ["Database busy, retry shortly"]
        # Flask-Limiter merges its window reset into Retry-After (the later of the two wins).
        assert int(response.headers["Retry-After"]) >= 1
        assert app.test_client().get("/api/v1/probe/query").status_code == 200
