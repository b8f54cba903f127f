"""The seda application factory."""

import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import config_from_env
from seda.accounts import tasks as account_tasks  # noqa: F401  (tasks and periodic jobs)
from seda.accounts.routes import bp as accounts_bp
from seda.admin import tasks as admin_tasks  # noqa: F401  (registers the Celery tasks)
from seda.admin.routes import bp as admin_bp
from seda.auth.devices import active_user_id_for_token, user_for_token
from seda.auth.routes import bp as auth_bp
from seda.auth.tokens import JwksKeys, TokenVerifier
from seda.chat import tasks as chat_tasks  # noqa: F401  (registers the Celery tasks)
from seda.chat.events import init_chat_socket
from seda.chat.routes import bp as chat_bp
from seda.chat.track_routes import bp as tracks_bp
from seda.cli import seda_cli
from seda.common.admission import init_admission
from seda.common.api import api, refuse_undeclared_input_on_public_routes
from seda.common.auth import init_auth
from seda.common.bodies import BodyFirst
from seda.common.db import init_session_teardown, ping_idle_connections
from seda.common.http import init_request_hooks
from seda.common.instance_files import generated_once
from seda.common.kept_responses import init_kept_responses
from seda.common.logs import configure_logging
from seda.common.ratelimit import init_limits
from seda.common.scheduler import beat_schedule
from seda.common.tasks import celery_init_app
from seda.common.user_versions import init_user_versions
from seda.console.routes import bp as console_bp
from seda.docs.routes import bp as docs_bp
from seda.exports import tasks as export_tasks  # noqa: F401  (tasks and periodic jobs)
from seda.exports.routes import bp as exports_bp
from seda.extensions import cache, cors, db, migrate, socketio
from seda.health.routes import bp as health_bp
from seda.health.routes import ops_bp
from seda.invites.routes import bp as invites_bp
from seda.mail import tasks as mail_tasks  # noqa: F401  (registers the Celery tasks)
from seda.notifications import tasks as notification_tasks  # noqa: F401  (registers the Celery tasks)
from seda.notifications.routes import bp as notifications_bp
from seda.notifications.routes import settings_bp as notification_settings_bp
from seda.push import tasks as push_tasks  # noqa: F401  (tasks and periodic jobs)
from seda.push.routes import bp as push_bp
from seda.push.vapid import init_vapid
from seda.realtime.presence import init_presence
from seda.realtime.transport import MAX_TRANSPORT_BYTES, PayloadPacket, PollingBatchLimit
from seda.search.routes import bp as search_bp
from seda.sessions import tasks as session_tasks  # noqa: F401  (tasks and periodic jobs)
from seda.sessions.routes import bp as sessions_bp
from seda.users.routes import bp as users_bp
from seda.users.services import claimed_user_id
from seda.verification import tasks as verification_tasks  # noqa: F401  (tasks and periodic jobs)
from seda.verification.routes import bp as verification_bp

ROOT = Path(__file__).resolve().parent.parent
API_DESCRIPTION = (
    "seda.fm backend: REST API v1. Any route may answer 503 with Retry-After when the server is "
    "saturated: `Database busy, retry shortly` (no free database connection) or `Server busy, retry` "
    "(the request waited ADMISSION_WAIT_SECONDS for its turn). A request body must arrive whole within "
    "REQUEST_BODY_TIMEOUT_SECONDS (10), before the request waits for a turn: a slower one answers 408 "
    "`Request body too slow`. Any route answers 400 `<name>: property should not exist` to a query "
    "parameter it does not declare."
)
EXPOSED_HEADERS = [
    "X-Request-ID",
    "X-Next-Cursor",
    "Link",
    "ETag",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
]


