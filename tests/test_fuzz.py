"""Schemathesis over the OpenAPI document, in process, as a user and as an admin.

CI runs a bounded number of examples per operation; a longer run is documented in the
README: SEDA_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/test_fuzz.py
"""

import json
import os
import re
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

# Trimming, email and URL rules are stricter than OpenAPI can say, so "schema-valid" bodies such
# as a blank name are rightly refused; every other default check applies.
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config import TestingConfig
from seda import create_app
from seda.chat.events import ChatNamespace
from seda.extensions import socketio
from seda.users.models import Role
from tests.helpers.apps import close_apps, tier_config
from tests.helpers.fixtures import UserFactory

EXAMPLES = int(os.environ.get("SEDA_FUZZ_EXAMPLES", "8"))


@pytest.fixture(params=["USER", "ADMIN"])
def caller(request):
    return request.param


NO_LIMITS = {
    "RATE_LIMIT_DEFAULT": "100000/minute",
    "RATE_LIMIT_ANONYMOUS": "100000/minute",
    "RATE_LIMIT_SIGNUP": "100000/hour",
    "RATE_LIMIT_LOGIN_ACCOUNT": "100000/minute",
    "RATE_LIMIT_LOGIN_IP": "100000/minute",
    "RATE_LIMIT_MESSAGES": "100000 per 10 seconds",
    "RATE_LIMIT_UNFURL": "100000/minute",
    "RATE_LIMIT_VERIFICATION_PER_DAY": "100000",
    "RATE_LIMIT_SEARCH": "100000/minute",
    "RATE_LIMIT_MAIL": "100000/hour",
    "RATE_LIMIT_MAIL_IP": "100000/hour",
    "RATE_LIMIT_INVITES": "100000/hour",
    "RATE_LIMIT_SOCKET_EVENTS_PER_SECOND": "100000",
    "RATE_LIMIT_SOCKET_EVENTS_USER": "100000/second",
}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def shared_app(request, tmp_path_factory):
    """One app per tier for the module: the fuzzer's cases and the hostile inputs are answered
    by the same app (an app per test was ~1,000 app builds, most of this module's time); what
    one case stores is only more data for the next, as in production."""
    namespace = f"{request.getfixturevalue('redis_namespace')}-{uuid.uuid4().hex[:8]}"
    config = tier_config(request.param, request, tmp_path_factory.mktemp("fuzz"), namespace, **NO_LIMITS)
    app = create_app(config)
    yield app
    close_apps([app], request.param, request)


@pytest.fixture
def fuzz_target(shared_app, caller):
    return shared_app, UserFactory(shared_app).make(role=Role(caller))


# The document only; every test case is sent to its own test's app (`app=` below).
schema = schemathesis.openapi.from_wsgi(
    "/api/docs/openapi.json", create_app(TestingConfig({"DATABASE_URL": "sqlite://", "LOG_LEVEL": "ERROR"}))
)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_documented_promises(case, fuzz_target):
    app, user = fuzz_target
    case.call_and_validate(
        app=app, headers={"Authorization": f"Bearer {user.token}"}, excluded_checks=[positive_data_acceptance]
    )


# -- hostile input that parses: every operation, every socket event ------------------------------


@pytest.fixture
def admin_target(shared_app):
    """Hostile input is tried as a SUPER_ADMIN, who gets past every role check to the parser."""
    return shared_app, UserFactory(shared_app).make(role=Role.SUPER_ADMIN)


DOCUMENT = schema.raw_schema
OPERATIONS = [
    (method.upper(), path, operation)
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items()
    if method in ("get", "post", "put", "patch", "delete")
]
LONE_SURROGATE = chr(0xD800)  # spelled out: tools that rewrite source turn a "\ud800" literal into U+FFFD
HOSTILE_BODIES = {
    # json.dumps escapes it, so the body is valid JSON that decodes to a lone surrogate.
    "lone surrogate": lambda strings: json.dumps(dict.fromkeys(strings or ["text"], "caf" + LONE_SURROGATE)),
    "nested 1,000 deep": lambda strings: "[" * 1000 + "]" * 1000,
    "integer of 5,000 digits": lambda strings: '{"limit": ' + "9" * 5000 + "}",
}


