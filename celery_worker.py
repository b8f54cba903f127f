"""The Celery entry point: `celery -A celery_worker worker -P gevent` and `celery -A celery_worker beat`.

The Flask app must not be called `app` here: `celery -A` would pick it before `celery`.
"""

from seda import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
