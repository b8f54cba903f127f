"""Admission control: at most MAX_ACTIVE_REQUESTS requests and socket events of a process do
their work at once; the others wait their turn instead of all running together.

Under a reconnect storm a thousand handlers runnable at once each hold a pooled connection
while they wait for the CPU behind all the others: the pool's wait expires, they answer 503,
and a client told 503 comes back seconds later (bench/storm.py). Admitted in turn, each runs
through quickly and gives its connection back. A slot is not held while waiting on another
server (`outside`): an unfurl that takes seconds must not keep everyone else out.

A freed slot goes to the longest waiter of the first lane that has one: the events of sockets
already in (sends, reactions, typing…) before REST requests and sockets arriving (connect,
join_room), so that a storm of arrivals does not queue a room's conversation behind it. One set
of slots for all lanes keeps the connections in use under the pool's size (past it, every
checkout would open and close a connection of its own).
"""

import threading
from collections import deque
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, g, request

from seda.common.errors import ServiceUnavailable

BUSY = "Server busy, retry"
EVENTS, REST, ARRIVALS = LANES = (0, 1, 1)  # the order in which waiting lanes are served
_holding: ContextVar[object] = ContextVar("admission_slot", default=None)


class Admission:
    def __init__(self, slots, wait_seconds):
        self._free = slots
        self._unlimited = slots <= 0
        self._wait = wait_seconds
        self._lock = threading.Lock()
        self._waiting = {lane: deque() for lane in sorted(set(LANES))}

    def enter(self, lane=REST):
        """Wait for a slot; ServiceUnavailable after ADMISSION_WAIT_SECONDS. A caller that already
        holds a slot goes on with it. True when this call took one."""
        if self._unlimited or _holding.get() is not None:
            return False
        with self._lock:
            granted = self._free > 0 and not any(self._waiting.values())
            if granted:
                self._free -= 1
            else:
                turn = threading.Event()
                self._waiting[lane].append(turn)
        if not granted and not turn.wait(self._wait) and not self._give_up(lane, turn):
            raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"})
        _holding.set((self, lane))
        return True

    def _give_up(self, lane, turn):
        """Leave the queue; True when the slot was handed over at that very moment after all."""
        with self._lock:
            if turn.is_set():
                return True
            self._waiting[lane].remove(turn)
            return False

    def leave(self):
        held = _holding.get()
        if held is None or held[0] is not self:
            return
        _holding.set(None)
        with self._lock:
            for waiting in self._waiting.values():
                if waiting:
                    waiting.popleft().set()  # the slot passes straight to the next in turn
                    return
            self._free += 1

    @contextmanager
    def admitted(self, lane=REST):
        entered = self.enter(lane)
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
            g.admitted = admission().enter(REST)

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
    admission_, lane = held
    admission_.leave()
    try:
        yield
    finally:
        admission_.enter(lane)
