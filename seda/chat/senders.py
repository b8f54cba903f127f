"""A sender's room, membership and mute, kept in this process between sends while their
counters (common/user_versions) stand still.

Every send checks the room (its type, slow mode and AutoMod rules), the sender's membership
(role, the texts AutoMod compares repeats with) and mute: one statement that loaded two ORM
entities, plus the session's switch to statements on their own, a fifth of a send's CPU under
load (py-spy of `bench/chat_sockets.py --only store`). A socket send reads the counters with its
user's version, in the round trip that counts its message limit (messages.count_send_ahead).

Every committed change to a room, a membership or a mute through the session moves its counter,
whichever code made it; a bulk UPDATE or DELETE of those tables moves the counter of all rooms
unless it says it changes nothing a sender needs (`SENDER_STATE_UNCHANGED`). The texts AutoMod
keeps per member are written with each message (chat/room_writes.py), not through the session:
the send moves the member's counter itself, and keeps its own copy current. A copy is reloaded
at least every MAX_AGE_SECONDS, in case a counter failed to move while Redis was down; a
direct conversation, whose two people come back when one left, is never kept.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, has_app_context

from seda.chat.access import sender_row
from seda.chat.models import RECENT_TEXTS_KEPT, Room, RoomMembership, RoomMute, RoomType
from seda.common.db import autocommit_connection, parse_uuid
from seda.common.errors import NotFound
from seda.common.user_versions import bump_counters, counters
from seda.extensions import db

MAX_AGE_SECONDS = 60.0
MAX_SENDERS = 10_000
ALL_ROOMS = "rooms:*"
# Execution option of a bulk UPDATE that changes nothing a sender's check reads (read marks,
# member counts, the active listening session): it then leaves the kept senders alone.
SENDER_STATE_UNCHANGED = "seda_sender_state_unchanged"
_PENDING = "seda_changed_senders"


@dataclass(slots=True)
class SenderRoom:
    id: object
    type: RoomType
    slow_mode_seconds: int
    automod: dict | None
    member_count: int
    direct_key: str | None
    last_seq: int


@dataclass(slots=True)
class SenderMembership:
    id: object
    role: object
    recent_texts: list | None


def counter_names(room_id, user_id):
    return ALL_ROOMS, f"room:{room_id}", f"member:{room_id}:{user_id}"


class KeptSenders:
    def __init__(self, max_senders=MAX_SENDERS, max_age=MAX_AGE_SECONDS, clock=time.monotonic):
        # (room id, user id) -> [room, membership, muted_until, version, loaded at, own moves]
        self._kept = OrderedDict()
        self._lock = threading.Lock()
        self._max_senders, self._max_age, self._clock = max_senders, max_age, clock

    def load(self, user, room_id):
        """(room, membership, muted_until) for `user` sending to `room_id`, as access.sender_row
        checks them: NotFound / Forbidden as it raises; membership None for an admin outside."""
        uuid = parse_uuid(room_id)
        if uuid is None:
            raise NotFound("Room not found")
        key, version, now = (uuid, user.id), counters(counter_names(uuid, user.id)), self._clock()
        with self._lock:
            kept = self._kept.get(key)
        if self._good(kept, version, now):
            return kept[:3]
        with autocommit_connection(db.engine) as connection:
            row = sender_row(connection, user, uuid)
        room = SenderRoom(
            row.id, row.type, row.slow_mode_seconds, row.automod, row.member_count, row.direct_key, row.last_seq
        )
        membership = (
            None if row.membership_id is None else SenderMembership(row.membership_id, row.role, row.recent_texts)
        )
        if membership is not None and room.type != RoomType.DIRECT and version is not None:
            with self._lock:
                if not self._good(self._kept.get(key), version, now):  # not kept newer meanwhile
                    self._kept[key] = [room, membership, row.muted_until, version, now, set()]
                    self._kept.move_to_end(key)
                    while len(self._kept) > self._max_senders:
                        self._kept.popitem(last=False)
        return room, membership, row.muted_until

    def _good(self, kept, version, now):
        """A copy loaded once the counters stood at its version shows every change whose
        counter moved up to there: it is good for a reader that read no counter beyond it.
        (Equal versions only would make a sender's sends in flight together reload each other,
        each texts_written moving the copy past the counters the others read.)"""
        return (
            kept is not None
            and version is not None
            and all(held >= read for held, read in zip(kept[3], version, strict=True))
            and now - kept[4] < self._max_age
        )

    def texts_written(self, room_id, user_id, recent_texts):
        """A message stored with the member's `recent_texts`: move their counter, so another
        process reloads them, and keep this process's copy current (as the write merged it).

        The copy's version follows the counter through this process's own moves, in whatever
        order their replies come back; a move by another process leaves a gap it never passes,
        so the next reader that read beyond it loads the member again."""
        moved = bump_counters(counter_names(room_id, user_id)[2:])
        key = (room_id, user_id)
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return
            if moved is None:  # the others may not know: nor should this copy be trusted
                del self._kept[key]
                return
            membership, version, own = kept[1], kept[3], kept[5]
            earlier = membership.recent_texts or recent_texts[:-1]
            membership.recent_texts = [*earlier, recent_texts[-1]][-RECENT_TEXTS_KEPT:]
            own.add(moved[0])
            member = version[2]
            while member + 1 in own:
                member += 1
                own.discard(member)
            kept[3] = (*version[:2], member)


def kept_senders():
    """This app's kept senders (one per app: tests build many)."""
    kept = current_app.extensions.get("seda_kept_senders")
    if kept is None:
        kept = current_app.extensions["seda_kept_senders"] = KeptSenders()
    return kept


@sa.event.listens_for(sa.orm.Session, "after_flush")
def _collect(session, _flush_context):
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Room):
            name = counter_names(instance.id, None)[1]
        elif isinstance(instance, RoomMembership | RoomMute):
            name = counter_names(instance.room_id, instance.user_id)[2]
        else:
            continue
        session.info.setdefault(_PENDING, set()).add(name)


@sa.event.listens_for(sa.orm.Session, "do_orm_execute")
def _collect_bulk(state):
    mapper = state.bind_mapper
    if (
        (state.is_update or state.is_delete)
        and mapper is not None
        and mapper.class_ in (Room, RoomMembership, RoomMute)
        and not state.execution_options.get(SENDER_STATE_UNCHANGED)
    ):
        state.session.info.setdefault(_PENDING, set()).add(ALL_ROOMS)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _announce(session):
    changed = session.info.pop(_PENDING, None)
    if changed and has_app_context():
        bump_counters(sorted(changed))


@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _forget(session):
    session.info.pop(_PENDING, None)
