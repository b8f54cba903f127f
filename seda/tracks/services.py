"""Track cards: unfurling music links through the safe fetcher, and what is popular."""

import json
import logging
from datetime import timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from bs4 import BeautifulSoup
from flask import current_app

from seda.chat import notify
from seda.chat.models import Message, MessageType, Room, RoomType
from seda.common import metrics
from seda.common.db import utcnow
from seda.common.errors import Unprocessable
from seda.common.tasks import enqueue
from seda.crawler.fetcher import FetchFailed, fetcher_for
from seda.extensions import cache, db
from seda.tracks.providers import BY_NAME, first_link, recognise

log = logging.getLogger(__name__)
CACHE_SECONDS = 24 * 3600


class UnfurlFailed(Exception):
    """The provider did not give usable metadata (timeout, junk, no title)."""


def unfurl(url):
    """The TrackRef of a supported music link; Unprocessable for anything else."""
    link = recognise(url)
    if link is None:
        raise Unprocessable("Not a supported music link")
    key = f"track:{link.url}"
    cached = cache.get(key)
    if cached:
        return cached
    try:
        metadata = _metadata(link)
    except UnfurlFailed as exc:
        metrics.UNFURLS.labels(link.provider, "failed").inc()
        raise Unprocessable(f"Could not read this link's details ({exc})") from None
    metrics.UNFURLS.labels(link.provider, "ok").inc()
    track = {"provider": link.provider, "providerId": link.provider_id, "url": link.url, **metadata}
    cache.set(key, track, timeout=CACHE_SECONDS)
    return track


def _metadata(link):
    endpoint = current_app.config["TRACKS_OEMBED_ENDPOINTS"].get(link.provider) or BY_NAME[link.provider].oembed
    if endpoint:
        return _from_oembed(endpoint, link.url)
    return _from_page(link.url)


def _fetch(url):
    try:
        page = fetcher_for(current_app).fetch(url, use_cache=False)
    except FetchFailed as exc:
        raise UnfurlFailed(exc.code) from None
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


# -- track cards in chat ----------------------------------------------------------------------


def queue_unfurl_if_needed(message):
    """After a message is stored or edited: queue the unfurl when its first music link changed."""
    if message.track_ref is not None and not message.track_ref_auto:
        return  # the client sent the card itself
    link = first_link(message.text)
    if (link and link.url != message.track_url) or (link is None and message.track_ref_auto):
        from seda.tracks.tasks import unfurl_message

        enqueue(unfurl_message, str(message.id))


def unfurl_message(message_id):
    """Turn a message's first music link into its TrackRef (idempotent; a failure changes nothing)."""
    message = db.session.get(Message, message_id)
    if message is None or message.deleted_at is not None:
        return
    if message.track_ref is not None and not message.track_ref_auto:
        return
    text = message.text
    link = first_link(text)
    if link is not None and link.url == message.track_url:
        return
    if link is None:
        if not message.track_ref_auto:
            return
        changes = {"track_ref": None, "track_url": None, "track_ref_auto": False,
                   "type": MessageType.REPLY if message.parent_id else MessageType.TEXT}
    else:
        try:
            track = unfurl(link.url)
        except Unprocessable as exc:
            log.warning("unfurl of %s for message %s failed: %s", link.url, message_id, exc.messages[0])
            return
        changes = {"track_ref": track, "track_url": link.url, "track_ref_auto": True, "type": MessageType.TRACK_CARD}
    # Only if the text is still the one we read: a concurrent edit wins and queues its own run.
    changed = db.session.execute(
        sa.update(Message).where(Message.id == message.id, Message.text == text, Message.deleted_at.is_(None))
        .values(**changes, updated_at=utcnow())
    ).rowcount
    db.session.commit()
    if changed:
        from seda.chat.messages import serialize_message

        db.session.refresh(message)
        notify.message_updated(serialize_message(message))


def popular(days, limit):
    """Tracks shared in public rooms over the last `days`, most shared first."""
    since = utcnow() - timedelta(days=days)
    shared = (
        sa.select(Message.track_url, sa.func.count().label("shares"), sa.func.max(Message.created_at).label("last"))
        .join(Room, Room.id == Message.room_id)
        .where(Message.type == MessageType.TRACK_CARD, Message.deleted_at.is_(None), Message.track_url.is_not(None),
               Message.created_at >= since, Room.type == RoomType.PUBLIC)
        .group_by(Message.track_url)
        .order_by(sa.desc("shares"), sa.desc("last"), Message.track_url)
        .limit(limit)
    ).subquery()
    rows = db.session.execute(
        sa.select(shared.c.track_url, shared.c.shares, shared.c.last, Message.track_ref)
        .join(Message, sa.and_(Message.track_url == shared.c.track_url, Message.created_at == shared.c.last))
        .order_by(shared.c.shares.desc(), shared.c.last.desc(), shared.c.track_url)
    ).all()
    seen, result = set(), []
    for url, shares, last, track_ref in rows:
        if url in seen:
            continue
        seen.add(url)
        result.append({**(track_ref or {}), "url": url, "shareCount": shares, "lastSharedAt": last})
    return result
