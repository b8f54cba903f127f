"""Where a message's unfurl stands (API.md §3, Message `unfurl`): PENDING until it ends, then DONE
with the card or FAILED, each end announced by `message_updated`; a provider that cannot be
reached is asked again later, and `POST /tracks/unfurl` answers it 502 with Retry-After."""

import time
import uuid
from datetime import timedelta

import pytest
from werkzeug import Response

from seda.chat.models import Message
from seda.common.db import utcnow
from seda.common.tasks import wait_for_in_process_tasks
from seda.extensions import db, socketio
from tests.helpers.chat import Chat
from tests.helpers.fixtures import UserFactory
from tests.helpers.providers import oembed, point_fetcher_at
from tests.helpers.servers import wait_until

SPOTIFY = "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT"


@pytest.fixture
def retrying_app(app_factory, provider_server, ca_file):
    app = app_factory(RATE_LIMIT_UNFURL="100/minute", UNFURL_RETRY_SECONDS="0,0")
    point_fetcher_at(app, provider_server, ca_file, timeout_ms=2_000)
    return app


@pytest.fixture
def room_of(retrying_app):
    """A chat user with a room and a socket in it that collects `message_updated`."""
    user = UserFactory(retrying_app).make()
    chat = Chat(retrying_app.test_client(), user)
    room = chat.room()
    sock = socketio.test_client(retrying_app, namespace="/chat", auth={"token": user.token})
    assert sock.emit("join_room", room["id"], namespace="/chat", callback=True)["ok"]
    yield chat, room, sock
    sock.disconnect("/chat")


def updates(sock):
    return [e["args"][0] for e in sock.get_received("/chat") if e["name"] == "message_updated"]


def settled(chat, message_id, timeout=15):
    """The message once its unfurl is no longer PENDING (retries run on timers)."""
    stored = {}

    def done():
        stored.update(chat.get(f"/messages/{message_id}")[1])
        return stored["unfurl"] != "PENDING"

    assert wait_until(done, timeout=timeout, interval=0.1), stored
    wait_for_in_process_tasks()
    return stored


def test_a_message_without_a_link_has_no_unfurl(room_of):
    chat, room, _ = room_of
    assert chat.send(room["id"], "no link here")["unfurl"] is None


def test_a_link_is_pending_then_done_with_its_card(room_of, providers):
    oembed(providers, "/oembed", title="Song Title", author_name="The Artist")
    chat, room, sock = room_of
    sent = chat.send(room["id"], f"hear this {SPOTIFY}")
    assert (sent["unfurl"], sent["type"], sent["trackRef"]) == ("PENDING", "TEXT", None)
    stored = settled(chat, sent["id"])
    assert (stored["unfurl"], stored["type"], stored["trackRef"]["title"]) == ("DONE", "TRACK_CARD", "Song Title")
    assert [(u["id"], u["unfurl"]) for u in updates(sock)] == [(sent["id"], "DONE")]


def test_a_provider_giving_junk_fails_the_unfurl_at_once_and_says_so(room_of, providers):
    providers.expect_request("/oembed").respond_with_data("{broken", content_type="application/json")
    chat, room, sock = room_of
    sent = chat.send(room["id"], SPOTIFY)
    stored = settled(chat, sent["id"])
    assert (stored["unfurl"], stored["type"], stored["trackRef"], stored["text"]) == ("FAILED", "TEXT", None, SPOTIFY)
    assert [u["unfurl"] for u in updates(sock)] == ["FAILED"]
    assert len(providers.log) == 1  # junk is not asked again


def test_an_unreachable_provider_is_asked_again_then_the_unfurl_fails(room_of, providers):
    providers.expect_request("/oembed").respond_with_data("down", status=503)
    chat, room, sock = room_of
    sent = chat.send(room["id"], SPOTIFY)
    stored = settled(chat, sent["id"])
    assert stored["unfurl"] == "FAILED"
    assert len(providers.log) == 3  # the first try and UNFURL_RETRY_SECONDS' two
    assert [u["unfurl"] for u in updates(sock)] == ["FAILED"]


