"""Messages, reactions and reports: the rules; store, commit, then notify."""

import functools
import json
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from seda.chat import automod, history, notify
from seda.chat.access import find_message, is_moderator, readable_room, readable_states
from seda.chat.cards import card_for, queue_unfurl_if_needed, unfurl_state
from seda.chat.direct import refuse_if_blocked, restore_direct_members
from seda.chat.members import active_mute
from seda.chat.mentions import directory_counter_names, mentioned_members
from seda.chat.models import (
    Message,
    MessageReport,
    MessageType,
    Reaction,
    ReportStatus,
    RoomType,
)
from seda.chat.payloads import (
    joined_user_ref,
    message_payload,
    reaction_payload,
    reaction_ref,
    serialize_message,
    user_ref_columns,
)
from seda.chat.room_writes import Write, room_writes, store_alone
from seda.chat.senders import counter_names, kept_senders
from seda.common import audit, metrics, notifications
from seda.common.db import autocommit_connection, iso_utc, new_id, parse_uuid, statements_on_their_own, utcnow
from seda.common.errors import Conflict, Forbidden, ValidationFailed
from seda.common.ratelimit import count_ahead, enforce
from seda.common.user_versions import expect_user, users_generation
from seda.extensions import db
from seda.users.models import ArtistProfile, User

DEDUPE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Stored:
    """A message as a send or an edit left it, with its payload (chat/payloads.py): the one
    serialisation of it, broadcast to the room and given to a socket's ack alike."""

    message: Message
    payload: dict
    created: bool = False


def send_message(user, room_id, text, parent_id=None, track_ref=None, client_message_id=None):
    """Store a message and broadcast it; a Stored, `created` False when a repeated
    clientMessageId within 24 h found the stored message (nothing more is stored)."""
    room, membership, muted_until = kept_senders().load(user, room_id)
    if membership is None:
        raise Forbidden("Join the room first")
    # The checks below only read, and a text in a group room reads nothing more through the
    # session (mentions read on a connection of their own). When they do read, each statement
    # on its own; the store then writes in its own transaction (chat/room_writes.py): two round
    # trips fewer than a transaction around both.
    reads = bool(client_message_id or parent_id or track_ref) or room.type == RoomType.DIRECT
    if reads:
        statements_on_their_own(db.session)
    if client_message_id:
        duplicate = _find_duplicate(user.id, client_message_id)
        if duplicate is not None:
            return Stored(duplicate, serialize_message(duplicate))
    if muted_until is not None and muted_until > utcnow():
        raise _muted(muted_until)
    mentions = mentioned_members(room, text, user.id)  # before the room's row lock is taken
    remembered = automod.check(user, room, membership, text, mentions)  # a refusal: not counted for slow mode
    _check_rates(user, room, membership)
    refuse_if_blocked(user, room)
    parent = _reply_parent(room, parent_id)
    card, card_url = card_for(track_ref) if track_ref else (None, None)
    if reads:
        db.session.commit()  # the checks end; nothing was written
    if room.type == RoomType.DIRECT:
        restore_direct_members(room)  # committed with the message
    message = _store(user, room, membership, text, mentions, parent, (card, card_url), client_message_id, remembered)
    if message is None:  # a concurrent retry with the same clientMessageId won the race
        duplicate = _find_duplicate(user.id, client_message_id)
        return Stored(duplicate, serialize_message(duplicate))
    if remembered is not None:
        kept_senders().memory_written(room.id, user.id, remembered)
    metrics.MESSAGES_STORED.labels("track_card" if track_ref else "text").inc()
    payload = serialize_message(message)
    notify.message_created(payload)
    if message.mentions or parent is not None or room.type == RoomType.DIRECT:
        notifications.message_stored(message.id)
    queue_unfurl_if_needed(message)
    return Stored(message, payload, created=True)


def count_send_ahead(user_id, room_id, *also, text=""):
    """Before send_message: a send's Redis round trips in one, its message limit (and the limits
    `also` names, a socket's event budget) counted now with its sender's counters
    (chat/senders.py), the room's names' counters for a text that may mention (chat/mentions.py)
    and, when not loaded yet, its user's version read along. send_message checks the limit where
    it stood, on this count: every send asked for counts, refused ones too (the same on REST and
    sockets)."""
    uuid = parse_uuid(room_id)
    names = (
        () if uuid is None else counter_names(uuid, user_id) + (directory_counter_names(uuid) if "@" in text else ())
    )
    expect_user(user_id, names)
    count_ahead((current_app.config["RATE_LIMIT_MESSAGES"], "messages", str(user_id)), *also)


def _find_duplicate(user_id, client_message_id):
    message = db.session.scalar(
        sa.select(Message).where(Message.user_id == user_id, Message.client_message_id == client_message_id)
    )
    if message is None:
        return None
    if utcnow() - message.created_at > DEDUPE_WINDOW:
        raise Conflict("clientMessageId was already used for another message")
    return message


