import logging
import time

import pytest
from werkzeug import Response

from seda.common.tasks import wait_for_in_process_tasks
from seda.extensions import socketio
from tests.helpers.chat import Chat
from tests.helpers.fixtures import UserFactory
from tests.helpers.providers import oembed, point_fetcher_at
from tests.helpers.servers import wait_until

SPOTIFY = "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT?si=share"
ARTWORK = "https://i.scdn.co/image/ab67616d0000b273"


def unfurl(app, user, url):
    response = app.test_client().post("/api/v1/tracks/unfurl", json={"url": url}, headers=user.headers)
    return response.status_code, response.get_json()


@pytest.fixture
def listener(tracks_app):
    return UserFactory(tracks_app).make()


def test_spotify_by_oembed(tracks_app, providers, listener):
    oembed(
        providers,
        "/oembed",
        title="Never Gonna Give You Up",
        author_name="Rick Astley",
        thumbnail_url=ARTWORK,
        type="rich",
        provider_name="Spotify",
    )
    status, track = unfurl(tracks_app, listener, SPOTIFY)
    assert status == 200
    assert track == {
        "provider": "spotify",
        "providerId": "4cOdK2wGLETKBW3PvgPWqT",
        "url": "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT",
        "title": "Never Gonna Give You Up",
        "artist": "Rick Astley",
        "artwork": ARTWORK,
        "duration": None,
    }
    request = providers.log[0][0]
    assert request.args["url"] == "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT"
    assert request.headers["Host"] == "open.spotify.com"


@pytest.mark.parametrize(
    "url,path,provider",
    [
        ("https://youtu.be/dQw4w9WgXcQ", "/oembed", "youtube"),
        ("https://soundcloud.com/forss/flickermood", "/oembed", "soundcloud"),
        ("https://tidal.com/browse/track/77640617", "/", "tidal"),
        ("https://www.deezer.com/track/3135556", "/oembed", "deezer"),
    ],
)
def test_other_oembed_providers(tracks_app, providers, listener, url, path, provider):
    oembed(providers, path, title="A Song", author_name="An Artist", thumbnail_url=ARTWORK, duration=201)
    status, track = unfurl(tracks_app, listener, url)
    assert status == 200 and track["provider"] == provider
    assert (track["title"], track["artist"], track["duration"]) == ("A Song", "An Artist", 201)


def test_bandcamp_and_apple_music_by_opengraph(tracks_app, providers, listener):
    providers.expect_request("/track/chamber-of-reflection").respond_with_data(
        '<html><head><meta property="og:title" content="Chamber of Reflection, by Mac DeMarco">'
        f'<meta property="og:image" content="{ARTWORK}"><meta property="music:duration" content="231">'
        "</head><body></body></html>",
        content_type="text/html",
    )
    providers.expect_request("/us/song/1499378615").respond_with_data(
        '<html><head><meta name="twitter:title" content="Blinding Lights by The Weeknd on Apple Music"></head></html>',
        content_type="text/html",
    )
    status, bandcamp = unfurl(
        tracks_app, listener, "https://macdemarco.bandcamp.com/track/chamber-of-reflection?from=embed"
    )
    assert status == 200
    assert (bandcamp["title"], bandcamp["artist"], bandcamp["duration"], bandcamp["artwork"]) == (
        "Chamber of Reflection",
        "Mac DeMarco",
        231,
        ARTWORK,
    )
    status, apple = unfurl(
        tracks_app, listener, "https://music.apple.com/us/album/blinding-lights/1499378108?i=1499378615"
    )
    assert status == 200 and (apple["title"], apple["artist"]) == ("Blinding Lights", "The Weeknd")


def test_the_oembed_endpoint_can_be_overridden(app_factory, provider_server, ca_file, providers):
    app = app_factory(TRACKS_OEMBED_ENDPOINTS='{"spotify": "https://open.spotify.com/proxy/oembed?key=1"}')
    point_fetcher_at(app, provider_server, ca_file)
    oembed(providers, "/proxy/oembed", title="Proxied")
    status, track = unfurl(app, UserFactory(app).make(), SPOTIFY)
    assert status == 200 and track["title"] == "Proxied"
    assert providers.log[0][0].args["key"] == "1"


def test_results_are_cached_by_canonical_url(tracks_app, providers, listener):
    oembed(providers, "/oembed", title="Once")
    unfurl(tracks_app, listener, SPOTIFY)
    unfurl(tracks_app, listener, "https://open.spotify.com/intl-fr/track/4cOdK2wGLETKBW3PvgPWqT")
    assert len(providers.log) == 1