def _string_properties(operation):
    """Names of the string properties of the operation's JSON body (all of them, so that every
    field meets the surrogate, not only the first the schema validates)."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = DOCUMENT["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return [name for name, prop in body.get("properties", {}).items() if prop.get("type") in ("string", None)]


@pytest.mark.parametrize("hostile", list(HOSTILE_BODIES))
@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_every_operation_answers_hostile_json_with_a_400_envelope(admin_target, method, path, operation, hostile):
    app, user = admin_target
    url = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
    response = app.test_client().open(
        url,
        method=method,
        data=HOSTILE_BODIES[hostile](_string_properties(operation)),
        headers={"Authorization": f"Bearer {user.token}", "Content-Type": "application/json"},
    )
    body = response.get_json()
    assert response.status_code == 400, body
    assert body["statusCode"] == 400 and body["message"]


SOCKET_EVENTS = sorted(
    name.removeprefix("on_") for name in vars(ChatNamespace) if name.startswith("on_") and "connect" not in name
)
# Each: the raw Socket.IO packets (EVENT, or BINARY_EVENT and its attachments) with ack id 7,
# as a client library would send them.
HOSTILE_PACKETS = {
    "lone surrogate in a field": lambda event: [
        "2/chat,7" + json.dumps([event, {"roomId": LONE_SURROGATE, "text": LONE_SURROGATE}])
    ],
    "lone surrogate as the payload": lambda event: ["2/chat,7" + json.dumps([event, LONE_SURROGATE])],
    "nested 1,000 deep": lambda event: [f'2/chat,7["{event}", ' + "[" * 1000 + "]" * 1000 + "]"],
    "integer of 5,000 digits": lambda event: [f'2/chat,7["{event}", {{"roomId": {"9" * 5000}}}]'],
    "binary attachment in a field": lambda event: [
        f'51-/chat,7["{event}", {{"roomId": {{"_placeholder": true, "num": 0}}, "text": "x"}}]',
        b"nul \x00 inside",
    ],
    "binary attachment as the payload": lambda event: [
        f'51-/chat,7["{event}", {{"_placeholder": true, "num": 0}}]',
        b"\xff\xfe\x00",
    ],
}


@pytest.mark.parametrize("hostile", list(HOSTILE_PACKETS))
@pytest.mark.parametrize("event", SOCKET_EVENTS)
def test_every_socket_event_answers_hostile_payloads_with_a_400_ack(admin_target, event, hostile):
    app, user = admin_target
    sock = socketio.test_client(app, namespace="/chat", auth={"token": user.token})
    for data in HOSTILE_PACKETS[hostile](event):
        socketio.server._handle_eio_message(sock.eio_sid, data)
    ack = sock.acks["args"][0]
    assert ack["ok"] is False and ack["error"]["statusCode"] == 400, ack
    assert sock.is_connected("/chat")
    sock.disconnect(namespace="/chat")


@pytest.mark.parametrize("event", SOCKET_EVENTS)
def test_every_socket_event_in_an_oversized_polling_post_is_refused_loudly(admin_target, event):
    """65 packets in one polling POST: 400 and the session closed (the client reconnects),
    never a 200 that dropped them all."""
    app, user = admin_target
    client = app.test_client()
    sid = json.loads(client.get("/socket.io/?EIO=4&transport=polling").get_data(as_text=True)[1:])["sid"]
    url = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    assert client.post(url, data=f'40/chat,{{"token": "{user.token}"}}').status_code == 200
    packets = "\x1e".join(f'42/chat,{n}["{event}", {{}}]' for n in range(65))
    response = client.post(url, data=packets)
    assert response.status_code == 400 and response.get_json()["statusCode"] == 400
    assert client.get(url).status_code == 400  # the session is gone