def test_a_provider_back_before_the_last_try_gives_the_card(room_of, providers):
    answers = iter([Response("down", status=503), Response('{"title": "Back Again"}', content_type="application/json")])
    providers.expect_request("/oembed").respond_with_handler(lambda request: next(answers))
    chat, room, sock = room_of
    sent = chat.send(room["id"], SPOTIFY)
    stored = settled(chat, sent["id"])
    assert (stored["unfurl"], stored["trackRef"]["title"]) == ("DONE", "Back Again")
    assert [u["unfurl"] for u in updates(sock)] == ["DONE"]


def test_an_edit_that_removes_the_link_has_no_unfurl_and_one_that_adds_it_is_pending(room_of, providers):
    oembed(providers, "/oembed", title="Song Title")
    chat, room, _ = room_of
    sent = chat.send(room["id"], SPOTIFY)
    assert settled(chat, sent["id"])["unfurl"] == "DONE"
    status, edited = chat.patch(f"/messages/{sent['id']}", json={"text": "never mind"})
    assert status == 200 and edited["unfurl"] == "PENDING"  # the card goes in the background
    stored = settled(chat, sent["id"])
    assert (stored["unfurl"], stored["trackRef"], stored["type"]) == (None, None, "TEXT")
    status, edited = chat.patch(f"/messages/{sent['id']}", json={"text": f"this one {SPOTIFY}"})
    assert edited["unfurl"] == "PENDING"
    assert settled(chat, sent["id"])["unfurl"] == "DONE"


def unfurl(app, user, url):
    return app.test_client().post("/api/v1/tracks/unfurl", json={"url": url}, headers=user.headers)


@pytest.mark.parametrize("answer", [Response("down", status=503), Response("slow down", status=429)])
def test_unfurl_answers_502_with_retry_after_when_the_provider_fails(retrying_app, providers, answer):
    providers.expect_request("/oembed").respond_with_response(answer)
    response = unfurl(retrying_app, UserFactory(retrying_app).make(), SPOTIFY)
    assert response.status_code == 502
    assert response.get_json()["message"] == ["Could not reach Spotify, retry later"]
    assert response.headers["Retry-After"] == "30"


def test_unfurl_answers_502_when_the_provider_does_not_answer_in_time(retrying_app, providers):
    providers.expect_request("/oembed").respond_with_handler(lambda r: (time.sleep(3), Response("{}"))[1])
    response = unfurl(retrying_app, UserFactory(retrying_app).make(), "https://youtu.be/dQw4w9WgXcQ")
    assert response.status_code == 502
    assert response.get_json()["message"] == ["Could not reach YouTube, retry later"]


def test_a_link_the_provider_does_not_know_stays_422(retrying_app, providers):
    providers.expect_request("/oembed").respond_with_data("not found", status=404)
    response = unfurl(retrying_app, UserFactory(retrying_app).make(), SPOTIFY)
    assert response.status_code == 422
    assert response.get_json()["message"] == ["Could not read this link's details (http_404)"]
    assert "Retry-After" not in response.headers


def test_an_unfurl_left_pending_by_a_lost_retry_gets_a_last_try_from_the_sweep(retrying_app, room_of, providers):
    oembed(providers, "/oembed", title="Found At Last")
    chat, room, _ = room_of
    an_hour_ago = utcnow() - timedelta(hours=1)
    with retrying_app.app_context():  # as a retry lost with its worker leaves it: PENDING, long ago
        message = Message(
            room_id=uuid.UUID(room["id"]),
            user_id=uuid.UUID(str(chat.user.id)),
            seq=99,
            text=SPOTIFY,
            unfurl="PENDING",
            created_at=an_hour_ago,
            updated_at=an_hour_ago,
        )
        db.session.add(message)
        db.session.commit()
        message_id = str(message.id)
    result = retrying_app.test_cli_runner().invoke(args=["seda", "sweep"])
    assert result.exit_code == 0 and "unfurls_resumed=1" in result.output, result.output
    stored = settled(chat, message_id)
    assert (stored["unfurl"], stored["trackRef"]["title"]) == ("DONE", "Found At Last")
    assert "unfurls_resumed=0" in retrying_app.test_cli_runner().invoke(args=["seda", "sweep"]).output
