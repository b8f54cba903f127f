import uuid

from celery import shared_task

from seda.common.scheduler import register_periodic
from seda.exports import services


@shared_task(name=services.BUILD_TASK)
def build_export(export_id):
    services.build(uuid.UUID(export_id))


@shared_task(name=services.EXPIRE_TASK)
def expire_exports():
    return services.expire()


register_periodic(expire_exports, 600)
