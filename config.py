"""Configuration classes, read from the environment (API.md §6).

`config_from_env()` picks the class by APP_ENV. Every value has a development default so the
embedded mode needs no environment at all; `ProductionConfig.validate()` refuses what is only
safe on a developer's machine.
"""

import json
import os
from pathlib import Path

import dotenv

BASE_DIR = Path(__file__).resolve().parent
ENV_FILE = ".env"  # read from the working directory unless SEDA_ENV_FILE names another (empty: none)


class ConfigError(RuntimeError):
    """Raised when the environment describes a configuration seda refuses to run with."""


def _bool(value, default=False):
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value, default=()):
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def _seconds_list(environ, name, default):
    raw = environ.get(name)
    if raw in (None, ""):
        return list(default)
    try:
        seconds = [int(item) for item in _list(raw)]
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated whole seconds, got {raw!r}") from None
    if any(value < 0 for value in seconds):
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return seconds


def _int(environ, name, default):
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _json_object(environ, name):
    raw = environ.get(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a JSON object") from exc
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object")
    return value


def _default_sqlite_url():
    return f"sqlite:///{BASE_DIR / 'instance' / 'seda.db'}"


class Config:
    """Settings shared by every environment; one attribute per variable of API.md §6."""

    TESTING = False
    DEBUG = False
    API_DOCS_DEFAULT = True
    CONSOLE_DEFAULT = True
    SOCKETIO_ASYNC_MODE = "gevent"

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.APP_ENV = env.get("APP_ENV", "development")
        self.PORT = _int(env, "PORT", 3001)
        self.API_PREFIX = "/" + env.get("API_PREFIX", "api/v1").strip("/")
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO").upper()
        self.VERSION = env.get("SEDA_VERSION", "1.0.0")

        self.SQLALCHEMY_DATABASE_URI = self._database_url(env)
        self.SQLALCHEMY_ENGINE_OPTIONS = self._engine_options(self.SQLALCHEMY_DATABASE_URI, env)
        self.REDIS_URL = env.get("REDIS_URL") or None
        # Keeps parallel runs (tests, staging next to prod) apart in one Redis: pub/sub ignores
        # the DB number, so the Socket.IO channel and every key prefix carry this namespace.
        self.REDIS_NAMESPACE = env.get("REDIS_NAMESPACE", "seda")
        # Celery beat's schedule file (the one beat process of a deployment writes it).
        default_schedule = str(BASE_DIR / "instance" / "celerybeat-schedule")
        self.CELERY_BEAT_SCHEDULE = env.get("CELERY_BEAT_SCHEDULE") or default_schedule
        # A process that stops beating (killed) has its sockets cleared from presence this soon.
        self.PRESENCE_TTL_SECONDS = _int(env, "PRESENCE_TTL_SECONDS", 30)
        # A socket whose outgoing queue grows past this (it stopped reading) is disconnected.
        self.SOCKET_MAX_QUEUED_BYTES = _int(env, "SOCKET_MAX_QUEUED_BYTES", 1024 * 1024)
        # Requests and socket events doing their work at once; the rest queue (common/admission.py).
        self.MAX_ACTIVE_REQUESTS = _int(env, "MAX_ACTIVE_REQUESTS", 8)
        self.ADMISSION_WAIT_SECONDS = _int(env, "ADMISSION_WAIT_SECONDS", 30)
        # A body must arrive whole within this, before the request takes a turn (common/bodies.py).
        self.REQUEST_BODY_TIMEOUT_SECONDS = _int(env, "REQUEST_BODY_TIMEOUT_SECONDS", 10)
        # Rooms with more members get presence_count once a second instead of per-user presence.
        self.ROOM_PRESENCE_EVENTS_MAX_MEMBERS = _int(env, "ROOM_PRESENCE_EVENTS_MAX_MEMBERS", 100)

        # Unset outside production: the app generates one secret per instance directory
        # (instance/jwt-secret), never a constant anyone could read in this file.
        self.JWT_SECRET = env.get("JWT_SECRET") or None
        self.SUPABASE_URL = (env.get("SUPABASE_URL") or "").rstrip("/") or None
        self.SUPABASE_JWT_SECRET = env.get("SUPABASE_JWT_SECRET") or None
        # A spent refresh token presented again this soon answers with the pair it produced
        # (tabs refreshing at once); later, it revokes its whole family.
        self.REFRESH_REUSE_GRACE_SECONDS = _int(env, "REFRESH_REUSE_GRACE_SECONDS", 10)
        self.SUPABASE_JWKS_URL = env.get("SUPABASE_JWKS_URL") or None

        self.TRUSTED_PROXY_COUNT = _int(env, "TRUSTED_PROXY_COUNT", 0)
        self.CORS_ORIGINS = _list(env.get("CORS_ORIGINS"), ["http://localhost:3000"])
        self.ADMIN_API_KEY = env.get("ADMIN_API_KEY") or None
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or None
        self.API_DOCS_ENABLED = _bool(env.get("API_DOCS_ENABLED"), self.API_DOCS_DEFAULT)
        self.CONSOLE_ENABLED = _bool(env.get("CONSOLE_ENABLED"), self.CONSOLE_DEFAULT)

        self.CRAWLER_USER_AGENT = env.get("CRAWLER_USER_AGENT", "Mozilla/5.0 (compatible; SedaBot/1.0)")
        self.CRAWLER_TIMEOUT_MS = _int(env, "CRAWLER_TIMEOUT_MS", 30000)
        self.CRAWLER_MAX_RETRIES = _int(env, "CRAWLER_MAX_RETRIES", 3)
        self.CRAWLER_ALLOWED_PRIVATE_NETWORKS = _list(env.get("CRAWLER_ALLOWED_PRIVATE_NETWORKS"))
        self.CRAWLER_CA_BUNDLE = env.get("CRAWLER_CA_BUNDLE") or None
        self.TRACKS_OEMBED_ENDPOINTS = _json_object(env, "TRACKS_OEMBED_ENDPOINTS")
        # A message's link whose provider could not be reached is unfurled again after each of
        # these delays in turn; after the last, its unfurl is FAILED.
        self.UNFURL_RETRY_SECONDS = _seconds_list(env, "UNFURL_RETRY_SECONDS", [30, 120, 600])

        # Mail (API.md §12): SMTP when SMTP_URL is set, else each mail into the outbox folder.
        self.SMTP_URL = env.get("SMTP_URL") or None
        self.SMTP_CA_BUNDLE = env.get("SMTP_CA_BUNDLE") or None  # a private CA for the SMTP server's TLS
        self.MAIL_FROM = env.get("MAIL_FROM", "seda <no-reply@localhost>")
        self.MAIL_OUTBOX_DIR = env.get("MAIL_OUTBOX_DIR") or str(BASE_DIR / "instance" / "outbox")
        # The web frontend's origin (links in mail and push) and this API's public origin.
        self.PUBLIC_BASE_URL = (env.get("PUBLIC_BASE_URL") or "http://localhost:3000").rstrip("/")
        self.PUBLIC_API_URL = (env.get("PUBLIC_API_URL") or "http://localhost:3001").rstrip("/")
        self.EMAIL_VERIFICATION_TTL_HOURS = _int(env, "EMAIL_VERIFICATION_TTL_HOURS", 24)
        self.PASSWORD_RESET_TTL_MINUTES = _int(env, "PASSWORD_RESET_TTL_MINUTES", 60)
        # Encrypts TOTP secrets and keys recovery-code hashes; derived from JWT_SECRET when unset.
        self.TOTP_ENCRYPTION_KEY = env.get("TOTP_ENCRYPTION_KEY") or None
        # Data exports (zip files); with processes on several hosts, a volume they share.
        self.EXPORT_DIR = env.get("EXPORT_DIR") or str(BASE_DIR / "instance" / "exports")
        self.EXPORT_TTL_HOURS = _int(env, "EXPORT_TTL_HOURS", 24)
        # Email digests (API.md §13): a notification waits this long, with its recipient away, before
        # a digest may carry it; the check runs this often.
        self.EMAIL_DIGEST_DELAY_SECONDS = _int(env, "EMAIL_DIGEST_DELAY_SECONDS", 900)
        self.EMAIL_DIGEST_CHECK_SECONDS = _int(env, "EMAIL_DIGEST_CHECK_SECONDS", 60)
        # Web Push (API.md §13): a P-256 key, PEM or base64url of its scalar. Unset outside
        # production, one is generated into instance/vapid-private.pem; unset in production, push is off.
        self.VAPID_PRIVATE_KEY = env.get("VAPID_PRIVATE_KEY") or None
        self.VAPID_SUBJECT = env.get("VAPID_SUBJECT") or None  # default: mailto: + MAIL_FROM's address
        self.PUSH_TTL_SECONDS = _int(env, "PUSH_TTL_SECONDS", 86400)
        # A deleted account can be restored for this many days; then the sweep purges it.
        self.ACCOUNT_PURGE_AFTER_DAYS = _int(env, "ACCOUNT_PURGE_AFTER_DAYS", 14)
        # When true, admins without two-factor get 403 on every /admin route (X-Admin-Api-Key aside).
        self.ADMIN_REQUIRE_2FA = _bool(env.get("ADMIN_REQUIRE_2FA"))

        self.VERIFICATION_CODE_LENGTH = _int(env, "VERIFICATION_CODE_LENGTH", 8)
        self.VERIFICATION_CODE_EXPIRY_DAYS = _int(env, "VERIFICATION_CODE_EXPIRY_DAYS", 7)

        self.RATE_LIMIT_DEFAULT = env.get("RATE_LIMIT_DEFAULT", "100/minute")
        self.RATE_LIMIT_ANONYMOUS = env.get("RATE_LIMIT_ANONYMOUS", "100/minute")
        # Invite links and personal invitations made, per user, counted together (API.md §13).
        self.RATE_LIMIT_INVITES = env.get("RATE_LIMIT_INVITES", "30/hour")
        self.RATE_LIMIT_PUSH_TEST = env.get("RATE_LIMIT_PUSH_TEST", "5/minute")
        self.RATE_LIMIT_SIGNUP = env.get("RATE_LIMIT_SIGNUP", "10/hour")
        self.RATE_LIMIT_LOGIN_ACCOUNT = env.get("RATE_LIMIT_LOGIN_ACCOUNT", "5/minute")
        self.RATE_LIMIT_LOGIN_IP = env.get("RATE_LIMIT_LOGIN_IP", "20/minute")
        self.RATE_LIMIT_MESSAGES = env.get("RATE_LIMIT_MESSAGES", "10 per 10 seconds")
        self.RATE_LIMIT_UNFURL = env.get("RATE_LIMIT_UNFURL", "30/minute")
        self.RATE_LIMIT_SEARCH = env.get("RATE_LIMIT_SEARCH", "60/minute")
        # Per socket, every event counted; the benchmarks lift it to drive one sender flat out.
        self.RATE_LIMIT_SOCKET_EVENTS_PER_SECOND = _int(env, "RATE_LIMIT_SOCKET_EVENTS_PER_SECOND", 20)
        # Per user across all their sockets and processes (shared counters with Redis).
        self.RATE_LIMIT_SOCKET_EVENTS_USER = env.get("RATE_LIMIT_SOCKET_EVENTS_USER", "40/second")
        # Sockets one user may hold at once, across all processes (API.md §4).
        self.SOCKET_MAX_PER_USER = _int(env, "SOCKET_MAX_PER_USER", 10)
        self.RATE_LIMIT_MAIL = env.get("RATE_LIMIT_MAIL", "3/hour")
        self.RATE_LIMIT_MAIL_IP = env.get("RATE_LIMIT_MAIL_IP", "20/hour")
        self.RATE_LIMIT_VERIFICATION_PER_DAY = _int(env, "RATE_LIMIT_VERIFICATION_PER_DAY", 3)
        self.RATE_LIMIT_WINDOW_MS = _int(env, "RATE_LIMIT_WINDOW_MS", 86_400_000)

        self._derive_extension_settings()

    # -- derived settings for the extensions -------------------------------------------------

    def _derive_extension_settings(self):
        self.MAX_CONTENT_LENGTH = 1024 * 1024
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False
        self.JSON_SORT_KEYS = False

        self.RATELIMIT_ENABLED = True
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_KEY_PREFIX = f"{self.REDIS_NAMESPACE}-limits"
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        # A Redis outage must not take REST down: counters fall back to this process's memory.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_STORAGE_OPTIONS = (
            {"socket_timeout": 0.5, "socket_connect_timeout": 0.5} if self.REDIS_URL else {}
        )

        self.CACHE_TYPE = "RedisCache" if self.REDIS_URL else "SimpleCache"
        self.CACHE_REDIS_URL = self.REDIS_URL
        self.CACHE_KEY_PREFIX = f"{self.REDIS_NAMESPACE}-cache:"
        self.CACHE_DEFAULT_TIMEOUT = 300
        self.CACHE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5} if self.REDIS_URL else {}

        self.SOCKETIO_MESSAGE_QUEUE = self.REDIS_URL
        self.SOCKETIO_CHANNEL = f"{self.REDIS_NAMESPACE}-socketio"

        self.CELERY = {
            "broker_url": self.REDIS_URL or "memory://",
            "task_always_eager": not self.REDIS_URL,
            "task_ignore_result": True,
            "task_serializer": "json",
            "accept_content": ["json"],
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "worker_hijack_root_logger": False,
            "broker_connection_retry_on_startup": True,
            "task_default_queue": f"{self.REDIS_NAMESPACE}-tasks",
            "broker_transport_options": {
                "visibility_timeout": 900,
                "global_keyprefix": f"{self.REDIS_NAMESPACE}-celery:",
                "socket_timeout": 2,
                "socket_connect_timeout": 2,
            },
            "broker_pool_limit": 10,
            "timezone": "UTC",
            # beat's schedule file; its folder is made when missing (`beat -s` still overrides it).
            "beat_schedule_filename": self.CELERY_BEAT_SCHEDULE,
            # What a library prints to stderr stays one record, not one JSON log line per line of it.
            "worker_redirect_stdouts": False,
        }
        # Embedded mode has no beat process: periodic jobs run on an in-process timer instead.
        self.EMBEDDED_SCHEDULER = not self.REDIS_URL

        self.OPENAPI_VERSION = "3.0.3"
        # flask-smorest serves nothing itself: seda/docs serves the document, completed for code
        # generators, and the Swagger UI (when API_DOCS_ENABLED).
        self.OPENAPI_URL_PREFIX = None
        self.API_TITLE = "seda API"
        self.API_VERSION = "v1"

    @staticmethod
    def _database_url(env):
        url = env.get("DATABASE_URL") or _default_sqlite_url()
        # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the psycopg 3 dialect.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @staticmethod
    def _engine_options(url, env):
        if url.startswith("sqlite"):
            return {"connect_args": {"timeout": 15}}
        return {
            # No pool_pre_ping: a connection idle for a while is pinged on checkout instead
            # (seda/common/db.py, ping_idle_connections), not every checkout. Last in, first
            # out: the connection just used goes out again, the rest may sit idle.
            "pool_use_lifo": True,
            # Per process. A request that waits longer than the timeout for a connection gets
            # 503 + Retry-After (overload), not a hung greenlet.
            "pool_size": _int(env, "DB_POOL_SIZE", 10),
            "max_overflow": _int(env, "DB_MAX_OVERFLOW", 20),
            "pool_timeout": _int(env, "DB_POOL_TIMEOUT_MS", 5000) / 1000,
            # A database outage must answer 503 quickly, never hang the request.
            "connect_args": {"connect_timeout": 3},
        }

    @property
    def is_embedded(self):
        return not self.REDIS_URL

    def validate(self):
        """Refuse settings that are unsafe for this environment."""


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    __test__ = False  # not a pytest test class, despite the name

    TESTING = True
    SOCKETIO_ASYNC_MODE = "threading"

    def __init__(self, environ=None):
        super().__init__(environ)
        self.EMBEDDED_SCHEDULER = False


