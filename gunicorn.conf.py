"""gunicorn settings: one gevent worker per process (Socket.IO needs it); scale with processes."""

import importlib.util
import os
from pathlib import Path

from config import load_env_file

load_env_file()  # before BIND, PORT and the rest are read

# Loopback unless told otherwise (BIND, or HOST): a newcomer's first run is not on the network.
# The image and the compose file set HOST=0.0.0.0 themselves.
bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '3001')}"
worker_class = "gevent"
# One worker per process is what Socket.IO needs behind a sticky proxy (scale with processes).
# More workers on one port suit websocket-only clients and REST (bench/history_wrk.py uses 2).
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
# Measured (bench/README.md): ~80 KiB per idle joined socket, so 2,000 hold ~160 MiB; a busy
# process saturates one core at 9,000-28,000 deliveries/s before memory matters. Scale chat by
# processes (x1.9 with two, no message lost) rather than by raising this.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "2000"))
timeout = 30
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "10"))
keepalive = 5
accesslog = None  # seda writes its own JSON access line per request
# gunicorn's own lines (starting, workers booted and lost) as JSON like seda's, to stdout: one
# stream of one format. The root logger is left to the app (seda/common/logs.py).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
    },
    "root": {"level": "WARNING", "handlers": []},
}
control_socket_disable = True


def when_ready(server):
    """One line that says where everything is, once the server listens."""
    host, port = server.address[0][:2] if isinstance(server.address[0], tuple) else ("127.0.0.1", 3001)
    base = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0', '::') else host}:{port}"
    server.log.info("ready: API at %s/api/v1, docs at %s/api/docs, console at %s/console", base, base, base)


def post_worker_init(worker):
    """Start the in-process periodic jobs when there is no beat (embedded default), and keep
    what startup built out of garbage collections (seda/common/gc_tuning.py)."""
    from seda.common.gc_tuning import tune_garbage_collector
    from seda.common.scheduler import start_embedded_scheduler

    start_embedded_scheduler(worker.wsgi)
    tune_garbage_collector()


def _load_patch(name):
    """A module of seda/patches/ loaded by its path: importing the package would build the whole
    app in the master, before gevent patches anything in the worker."""
    path = Path(__file__).resolve().parent / "seda" / "patches" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"seda_gunicorn_patch_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_load_patch("gunicorn").answer_errors_with_envelopes()