@pytest.mark.parametrize("url", ["https://example.com/song", "https://open.spotify.com/artist/0gxyHStUsqpMadRV0Di1Qt"])
def test_unsupported_links_are_422(tracks_app, listener, url):
    status, body = unfurl(tracks_app, listener, url)
    assert status == 422 and body["message"] == ["Not a supported music link"]


@pytest.mark.parametrize(
    "body", [{"url": "not a url"}, {}, {"url": SPOTIFY, "extra": 1}, {"url": "javascript:alert(1)"}]
)
def test_malformed_input_is_400(tracks_app, listener, body):
    response = tracks_app.test_client().post("/api/v1/tracks/unfurl", json=body, headers=listener.headers)
    assert response.status_code == 400


def test_junk_and_huge_answers_are_422(tracks_app, providers, listener):
    providers.expect_request("/oembed").respond_with_data("<html>not json</html>", content_type="text/html")
    status, body = unfurl(tracks_app, listener, SPOTIFY)
    assert status == 422 and "invalid_json" in body["message"][0]
    providers.clear()
    providers.expect_request("/oembed").respond_with_handler(
        lambda r: Response((b"x" * 65536 for _ in range(64)), content_type="application/json")
    )
    status, body = unfurl(tracks_app, listener, "https://youtu.be/dQw4w9WgXcQ")
    assert status == 422 and "too_large" in body["message"][0]


def test_unfurl_is_limited_per_user(app_factory, provider_server, ca_file, providers):
    app = app_factory(RATE_LIMIT_UNFURL="2/minute")
    point_fetcher_at(app, provider_server, ca_file)
    user = UserFactory(app).make()
    statuses = [unfurl(app, user, "https://example.com/x")[0] for _ in range(3)]
    assert statuses == [422, 422, 429]


# -- the background path --------------------------------------------------------------------


def test_a_message_with_a_link_becomes_a_track_card(tracks_app, providers, listener):
    oembed(providers, "/oembed", title="Song Title", author_name="The Artist", thumbnail_url=ARTWORK)
    chat = Chat(tracks_app.test_client(), listener)
    room = chat.room()
    sock = socketio.test_client(tracks_app, namespace="/chat", auth={"token": listener.token})
    sock.emit("join_room", room["id"], namespace="/chat", callback=True)
    sent = chat.send(room["id"], f"this one! {SPOTIFY}")
    assert sent["type"] == "TEXT" and sent["trackRef"] is None  # stored first, unfurled after
    wait_for_in_process_tasks()
    updates = [e["args"][0] for e in sock.get_received("/chat") if e["name"] == "message_updated"]
    assert len(updates) == 1
    assert updates[0]["id"] == sent["id"] and updates[0]["type"] == "TRACK_CARD"
    assert updates[0]["trackRef"]["title"] == "Song Title" and updates[0]["text"] == sent["text"]
    assert chat.get(f"/messages/{sent['id']}")[1]["trackRef"]["providerId"] == "4cOdK2wGLETKBW3PvgPWqT"
    sock.disconnect("/chat")


def test_a_failing_provider_leaves_the_text_and_marks_the_unfurl_failed(tracks_app, providers, listener, caplog):
    providers.expect_request("/oembed").respond_with_data("{broken", content_type="application/json")
    chat = Chat(tracks_app.test_client(), listener)
    room = chat.room()
    with caplog.at_level(logging.WARNING, logger="seda.chat.cards"):
        sent = chat.send(room["id"], SPOTIFY)
        wait_for_in_process_tasks()
    stored = chat.get(f"/messages/{sent['id']}")[1]
    assert (stored["type"], stored["trackRef"], stored["text"], stored["unfurl"]) == ("TEXT", None, SPOTIFY, "FAILED")
    lines = [r for r in caplog.records if r.name == "seda.chat.cards"]
    assert len(lines) == 1 and "invalid_json" in lines[0].getMessage()


def test_a_slow_provider_times_out_and_the_unfurl_fails_after_its_retries(
    app_factory, provider_server, ca_file, providers
):
    app = app_factory(UNFURL_RETRY_SECONDS="0")
    point_fetcher_at(app, provider_server, ca_file, timeout_ms=500)
    providers.expect_request("/oembed").respond_with_handler(lambda r: (time.sleep(1.5), Response("{}"))[1])
    user = UserFactory(app).make()
    chat = Chat(app.test_client(), user)
    room = chat.room()
    sent = chat.send(room["id"], SPOTIFY)
    assert wait_until(lambda: chat.get(f"/messages/{sent['id']}")[1]["unfurl"] == "FAILED", timeout=15)
    assert chat.get(f"/messages/{sent['id']}")[1]["type"] == "TEXT"


