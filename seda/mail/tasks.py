from celery import shared_task

from seda.mail import services


@shared_task(name=services.SEND_TASK)
def send_mail(raw, attempt=0, request_id=None):
    services.deliver(raw, attempt, request_id)