def create_app(config=None):
    """Build the app from `config` (by default the environment's, see config.py)."""
    config = config if config is not None else config_from_env()
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.from_object(config)
    Path(app.instance_path).mkdir(exist_ok=True)
    if not app.config["JWT_SECRET"]:  # outside production only: production refuses to start
        app.config["JWT_SECRET"] = generated_once(
            Path(app.instance_path) / "jwt-secret", lambda: secrets.token_urlsafe(48).encode(), "JWT_SECRET"
        ).decode()
    configure_logging(app.config["LOG_LEVEL"])
    init_vapid(app)
    init_kept_responses(app)  # inside ProxyFix: it sees the client's address
    _trust_proxies(app)

    # Request hooks first: the limiter's before_request must see the request id and caller.
    init_request_hooks(app)
    init_admission(app)  # before authentication: a request waiting its turn has done no work yet
    init_auth(app, _token_verifier(app.config).verify_access, user_for_token, active_user_id_for_token, claimed_user_id)
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    # Outermost: no request (REST or a polling POST) reaches a turn before its body has arrived.
    app.wsgi_app = BodyFirst(app.wsgi_app, app.config["REQUEST_BODY_TIMEOUT_SECONDS"], app.config["MAX_CONTENT_LENGTH"])
    return app


def _trust_proxies(app):
    """Behind N proxies, take the client address and scheme from their X-Forwarded-* headers
    (per-IP rate limits and logs would otherwise see only the proxy). Never trust them without."""
    hops = app.config["TRUSTED_PROXY_COUNT"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _token_verifier(config):
    jwks = JwksKeys(config["SUPABASE_JWKS_URL"]) if config["SUPABASE_JWKS_URL"] else None
    return TokenVerifier(config["JWT_SECRET"], config["SUPABASE_URL"], config["SUPABASE_JWT_SECRET"], jwks)


def _init_extensions(app):
    db.init_app(app)
    init_session_teardown(app, db)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            ping_idle_connections(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    init_limits(app)
    cors.init_app(
        app,
        resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}},
        supports_credentials=True,
        expose_headers=EXPOSED_HEADERS,
        always_send=False,  # no Origin, no CORS: nothing to answer to a request that is not cross-site
    )
    cache.init_app(app)
    api.init_app(app, spec_kwargs={"info": {"description": API_DESCRIPTION}})
    app.before_request(refuse_undeclared_input_on_public_routes)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.spec.components.security_scheme("adminApiKey", {"type": "apiKey", "in": "header", "name": "X-Admin-Api-Key"})
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        channel=app.config["SOCKETIO_CHANNEL"],
        cors_allowed_origins=_socket_origin_check(app.config["CORS_ORIGINS"]),
        max_http_buffer_size=MAX_TRANSPORT_BYTES,
        serializer=PayloadPacket,  # packets whose JSON cannot be parsed, or that carry bytes: 400
        # python-socketio hands each event to seda where it arrives; seda orders one socket's
        # events (realtime/event_order.py) and runs each in a task of its own. Sockets stay parallel.
        async_handlers=False,
        namespaces="*",  # every namespace reaches a handler: /chat, or UnknownNamespaces' refusal
    )
    app.wsgi_app = PollingBatchLimit(app.wsgi_app, socketio.server.eio, "/socket.io")
    celery_init_app(app, beat_schedule(app.config))
    init_presence(app)
    init_user_versions(app)
    init_chat_socket(app)


def _socket_origin_check(allowed):
    """Socket.IO handshakes from the configured origins or from the API's own origin only.

    (A plain list would refuse same-origin pages; '*' would invite cross-site hijacking.)
    """
    allowed = set(allowed)

    def origin_allowed(origin, environ):
        same_origin = f"{environ.get('wsgi.url_scheme')}://{environ.get('HTTP_HOST')}"
        return origin in allowed or origin == same_origin

    return origin_allowed


def _register_blueprints(app):
    prefix = app.config["API_PREFIX"]
    blueprints = (
        health_bp,
        auth_bp,
        users_bp,
        chat_bp,
        tracks_bp,
        verification_bp,
        notifications_bp,
        notification_settings_bp,
        search_bp,
        sessions_bp,
        exports_bp,
        invites_bp,
        push_bp,
        accounts_bp,
        admin_bp,
    )
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=prefix + (blueprint.url_prefix or ""))
    app.register_blueprint(ops_bp)
    if app.config["API_DOCS_ENABLED"]:
        app.register_blueprint(docs_bp)
    if app.config["CONSOLE_ENABLED"]:
        app.register_blueprint(console_bp)


def _register_cli(app):
    app.cli.add_command(seda_cli)
