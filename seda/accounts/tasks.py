from celery import shared_task

from seda.accounts import deletion
from seda.common.scheduler import register_periodic

PURGE_TASK = "accounts.purge_due"


@shared_task(name=PURGE_TASK)
def purge_due_accounts():
    return deletion.purge_due()


register_periodic(purge_due_accounts, 600)
