"""Sends to one room that arrive together are stored together, and each still stands alone:
gap-free seq, every answer stored exactly once, a bad message fails by itself."""

import threading
import time
import types
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from seda.chat import room_writes
from seda.chat.models import Message, RoomMembership
from seda.chat.room_writes import INSERTED_COLUMNS
from seda.common import batches as group_commit
from seda.common.errors import ServiceUnavailable
from seda.extensions import db
from tests.helpers.tiers import services_only


class RoomLock:
    """Holds the room's row lock from another connection (SQLite: the database's write lock),
    as a long transaction of another process would: sends queue up behind it."""

    def __init__(self, app, room_id):
        self.app, self.room_id = app, uuid.UUID(room_id)

    def __enter__(self):
        with self.app.app_context():
            self.connection = db.engine.connect()
        if self.connection.dialect.name == "sqlite":
            self.connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            self.connection.execute(sa.text("SELECT 1 FROM rooms WHERE id = :id FOR UPDATE"), {"id": self.room_id})
        return self

    def __exit__(self, *exc):
        if self.connection.dialect.name == "sqlite":
            self.connection.exec_driver_sql("ROLLBACK")
        self.connection.close()  # PostgreSQL: rolls back, releasing the row lock


def message_inserts(app):
    """A list that collects each statement inserting messages the app's engine runs, as the
    number of rows it inserts (an executemany runs once)."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT INTO MESSAGES", "WITH NEXT_SEQ", "WITH NUMBERED")):
            batched = isinstance(parameters, dict) and "ids" in parameters  # PostgreSQL's one statement
            seen.append(len(parameters) if executemany else len(parameters["ids"]) if batched else 1)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", record)
    return seen


def stored(app, room_id):
    with app.app_context():
        rows = db.session.execute(
            sa.select(Message.id, Message.seq, Message.text, Message.user_id)
            .where(Message.room_id == uuid.UUID(room_id))
            .order_by(Message.seq)
        ).all()
    return {str(row.id): row for row in rows}


def send_while_locked(app, room_id, sends):
    """Start every send while the room is locked, let them queue, release; their answers."""
    with ThreadPoolExecutor(len(sends)) as pool:
        with RoomLock(app, room_id):
            futures = [pool.submit(send) for send in sends]
            time.sleep(1.0)  # every send has passed its checks and waits for the room's transaction
            assert not any(future.done() for future in futures)
        return [future.result(timeout=30) for future in futures]


def test_sends_that_arrive_together_are_stored_in_one_transaction_with_gap_free_seq(app, chat):
    owner = chat()
    room_id = owner.room()["id"]
    senders = [chat() for _ in range(8)]
    for sender in senders:
        sender.post(f"/rooms/{room_id}/join")
    inserts = message_inserts(app)

    answers = send_while_locked(
        app,
        room_id,
        [lambda s=s, n=n: s.post(f"/rooms/{room_id}/messages", json={"text": f"m{n}"}) for n, s in enumerate(senders)],
    )

    assert [status for status, _ in answers] == [201] * 8
    rows = stored(app, room_id)
    assert sorted(row.seq for row in rows.values()) == list(range(1, 9))
    for (_, body), sender in zip(answers, senders, strict=True):
        row = rows[body["id"]]
        assert (row.seq, row.text, str(row.user_id)) == (body["seq"], body["text"], str(sender.user.id))
    # The first send leads alone; the seven that queued behind it are one multi-row INSERT (on
    # PostgreSQL one statement, with the counter and the read marks).
    assert inserts == [1, 7]
    status, page = owner.get(f"/rooms/{room_id}/messages?limit=50")
    assert [m["seq"] for m in page] == list(range(8, 0, -1))


def test_a_bad_message_in_a_batch_fails_alone(app, chat):
    owner = chat()
    room_id = owner.room()["id"]
    retrier, others = chat(), [chat() for _ in range(5)]
    for sender in (retrier, *others):
        sender.post(f"/rooms/{room_id}/join")

    def retry():  # a client retrying on a flaky network: the same clientMessageId twice at once
        return retrier.post(f"/rooms/{room_id}/messages", json={"text": "once", "clientMessageId": "c-1"})

    sends = [retry, retry] + [
        lambda s=s, n=n: s.post(f"/rooms/{room_id}/messages", json={"text": f"other {n}"}) for n, s in enumerate(others)
    ]
    answers = send_while_locked(app, room_id, sends)

    retries, rest = answers[:2], answers[2:]
    assert sorted(status for status, _ in retries) == [200, 201]  # one stored, one answered with it
    assert retries[0][1]["id"] == retries[1][1]["id"]
    assert [status for status, _ in rest] == [201] * 5
    rows = stored(app, room_id)
    assert sorted(row.text for row in rows.values()) == ["once"] + sorted(f"other {n}" for n in range(5))
    assert sorted(row.seq for row in rows.values()) == list(range(1, 7))  # the failed insert left no gap
    for _, body in answers:
        assert rows[body["id"]].seq == body["seq"]


@services_only  # SQLite's write lock is the whole database's: there every room waits
def test_a_room_waiting_on_its_lock_holds_up_no_other_room_and_nothing_mixes(app, chat):
    owner = chat()
    busy, quiet = (owner.room(name=name)["id"] for name in ("Busy", "Quiet"))
    senders = [chat() for _ in range(6)]
    for n, sender in enumerate(senders):
        sender.post(f"/rooms/{(busy, quiet)[n % 2]}/join")

    def send(n):
        room_id = (busy, quiet)[n % 2]
        return senders[n].post(f"/rooms/{room_id}/messages", json={"text": f"to {room_id}"})

    with ThreadPoolExecutor(6) as pool:
        with RoomLock(app, busy):
            futures = [pool.submit(send, n) for n in range(6)]
            quiet_answers = [futures[n].result(timeout=10) for n in (1, 3, 5)]  # while the busy room is locked
            assert not any(futures[n].done() for n in (0, 2, 4))
        busy_answers = [futures[n].result(timeout=30) for n in (0, 2, 4)]

    for room_id, answers in ((quiet, quiet_answers), (busy, busy_answers)):
        assert all(status == 201 and body["roomId"] == room_id for status, body in answers)
        rows = stored(app, room_id)
        assert sorted(row.seq for row in rows.values()) == [1, 2, 3]
        assert {row.text for row in rows.values()} == {f"to {room_id}"}


class Interrupted(Exception):
    pass


class InterruptedWhileQueued(group_commit.Ticket):
    """The ticket of a sender whose wait a timeout or a shutdown interrupts."""

    __slots__ = ()

    def wait(self):
        if self.item.values["m_text"] == "interrupted":
            raise Interrupted
        super().wait()


def test_a_send_interrupted_while_queued_leaves_the_queue_and_the_next_one_is_written(monkeypatch):
    first_committing, release_first, batches = threading.Event(), threading.Event(), []

    def commit(batch):  # the database, as far as the queue can tell
        if not batches:
            first_committing.set()
            release_first.wait(5)
        batches.append([write.values["m_text"] for write in batch])
        return [(len(batches) * 10 + n, None) for n in range(len(batch))]

    monkeypatch.setattr(room_writes, "_commit", commit)
    monkeypatch.setattr(group_commit, "Ticket", InterruptedWhileQueued)
    writes = room_writes.RoomWrites()

    def write_of(text):
        message = types.SimpleNamespace(**{**dict.fromkeys(room_writes.INSERTED_COLUMNS), "text": text})
        return room_writes.Write(message, membership_id=None)

    def store_in_background(text):  # a daemon thread: a sender stuck forever must not hang the run
        result = {}
        thread = threading.Thread(target=lambda: result.update(seq=writes.store("room", write_of(text))), daemon=True)
        thread.start()
        return thread, result

    first, first_result = store_in_background("first")
    assert first_committing.wait(5)
    with pytest.raises(Interrupted):
        writes.store("room", write_of("interrupted"))
    queued, queued_result = store_in_background("queued")
    time.sleep(0.2)
    release_first.set()
    first.join(5), queued.join(5)
    assert (first_result, queued_result) == ({"seq": 10}, {"seq": 20})
    assert batches == [["first"], ["queued"]]
    assert writes.idle()  # nothing left queued behind the room


def test_the_senders_of_a_batch_whose_writer_is_interrupted_are_told_to_retry_with_503(monkeypatch):
    first_committing, release_first, batches = threading.Event(), threading.Event(), []

    def commit(batch):
        batches.append([write.values["m_text"] for write in batch])
        if len(batches) == 1:
            first_committing.set()
            release_first.wait(5)
            return [(1, None)]
        raise Interrupted  # the second batch's writer is cut off mid-transaction

    monkeypatch.setattr(room_writes, "_commit", commit)
    writes = room_writes.RoomWrites()
    outcomes = {}

    def store(text):
        message = types.SimpleNamespace(**{**dict.fromkeys(room_writes.INSERTED_COLUMNS), "text": text})
        try:
            outcomes[text] = writes.store("room", room_writes.Write(message, membership_id=None))
        except BaseException as error:  # noqa: BLE001 - what each sender is left with
            outcomes[text] = error

    threads = [threading.Thread(target=store, args=("first",), daemon=True)]
    threads[0].start()
    assert first_committing.wait(5)
    for text in ("leader", "follower"):
        threads.append(threading.Thread(target=store, args=(text,), daemon=True))
        threads[-1].start()
        time.sleep(0.1)
    release_first.set()
    for thread in threads:
        thread.join(5)
    assert batches == [["first"], ["leader", "follower"]]
    assert outcomes["first"] == 1 and isinstance(outcomes["leader"], Interrupted)
    assert isinstance(outcomes["follower"], ServiceUnavailable) and outcomes["follower"].status == 503
    assert writes.idle()


def test_a_members_repeats_stored_in_one_batch_count_for_the_repeat_rule(app, chat):
    owner, fan = chat(), chat()
    room_id = owner.room()["id"]
    fan.post(f"/rooms/{room_id}/join")
    rules = {"blockedWords": [], "linkPolicy": "ANY", "maxMentions": 0, "blockRepeats": True, "autoMuteAfter": 0}
    assert owner.put(f"/rooms/{room_id}/automod", json=rules)[0] == 200
    inserts = message_inserts(app)

    def post(member, text, after=0.0):
        def send():
            time.sleep(after)
            return member.post(f"/rooms/{room_id}/messages", json={"text": text})

        return send

    # The owner's send leads alone; the fan's two queue behind it and are written together.
    sends = [post(owner, "first"), post(fan, "buy my album", 0.3), post(fan, "buy my album", 0.3)]
    answers = send_while_locked(app, room_id, sends)

    assert [status for status, _ in answers] == [201] * 3
    assert inserts == [1, 2]
    status, body = fan.post(f"/rooms/{room_id}/messages", json={"text": "Buy my album"})
    assert status == 422 and body["message"] == ["Blocked by room rules: repeated message"]


def test_a_batch_stores_every_column_and_read_mark_as_sends_stored_alone_do(app, chat):
    from tests.helpers.chat import TRACK

    owner, fan, dj = chat(username="owner_b"), chat(), chat()
    room_id = owner.room()["id"]
    for member in (fan, dj):
        member.post(f"/rooms/{room_id}/join")
    messages = [
        (fan, {"text": "hi @owner_b", "clientMessageId": "c-1"}),
        (dj, {"text": "", "trackRef": TRACK}),
        (fan, {"text": "plain"}),
    ]
    alone = [sender.send(room_id, **body) for sender, body in messages]
    inserts = message_inserts(app)

    def again(sender, body):
        def send():
            time.sleep(0.3)  # behind the owner's send, which leads alone
            return sender.post(f"/rooms/{room_id}/messages", json=body)

        return send

    sends = [lambda: owner.post(f"/rooms/{room_id}/messages", json={"text": "first"})]
    again_bodies = [{**body, "clientMessageId": f"c-{n}-again"} for n, (_, body) in enumerate(messages)]
    repeats = [again(sender, body) for (sender, _), body in zip(messages, again_bodies, strict=True)]
    together = send_while_locked(app, room_id, sends + repeats)[1:]

    assert inserts == [1, 3]
    assert [status for status, _ in together] == [201] * 3
    # Every column a send writes, but those that differ between two sends by nature.
    columns = [name for name in INSERTED_COLUMNS if name not in ("id", "client_message_id", "created_at", "updated_at")]
    with app.app_context():

        def row(message_id):
            found = db.session.execute(
                sa.select(
                    *(Message.__table__.c[name] for name in columns), Message.track_ref.is_(None).label("sql_null")
                ).where(Message.id == uuid.UUID(message_id))
            ).one()
            return found._asdict()

        assert [row(body["id"]) for _, body in together] == [row(sent["id"]) for sent in alone]
        marks = dict(
            db.session.execute(
                sa.select(RoomMembership.user_id, RoomMembership.last_read_seq).where(
                    RoomMembership.room_id == uuid.UUID(room_id)
                )
            ).all()
        )
    last_of = {
        str(fan.user.id): max(b["seq"] for _, b in (together[0], together[2])),
        str(dj.user.id): together[1][1]["seq"],
    }
    assert {str(user_id): seq for user_id, seq in marks.items() if str(user_id) in last_of} == last_of
