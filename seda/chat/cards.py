"""Track cards: a message's first music link becomes its TrackRef, unfurled in the background,
and the most shared cards of public rooms. Recognising and unfurling links is seda.tracks' job;
attaching the result to a message is chat's."""

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from seda.chat import history, hooks, notify
from seda.chat.models import (
    UNFURL_DONE,
    UNFURL_FAILED,
    UNFURL_PENDING,
    Message,
    MessageType,
    Room,
    RoomType,
    is_track_card,
)
from seda.chat.payloads import serialize_message
from seda.common.db import utcnow
from seda.common.errors import Unprocessable
from seda.common.tasks import enqueue, enqueue_at
from seda.extensions import db
from seda.tracks.providers import first_link, recognise
from seda.tracks.services import ProviderUnreachable, bare_track, cached_track, unfurl

log = logging.getLogger(__name__)
UNFURL_TASK = "chat.unfurl_message"


def card_for(track_ref):
    """The TrackRef to store for a card a client sent, and its canonical URL.

    The client chooses the link, never the details: provider and providerId must be the link's
    (422 otherwise), and title, artist, artwork and duration are seda's unfurl of it, from the
    cache at once or filled in later by the background unfurl."""
    link = recognise(track_ref["url"])
    if link is None:
        raise Unprocessable("trackRef: Not a supported music link")
    if (link.provider, link.provider_id) != (track_ref["provider"], track_ref["providerId"]):
        raise Unprocessable("trackRef: provider and providerId do not match the url")
    return cached_track(link) or bare_track(link), link.url


def unfurl_due(message):
    """Whether a background unfurl is due for the message as it stands now (stored or edited):
    its card lacks seda's details, or its first music link is not the one its card shows."""
    if message.track_ref is not None and not message.track_ref_auto:
        return message.track_ref.get("title") is None  # otherwise the card the client chose stays
    link = first_link(message.text)
    return bool((link and link.url != message.track_url) or (link is None and message.track_ref_auto))


def unfurl_state(message):
    """Message.unfurl to store with the message as it stands now: PENDING when an unfurl is
    due, None when it has no link and no card, else what it was."""
    if unfurl_due(message):
        return UNFURL_PENDING
    if message.track_ref is None and first_link(message.text) is None:
        return None
    return message.unfurl


def queue_unfurl_if_needed(message):
    """After a message is stored or edited with `unfurl_state`: queue its pending unfurl."""
    if message.unfurl == UNFURL_PENDING and unfurl_due(message):
        enqueue(UNFURL_TASK, str(message.id))


def attach_card(message_id, attempt=0):
    """Turn a message's first music link into its TrackRef (idempotent). A provider that gave
    nothing usable makes the unfurl FAILED; one that could not be reached is asked again later
    (UNFURL_RETRY_SECONDS), then FAILED. Every end is announced with message_updated."""
    message = db.session.get(Message, message_id)
    if message is None or message.deleted_at is not None:
        return
    if message.track_ref is not None and not message.track_ref_auto:
        _fill_chosen_card(message, attempt)
        return
    text = message.text
    link = first_link(text)
    if link is not None and link.url == message.track_url:
        return
    if link is None:
        if not message.track_ref_auto:
            return
        changes = {
            "track_ref": None,
            "track_url": None,
            "track_ref_auto": False,
            "type": MessageType.REPLY if message.parent_id else MessageType.TEXT,
            "unfurl": None,
        }
    else:
        track = _unfurl_for(message, link.url, attempt)
        if track is _LATER:
            return
        if track is None:
            changes = {"unfurl": UNFURL_FAILED}
        else:
            changes = {
                "track_ref": track,
                "track_url": link.url,
                "track_ref_auto": True,
                "type": MessageType.TRACK_CARD,
                "unfurl": UNFURL_DONE,
            }
    # Only if the text is still the one we read: a concurrent edit wins and queues its own run.
    _update_card(message, Message.text == text, changes)