class ProductionConfig(Config):
    API_DOCS_DEFAULT = False
    CONSOLE_DEFAULT = False

    def validate(self):
        if len((self.JWT_SECRET or "").encode()) < 32:
            raise ConfigError("JWT_SECRET must be set to at least 32 bytes in production")
        if self.CRAWLER_ALLOWED_PRIVATE_NETWORKS:
            raise ConfigError("CRAWLER_ALLOWED_PRIVATE_NETWORKS is for tests only")
        for name in ("PUBLIC_BASE_URL", "PUBLIC_API_URL"):
            if not getattr(self, name).startswith("https://"):  # the defaults are http://localhost
                raise ConfigError(f"{name} must be set to an https:// origin in production (links in mail)")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_env_file():
    """Read the env file (SEDA_ENV_FILE, else .env) into the environment, if there is one;
    variables already set win. gunicorn, Celery and the `flask` commands all start here."""
    path = os.environ.get("SEDA_ENV_FILE", ENV_FILE)
    if path and Path(path).is_file():
        dotenv.load_dotenv(path, override=False)


def config_from_env(environ=None):
    """Build the config object for APP_ENV (the process's environment, with its env file, by
    default) and validate it."""
    if environ is None:
        load_env_file()
    env = os.environ if environ is None else environ
    name = env.get("APP_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(CONFIGS)}, got {name!r}")
    config = CONFIGS[name](env)
    config.validate()
    return config
