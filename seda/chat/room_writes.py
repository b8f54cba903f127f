"""Storing messages: numbered by their room, and committed together when they arrive together.

Every transaction that stores messages takes the room's row lock first (the UPDATE of its
counter) and holds it until COMMIT, so `seq` is gap-free and strictly increasing across
processes, and a rollback gives the numbers back. One message per transaction made the lock
the limit of a busy room: every other sender of the room waited through each one's round
trips and COMMIT. Group commit: the sends to a room that arrive while its transaction is
being written go into the next one together (one UPDATE of the counter by n, one multi-row
INSERT, one COMMIT; on PostgreSQL all of it one statement that commits by itself). There is
no fixed delay: a lone message is written at once, the same way. Each sender waits for its own result,
then acks and broadcasts. A batch is written on a connection of its own, not in a sender's
session: the senders' checks only read (chat/messages.py).

A batch that fails is retried one message per transaction, so a bad message fails alone.
"""

import json

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql

from seda.chat.automod_memory import remember
from seda.chat.models import Message, Room, RoomMembership
from seda.common.batches import Batches
from seda.common.db import DriverStatement, autocommit_connection
from seda.common.errors import ServiceUnavailable
from seda.extensions import db
from seda.realtime.event_order import place_taken

INSERTED_COLUMNS = (
    "id",
    "room_id",
    "user_id",
    "type",
    "text",
    "track_ref",
    "track_url",
    "track_ref_auto",
    "parent_id",
    "client_message_id",
    "reply_count",
    "mentions",
    "unfurl",
    "created_at",
    "updated_at",
)


class Write:
    """One message to store: its column values (without seq), the author's membership and what
    it adds to their AutoMod memory (an automod.Remembered; None: unchanged)."""

    __slots__ = ("values", "membership_id", "remembered")

    def __init__(self, message, membership_id, remembered=None):
        self.values = {f"m_{name}": getattr(message, name) for name in INSERTED_COLUMNS}
        self.membership_id = membership_id
        self.remembered = remembered


class RoomWrites:
    """Per process: each room's sends, committed together when they arrive together."""

    def __init__(self):
        # If a batch's writer is interrupted (a timeout, a shutdown), its senders may retry: a
        # clientMessageId keeps a retry of a message that did get stored from storing it twice.
        self._batches = Batches(
            lambda _room_id, batch: _commit(batch),
            lambda: ServiceUnavailable("The message was not stored, retry", headers={"Retry-After": "1"}),
        )

    def store(self, room_id, write):
        """Store `write` in the next transaction of its room; its seq (or its error, raised). Once
        it is queued, the sender's socket may go on with its next event (realtime/event_order.py)."""
        return self._batches.submit(room_id, write, queued=place_taken)

    def idle(self):
        return self._batches.idle()


def room_writes():
    """This app's RoomWrites."""
    writes = current_app.extensions.get("seda_room_writes")
    if writes is None:
        writes = current_app.extensions["seda_room_writes"] = RoomWrites()
    return writes


def store_alone(write, connection=None):
    """Store one message in the transaction of `connection` (default: the caller's session),
    which the caller commits; its seq."""
    return _store(connection if connection is not None else db.session.connection(), [write])[0]


def _commit(batch):
    """Write the batch in a transaction of its own (one by one if that fails): (seq, error) per
    write. On PostgreSQL a batch without replies is one statement that commits by itself: no
    BEGIN, no COMMIT, one round trip in all."""
    try:
        if db.engine.dialect.name == "postgresql" and all(write.values["m_parent_id"] is None for write in batch):
            with autocommit_connection(db.engine) as connection:
                seqs = _store(connection, batch)
        else:
            with db.engine.begin() as connection:
                seqs = _store(connection, batch)
    except Exception as error:
        if len(batch) == 1:
            return [(None, error)]
        return [_commit([write])[0] for write in batch]
    return [(seq, None) for seq in seqs]


def _store(connection, batch):
    """The batch's messages of one room in `connection`'s transaction: their seqs, in order."""
    if db.engine.dialect.name == "postgresql":
        seqs = store_in_one_statement(batch, connection)
    else:
        seqs = store_in_three_statements(batch, connection)
    parents = [{"replied_id": w.values["m_parent_id"]} for w in batch if w.values["m_parent_id"] is not None]
    if parents:
        connection.execute(_COUNT_REPLY, parents)
    return seqs


def store_in_three_statements(batch, connection):
    """_store in three Core statements (the counter, the rows, the authors' read marks and
    AutoMod memories): SQLite's form, which the parity test (tests/chat/test_store_parity.py)
    holds to give the rows PostgreSQL's one statement gives."""
    first = batch[0].values
    last_seq = connection.execute(
        _NEXT_SEQS,
        {
            "m_room_id": first["m_room_id"],
            "m_created_at": max(write.values["m_created_at"] for write in batch),
            "count": len(batch),
        },
    ).scalar_one()
    seqs = range(last_seq - len(batch) + 1, last_seq + 1)
    connection.execute(_INSERT, [{**write.values, "m_seq": seq} for write, seq in zip(batch, seqs, strict=True)])
    marks = [
        {"membership_id": membership_id, "m_seq": seqs[last], "automod_memory": memory}
        for membership_id, (last, memory) in _author_marks(batch).items()
    ]
    connection.execute(_MARK_READ, marks)
    return list(seqs)


def _author_marks(batch):
    """Per author (membership id) in the batch: the index of their last message, and their
    AutoMod memory with what each of theirs in the batch added (None: unchanged)."""
    marks = {}
    for index, write in enumerate(batch):
        memory = marks.get(write.membership_id, (None, None))[1]
        if write.remembered is not None:
            memory = remember(memory if memory is not None else write.remembered.read, write.remembered.added)
        marks[write.membership_id] = (index, memory)
    return marks


