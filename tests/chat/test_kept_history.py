"""A member's history page answered from their kept answer in front of Flask
(common/kept_responses.py): Flask's own answer, the room's state read again in one statement
that the members asking together share."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from seda.chat import access
from seda.extensions import db
from tests.helpers.chat import history
from tests.helpers.queries import count_queries, flask_requests
from tests.helpers.tiers import services_only

PAGE_HEADERS = ("Content-Type", "Content-Length", "ETag", "X-Next-Cursor", "Link", "Cache-Control")


@services_only
def test_a_members_next_page_is_flask_s_answer_read_again_in_one_statement_without_flask(app, chat):
    owner, fan = chat(), chat()
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    for n in range(3):
        owner.send(room["id"], f"message {n}")
    built = history(fan, room, "?limit=2")
    handled = flask_requests(app)
    with count_queries(app) as statements:
        kept = history(fan, room, "?limit=2")

    assert handled == [] and len(statements) == 1 and "room_memberships" in statements[0]
    assert kept.status_code == 200 and kept.get_data() == built.get_data()
    assert [kept.headers.get(name) for name in PAGE_HEADERS] == [built.headers.get(name) for name in PAGE_HEADERS]
    assert kept.headers["X-Next-Cursor"] and "limit=2" in kept.headers["Link"]
    assert int(kept.headers["X-RateLimit-Remaining"]) == int(built.headers["X-RateLimit-Remaining"]) - 1


@services_only
def test_a_member_who_left_is_refused_by_flask_not_answered_from_the_kept_page(app, chat):
    owner, fan = chat(), chat()
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    owner.send(room["id"], "members only")
    assert history(fan, room).status_code == 200
    assert fan.post(f"/rooms/{room['id']}/leave")[0] in (200, 204)
    handled = flask_requests(app)
    refused = history(fan, room)
    assert refused.status_code == 403 and handled == [1]


@services_only
def test_room_states_asked_together_are_read_in_one_statement(app, chat, monkeypatch):
    owner, outsider = chat(), chat()
    rooms = [uuid.UUID(owner.room(name=f"Room {n}")["id"]) for n in range(4)]
    member = uuid.UUID(owner.user.id)
    first_reading, let_it_finish, reads = threading.Event(), threading.Event(), []
    connect = access.autocommit_connection

    def slow_first_read(engine):
        reads.append(1)
        if not first_reading.is_set():
            first_reading.set()
            let_it_finish.wait(5)
        return connect(engine)

    monkeypatch.setattr(access, "autocommit_connection", slow_first_read)
    with app.app_context():
        states = access.ReadableStates(db.engine)
    asked = [(rooms[0], member), (rooms[1], member), (rooms[2], member), (rooms[3], uuid.UUID(outsider.user.id))]
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(states.read, *asked[0])
        assert first_reading.wait(5)
        queued = [pool.submit(states.read, *pair) for pair in asked[1:]]
        time.sleep(0.3)  # the three queue behind the first read
        let_it_finish.set()
        answers = [first.result(10)] + [future.result(10) for future in queued]

    assert answers[:3] == [(0, 0)] * 3 and answers[3] is None  # an outsider has no state to read
    assert len(reads) == 2  # the first alone, then the three that waited together
