"""Work a socket event does after its commit that its sender need not wait for: broadcasts and
queued tasks.

On a gevent server the event's ack goes out first. Otherwise a handler that published a
broadcast waits on Redis while the broadcast comes back and fans out to a whole room, and its
sender's ack waits behind a thousand sockets' frames (bench/mentions.py). Everything deferred runs
in order in one greenlet that lets the ack through first; what a handler committed is broadcast
even when the handler fails afterwards. Under threads (the test client, `flask run`) it runs at
once, as before.
"""

import contextvars
import logging
from contextlib import contextmanager

import gevent
from flask import current_app
from gevent import monkey

log = logging.getLogger(__name__)
_pending = contextvars.ContextVar("after_ack", default=None)


def after_ack(work, *args, **kwargs):
    """Run `work(*args, **kwargs)` once the current socket event's ack is on its way (now, outside one)."""
    pending = _pending.get()
    if pending is None:
        work(*args, **kwargs)
    else:
        pending.append((work, args, kwargs))


@contextmanager
def ack_first():
    """Collect the `after_ack` work of the block, to run once the ack the block ends with is queued."""
    if not monkey.is_module_patched("socket"):
        yield
        return
    pending = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        if pending:
            gevent.spawn(_run, current_app._get_current_object(), pending)


def _run(app, pending):
    # The handler's greenlet queues the ack without yielding once the block ends, and wakes the
    # socket's writer by a loop callback; one more turn of the loop puts this behind that writer.
    gevent.sleep(0)
    with app.app_context():
        for work, args, kwargs in pending:
            try:
                work(*args, **kwargs)
            except Exception:
                log.exception("work after a socket ack failed: %s", getattr(work, "__name__", work))
