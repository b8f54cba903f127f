"""Rendered history pages, kept in each process while the room's history has not changed.

A page is named by its room and query; the state it shows, by the room's `last_seq` (a message
added) and `history_revision` (a message edited, deleted or reacted to, a card unfurled), both read
with the membership check every page starts with. A page built at a state is served to every
caller who may read the room until the state moves: after a reconnect storm a thousand clients ask
for the same `after` page within a second, and one of them builds it.

Authors' names, avatars and roles are not the room's: the state also holds the users'
generation (common/user_versions), which moves with every committed change to any user, so a
renamed author shows under the new name on the next page. A page is also rebuilt at least every
MAX_AGE_SECONDS, in case a generation failed to move while Redis was down.
"""

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from seda.chat.models import Room
from seda.extensions import db

MAX_AGE_SECONDS = 60.0
# A 50-message page is ~25 KB of JSON: about 2,500 pages in all.
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class RenderedPage:
    body: bytes  # the page's JSON array, encoded once for every answer that sends it
    next_cursor: str | None
    etag: str
    state: tuple
    built_at: float


class PageCache:
    """The most recently used pages, up to `max_bytes` of JSON in all."""

    def __init__(self, max_bytes=MAX_BYTES, max_age=MAX_AGE_SECONDS, clock=time.monotonic):
        self._pages: OrderedDict[tuple, RenderedPage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._max_bytes, self._max_age, self._clock = max_bytes, max_age, clock

    def get(self, key, state):
        """The page for `key` built at `state`, if it is kept and young enough. A state with a
        part that could not be read (None) is never kept."""
        if None in state:
            return None
        with self._lock:
            page = self._pages.get(key)
            if page is None or page.state != state or self._clock() - page.built_at > self._max_age:
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key, state, text, next_cursor):
        body = text.encode()
        etag = hashlib.blake2b(body, digest_size=12).hexdigest()
        page = RenderedPage(body, next_cursor, etag, state, self._clock())
        if None in state:
            return page
        with self._lock:
            self._discard(key)
            self._pages[key] = page
            self._bytes += len(body)
            while self._bytes > self._max_bytes and len(self._pages) > 1:
                self._discard(next(iter(self._pages)))
        return page

    def _discard(self, key):
        page = self._pages.pop(key, None)
        if page is not None:
            self._bytes -= len(page.body)


def page_cache():
    """This app's pages (one cache per app: tests build many)."""
    cache = current_app.extensions.get("seda_history_pages")
    if cache is None:
        cache = current_app.extensions["seda_history_pages"] = PageCache()
    return cache


def record_change(room_id):
    """Move the room's history state in the changing transaction. Call it before the
    transaction writes a message or reaction: senders lock the room's row before a parent
    message's, and every writer taking them in that order cannot deadlock with them."""
    rooms = Room.__table__
    db.session.execute(
        sa.update(rooms).where(rooms.c.id == room_id).values(history_revision=rooms.c.history_revision + 1)
    )
