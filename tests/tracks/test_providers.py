"""URL shapes of each provider, as their own share buttons and pages produce them."""

import pytest

from seda.tracks.providers import first_link, recognise

CASES = [
    # Spotify: share button (si=), locale prefix, album, playlist
    (
        "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT",
        "spotify",
        "4cOdK2wGLETKBW3PvgPWqT",
        "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT",
    ),
    (
        "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT?si=1c8f3b2a9d4e4f6a&utm_source=copy-link",
        "spotify",
        "4cOdK2wGLETKBW3PvgPWqT",
        "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT",
    ),
    (
        "https://open.spotify.com/intl-de/track/4cOdK2wGLETKBW3PvgPWqT",
        "spotify",
        "4cOdK2wGLETKBW3PvgPWqT",
        "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT",
    ),
    (
        "https://open.spotify.com/album/1DFixLWuPkv3KT3TnV35m3?si=abc",
        "spotify",
        "1DFixLWuPkv3KT3TnV35m3",
        "https://open.spotify.com/album/1DFixLWuPkv3KT3TnV35m3",
    ),
    (
        "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M",
        "spotify",
        "37i9dQZF1DXcBWIGoYBM5M",
        "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M",
    ),
    # Apple Music: song inside an album (?i=), song page, album, playlist
    (
        "https://music.apple.com/us/album/blinding-lights/1499378108?i=1499378615",
        "apple_music",
        "1499378615",
        "https://music.apple.com/us/song/1499378615",
    ),
    (
        "https://music.apple.com/us/song/blinding-lights/1499378615",
        "apple_music",
        "1499378615",
        "https://music.apple.com/us/song/1499378615",
    ),
    (
        "https://music.apple.com/gb/album/after-hours/1499378108?ls=1&app=music",
        "apple_music",
        "1499378108",
        "https://music.apple.com/gb/album/1499378108",
    ),
    (
        "https://music.apple.com/us/playlist/todays-hits/pl.f4d106fed2bd41149aaacabb233eb5eb",
        "apple_music",
        "pl.f4d106fed2bd41149aaacabb233eb5eb",
        "https://music.apple.com/us/playlist/pl.f4d106fed2bd41149aaacabb233eb5eb",
    ),
    # YouTube: watch, youtu.be share, YouTube Music, mobile with time, shorts, playlist
    (
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "youtube",
        "dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "https://youtu.be/dQw4w9WgXcQ?si=EXAMPLEsiParam",
        "youtube",
        "dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "https://music.youtube.com/watch?v=dQw4w9WgXcQ&feature=share",
        "youtube",
        "dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ&t=42s",
        "youtube",
        "dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "https://www.youtube.com/shorts/aqz-KE-bpKQ",
        "youtube",
        "aqz-KE-bpKQ",
        "https://www.youtube.com/watch?v=aqz-KE-bpKQ",
    ),
    (
        "https://www.youtube.com/playlist?list=PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI",
        "youtube",
        "PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI",
        "https://www.youtube.com/playlist?list=PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI",
    ),
    # SoundCloud: track, share (utm), mobile, set
    (
        "https://soundcloud.com/forss/flickermood",
        "soundcloud",
        "forss/flickermood",
        "https://soundcloud.com/forss/flickermood",
    ),
    (
        "https://soundcloud.com/forss/flickermood?utm_source=clipboard&utm_medium=text&utm_campaign=social_sharing",
        "soundcloud",
        "forss/flickermood",
        "https://soundcloud.com/forss/flickermood",
    ),
    (
        "https://m.soundcloud.com/forss/flickermood",
        "soundcloud",
        "forss/flickermood",
        "https://soundcloud.com/forss/flickermood",
    ),
    (
        "https://soundcloud.com/forss/sets/soulhack",
        "soundcloud",
        "forss/sets/soulhack",
        "https://soundcloud.com/forss/sets/soulhack",
    ),
    # Bandcamp: album, track, track with embed parameter
    (
        "https://radiohead.bandcamp.com/album/in-rainbows",
        "bandcamp",
        "radiohead/album/in-rainbows",
        "https://radiohead.bandcamp.com/album/in-rainbows",
    ),
    (
        "https://macdemarco.bandcamp.com/track/chamber-of-reflection",
        "bandcamp",
        "macdemarco/track/chamber-of-reflection",
        "https://macdemarco.bandcamp.com/track/chamber-of-reflection",
    ),
    (
        "https://macdemarco.bandcamp.com/track/chamber-of-reflection?from=embed",
        "bandcamp",
        "macdemarco/track/chamber-of-reflection",
        "https://macdemarco.bandcamp.com/track/chamber-of-reflection",
    ),
    # Tidal: browse, share suffix /u, listen app, playlist
    ("https://tidal.com/browse/track/77640617", "tidal", "77640617", "https://tidal.com/browse/track/77640617"),
    ("https://tidal.com/track/77640617/u", "tidal", "77640617", "https://tidal.com/browse/track/77640617"),
    ("https://listen.tidal.com/album/77640616", "tidal", "77640616", "https://tidal.com/browse/album/77640616"),
    (
        "https://tidal.com/browse/playlist/0ec8f1b9-6d8c-4b1c-9a28-1ad1e1d3cf2d",
        "tidal",
        "0ec8f1b9-6d8c-4b1c-9a28-1ad1e1d3cf2d",
        "https://tidal.com/browse/playlist/0ec8f1b9-6d8c-4b1c-9a28-1ad1e1d3cf2d",
    ),
    # Deezer: track, localised, album, playlist
    ("https://www.deezer.com/track/3135556", "deezer", "3135556", "https://www.deezer.com/track/3135556"),
    (
        "https://www.deezer.com/en/track/3135556?utm_source=deezer",
        "deezer",
        "3135556",
        "https://www.deezer.com/track/3135556",
    ),
    ("https://deezer.com/us/album/302127", "deezer", "302127", "https://www.deezer.com/album/302127"),
    (
        "https://www.deezer.com/fr/playlist/908622995",
        "deezer",
        "908622995",
        "https://www.deezer.com/playlist/908622995",
    ),
]