def refuse_if_muted(user, room_id):
    """A muted member reads only: no sending, editing or reacting until the mute ends."""
    mute = active_mute(room_id, user.id)
    if mute is not None:
        raise _muted(mute.muted_until)


def _muted(muted_until):
    return Forbidden(f"You are muted until {iso_utc(muted_until)}")


def _check_rates(user, room, membership):
    config = current_app.config
    enforce(config["RATE_LIMIT_MESSAGES"], "messages", str(user.id), "Too many messages, slow down")
    if room.slow_mode_seconds and not is_moderator(user, membership):
        enforce(
            f"1 per {room.slow_mode_seconds} seconds",
            f"slow-mode:{room.id}",
            str(user.id),
            f"Slow mode: one message every {room.slow_mode_seconds} seconds",
        )


def _reply_parent(room, parent_id):
    if parent_id is None:
        return None
    parent = db.session.get(Message, parent_id)
    if parent is None or parent.room_id != room.id or parent.deleted_at is not None:
        raise ValidationFailed("parentId: Not a message of this room.")
    if parent.parent_id is not None:
        # Threads are one level deep: a reply to a reply joins the same thread.
        parent = db.session.get(Message, parent.parent_id)
    return parent


def _store(user, room, membership, text, mentions, parent, card, client_message_id, remembered):
    now = utcnow()
    track_ref, track_url = card
    message = Message(
        id=new_id(),
        room_id=room.id,
        user_id=user.id,
        type=message_type(track_ref, parent),
        text=text,
        track_ref=track_ref,
        track_url=track_url,
        track_ref_auto=False,
        parent_id=parent.id if parent else None,
        client_message_id=client_message_id,
        reply_count=0,
        mentions=mentions,
        created_at=now,
        updated_at=now,
        reactions=[],
    )
    message.unfurl = unfurl_state(message)
    message.user = user
    write = Write(message, membership.id, remembered)
    try:
        if room.type == RoomType.DIRECT:
            # Alone, in the sender's transaction: restore_direct_members commits with it.
            message.seq = store_alone(write)
            db.session.commit()
        else:
            message.seq = room_writes().store(room.id, write)
    except sa.exc.IntegrityError:
        db.session.rollback()
        if client_message_id:
            return None
        raise
    return message


def message_type(track_ref, parent):
    if track_ref:
        return MessageType.TRACK_CARD
    if parent is not None:
        return MessageType.REPLY
    return MessageType.TEXT


def history_page(user, room_id, limit=50, cursor=None, after=None, parent_id=None):
    """A page of history as a RenderedPage (its JSON, next cursor, ETag and state), and whether
    the caller is a member (history_state reads a member's page state again).

    Default: top-level messages newest first; `cursor`: older than it; `after`: newer than it,
    oldest first (catch-up, replies included); `parentId`: a thread's replies, newest first.
    The membership check reads the room's state, which with the users' generation (read with
    the caller's version) names the page's state; a page already built at that state is served
    as it is (chat/history.py), otherwise one more statement builds it. Both only read, each
    statement on its own: no transaction to open and roll back.
    """
    with autocommit_connection(db.engine) as connection:
        room = readable_room(connection, user, room_id)
        key = (room.id, limit, cursor, after, parent_id)
        state = (room.last_seq, room.history_revision, users_generation())
        pages = history.page_cache()
        page = pages.get(key, state)
        if page is None:
            items, next_cursor = _history_items(connection, room.id, limit, cursor, after, parent_id)
            text = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
            page = pages.put(key, state, history.rendered_page(state, text, next_cursor))
    return page, room.is_member


def history_state(user_id, room_id):
    """How to read again the state of `room_id`'s history a member's page shows:
    `read_again(users_generation)`, None once `user_id` is no longer a member. It runs with no
    app context (common/kept_responses.py)."""
    return functools.partial(_history_state_again, readable_states(), parse_uuid(room_id), parse_uuid(user_id))


def _history_state_again(states, room_id, user_id, users_generation):
    """history_page's state of the room, read again for a member (None if no longer one)."""
    found = states.read(room_id, user_id)
    return None if found is None else (*found, users_generation)


