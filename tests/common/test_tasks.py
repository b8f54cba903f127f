import threading
import time

from celery import shared_task

from seda.common.scheduler import EmbeddedScheduler, PeriodicJob
from seda.common.tasks import enqueue, wait_for_in_process_tasks

finished = threading.Event()
runs = []


@shared_task(name="tests.slow_job")
def slow_job(label):
    time.sleep(0.3)
    runs.append(label)
    finished.set()


@shared_task(name="tests.tick_job")
def tick_job():
    slow_job("tick")


def test_embedded_mode_runs_tasks_in_process_without_blocking_the_caller(app):
    finished.clear()
    started = time.perf_counter()
    with app.app_context():
        enqueue("tests.slow_job", "first")
    assert time.perf_counter() - started < 0.1
    assert not finished.is_set()
    wait_for_in_process_tasks()
    assert finished.is_set() and runs[-1] == "first"


def test_the_embedded_scheduler_queues_each_job_when_it_is_due():
    now = [1000.0]
    queued = []
    hourly, minutely = PeriodicJob("hourly", 3600), PeriodicJob("minutely", 60)
    scheduler = EmbeddedScheduler([hourly, minutely], clock=lambda: now[0], submit=queued.append)
    scheduler.run_due()
    assert queued == []
    for _ in range(60):
        now[0] += 60
        scheduler.run_due()
    assert queued.count("minutely") == 60
    assert queued.count("hourly") == 1


def test_the_embedded_scheduler_runs_in_the_background(app):
    finished.clear()
    scheduler = EmbeddedScheduler([PeriodicJob(tick_job, 0.05)], tick_seconds=0.02).start()
    try:
        assert finished.wait(5)
    finally:
        scheduler.stop()
    wait_for_in_process_tasks()
    assert "tick" in runs
