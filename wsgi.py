"""The gunicorn and `flask --app wsgi` entry point."""

import click

from seda import create_app

FLASK_RUN_REFUSED = (
    "seda is not served by `flask run`: its Socket.IO needs gevent, which the development server"
    " lacks (sockets would poll forever and never upgrade) and the periodic jobs would not start."
    " Start it with: .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app"
)

_command = click.get_current_context(silent=True)
if _command is not None and _command.info_name == "run":
    raise click.UsageError(FLASK_RUN_REFUSED)

app = create_app()