def store_in_one_statement(batch, connection):
    """_store on PostgreSQL in one statement (data-modifying CTEs over the batch as arrays):
    the counter, the rows numbered from it, the authors' read marks and AutoMod memories.

    Between its round trips a batch's writer waits its turn behind the greenlets that are
    broadcasting: five round trips (BEGIN, the counter, the rows, the marks, COMMIT) made a
    batch of a busy room last 7 ms, nearly all of it holding the room's lock
    (bench/chat_sockets.py --only store); the room then stored no more than its batches could
    carry. A lone message takes the same statement: its text was the one to cache."""
    count = len(batch)
    columns = {name: [write.values[f"m_{name}"] for write in batch] for name in _ARRAY_COLUMNS}
    columns["track_ref"] = [json.dumps(value) for value in columns["track_ref"]]
    columns["mentions"] = [",".join(value) for value in columns["mentions"]]
    columns["type"] = [value.name for value in columns["type"]]
    marks = _author_marks(batch)
    last_seq = _STORE_BATCH.execute(
        connection,
        {
            "room_id": batch[0].values["m_room_id"],
            "count": count,
            "last_message_at": max(columns["created_at"]),
            **{f"{name}s": values for name, values in columns.items()},
            "mark_ids": list(marks),
            "mark_ns": [last + 1 for last, _ in marks.values()],
            "mark_memories": [None if memory is None else json.dumps(memory) for _, memory in marks.values()],
        },
    ).scalar_one()
    return list(range(last_seq - count + 1, last_seq + 1))


# The JSON columns go in as text. A card as its JSON; the mentioned ids (JSON's 1,000 quotes for
# 500 mentions each cost a Python call to escape in the array's text form: 1.5 ms of such a send,
# py-spy) joined by commas, made a JSON array in the statement.
_SENT_AS_TEXT = {"track_ref": "CAST(b.track_ref AS json)", "mentions": "to_json(string_to_array(b.mentions, ','))"}
_ARRAY_COLUMNS = {
    name: "text" if name in _SENT_AS_TEXT else Message.__table__.c[name].type.compile(dialect=postgresql.dialect())
    for name in INSERTED_COLUMNS
    if name != "room_id"  # one for the whole batch
}
_SELECTED = ", ".join(_SENT_AS_TEXT.get(name, f"b.{name}") for name in _ARRAY_COLUMNS)
# Run as the driver's SQL (common/db.py): SQLAlchemy's handling of its 20 parameters on every
# call cost 0.05-0.08 ms of a lone message's store (bench/README.md).
_STORE_BATCH = DriverStatement(
    sa.text(
        f"""
    WITH numbered AS (
        UPDATE rooms SET last_seq = last_seq + :count, last_message_at = :last_message_at
        WHERE id = :room_id RETURNING last_seq
    ), batch AS (
        SELECT * FROM unnest({", ".join(f"CAST(:{name}s AS {kind}[])" for name, kind in _ARRAY_COLUMNS.items())})
        WITH ORDINALITY AS b({", ".join(_ARRAY_COLUMNS)}, n)
    ), inserted AS (
        INSERT INTO messages ({", ".join(_ARRAY_COLUMNS)}, room_id, seq)
        SELECT {_SELECTED}
            , :room_id, numbered.last_seq - :count + b.n
        FROM batch b CROSS JOIN numbered
    ), marked AS (
        UPDATE room_memberships AS m
        SET last_read_seq = numbered.last_seq - :count + mark.n,
            automod_memory = COALESCE(CAST(mark.memory AS json), m.automod_memory)
        FROM unnest(CAST(:mark_ids AS uuid[]), CAST(:mark_ns AS bigint[]), CAST(:mark_memories AS text[]))
            AS mark(id, n, memory)
        CROSS JOIN numbered
        WHERE m.id = mark.id
    )
    SELECT last_seq FROM numbered
    """
    )
)


def _statements():
    """Built once: building Core statements per send was a large share of its CPU (py-spy of
    bench/chat_sockets.py), and the ORM-enabled forms cost ~1 ms each."""
    rooms, messages, memberships = Room.__table__, Message.__table__, RoomMembership.__table__

    next_seqs = (
        sa.update(rooms)
        .where(rooms.c.id == sa.bindparam("m_room_id"))
        .values(last_seq=rooms.c.last_seq + sa.bindparam("count"), last_message_at=sa.bindparam("m_created_at"))
        .returning(rooms.c.last_seq)
    )

    columns = [messages.c[name] for name in INSERTED_COLUMNS]
    bound = [sa.bindparam(f"m_{column.name}", type_=column.type) for column in columns]
    insert = sa.insert(messages).values(
        {**dict(zip(columns, bound, strict=True)), messages.c.seq: sa.bindparam("m_seq", type_=messages.c.seq.type)}
    )

    memory = sa.bindparam("automod_memory", type_=sa.JSON(none_as_null=True))

    mark_read = (
        sa.update(memberships)
        .where(memberships.c.id == sa.bindparam("membership_id"))
        .values(
            last_read_seq=sa.bindparam("m_seq"),
            automod_memory=sa.func.coalesce(memory, memberships.c.automod_memory),
        )
    )

    count_reply = (
        sa.update(messages)
        .where(messages.c.id == sa.bindparam("replied_id", type_=messages.c.id.type))
        .values(reply_count=messages.c.reply_count + 1)
    )
    return next_seqs, insert, mark_read, count_reply


_NEXT_SEQS, _INSERT, _MARK_READ, _COUNT_REPLY = _statements()
