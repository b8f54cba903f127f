"""One socket's events start in the order they arrive and are answered in that order (API.md §4),
while a client that keeps several sends in flight still has them stored together.

An event starts once the event before it on the same socket has taken its place: by default
when it ends; a send as soon as it is queued for its room's store (`place_taken`), so the next
send's checks run while the first one's transaction is on its way and both leave in one
(common/batches.py). A `join_room` followed by a `typing_start` never races: the join ends before
the typing starts. Whatever the order of their work, acks go out in the order the events came.
"""

import threading
import weakref
from contextvars import ContextVar

_current: ContextVar["EventOrder | None"] = ContextVar("event_order", default=None)


class EventOrder:
    """One event's place among its socket's events."""

    __slots__ = ("_previous", "_placed", "_answered", "__weakref__")

    def __init__(self, previous):
        self._previous = previous
        self._placed, self._answered = threading.Event(), threading.Event()

    def wait_to_start(self):
        if self._previous is not None:
            self._previous._placed.wait()

    def wait_to_answer(self):
        previous, self._previous = self._previous, None
        if previous is not None:
            previous._answered.wait()

    def place(self):
        self._placed.set()

    def answered(self):
        self._previous = None
        self._placed.set()
        self._answered.set()


class SocketEventOrder:
    """The order of each socket's events, kept while any of them is unanswered."""

    def __init__(self):
        self._lock = threading.Lock()
        self._last = weakref.WeakValueDictionary()  # socket -> its latest EventOrder

    def arrive(self, socket_id):
        """Called as each event arrives, in arrival order: a runner for the event's work,
        `run(work, *args)`, to call wherever the work is done."""
        with self._lock:
            order = self._last[socket_id] = EventOrder(self._last.get(socket_id))

        def run(work, *args):
            token = _current.set(order)
            try:
                order.wait_to_start()
                return work(*args)
            finally:
                _current.reset(token)
                order.answered()

        return run


def place_taken():
    """The current socket event's effect has its place (a send queued for its room's store): the
    socket's next event may start."""
    order = _current.get()
    if order is not None:
        order.place()


def before_answer():
    """Wait until the socket's earlier events are answered (call right before answering)."""
    order = _current.get()
    if order is not None:
        order.wait_to_answer()
