"""Which links are music: one table of providers, each recognising its track, album and
playlist URLs, extracting the item's id and rebuilding one canonical URL (tracking
parameters, locales and share suffixes dropped)."""

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

URL_IN_TEXT = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)


@dataclass(frozen=True)
class TrackLink:
    provider: str
    provider_id: str
    kind: str  # track | album | playlist
    url: str  # canonical


@dataclass(frozen=True)
class Provider:
    name: str
    hosts: tuple
    oembed: str | None  # public oEmbed endpoint, or None for OpenGraph
    parse: object  # (host, path, query) -> TrackLink | None


def _spotify(host, path, query):
    match = re.fullmatch(r"(?:/intl-[a-z]{2}(?:-[a-z]{2})?)?/(track|album|playlist)/([A-Za-z0-9]{22})/?", path)
    if match:
        kind, item = match.groups()
        return TrackLink("spotify", item, kind, f"https://open.spotify.com/{kind}/{item}")
    return None


def _apple_music(host, path, query):
    match = re.fullmatch(r"/([a-z]{2})/(album|song|playlist)/(?:[^/]+/)?((?:pl\.)?[A-Za-z0-9.\-]+)/?", path)
    if not match:
        return None
    country, kind, item = match.groups()
    song = (query.get("i") or [None])[0]
    if kind == "album" and song and song.isdigit():
        return TrackLink("apple_music", song, "track", f"https://music.apple.com/{country}/song/{song}")
    kind = {"song": "track"}.get(kind, kind)
    path_kind = "song" if kind == "track" else kind
    return TrackLink("apple_music", item, kind, f"https://music.apple.com/{country}/{path_kind}/{item}")


def _youtube(host, path, query):
    video = None
    if host == "youtu.be":
        video = path.strip("/").split("/")[0]
    elif path in ("/watch", "/watch/"):
        video = (query.get("v") or [None])[0]
    elif re.fullmatch(r"/(shorts|embed|live)/[^/]+/?", path):
        video = path.strip("/").split("/")[1]
    elif path in ("/playlist", "/playlist/"):
        playlist = (query.get("list") or [None])[0]
        if playlist and re.fullmatch(r"[A-Za-z0-9_-]{10,64}", playlist):
            return TrackLink("youtube", playlist, "playlist", f"https://www.youtube.com/playlist?list={playlist}")
    if video and re.fullmatch(r"[A-Za-z0-9_-]{11}", video):
        return TrackLink("youtube", video, "track", f"https://www.youtube.com/watch?v={video}")
    return None


SOUNDCLOUD_RESERVED = {
    "discover",
    "stream",
    "upload",
    "you",
    "search",
    "charts",
    "pages",
    "settings",
    "tags",
    "messages",
    "notifications",
    "people",
    "terms-of-use",
    "mobile",
    "popular",
}


def _soundcloud(host, path, query):
    match = re.fullmatch(r"/([a-z0-9_-]+)/(sets/)?([a-z0-9_-]+)/?", path, re.IGNORECASE)
    if not match or match.group(1).lower() in SOUNDCLOUD_RESERVED:
        return None
    user, is_set, item = match.groups()
    if not is_set and item.lower() in {"tracks", "albums", "sets", "reposts", "likes", "followers", "following"}:
        return None
    kind = "playlist" if is_set else "track"
    slug = f"{user}/sets/{item}" if is_set else f"{user}/{item}"
    return TrackLink("soundcloud", slug.lower(), kind, f"https://soundcloud.com/{slug.lower()}")


def _bandcamp(host, path, query):
    artist = host.removesuffix(".bandcamp.com")
    match = re.fullmatch(r"/(track|album)/([a-z0-9-]+)/?", path, re.IGNORECASE)
    if not match or not artist or artist in {"www", "bandcamp"}:
        return None
    kind, slug = match.group(1), match.group(2).lower()
    return TrackLink("bandcamp", f"{artist}/{kind}/{slug}", kind, f"https://{artist}.bandcamp.com/{kind}/{slug}")


def _tidal(host, path, query):
    match = re.fullmatch(r"(?:/browse)?/(track|album|playlist|video)/([0-9a-f-]+)(?:/u)?/?", path, re.IGNORECASE)
    if match:
        kind, item = match.group(1).lower(), match.group(2).lower()
        return TrackLink("tidal", item, "track" if kind == "video" else kind, f"https://tidal.com/browse/{kind}/{item}")
    return None


def _deezer(host, path, query):
    match = re.fullmatch(r"(?:/[a-z]{2})?/(track|album|playlist)/([0-9]+)/?", path)
    if match:
        kind, item = match.groups()
        return TrackLink("deezer", item, kind, f"https://www.deezer.com/{kind}/{item}")
    return None


PROVIDERS = (
    Provider("spotify", ("open.spotify.com", "play.spotify.com"), "https://open.spotify.com/oembed", _spotify),
    Provider("apple_music", ("music.apple.com", "geo.music.apple.com"), None, _apple_music),
    Provider(
        "youtube",
        ("youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtu.be"),
        "https://www.youtube.com/oembed",
        _youtube,
    ),
    Provider(
        "soundcloud",
        ("soundcloud.com", "www.soundcloud.com", "m.soundcloud.com"),
        "https://soundcloud.com/oembed",
        _soundcloud,
    ),
    Provider("bandcamp", (".bandcamp.com",), None, _bandcamp),
    Provider("tidal", ("tidal.com", "www.tidal.com", "listen.tidal.com"), "https://oembed.tidal.com/", _tidal),
    Provider("deezer", ("deezer.com", "www.deezer.com"), "https://api.deezer.com/oembed", _deezer),
)
BY_NAME = {p.name: p for p in PROVIDERS}
NAMES = [p.name for p in PROVIDERS]
# As people write them, for messages about a provider.
DISPLAY_NAMES = {
    "spotify": "Spotify",
    "apple_music": "Apple Music",
    "youtube": "YouTube",
    "soundcloud": "SoundCloud",
    "bandcamp": "Bandcamp",
    "tidal": "Tidal",
    "deezer": "Deezer",
}


def _provider_for(host):
    for provider in PROVIDERS:
        for known in provider.hosts:
            if host == known or (known.startswith(".") and host.endswith(known) and len(host) > len(known)):
                return provider
    return None


def recognise(url):
    """The TrackLink of a supported music URL, else None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or parts.username or parts.port not in (None, 80, 443):
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    provider = _provider_for(host)
    if provider is None:
        return None
    return provider.parse(host, parts.path or "/", parse_qs(parts.query))


def first_link(text):
    """The first supported music link in a message's text, else None."""
    for match in URL_IN_TEXT.finditer(text or ""):
        link = recognise(match.group(0).rstrip(".,;:!?"))
        if link is not None:
            return link
    return None
