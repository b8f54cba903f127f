"""Admission control: at most MAX_ACTIVE_REQUESTS requests and socket events of a process do
their work at once; the others wait their turn instead of all running together.

Under a reconnect storm a thousand handlers runnable at once each hold a pooled connection
while they wait for the CPU behind all the others: the pool's wait expires, they answer 503,
and a client told 503 comes back seconds later (bench/storm.py). Admitted in turn, each runs
through quickly and gives its connection back. A slot is not held while waiting on another
server (`outside`): an unfurl that takes seconds must not keep everyone else out.
"""

import threading
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, g, request

from seda.common.errors import ServiceUnavailable

BUSY = "Server busy, retry"
_holding: ContextVar[object] = ContextVar("admission_slot", default=None)


class Admission:
    def __init__(self, slots, wait_seconds):
        self._slots = threading.BoundedSemaphore(slots) if slots > 0 else None
        self._wait = wait_seconds

    def enter(self):
        """Wait for a slot (FIFO); ServiceUnavailable after ADMISSION_WAIT_SECONDS."""
        if self._slots is None or _holding.get() is self:
            return False
        if not self._slots.acquire(timeout=self._wait):
            raise ServiceUnavailable(BUSY, headers={"Retry-After": "1"})
        _holding.set(self)
        return True

    def leave(self):
        if _holding.get() is self:
            _holding.set(None)
            self._slots.release()

    @contextmanager
    def admitted(self):
        entered = self.enter()
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
            g.admitted = admission().enter()

    @app.teardown_request
    def release_request(_exc):
        if g.pop("admitted", False):
            admission().leave()


def admission():
    return current_app.extensions["seda_admission"]


@contextmanager
def outside():
    """Give the caller's slot back while it waits on something else (a fetch), then queue again."""
    current = _holding.get()
    if current is None:
        yield
        return
    current.leave()
    try:
        yield
    finally:
        current.enter()
