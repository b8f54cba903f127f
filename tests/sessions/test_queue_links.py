"""Queueing by link: seda unfurls it as POST /tracks/unfurl does (cached 24 h), and its own
duration wins over the one a client sends."""

import pytest

from tests.helpers.chat import Chat
from tests.helpers.fixtures import UserFactory
from tests.helpers.providers import oembed

SPOTIFY = "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT?si=share"
CANONICAL = "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT"


@pytest.fixture
def host(tracks_app):
    host = Chat(tracks_app.test_client(), UserFactory(tracks_app).make())
    room_id = host.room()["id"]
    assert host.post(f"/rooms/{room_id}/session")[0] == 201
    return host, room_id


def test_a_link_is_unfurled_once_and_queued_with_seda_s_details(host, providers):
    host, room_id = host
    oembed(providers, "/oembed", title="Never Gonna Give You Up", author_name="Rick Astley", duration=213)
    status, item = host.post(f"/rooms/{room_id}/session/queue", json={"url": SPOTIFY})
    assert status == 201
    assert item["trackRef"]["url"] == CANONICAL and item["trackRef"]["title"] == "Never Gonna Give You Up"
    assert item["trackRef"]["duration"] == 213
    chosen = {"provider": "spotify", "providerId": "4cOdK2wGLETKBW3PvgPWqT", "url": SPOTIFY, "duration": 60}
    status, again = host.post(f"/rooms/{room_id}/session/queue", json={"trackRef": {**chosen, "title": "Mine"}})
    assert status == 201
    assert again["trackRef"]["title"] == "Never Gonna Give You Up" and again["trackRef"]["duration"] == 213
    assert len(providers.log) == 1  # the second add came from the cache
    session = host.get(f"/rooms/{room_id}/session")[1]
    ends = session["nowPlaying"]["endsAt"]
    assert ends is not None and session["queue"][0]["id"] == again["id"]


def test_a_link_the_provider_cannot_describe_is_422_and_nothing_is_queued(host, providers):
    host, room_id = host
    providers.expect_request("/oembed").respond_with_data("nope", status=404)
    status, body = host.post(f"/rooms/{room_id}/session/queue", json={"url": SPOTIFY})
    assert status == 422 and body["message"][0].startswith("Could not read this link's details")
    assert host.get(f"/rooms/{room_id}/session")[1]["nowPlaying"] is None


def test_no_link_is_fetched_for_a_room_without_a_session(tracks_app, providers):
    owner = Chat(tracks_app.test_client(), UserFactory(tracks_app).make())
    room_id = owner.room()["id"]
    status, body = owner.post(f"/rooms/{room_id}/session/queue", json={"url": SPOTIFY})
    assert status == 404 and body["message"] == ["No listening session in this room"]
    assert providers.log == []