def test_edits_that_change_or_remove_the_link_rerun_the_unfurl(tracks_app, providers, listener):
    def answer(request):
        title = "Deezer Song" if "deezer" in request.args["url"] else "Spotify Song"
        return Response(f'{{"title": "{title}"}}', content_type="application/json")

    providers.expect_request("/oembed").respond_with_handler(answer)
    chat = Chat(tracks_app.test_client(), listener)
    room = chat.room()
    sent = chat.send(room["id"], SPOTIFY)
    wait_for_in_process_tasks()
    chat.patch(f"/messages/{sent['id']}", json={"text": "actually https://www.deezer.com/track/3135556"})
    wait_for_in_process_tasks()
    assert chat.get(f"/messages/{sent['id']}")[1]["trackRef"]["title"] == "Deezer Song"
    chat.patch(f"/messages/{sent['id']}", json={"text": "never mind"})
    wait_for_in_process_tasks()
    message = chat.get(f"/messages/{sent['id']}")[1]
    assert message["type"] == "TEXT" and message["trackRef"] is None


YOUTUBE_CARD = {
    "provider": "youtube",
    "providerId": "dQw4w9WgXcQ",
    "url": "https://youtu.be/dQw4w9WgXcQ",
    "title": "Free crypto, click here",
    "artist": "Totally the artist",
    "artwork": "https://evil.test/phish.png",
    "duration": 1,
}


def youtube_unfurls(providers):
    return sum(1 for request, _ in providers.log if "youtube" in request.args.get("url", ""))


def test_a_card_sent_by_the_client_keeps_its_link_but_takes_seda_s_details(tracks_app, providers, listener):
    oembed(providers, "/oembed", title="Never Gonna Give You Up", author_name="Rick Astley")
    chat = Chat(tracks_app.test_client(), listener)
    room = chat.room()
    sock = socketio.test_client(tracks_app, namespace="/chat", auth={"token": listener.token})
    sock.emit("join_room", room["id"], namespace="/chat", callback=True)
    sent = chat.send(room["id"], f"with text {SPOTIFY}", trackRef=YOUTUBE_CARD)
    assert sent["type"] == "TRACK_CARD"
    assert sent["trackRef"] == {
        "provider": "youtube",
        "providerId": "dQw4w9WgXcQ",
        "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "title": None,
        "artist": None,
        "artwork": None,
        "duration": None,
    }
    wait_for_in_process_tasks()
    updates = [e["args"][0] for e in sock.get_received("/chat") if e["name"] == "message_updated"]
    assert [u["trackRef"]["title"] for u in updates] == ["Never Gonna Give You Up"]
    stored = chat.get(f"/messages/{sent['id']}")[1]["trackRef"]
    assert (stored["title"], stored["artist"], stored["artwork"]) == ("Never Gonna Give You Up", "Rick Astley", None)
    assert youtube_unfurls(providers) == 1  # the card's link, not the Spotify link in the text
    sock.disconnect("/chat")


def test_a_card_already_unfurled_carries_its_details_at_once(tracks_app, providers, listener):
    oembed(providers, "/oembed", title="Never Gonna Give You Up", author_name="Rick Astley")
    assert unfurl(tracks_app, listener, YOUTUBE_CARD["url"])[0] == 200
    chat = Chat(tracks_app.test_client(), listener)
    sent = chat.send(chat.room()["id"], "", trackRef=YOUTUBE_CARD)
    assert sent["trackRef"]["title"] == "Never Gonna Give You Up" and sent["trackRef"]["artist"] == "Rick Astley"
    wait_for_in_process_tasks()
    assert youtube_unfurls(providers) == 1  # the unfurl above; the send needed no other


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ({"url": "https://evil.test/phish"}, "trackRef: Not a supported music link"),
        ({"provider": "spotify"}, "trackRef: provider and providerId do not match the url"),
        ({"providerId": "aaaaaaaaaaa"}, "trackRef: provider and providerId do not match the url"),
    ],
)
def test_a_card_whose_link_is_not_what_it_claims_is_422(tracks_app, listener, card, reason):
    chat = Chat(tracks_app.test_client(), listener)
    room = chat.room()
    status, error = chat.post(f"/rooms/{room['id']}/messages", json={"text": "", "trackRef": {**YOUTUBE_CARD, **card}})
    assert status == 422 and error["message"] == [reason]
    assert chat.get(f"/rooms/{room['id']}/messages")[1] == []
