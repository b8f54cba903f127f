"""Unfurling music links through the safe fetcher into TrackRefs, cached per canonical URL."""

import json
import logging
from urllib.parse import urlencode

from bs4 import BeautifulSoup
from flask import current_app

from seda.common import metrics
from seda.common.errors import BadGateway, Unprocessable
from seda.crawler.fetcher import FetchFailed, fetcher_for
from seda.extensions import cache
from seda.tracks.providers import BY_NAME, DISPLAY_NAMES, recognise

log = logging.getLogger(__name__)
CACHE_SECONDS = 24 * 3600


RETRY_AFTER_SECONDS = 30  # a provider or the network failed: when a client may try again


class UnfurlFailed(Exception):
    """The provider answered, but gave no usable metadata (junk, no title, too large, 4xx)."""


class ProviderUnreachable(BadGateway):
    """The provider or the network failed (timeout, no connection, 5xx, 429): the link itself
    may be fine, and a later try may succeed."""

    def __init__(self, provider):
        name = DISPLAY_NAMES.get(provider, provider)
        super().__init__(f"Could not reach {name}, retry later", retry_after=RETRY_AFTER_SECONDS)


def unfurl(url):
    """The TrackRef of a supported music link; Unprocessable for anything else (422), and
    ProviderUnreachable (502) when the provider could not be asked."""
    link = recognise(url)
    if link is None:
        raise Unprocessable("Not a supported music link")
    cached = cached_track(link)
    if cached:
        return cached
    try:
        metadata = _metadata(link)
    except _Unreachable:
        metrics.UNFURLS.labels(link.provider, "unreachable").inc()
        raise ProviderUnreachable(link.provider) from None
    except UnfurlFailed as exc:
        metrics.UNFURLS.labels(link.provider, "failed").inc()
        raise Unprocessable(f"Could not read this link's details ({exc})") from None
    metrics.UNFURLS.labels(link.provider, "ok").inc()
    track = {"provider": link.provider, "providerId": link.provider_id, "url": link.url, **metadata}
    cache.set(_cache_key(link), track, timeout=CACHE_SECONDS)
    return track


def cached_track(link):
    """The TrackRef unfurled for `link` within the last 24 hours, else None (no network)."""
    return cache.get(_cache_key(link))


def bare_track(link):
    """A TrackRef for `link` with no details yet (seda fills them in when it unfurls)."""
    return {
        "provider": link.provider,
        "providerId": link.provider_id,
        "url": link.url,
        "title": None,
        "artist": None,
        "artwork": None,
        "duration": None,
    }


def _cache_key(link):
    return f"track:{link.url}"


def _metadata(link):
    endpoint = current_app.config["TRACKS_OEMBED_ENDPOINTS"].get(link.provider) or BY_NAME[link.provider].oembed
    if endpoint:
        return _from_oembed(endpoint, link.url)
    return _from_page(link.url)


class _Unreachable(Exception):
    pass


def _fetch(url):
    try:
        page = fetcher_for(current_app).fetch(url)
    except FetchFailed as exc:
        if exc.transient:
            raise _Unreachable() from None
        raise UnfurlFailed(exc.code) from None
    if page.status >= 500 or page.status == 429:
        raise _Unreachable()
    if page.status != 200:
        raise UnfurlFailed(f"http_{page.status}")
    if page.truncated:
        raise UnfurlFailed("too_large")
    return page


def _from_oembed(endpoint, url):
    page = _fetch(f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode({'format': 'json', 'url': url})}")
    try:
        data = json.loads(page.text)
    except ValueError:
        raise UnfurlFailed("invalid_json") from None
    if not isinstance(data, dict) or not isinstance(data.get("title"), str) or not data["title"].strip():
        raise UnfurlFailed("no_title")
    return {
        "title": data["title"].strip()[:300],
        "artist": _text(data.get("author_name")),
        "artwork": _https(data.get("thumbnail_url")),
        "duration": _seconds(data.get("duration")),
    }


def _from_page(url):
    soup = BeautifulSoup(_fetch(url).text, "lxml")

    def meta(*names):
        for name in names:
            tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
            if tag and tag.get("content", "").strip():
                return tag["content"].strip()
        return None

    title = meta("og:title", "twitter:title")
    if not title:
        raise UnfurlFailed("no_title")
    artist = meta("music:musician_description", "music:creator", "twitter:audio:artist_name")
    for separator in (", by ", " by "):
        if not artist and separator in title:
            title, _, artist = title.partition(separator)
            artist = artist.removesuffix(" on Apple Music")
    return {
        "title": title.strip()[:300],
        "artist": _text(artist),
        "artwork": _https(meta("og:image", "twitter:image")),
        "duration": _seconds(meta("music:duration", "og:video:duration")),
    }


def _text(value):
    return value.strip()[:300] if isinstance(value, str) and value.strip() else None


def _https(value):
    return value if isinstance(value, str) and value.startswith("https://") and len(value) <= 2048 else None


def _seconds(value):
    try:
        seconds = int(float(value))
    except (TypeError, ValueError):
        return None
    return seconds if 0 < seconds <= 86400 else None
