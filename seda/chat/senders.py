"""A sender's room, membership and mute, kept in this process between sends while their
counters (common/user_versions) stand still.

Every send checks the room (its type, slow mode and AutoMod rules), the sender's membership
(role, the texts AutoMod compares repeats with) and mute: one statement that loaded two ORM
entities, plus the session's switch to statements on their own, a fifth of a send's CPU under
load (py-spy of `bench/chat_sockets.py --only store`). A socket send reads the counters with its
user's version, in the round trip that counts its message limit (messages.count_send_ahead).

Every committed change to a room, a membership or a mute through the session moves its counter,
whichever code made it; a bulk UPDATE or DELETE of those tables moves the counter of all rooms
unless it says it changes nothing a sender needs (`SENDER_STATE_UNCHANGED`). What AutoMod
remembers per member is written with each message (chat/room_writes.py), not through the session:
the send moves the member's counter itself, and keeps its own copy current. A copy is reloaded
at least every MAX_AGE_SECONDS, in case a counter failed to move while Redis was down; a
direct conversation, whose two people come back when one left, is never kept.
"""

import time
from dataclasses import dataclass

from seda.chat.access import sender_row
from seda.chat.automod_memory import remember
from seda.chat.models import Room, RoomMembership, RoomMute, RoomType
from seda.common.db import autocommit_connection, parse_uuid
from seda.common.errors import NotFound
from seda.common.kept import VersionedCache, kept_in_app, track
from seda.common.user_versions import bump_counters, counters
from seda.extensions import db

MAX_AGE_SECONDS = 60.0
MAX_SENDERS = 10_000
ALL_ROOMS = "rooms:*"
# Execution option of a bulk UPDATE that changes nothing a sender's check reads (read marks,
# member counts, the active listening session): it then leaves the kept senders alone.
SENDER_STATE_UNCHANGED = "seda_sender_state_unchanged"


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
    automod_memory: dict | None


def counter_names(room_id, user_id):
    return ALL_ROOMS, f"room:{room_id}", f"member:{room_id}:{user_id}"


def _still_good(kept_version, read_version):
    """A copy loaded once the counters stood at its version shows every change whose counter
    moved up to there: it is good for a reader that read no counter beyond it. (Equal versions
    only would make a sender's sends in flight together reload each other, each memory_written
    moving the copy past the counters the others read.)"""
    return all(held >= read for held, read in zip(kept_version, read_version, strict=True))


@dataclass(slots=True)
class KeptSender:
    room: SenderRoom
    membership: SenderMembership
    muted_until: object
    own_moves: set  # this process's moves of the member's counter not yet followed


class KeptSenders:
    def __init__(self, max_senders=MAX_SENDERS, max_age=MAX_AGE_SECONDS, clock=time.monotonic):
        # (room id, user id) -> KeptSender, at the (all rooms, room, member) counters
        self._kept = VersionedCache(
            "senders", max_items=max_senders, max_age=max_age, still_good=_still_good, clock=clock
        )

    def load(self, user, room_id):
        """(room, membership, muted_until) for `user` sending to `room_id`, as access.sender_row
        checks them: NotFound / Forbidden as it raises; membership None for an admin outside."""
        uuid = parse_uuid(room_id)
        if uuid is None:
            raise NotFound("Room not found")
        key, version = (uuid, user.id), counters(counter_names(uuid, user.id))
        kept = self._kept.get(key, version)
        if kept is not None:
            return kept.room, kept.membership, kept.muted_until
        with autocommit_connection(db.engine) as connection:
            row = sender_row(connection, user, uuid)
        room = SenderRoom(
            row.id, row.type, row.slow_mode_seconds, row.automod, row.member_count, row.direct_key, row.last_seq
        )
        membership = (
            None if row.membership_id is None else SenderMembership(row.membership_id, row.role, row.automod_memory)
        )
        if membership is not None and room.type != RoomType.DIRECT:
            self._kept.put_unless_newer(key, version, KeptSender(room, membership, row.muted_until, set()))
        return room, membership, row.muted_until

    def memory_written(self, room_id, user_id, remembered):
        """A message stored with what it adds to the member's AutoMod memory: move their
        counter, so another process reloads them, and keep this process's copy current (as the
        store merged it).

        The copy's version follows the counter through this process's own moves, in whatever
        order their replies come back; a move by another process leaves a gap it never passes,
        so the next reader that read beyond it loads the member again."""
        moved = bump_counters(counter_names(room_id, user_id)[2:])

        def follow(version, kept):
            if moved is None:  # the others may not know: nor should this copy be trusted
                return None
            membership = kept.membership
            earlier = membership.automod_memory if membership.automod_memory is not None else remembered.read
            membership.automod_memory = remember(earlier, remembered.added)
            kept.own_moves.add(moved[0])
            member = version[2]
            while member + 1 in kept.own_moves:
                member += 1
                kept.own_moves.discard(member)
            return (*version[:2], member), kept

        self._kept.replace((room_id, user_id), follow)


def kept_senders():
    """This app's kept senders."""
    return kept_in_app("senders", KeptSenders)


def _changed_sender_state(instance, _added):
    if isinstance(instance, Room):
        return (counter_names(instance.id, None)[1],)
    return (counter_names(instance.room_id, instance.user_id)[2],)


def _announce(names):
    bump_counters(sorted(names))


track(
    (Room, RoomMembership, RoomMute),
    names_of=_changed_sender_state,
    bulk=ALL_ROOMS,
    announce=_announce,
    bulk_unless=SENDER_STATE_UNCHANGED,
)
