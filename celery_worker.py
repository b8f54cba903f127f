"""The Celery entry point: `celery -A celery_worker worker -P gevent` and `celery -A celery_worker beat`."""

from seda import create_app

app = create_app()
celery = app.extensions["celery"]
