"""Celery tasks of Web Push: deliveries queued by the notifications feature, test pushes, and the
hourly sweep of expired subscriptions and spent claims."""

from celery import shared_task

from seda.common.scheduler import register_periodic
from seda.push import delivery, sending
from seda.push.sending import DELIVER_TASK


@shared_task(name=DELIVER_TASK, bind=True)
def deliver(self, pushes):
    # In process (the embedded default) a task holds no worker slot: it waits for its answers,
    # so that shutdown (and a test) waits for them too.
    outcomes = delivery.deliver(
        [delivery.Push.from_task_args(args) for args in pushes], wait=self.app.conf.task_always_eager
    )
    return {outcome.value: count for outcome, count in outcomes.items()}


@shared_task(name="push.sweep")
def sweep():
    return sending.sweep()


register_periodic(sweep, every_seconds=3600)
