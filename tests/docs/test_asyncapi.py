"""The AsyncAPI document of /chat (#42): every handler and every emitted event has its entry, the
document is AsyncAPI 3, and the events real sockets receive match its schemas."""

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest

from seda.chat.events import ChatNamespace
from seda.docs.asyncapi import CLIENT_EVENTS, SERVER_EVENTS
from tests.helpers.chat import Chat
from tests.helpers.tiers import services_only

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "tests" / "doc_clients"
# An emitted event's name: a string literal standing as an argument of a call of the realtime
# layer's emitters (not a subscript such as row["recipient_id"]).
EMITTED = re.compile(
    r"\b(?:to_room|to_user|last_word_to_user|to_room_later|emit)\(\s*"
    r"(?:(?:[^()]|\([^()]*\))*?,\s*)?\"([a-z_]+)\"\s*[,)]"
)


@pytest.fixture
def document(client):
    response = client.get("/api/docs/asyncapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_every_handler_of_the_namespace_is_documented_and_nothing_more():
    handlers = {name.removeprefix("on_") for name in vars(ChatNamespace) if name.startswith("on_")}
    assert handlers - {"connect", "disconnect"} == set(CLIENT_EVENTS)


def test_every_event_the_code_emits_is_documented_and_nothing_more():
    emitted = set()
    for source in (ROOT / "seda").rglob("*.py"):
        emitted |= set(EMITTED.findall(source.read_text()))
    assert emitted - set(SERVER_EVENTS) == set()
    assert set(SERVER_EVENTS) - emitted - {"presence_count", "error"} == set()  # emitted by name in a variable


def test_the_document_shares_the_rest_schemas(document, client):
    rest = client.get("/api/docs/openapi.json").get_json()["components"]["schemas"]
    events = document["components"]["schemas"]
    assert set(events["Message"]["properties"]) == set(rest["Message"]["properties"])
    assert events["Message"]["properties"]["unfurl"]["type"] == ["string", "null"]
    assert document["channels"]["chat"]["address"] == "/chat"
    assert document["operations"]["send_message"]["reply"]


def test_the_events_page_lists_every_event(client):
    response = client.get("/api/docs/events")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in [*CLIENT_EVENTS, *SERVER_EVENTS]:
        assert f'id="{name}"' in page


def payload_validator(document, message):
    schema = {**document["components"]["messages"][message]["payload"], "components": document["components"]}
    return jsonschema.Draft7Validator(schema)


def assert_matches(document, event, args):
    validator = payload_validator(document, event)
    payload = args[0] if len(args) == 1 else (args or None)
    errors = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(payload)]
    assert errors == [], (event, payload)


def test_events_real_sockets_receive_match_the_document(app, users, socket_for, document):
    owner, fan = users.make(), users.make()
    owner_chat, fan_chat = Chat(app.test_client(), owner), Chat(app.test_client(), fan)
    room = owner_chat.room()
    watcher = socket_for(owner)
    acks = {"join_room": watcher.emit("join_room", room["id"], namespace="/chat", callback=True)}
    fan_chat.post(f"/rooms/{room['id']}/join")
    fan_socket = socket_for(fan)
    fan_socket.emit("join_room", room["id"], namespace="/chat", callback=True)
    sent = fan_socket.emit("send_message", {"roomId": room["id"], "text": "hi @x"}, namespace="/chat", callback=True)
    acks["send_message"] = sent
    message_id = sent["message"]["id"]
    acks["edit_message"] = fan_socket.emit(
        "edit_message", {"messageId": message_id, "text": "hi again"}, namespace="/chat", callback=True
    )
    acks["add_reaction"] = watcher.emit(
        "add_reaction", {"messageId": message_id, "emoji": "🔥"}, namespace="/chat", callback=True
    )
    acks["remove_reaction"] = watcher.emit(
        "remove_reaction", {"messageId": message_id, "emoji": "🔥"}, namespace="/chat", callback=True
    )
    acks["typing_start"] = fan_socket.emit("typing_start", room["id"], namespace="/chat", callback=True)
    acks["typing_stop"] = fan_socket.emit("typing_stop", room["id"], namespace="/chat", callback=True)
    acks["mark_read"] = watcher.emit(
        "mark_read", {"roomId": room["id"], "messageId": message_id}, namespace="/chat", callback=True
    )
    acks["ping"] = watcher.emit("ping", namespace="/chat", callback=True)
    acks["delete_message"] = fan_socket.emit(
        "delete_message", {"messageId": message_id}, namespace="/chat", callback=True
    )
    watcher.emit("no_such_event", {}, namespace="/chat")
    acks["leave_room"] = fan_socket.emit("leave_room", room["id"], namespace="/chat", callback=True)

    for event, ack in acks.items():
        assert ack["ok"], (event, ack)
        assert_matches(document, f"{event}_ack", [ack])
    received = watcher.get_received("/chat")
    seen = {each["name"] for each in received}
    assert {
        "user_joined",
        "presence",
        "message_created",
        "message_updated",
        "reaction_added",
        "reaction_removed",
        "user_typing",
        "read_updated",
        "pong",
        "message_deleted",
        "user_left",
        "error",
    } <= seen
    for each in received:
        assert_matches(document, each["name"], each["args"])


@services_only
def test_the_document_is_asyncapi_3(document, tmp_path):
    specs = CLIENTS / "node_modules" / "@asyncapi" / "specs" / "schemas" / "3.0.0.json"
    if not specs.exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=CLIENTS, check=True, timeout=300)
    schema = json.loads(specs.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(f"{list(error.absolute_path)}: {error.message}"[:300] for error in validator.iter_errors(document))
    assert errors == []
