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
from dataclasses import dataclass

import sqlalchemy as sa

from seda.chat.models import Room
from seda.common.kept import VersionedCache, kept_in_app
from seda.extensions import db

MAX_AGE_SECONDS = 60.0
# A 50-message page is ~25 KB of JSON: about 2,500 pages in all.
MAX_BYTES = 64 * 1024 * 1024
MAX_PAGES = 100_000


@dataclass(frozen=True)
class RenderedPage:
    body: bytes  # the page's JSON array, encoded once for every answer that sends it
    next_cursor: str | None
    etag: str
    state: tuple


def rendered_page(state, text, next_cursor):
    body = text.encode()
    return RenderedPage(body, next_cursor, hashlib.blake2b(body, digest_size=12).hexdigest(), state)


def page_cache():
    """This app's pages: the most recently used, up to MAX_BYTES of JSON in all."""
    return kept_in_app(
        "history pages",
        lambda: VersionedCache(
            "history pages",
            max_items=MAX_PAGES,
            max_bytes=MAX_BYTES,
            size_of=lambda page: len(page.body),
            max_age=MAX_AGE_SECONDS,
        ),
    )


def record_change(room_id):
    """Move the room's history state in the changing transaction. Call it before the
    transaction writes a message or reaction: senders lock the room's row before a parent
    message's, and every writer taking them in that order cannot deadlock with them."""
    rooms = Room.__table__
    db.session.execute(
        sa.update(rooms).where(rooms.c.id == room_id).values(history_revision=rooms.c.history_revision + 1)
    )
