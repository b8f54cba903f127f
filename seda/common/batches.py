"""Group commit for any round trip: calls that arrive while one is in flight leave together.

A caller that finds nothing in flight for its key runs at once, alone: there is no fixed delay.
Callers that arrive while a batch of the same key is being run queue up; when it ends, the
first of them runs everything queued since as the next batch, in one round trip, and each
caller gets its own outcome. Under load the round trips (and their CPU: on loopback a
round trip's send and receive cost more than the work they carry) are shared by many
callers; without load nothing changes.

Used to store a room's messages (chat/room_writes.py) and to count rate limits on Redis
(common/ratelimit.py).
"""

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any

Outcome = tuple[Any, BaseException | None]  # (value, error)


class Ticket:
    """One caller's item in a batch, and once the batch ended, its outcome."""

    __slots__ = ("item", "value", "error", "leads", "_done")

    def __init__(self, item):
        self.item = item
        self.value = self.error = None
        self.leads = False
        self._done = threading.Event()

    def finish(self, value=None, error=None):
        self.value, self.error = value, error
        self._done.set()

    def hand_over(self):
        """Wake this waiting caller to run the next batch of its key (its own item included)."""
        self.leads = True
        self._done.set()

    def wait(self):
        self._done.wait()
        self._done.clear()


class Batches:
    """`run(key, items)` gives one Outcome per item, in order. `interrupted()` is the error the
    callers of a batch get when its runner is interrupted (a timeout, a shutdown) before it
    ended: they may retry."""

    def __init__(self, run: Callable[[Hashable, Sequence], list[Outcome]], interrupted: Callable[[], BaseException]):
        self._run, self._interrupted = run, interrupted
        self._lock = threading.Lock()
        self._waiting: dict[Hashable, list[Ticket]] = {}  # key -> tickets queued behind its running batch

    def submit(self, key, item, queued=None):
        """Run `item` in the next batch of `key`; its value (or its error, raised). `queued()`,
        when given, is called once the item has its place among its key's items."""
        ticket = Ticket(item)
        with self._lock:
            running = key in self._waiting
            self._waiting.setdefault(key, []).append(ticket)
        if queued is not None:
            queued()
        if running:
            try:
                ticket.wait()
            except BaseException:  # interrupted while queued (a timeout, a kill): leave the queue
                self._abandon(key, ticket)
                raise
        if not running or ticket.leads:
            self._run_next(key)
        if ticket.error is not None:
            raise ticket.error
        return ticket.value

    def idle(self):
        """True when no batch is running or queued (for tests)."""
        with self._lock:
            return not self._waiting

    def _abandon(self, key, ticket):
        with self._lock:
            queued = self._waiting.get(key)
            if queued is None or ticket not in queued:
                return  # already taken into a batch: its runner ends it
            queued.remove(ticket)
            if ticket.leads:  # it was to run the next batch: the next in line does
                if queued:
                    queued[0].hand_over()
                else:
                    del self._waiting[key]

    def _run_next(self, key):
        with self._lock:
            batch, self._waiting[key] = self._waiting[key], []
        outcomes = None
        try:
            outcomes = self._run(key, [ticket.item for ticket in batch])
        finally:
            if outcomes is None:
                outcomes = [(None, self._interrupted())] * len(batch)
            # The next runner first: its round trip goes out while this batch's callers go on.
            with self._lock:
                queued = self._waiting[key]
                if queued:
                    queued[0].hand_over()
                else:
                    del self._waiting[key]
            for ticket, (value, error) in zip(batch, outcomes, strict=True):
                ticket.finish(value, error)