def _history_items(connection, room_id, limit, cursor, after, parent_id):
    """The page's payloads and next cursor, in one statement: the page of messages with their
    authors, left-joined to their reactions (a message's rows arrive together, its reactions in
    order). Core rows straight into payloads: ORM loading and a schema dump cost ~15 ms a page
    here (bench/history_wrk.py)."""
    m, u, p, r = Message.__table__, User.__table__, ArtistProfile.__table__, Reaction.__table__
    query = (
        sa.select(m, *user_ref_columns(u, p))
        .join(u, u.c.id == m.c.user_id)
        .outerjoin(p, p.c.user_id == m.c.user_id)
        .where(m.c.room_id == room_id, m.c.deleted_at.is_(None))
    )
    if parent_id is not None:
        query = query.where(m.c.parent_id == parent_id)
    elif after is None:
        query = query.where(m.c.parent_id.is_(None))
    anchor = cursor or after
    if anchor is not None:
        anchor_seq = sa.select(m.c.seq).where(m.c.id == anchor, m.c.room_id == room_id).scalar_subquery()
        query = query.where(m.c.seq > anchor_seq if after else m.c.seq < anchor_seq)
    order = (lambda column: column.asc()) if after else (lambda column: column.desc())
    page = query.order_by(order(m.c.seq)).limit(limit + 1).subquery("page")
    rows = connection.execute(
        sa.select(
            page,
            r.c.id.label("reaction_id"),
            r.c.user_id.label("reaction_user_id"),
            r.c.emoji.label("reaction_emoji"),
            r.c.created_at.label("reaction_created_at"),
        )
        .outerjoin(r, r.c.message_id == page.c.id)
        .order_by(order(page.c.seq), r.c.created_at, r.c.id)
    )
    items = []
    for row in rows:
        if not items or items[-1]["id"] != str(row.id):
            items.append(message_payload(row, joined_user_ref(row.user_id, row), []))
        if row.reaction_id is not None:
            items[-1]["reactions"].append(
                reaction_payload(row.reaction_id, row.reaction_emoji, row.reaction_user_id, row.reaction_created_at)
            )
    if not items and anchor is not None:
        _refuse_unknown_anchor(connection, room_id, anchor, "after" if after else "cursor")
    has_more, items = len(items) > limit, items[:limit]
    return items, (items[-1]["id"] if has_more else None)


def attach_reactions(message_ids, page):
    """Fill the `reactions` of each payload in `page` (ids in the same order): one query."""
    if not page:
        return
    by_id = dict(zip(message_ids, page, strict=True))
    r = Reaction.__table__
    rows = db.session.execute(
        sa.select(r.c.id, r.c.message_id, r.c.user_id, r.c.emoji, r.c.created_at)
        .where(r.c.message_id.in_(message_ids))
        .order_by(r.c.created_at, r.c.id)
    )
    for row in rows:
        by_id[row.message_id]["reactions"].append(reaction_ref(row))


def _refuse_unknown_anchor(connection, room_id, anchor, anchor_name):
    """An empty page after an anchor is either the end of the history or a wrong anchor; tell which."""
    m = Message.__table__
    known = connection.scalar(sa.select(m.c.id).where(m.c.id == anchor, m.c.room_id == room_id))
    if known is None:
        raise ValidationFailed(f"{anchor_name}: Not a message of this room.")


def get_message(user, message_id):
    message, _room, _membership = find_message(user, message_id)
    return message


def edit_message(user, message_id, text):
    message, room, membership = find_message(user, message_id)
    if message.user_id != user.id:
        raise Forbidden("Only the author may edit a message")
    refuse_if_muted(user, message.room_id)
    refuse_if_blocked(user, room)
    if not text and not message.track_ref:
        raise ValidationFailed("text: Text must not be empty.")
    mentions = mentioned_members(room, text, user.id)
    automod.check(user, room, membership, text, mentions, editing=True)
    already_mentioned = set(message.mentions or [])
    history.record_change(message.room_id)
    message.text = text
    message.mentions = mentions
    message.unfurl = unfurl_state(message)
    message.edited_at = message.updated_at = utcnow()
    db.session.commit()
    payload = serialize_message(message)
    notify.message_updated(payload)
    newly_mentioned = [user_id for user_id in message.mentions if user_id not in already_mentioned]
    if newly_mentioned:
        notifications.message_stored(message.id, newly_mentioned)
    queue_unfurl_if_needed(message)
    return Stored(message, payload)


def delete_message(user, message_id):
    message, _room, membership = find_message(user, message_id)
    if message.user_id != user.id and not is_moderator(user, membership):
        raise Forbidden("Only the author or a moderator may delete a message")
    soft_delete(message)


def soft_delete(message, actor=None, audit_details=None):
    """Hide a message from every reader and tell the room (authors, moderators, admins).

    With an admin `actor` the audit row is written in the same transaction."""
    history.record_change(message.room_id)
    message.deleted_at = message.updated_at = utcnow()
    if message.parent_id is not None:
        db.session.execute(
            sa.update(Message).where(Message.id == message.parent_id).values(reply_count=Message.reply_count - 1)
        )
    if actor is not None:
        audit.record(
            actor, "message.delete", "message", message.id, {"roomId": str(message.room_id), **(audit_details or {})}
        )
    db.session.commit()
    notify.message_deleted(message.room_id, message.id)


def report_message(user, message_id, reason):
    message, _room, _membership = find_message(user, message_id)
    open_report = db.session.scalar(
        sa.select(MessageReport.id).where(
            MessageReport.message_id == message.id,
            MessageReport.reporter_id == user.id,
            MessageReport.status == ReportStatus.OPEN,
        )
    )
    if open_report is not None:
        raise Conflict("You already reported this message")
    report = MessageReport(message_id=message.id, reporter_id=user.id, reason=reason)
    db.session.add(report)
    db.session.commit()
    return report
