"""The message store has two forms: PostgreSQL's one statement (production) and the three Core
statements SQLite runs (the fast tier). The same batch stored through each gives the same rows:
messages, the room's counter and the authors' read marks and recent texts."""

import types
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from seda.chat import room_writes
from seda.chat.automod_memory import Remembered
from seda.chat.models import Message, MessageType, Room, RoomMembership
from seda.extensions import db
from tests.helpers.chat import TRACK
from tests.helpers.tiers import services_only

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def batch_for(room_id, parent_id, members):
    """Four sends of one batch: two mentions, a track card, a reply with its unfurl pending, a text
    AutoMod remembers."""
    fan, dj = members

    def write(n, user_id, membership_id, remembered=None, **values):
        message = types.SimpleNamespace(
            id=uuid.uuid4(),
            room_id=room_id,
            user_id=user_id,
            type=MessageType.TEXT,
            text=f"text {n}",
            track_ref=None,
            track_url=None,
            track_ref_auto=False,
            parent_id=None,
            client_message_id=None,
            reply_count=0,
            mentions=[],
            unfurl=None,
            created_at=AT + timedelta(seconds=n),
            updated_at=AT + timedelta(seconds=n),
        )
        vars(message).update(values)
        return room_writes.Write(message, membership_id, remembered)

    return [
        write(0, fan.user_id, fan.id, mentions=[str(dj.user_id), str(fan.user_id)], client_message_id=f"c-{room_id}"),
        write(1, dj.user_id, dj.id, type=MessageType.TRACK_CARD, text="", track_ref=TRACK, track_url=TRACK["url"]),
        write(2, fan.user_id, fan.id, type=MessageType.REPLY, parent_id=parent_id, unfurl="PENDING"),
        write(3, fan.user_id, fan.id, Remembered({"texts": [[1.0, "earlier"]]}, {"texts": [[2.0, "text 3"]]})),
    ]


def stored_state(room_id):
    messages = Message.__table__
    own = ("id", "room_id", "client_message_id", "parent_id")  # differ between the two rooms by nature
    compared = [column for column in messages.c if column.name not in own]
    rows = db.session.execute(
        sa.select(
            *compared,
            messages.c.track_ref.is_(None).label("sql_null"),
            messages.c.parent_id.is_not(None).label("is_reply"),
        )
        .where(messages.c.room_id == room_id, messages.c.seq > 1)  # the batch, after the parent
        .order_by(messages.c.seq)
    ).all()
    room = db.session.execute(sa.select(Room.last_seq, Room.last_message_at).where(Room.id == room_id)).one()
    assert len(rows) == 4
    marks = db.session.execute(
        sa.select(RoomMembership.user_id, RoomMembership.last_read_seq, RoomMembership.automod_memory)
        .where(RoomMembership.room_id == room_id)
        .order_by(RoomMembership.user_id)
    ).all()
    return [row._asdict() for row in rows], room._asdict(), [mark._asdict() for mark in marks]


@services_only  # both forms run on PostgreSQL; SQLite has only the second
def test_the_same_batch_stored_in_one_statement_or_in_three_gives_the_same_rows(app, chat):
    owner, fan, dj = chat(), chat(), chat()
    rooms = [owner.room(name=name)["id"] for name in ("One statement", "Three statements")]
    parents = []
    for room_id in rooms:
        for member in (fan, dj):
            assert member.post(f"/rooms/{room_id}/join")[0] == 200
        parents.append(owner.send(room_id, "the parent")["id"])

    states = []
    with app.app_context():
        for room_id, parent_id, store in zip(
            rooms, parents, (room_writes.store_in_one_statement, room_writes.store_in_three_statements), strict=True
        ):
            room_uuid = uuid.UUID(room_id)
            members = {
                str(m.user_id): m
                for m in db.session.scalars(sa.select(RoomMembership).where(RoomMembership.room_id == room_uuid))
            }
            batch = batch_for(room_uuid, uuid.UUID(parent_id), (members[str(fan.user.id)], members[str(dj.user.id)]))
            db.session.rollback()
            with db.engine.begin() as connection:
                assert store(batch, connection) == [2, 3, 4, 5]
            states.append(stored_state(room_uuid))

    one_statement, three_statements = states
    assert one_statement[0] == three_statements[0]  # every message row, column by column
    assert one_statement[1] == three_statements[1]  # the room's counter and last message time
    assert one_statement[2] == three_statements[2]  # each member's read mark and AutoMod memory
    assert sorted(m["last_read_seq"] for m in one_statement[2]) == [1, 3, 5]  # owner, dj, fan: their last messages
