import uuid

from celery import shared_task

from seda.admin import services


@shared_task(name=services.CRAWL_TASK)
def run_crawl(job_id):
    services.run_crawl_job(uuid.UUID(job_id))
