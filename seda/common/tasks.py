"""Celery bound to the Flask app, and the one way code queues background work.

Services queue tasks by name (`enqueue("chat.unfurl_message", id)`), so a service never imports
its feature's tasks module (which imports the service) nor another feature's.
Production sends tasks to the Redis broker. The embedded default has no broker: `enqueue()`
runs the task in a background greenlet (a thread outside gevent) so the request that queued
it answers at once, as it would with a worker.
"""

import contextlib
import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from celery import Celery, Task
from celery.signals import task_postrun
from flask import current_app
from kombu.exceptions import OperationalError as BrokerUnavailable

from seda.common import metrics
from seda.common.after_ack import after_ack

log = logging.getLogger(__name__)

_in_process_lock = threading.Lock()
_in_process_runs: set[threading.Thread] = set()


def celery_init_app(app, beat_schedule):
    """Create the app's Celery, running every task inside an app context.

    One Celery per Flask app (Flask's documented pattern): a Celery app caches its broker
    connections, so sharing one between apps of different configs would mix their brokers.
    Tasks are `@shared_task`s and bind to the newest app, which `set_default()` makes this one.
    """

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.config_from_object(app.config["CELERY"])
    with contextlib.suppress(OSError):  # beat says so itself when it cannot write there
        Path(celery.conf.beat_schedule_filename).parent.mkdir(parents=True, exist_ok=True)
    celery.conf.beat_schedule = beat_schedule
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


@task_postrun.connect
def _count_task(task=None, state=None, **_kwargs):
    """Every task's outcome, in the worker (and in process in the embedded default)."""
    metrics.CELERY_TASKS.labels(getattr(task, "name", "?"), (state or "UNKNOWN").lower()).inc()


def enqueue(task_name, *args):
    """Queue the task named `task_name` with `args`; call it only after the data the task reads
    is committed."""
    after_ack(submit, current_app.extensions["celery"].tasks[task_name], args)


def enqueue_at(task_name, eta, *args):
    """Queue the task named `task_name` to run at `eta` (an aware datetime), after the commit.

    A broker holds a task with an ETA in its worker's memory: a worker that dies with it loses
    it, so whatever is scheduled this way needs a periodic sweep behind it."""
    after_ack(submit, current_app.extensions["celery"].tasks[task_name], args, eta)


def submit(task, args=(), eta=None):
    """Queue `task(*args)`: to the broker, or to a background thread in the embedded default."""
    if task.app.conf.task_always_eager:
        if eta is None:
            _run_in_process(task, args)
        else:
            _run_in_process_at(task, args, eta)
        return
    try:
        task.apply_async(args, eta=eta)
    except BrokerUnavailable:
        # The database holds the work; the periodic sweep queues it again once Redis is back.
        log.error("broker unavailable, %s%r left for the sweep", task.name, args)


def _run_in_process(task, args):
    def run():
        try:
            task.apply(args, throw=False)
        finally:
            with _in_process_lock:
                _in_process_runs.discard(threading.current_thread())

    worker = threading.Thread(target=run, name=f"task-{task.name}", daemon=True)
    with _in_process_lock:  # started as it is added: a waiter never joins a thread not yet started
        _in_process_runs.add(worker)
        worker.start()


def _run_in_process_at(task, args, eta):
    """A timer for a scheduled task: not counted as running (nothing waits for a future task)."""

    def run_when_due():
        time.sleep(max(0.0, (eta - datetime.now(UTC)).total_seconds()))
        _run_in_process(task, args)

    threading.Thread(target=run_when_due, name=f"timer-{task.name}", daemon=True).start()


def wait_for_in_process_tasks(timeout=10.0):
    """Block until every in-process task has finished (tests and graceful shutdown)."""
    while True:
        with _in_process_lock:
            pending = list(_in_process_runs)
        if not pending:
            return
        for worker in pending:
            worker.join(timeout)
