"""The gunicorn and `flask --app wsgi` entry point."""

from seda import create_app

app = create_app()