def _fill_chosen_card(message, attempt):
    """Give a card the client chose seda's details for its link (once; a failure keeps it bare)."""
    if message.track_ref.get("title") is not None:
        return
    track = _unfurl_for(message, message.track_url, attempt)
    if track is _LATER:
        return
    changes = {"unfurl": UNFURL_FAILED} if track is None else {"track_ref": track, "unfurl": UNFURL_DONE}
    _update_card(message, Message.track_url == message.track_url, changes)


_LATER = object()  # the provider could not be reached: asked again later
STALE_UNFURL_MARGIN = timedelta(minutes=10)
RESUMED_PER_SWEEP = 500


def resume_stale_unfurls():
    """Give each unfurl still PENDING well after its last retry was due one last try: a retry
    waits in the broker with its ETA, and a worker that died lost it. How many were resumed."""
    delays = current_app.config["UNFURL_RETRY_SECONDS"]
    stale_before = utcnow() - timedelta(seconds=sum(delays)) - STALE_UNFURL_MARGIN
    stale = db.session.scalars(
        sa.select(Message.id)
        .where(Message.unfurl == UNFURL_PENDING, Message.updated_at < stale_before)
        .order_by(Message.updated_at)
        .limit(RESUMED_PER_SWEEP)
    ).all()
    db.session.commit()
    for message_id in stale:
        enqueue(UNFURL_TASK, str(message_id), len(delays))
    return len(stale)


def _unfurl_for(message, url, attempt):
    """seda's TrackRef of `url`; None (logged) when the provider gave nothing usable, or could
    not be reached on the last try; _LATER when it will be asked again."""
    try:
        return unfurl(url)
    except ProviderUnreachable:
        delays = current_app.config["UNFURL_RETRY_SECONDS"]
        if attempt < len(delays):
            enqueue_at(UNFURL_TASK, utcnow() + timedelta(seconds=delays[attempt]), str(message.id), attempt + 1)
            return _LATER
        log.warning("unfurl of %s for message %s failed: provider unreachable", url, message.id)
        return None
    except Unprocessable as exc:
        log.warning("unfurl of %s for message %s failed: %s", url, message.id, exc.messages[0])
        return None


def _update_card(message, still_current, changes):
    """Write `changes` if the message is not deleted and `still_current` holds, then tell the room."""
    history.record_change(message.room_id)  # first: every writer takes the room's row lock before a message's
    changed = db.session.execute(
        sa.update(Message)
        .where(Message.id == message.id, still_current, Message.deleted_at.is_(None))
        .values(**changes, updated_at=utcnow())
    ).rowcount
    db.session.commit()
    if changed:
        db.session.refresh(message)
        notify.message_updated(serialize_message(message))


def popular(days, limit):
    """Tracks shared in public rooms over the last `days`, most shared first: cards of messages,
    and whatever else counts as a share (tracks played by listening sessions, chat/hooks.py)."""
    since = utcnow() - timedelta(days=days)
    cards = (
        sa.select(
            Message.track_url.label("url"), Message.created_at.label("shared_at"), Message.track_ref.label("track_ref")
        )
        .join(Room, Room.id == Message.room_id)
        .where(
            is_track_card(Message.type),
            Message.deleted_at.is_(None),
            Message.track_url.is_not(None),
            Message.created_at >= since,
            Room.type == RoomType.PUBLIC,
        )
    )
    shares = sa.union_all(cards, *hooks.share_sources(since)).cte("shares")
    top = (
        sa.select(shares.c.url, sa.func.count().label("shares"), sa.func.max(shares.c.shared_at).label("last"))
        .group_by(shares.c.url)
        .order_by(sa.desc("shares"), sa.desc("last"), shares.c.url)
        .limit(limit)
    ).subquery()
    rows = db.session.execute(
        sa.select(top.c.url, top.c.shares, top.c.last, shares.c.track_ref)
        .join(shares, sa.and_(shares.c.url == top.c.url, shares.c.shared_at == top.c.last))
        .order_by(top.c.shares.desc(), top.c.last.desc(), top.c.url)
    ).all()
    seen, result = set(), []
    for url, shares, last, track_ref in rows:
        if url in seen:
            continue
        seen.add(url)
        result.append({**(track_ref or {}), "url": url, "shareCount": shares, "lastSharedAt": last})
    return result
