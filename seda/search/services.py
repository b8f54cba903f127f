"""Search (API.md section 9): messages in the caller's rooms and track cards they may read.

The databases do the matching through their full-text indexes (the migration `message_search`
builds them): PostgreSQL's GIN index over (room_id, document) and SQLite's FTS5 table. This module
asks both the same question and builds the same answers from what they return."""

import sqlalchemy as sa

from seda.chat.messages import attach_reactions
from seda.chat.models import Message, MessageType, Room, RoomMembership, RoomType, is_track_card
from seda.chat.payloads import joined_user_ref, message_payload, user_ref_columns
from seda.common.errors import NotFound
from seda.common.pagination import keyset_page
from seda.extensions import db
from seda.search.words import SearchTerms, highlight
from seda.users.models import ArtistProfile, User

# Track search groups the newest matching cards by track; more than this many is a query too
# vague to rank (the best matches are among the most recent shares anyway).
TRACK_CANDIDATES = 2000

_messages, _rooms = Message.__table__, Room.__table__
_search_table = sa.table("messages_search")


def search_messages(user, q, limit, cursor=None, room_id=None, user_id=None, has_track=None):
    """A page of [{message, roomName, highlight}], newest first, and the next cursor. Three
    statements: my rooms, the page with authors and room names, the page's reactions."""
    terms = SearchTerms(q)
    rooms = _my_room_ids(user)
    if room_id is not None:
        if room_id not in rooms:
            raise NotFound("Room not found")
        rooms = [room_id]
    m, u, p = _messages, User.__table__, ArtistProfile.__table__
    in_my_rooms = m.c.room_id == rooms[0] if len(rooms) == 1 else m.c.room_id.in_(rooms)
    query = (
        sa.select(m, _rooms.c.name.label("room_name"), *user_ref_columns(u, p))
        .join(_rooms, _rooms.c.id == m.c.room_id)
        .join(u, u.c.id == m.c.user_id)
        .outerjoin(p, p.c.user_id == m.c.user_id)
        .where(in_my_rooms, m.c.deleted_at.is_(None), *_matching(terms))
    )
    if user_id is not None:
        query = query.where(m.c.user_id == user_id)
    if has_track is not None:
        query = query.where((m.c.type == MessageType.TRACK_CARD) if has_track else (m.c.type != MessageType.TRACK_CARD))
    rows, next_cursor = keyset_page(
        query, (m.c.created_at, m.c.seq), m.c.id, cursor, limit, anchor_where=(in_my_rooms,)
    )
    hits = [_hit(row, terms) for row in rows]
    attach_reactions([row.id for row in rows], [hit["message"] for hit in hits])
    return hits, next_cursor


def search_tracks(user, q, limit):
    """TrackRefs with shareCount and lastSharedAt, best match first: the query's words all in the
    title, then all in the artist, then spread over both; then most shared, most recent."""
    terms = SearchTerms(q)
    m = _messages
    readable = sa.or_(_rooms.c.type == RoomType.PUBLIC, m.c.room_id.in_(_my_room_ids(user)))
    rows = db.session.execute(
        sa.select(m.c.track_url, m.c.track_ref, m.c.created_at)
        .join(_rooms, _rooms.c.id == m.c.room_id)
        .where(m.c.deleted_at.is_(None), m.c.track_url.is_not(None), readable, *_matching_tracks(terms))
        .order_by(m.c.created_at.desc())
        .limit(TRACK_CANDIDATES)
    ).all()
    tracks = {}
    for url, track_ref, shared_at in rows:  # newest first: the first card of a track is its latest
        track = tracks.get(url)
        if track is None:
            track = tracks[url] = {**(track_ref or {}), "url": url, "shareCount": 0, "lastSharedAt": shared_at}
        track["shareCount"] += 1
    ranked = [(_track_rank(track, terms), track) for track in tracks.values()]
    ranked.sort(
        key=lambda pair: (pair[0], -pair[1]["shareCount"], -pair[1]["lastSharedAt"].timestamp(), pair[1]["url"])
    )
    return [track for _rank, track in ranked[:limit]]


def _popularity(track):
    return -track["shareCount"], -track["lastSharedAt"].timestamp(), track["url"]


def _track_rank(track, terms):
    """0: the words are all in the title; 1: all in the artist; 2: spread over both."""
    title, artist = track.get("title") or "", track.get("artist") or ""
    if terms.all_in(title):
        return 0
    return 1 if terms.all_in(artist) else 2


def _my_room_ids(user):
    return list(db.session.scalars(sa.select(RoomMembership.room_id).where(RoomMembership.user_id == user.id)))


def _matching(terms):
    """The WHERE clauses that keep the messages whose text, track title or artist hold `terms`."""
    m = _messages
    if _on_postgresql():
        return (sa.func.seda_search_document(m.c.text, m.c.track_ref).op("@@")(_tsquery(terms)),)
    return (_fts_rowids(terms.fts5_query()),)


def _matching_tracks(terms):
    """The WHERE clauses that keep the track cards whose title or artist hold `terms` (on
    PostgreSQL through the index of track cards alone, which is_track_card lets the planner use)."""
    m = _messages
    if _on_postgresql():
        return (
            is_track_card(m.c.type),
            sa.func.seda_track_document(m.c.track_ref).op("@@")(_tsquery(terms)),
        )
    return (m.c.type == MessageType.TRACK_CARD, _fts_rowids(f"{{title artist}} : ({terms.fts5_query()})"))


def _on_postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def _tsquery(terms):
    return sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), terms.tsquery())


def _fts_rowids(match):
    matched = (
        sa.select(sa.literal_column("rowid"))
        .select_from(_search_table)
        .where(sa.literal_column("messages_search").op("MATCH")(match))
    )
    return sa.literal_column("messages.rowid").in_(matched)


def _hit(row, terms):
    return {
        "message": message_payload(row, joined_user_ref(row.user_id, row), []),
        "roomName": row.room_name,
        "highlight": highlight(row.text, terms),
    }