@pytest.mark.parametrize("url,provider,provider_id,canonical", CASES, ids=[c[0] for c in CASES])
def test_supported_links_are_recognised_and_canonicalised(url, provider, provider_id, canonical):
    link = recognise(url)
    assert (link.provider, link.provider_id, link.url) == (provider, provider_id, canonical)


def test_every_provider_has_at_least_three_url_forms():
    from collections import Counter

    assert all(count >= 3 for count in Counter(c[1] for c in CASES).values())
    assert len({c[1] for c in CASES}) == 7


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/track/1",
        "https://open.spotify.com/user/spotify",
        "https://open.spotify.com/track/short",
        "https://www.youtube.com/channel/UC38IQsAvIsxxjztdMZQtwHA",
        "https://www.youtube.com/watch?v=tooshort",
        "https://soundcloud.com/discover",
        "https://soundcloud.com/forss",
        "https://soundcloud.com/forss/tracks",
        "https://bandcamp.com/discover",
        "https://radiohead.bandcamp.com/",
        "ftp://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT",
        "https://user@open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT",
        "https://open.spotify.com:8443/track/4cOdK2wGLETKBW3PvgPWqT",
        "https://evil-open.spotify.com.example/track/4cOdK2wGLETKBW3PvgPWqT",
        "not a url",
    ],
)
def test_other_links_are_not_music(url):
    assert recognise(url) is None


def test_the_first_music_link_in_a_message_is_found():
    text = "check https://example.com/blog and https://youtu.be/dQw4w9WgXcQ, then https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT."
    assert first_link(text).provider == "youtube"
    assert first_link("no links here") is None
    assert first_link("(https://www.deezer.com/track/3135556)").provider_id == "3135556"
