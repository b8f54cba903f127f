"""Periodic jobs: one list, run by Celery beat in production and by a timer in embedded mode."""

import logging
import threading
import time
from dataclasses import dataclass

from seda.common.tasks import submit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    task: object
    every_seconds: float | None
    every_seconds_from: str | None = None  # the name of the setting that gives every_seconds


_jobs: list[PeriodicJob] = []


def register_periodic(task, every_seconds=None, every_seconds_from=None):
    """Run `task` every `every_seconds`, or every so many seconds as the setting named
    `every_seconds_from` says; call at import time of a feature's tasks module."""
    _jobs.append(PeriodicJob(task, every_seconds, every_seconds_from))
    return task


def periodic_task_names():
    return {job.task.name for job in _jobs}


def jobs_for(config):
    """The registered jobs, each with its period read from `config` where a setting gives it."""
    return [PeriodicJob(job.task, config[job.every_seconds_from]) if job.every_seconds_from else job for job in _jobs]


def beat_schedule(config):
    return {job.task.name: {"task": job.task.name, "schedule": job.every_seconds} for job in jobs_for(config)}


class EmbeddedScheduler:
    """Queues each registered job when it is due, from a daemon thread (a greenlet under gevent)."""

    def __init__(self, jobs, tick_seconds=1.0, clock=time.monotonic, submit=submit):
        self._jobs = list(jobs)
        self._submit = submit
        self._tick = tick_seconds
        self._clock = clock
        self._next_run = [clock() + job.every_seconds for job in self._jobs]
        self._stopped = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._loop, name="seda-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopped.set()
        if self._thread:
            self._thread.join(5)

    def run_due(self):
        now = self._clock()
        for index, job in enumerate(self._jobs):
            if now >= self._next_run[index]:
                self._next_run[index] = now + job.every_seconds
                self._submit(job.task)

    def _loop(self):
        while not self._stopped.wait(self._tick):
            try:
                self.run_due()
            except Exception:  # a failing job must not stop the others
                log.exception("embedded scheduler tick failed")


def start_embedded_scheduler(app):
    """Start the in-process scheduler when the app runs without a beat (embedded default)."""
    if not app.config.get("EMBEDDED_SCHEDULER") or not _jobs:
        return None
    log.info("embedded scheduler started with %d periodic jobs", len(_jobs))
    return EmbeddedScheduler(jobs_for(app.config)).start()
