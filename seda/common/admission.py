"""Admission control: at most MAX_ACTIVE_REQUESTS requests and socket events of a process do
their work at once; the others wait their turn instead of all running together.

Under a reconnect storm a thousand handlers runnable at once each hold a pooled connection
while they wait for the CPU behind all the others: the pool's wait expires, they answer 503,
and a client told 503 comes back seconds later (bench/storm.py). Admitted in turn, each runs
through quickly and gives its connection back. A slot is not held while waiting on another
server (`outside`): an unfurl that takes seconds must not keep everyone else out.

A freed slot goes first to the events of sockets already in (sends, reactions, typing…), then to
REST requests and sockets arriving (connect, join_room), so that a storm of arrivals does not
queue a room's conversation behind it; but while requests wait, every third turn is theirs, so a
flood of events cannot hold them back for good. Within a lane, callers (a socket's user, a
request's address) take turns in rotation: one account with many waiting gets no more turns than
another with one. One set of slots for all lanes keeps the connections in use under the pool's
size (past it, every checkout would open and close a connection of its own).
"""

import threading
import time
from collections import deque
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, g, request

from seda.common import metrics
from seda.common.errors import ServiceUnavailable

BUSY = "Server busy, retry"
EVENTS, REST, ARRIVALS = LANES = (0, 1, 1)  # the order in which waiting lanes are served
LANE_NAMES = {EVENTS: "events", REST: "requests and arrivals"}  # in metrics
# While REST waits, sockets' events take at most this many turns in a row before a request gets
# one: events come first, but a flood of them never holds every request back.
EVENTS_BEFORE_A_REQUEST = 2
# /health reports `degraded` while anything has waited longer than this for its turn (API.md §1).
DEGRADED_AFTER_SECONDS = 5.0
_holding: ContextVar[object] = ContextVar("admission_slot", default=None)


class _Turn:
    __slots__ = ("event", "since")

    def __init__(self, since):
        self.event, self.since = threading.Event(), since


class _FairLane:
    """The waiters of one lane, one queue per caller (a user, an address), served in rotation:
    a caller with many waiting takes every other turn at most, never all of them."""

    def __init__(self):
        self._callers = {}  # who -> their waiting turns; insertion order is the rotation

    def __bool__(self):
        return bool(self._callers)

    def __len__(self):
        return sum(map(len, self._callers.values()))

    def add(self, who, turn):
        self._callers.setdefault(turn if who is None else who, deque()).append(turn)

    def pop(self):
        who, turns = next(iter(self._callers.items()))
        turn = turns.popleft()
        del self._callers[who]
        if turns:
            self._callers[who] = turns  # to the back of the rotation
        return turn

    def remove(self, turn):
        for who, turns in self._callers.items():
            if turn in turns:
                turns.remove(turn)
                if not turns:
                    del self._callers[who]
                return

    def oldest(self):
        return min((turns[0].since for turns in self._callers.values()), default=None)


class Admission:
    def __init__(self, slots, wait_seconds, clock=time.monotonic):
        self._slots = slots
        self._free = slots
        self._unlimited = slots <= 0
        self._wait = wait_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting = {lane: _FairLane() for lane in sorted(set(LANES))}
        self._events_in_a_row = 0

    def enter(self, lane=REST, who=None):
        """Wait for a slot; ServiceUnavailable after ADMISSION_WAIT_SECONDS. A caller that already
        holds a slot goes on with it. `who` (a user id, an address) shares turns fairly between
        callers of one lane. True when this call took one."""
        if self._unlimited or _holding.get() is not None:
            return False
        with self._lock:
            granted = self._free > 0 and not any(self._waiting.values())
            if granted:
                self._free -= 1
            else:
                turn = _Turn(self._clock())
                self._waiting[lane].add(who, turn)
        if not granted:
            admitted = turn.event.wait(self._wait) or self._give_up(lane, turn)
            metrics.ADMISSION_WAIT.labels(LANE_NAMES[lane]).observe(self._clock() - turn.since)
            if not admitted:
                metrics.ADMISSION_REFUSED.labels(LANE_NAMES[lane]).inc()
                raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"})
        _holding.set((self, lane, who))
        return True

    def _give_up(self, lane, turn):
        """Leave the queue; True when the slot was handed over at that very moment after all."""
        with self._lock:
            if turn.event.is_set():
                return True
            self._waiting[lane].remove(turn)
            return False

    def leave(self):
        held = _holding.get()
        if held is None or held[0] is not self:
            return
        _holding.set(None)
        with self._lock:
            lane = self._next_lane()
            if lane is None:
                self._free += 1
            else:
                lane.pop().event.set()  # the slot passes straight to the next in turn

    def _next_lane(self):
        events, rest = self._waiting[EVENTS], self._waiting[REST]
        if events and not (rest and self._events_in_a_row >= EVENTS_BEFORE_A_REQUEST):
            self._events_in_a_row += 1
            return events
        self._events_in_a_row = 0
        return rest or None

    def state(self):
        """{active, waiting, longestWaitMs}: what /health reports of this process's turns."""
        with self._lock:
            waiting = sum(map(len, self._waiting.values()))
            oldest = min((t for t in (lane.oldest() for lane in self._waiting.values()) if t is not None), default=None)
            active = 0 if self._unlimited else self._slots - self._free
        longest = 0 if oldest is None else round((self._clock() - oldest) * 1000)
        return {"active": active, "waiting": waiting, "longestWaitMs": longest}

    @contextmanager
    def admitted(self, lane=REST, who=None):
        entered = self.enter(lane, who)
        try:
            yield
        finally:
            if entered:
                self.leave()


def init_admission(app):
    """Admit REST requests in turn (health, metrics, docs and the console's files never wait)."""
    config = app.config
    app.extensions["seda_admission"] = Admission(config["MAX_ACTIVE_REQUESTS"], config["ADMISSION_WAIT_SECONDS"])
    exempt = (f"{config['API_PREFIX']}/health", "/metrics", "/api/docs", "/console")

    @app.before_request
    def admit_request():
        if not request.path.startswith(exempt):
            g.admitted = admission().enter(REST, who=request.remote_addr)

    @app.teardown_request
    def release_request(_exc):
        if g.pop("admitted", False):
            admission().leave()


def admission():
    return current_app.extensions["seda_admission"]


@contextmanager
def outside():
    """Give the caller's slot back while it waits on something else (a fetch), then queue again."""
    held = _holding.get()
    if held is None:
        yield
        return
    admission_, lane, who = held
    admission_.leave()
    try:
        yield
    finally:
        admission_.enter(lane, who)
