"""Where pushes wait to be POSTed, in this process: one lane per push service (origin), at most
PARALLEL_PER_SERVICE requests in flight in it and MAX_WAITING_PER_SERVICE in line behind them.

A push service that is slow or hangs fills its own lane and nothing else: the task that claimed
the pushes gives its worker slot back at once (notifications, mail and a session's next track
run in those slots), and the other services' pushes keep going. A lane that is full refuses
more at once rather than holding them in memory without bound."""

import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

PARALLEL_PER_SERVICE = 50
MAX_WAITING_PER_SERVICE = 10_000
MAX_IDLE_LANES = 32


class Batch:
    """The POSTs of one task: `on_done(outcomes)` runs once, when the last one is answered."""

    def __init__(self, size, on_done):
        self._outcomes = [None] * size
        self._left = size
        self._on_done = on_done
        self._lock = threading.Lock()
        self._finished = threading.Event()

    def finish(self, index, outcome):
        with self._lock:
            self._outcomes[index] = outcome
            self._left -= 1
            last = self._left == 0
        if last:
            try:
                self._on_done(self._outcomes)
            finally:
                self._finished.set()

    def wait(self):
        """Block until every POST is answered; {outcome: count}."""
        self._finished.wait()
        return dict(Counter(self._outcomes))


class _Lane:
    def __init__(self, origin):
        self.pool = ThreadPoolExecutor(max_workers=PARALLEL_PER_SERVICE, thread_name_prefix=f"push {origin}")
        self.holding = 0  # in flight or in line


_lanes: dict[str, _Lane] = {}
_lock = threading.Lock()


def submit(origin, batch, index, send, refused):
    """Run `send()` in `origin`'s lane; its outcome (or `refused`, when the lane is full or
    `send` fails unexpectedly) finishes `batch`'s item `index`."""
    with _lock:
        lane = _lanes.get(origin) or _new_lane(origin)
        full = lane.holding >= MAX_WAITING_PER_SERVICE
        if not full:
            lane.holding += 1
    if full:
        log.warning("push lane for %s is full: push dropped", origin)
        batch.finish(index, refused)
        return
    lane.pool.submit(_run, lane, batch, index, send, refused)


def _run(lane, batch, index, send, refused):
    try:
        outcome = send()
    except Exception:
        log.exception("push failed unexpectedly")
        outcome = refused
    finally:
        with _lock:
            lane.holding -= 1
    batch.finish(index, outcome)


def _new_lane(origin):
    """A lane for a new origin (under _lock); idle lanes beyond MAX_IDLE_LANES are closed first,
    so endpoints on ever new hosts cannot pile up threads."""
    idle = [name for name, lane in _lanes.items() if lane.holding == 0]
    for name in idle[: max(0, len(_lanes) - MAX_IDLE_LANES + 1)]:
        _lanes.pop(name).pool.shutdown(wait=False)
    lane = _lanes[origin] = _Lane(origin)
    return lane
